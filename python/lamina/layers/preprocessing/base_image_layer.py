"""What the image augmentation layers share: rank and argument checks,
Keras's `factor` parsing, random draws from the layer's own seed stream, and
the affine layer body (RandomRotation, RandomTranslation, RandomZoom)."""

import numbers

import numpy as np

from lamina import ops
from lamina import random as lrandom
from lamina.backend.config import standardize_data_format
from lamina.backend.symbolic import in_symbolic_scope
from lamina.layers.layer import Layer
from lamina.layers.preprocessing.image_transform import FILL_MODES, INTERPOLATIONS, affine_transform
from lamina.utils.rng_utils import make_seed_generator


class UnsupportedArgumentError(ValueError, NotImplementedError):
    """Keras raises NotImplementedError for an unknown fill_mode or
    interpolation; this is also a ValueError, so both `except`s catch it."""


def _is_number(x):
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def parse_factor(layer, factor, bounds, arg="factor"):
    """Keras's `_set_factor`: a number f gives (max(-|f|, low), |f|), a pair
    is sorted; values outside `bounds` are rejected as Keras rejects them."""
    low, high = bounds
    msg = (
        f"{type(layer).__name__} '{layer.name}': the `{arg}` argument should be a number "
        f"(or a list of two numbers) in the range [{low}, {high}]. Received: {arg}={factor}"
    )
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or not all(_is_number(f) for f in factor):
            raise ValueError(msg)
        if factor[0] > high or factor[1] < low:
            raise ValueError(msg)
        return tuple(sorted(factor))
    if not _is_number(factor) or factor < low or factor > high:
        raise ValueError(msg)
    factor = abs(factor)
    return max(-factor, low), factor


def parse_symmetric_factor(layer, factor, arg, open_low=False):
    """RandomTranslation/RandomZoom parsing: a number f gives (-|f|, |f|), a
    pair is sorted; every value must lie in [-1, 1] ((-1, 1] for zoom)."""
    interval = "(-1.0, 1.0]" if open_low else "[-1.0, 1.0]"
    msg = (
        f"{type(layer).__name__} '{layer.name}': the `{arg}` argument should be a number "
        f"(or a list of two numbers) in the range {interval}. Received: {arg}={factor}"
    )

    def check(v):
        if not _is_number(v) or v > 1.0 or v < -1.0 or (open_low and v == -1.0):
            raise ValueError(msg)

    if isinstance(factor, (tuple, list)):
        if len(factor) != 2:
            raise ValueError(msg)
        check(factor[0])
        check(factor[1])
        return tuple(sorted(factor))
    check(factor)
    return -abs(factor), abs(factor)


class BaseImageLayer(Layer):
    """Rank-3 (one image) or rank-4 (batch) inputs in `data_format`."""

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.data_format = standardize_data_format(data_format)
        self.generator = make_seed_generator(seed)
        self.supports_masking = False
        self.built = True

    def _check_rank(self, shape):
        if len(shape) not in (3, 4):
            raise ValueError(
                f"{type(self).__name__} '{self.name}': expected a rank-3 (single image) or rank-4 "
                f"(batch of images) input. Received: inputs.shape={tuple(shape)}"
            )

    def _hw_axes(self, ndim):
        if self.data_format == "channels_first":
            return ndim - 2, ndim - 1
        return ndim - 3, ndim - 2

    def _hw(self, shape):
        h, w = self._hw_axes(len(shape))
        return shape[h], shape[w]

    def _cast(self, x):
        # Keras outputs floats of the compute dtype, whatever the input dtype.
        return x if x.dtype == self.compute_dtype else ops.cast(x, self.compute_dtype)

    def _uniform(self, shape, low, high):
        """float32 NumPy draws from the layer's own stream."""
        return np.asarray(lrandom.uniform(shape, low, high, "float32", self.generator).numpy())

    def _active(self, training):
        # Symbolic shape inference runs on zeros: no draws there, so building a
        # model does not advance the seed stream.
        return bool(training) and not in_symbolic_scope()

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "seed": self.seed, "data_format": self.data_format}


class BaseAffineLayer(BaseImageLayer):
    """Warps each image by a random affine transform in training (subclasses
    give `_transforms(batch, height, width)`, rows as `affine_transform`);
    the identity at inference."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if fill_mode not in FILL_MODES:
            raise UnsupportedArgumentError(
                f"{type(self).__name__} '{self.name}': unknown `fill_mode` {fill_mode!r}. "
                f"Expected one of {FILL_MODES}."
            )
        if interpolation not in INTERPOLATIONS:
            raise UnsupportedArgumentError(
                f"{type(self).__name__} '{self.name}': unknown `interpolation` {interpolation!r}. "
                f"Expected one of {INTERPOLATIONS}."
            )
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.fill_value = fill_value

    def _transforms(self, batch, height, width):
        raise NotImplementedError

    def call(self, inputs, training=True):
        self._check_rank(inputs.shape)
        x = self._cast(inputs)
        if not self._active(training):
            return x
        batch = x.shape[0] if x.ndim == 4 else 1
        height, width = self._hw(x.shape)
        transforms = self._transforms(batch, height, width)
        return affine_transform(
            x, transforms if x.ndim == 4 else transforms[0], self.interpolation, self.fill_mode,
            self.fill_value, self.data_format,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "interpolation": self.interpolation,
        }
