"""RandomFlip and RandomContrast: image augmentation active only in training."""

from lamina import ops
from lamina import random as lrandom
from lamina.backend.config import standardize_data_format
from lamina.backend.symbolic import in_symbolic_scope
from lamina.layers.layer import Layer
from lamina.utils.rng_utils import make_seed_generator

HORIZONTAL = "horizontal"
VERTICAL = "vertical"
HORIZONTAL_AND_VERTICAL = "horizontal_and_vertical"


class RandomFlip(Layer):
    """Flips each image horizontally and/or vertically with probability 0.5
    during training (`mode`: "horizontal", "vertical" or
    "horizontal_and_vertical"); the identity at inference."""

    def __init__(self, mode=HORIZONTAL_AND_VERTICAL, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if mode not in (HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL):
            raise ValueError(
                f"RandomFlip layer {self.name} received an unknown mode argument {mode}"
            )
        self.mode = mode
        self.seed = seed
        self.data_format = standardize_data_format(data_format)
        self.generator = make_seed_generator(seed)
        self.supports_masking = False
        self.built = True

    def _hw_axes(self, ndim):
        if self.data_format == "channels_first":
            return ndim - 2, ndim - 1
        return ndim - 3, ndim - 2

    def _random_flip(self, x, axis):
        unbatched = x.ndim == 3
        if unbatched:
            x = ops.expand_dims(x, 0)
            axis += 1
        batch = x.shape[0]
        flip = ops.less(lrandom.uniform((batch,) + (1,) * (x.ndim - 1), 0.0, 1.0, x.dtype, self.generator), 0.5)
        out = ops.where(flip, ops.flip(x, axis=axis), x)
        return ops.squeeze(out, 0) if unbatched else out

    def call(self, inputs, training=True):
        if not training or in_symbolic_scope():
            return inputs
        h_axis, w_axis = self._hw_axes(inputs.ndim)
        x = inputs
        if self.mode in (HORIZONTAL, HORIZONTAL_AND_VERTICAL):
            x = self._random_flip(x, w_axis if inputs.ndim == 4 else w_axis)
        if self.mode in (VERTICAL, HORIZONTAL_AND_VERTICAL):
            x = self._random_flip(x, h_axis)
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "seed": self.seed, "data_format": self.data_format}


class RandomContrast(Layer):
    """Adjusts each image's contrast by a random factor in
    [1 - lower, 1 + upper] during training: `(x - mean) * factor + mean`,
    clipped to `value_range`."""

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        # Keras's parsing: a number f gives (max(-f, 0), f) = (0, f); a pair is sorted.
        msg = (
            "The `factor` argument should be a number (or a list of two numbers) in the range [0, 1]. "
            f"Received: factor={factor}"
        )
        if isinstance(factor, (tuple, list)):
            if len(factor) != 2 or factor[0] > 1 or factor[1] < 0:
                raise ValueError(msg)
            lower, upper = sorted(factor)
        elif isinstance(factor, (int, float)):
            if factor < 0 or factor > 1:
                raise ValueError(msg)
            factor = abs(factor)
            lower, upper = max(-factor, 0), factor
        else:
            raise ValueError(msg)
        self.factor = (lower, upper)
        self._lower, self._upper = float(lower), float(upper)
        self.value_range = tuple(value_range)
        self.seed = seed
        self.data_format = standardize_data_format(data_format)
        self.generator = make_seed_generator(seed)
        self.built = True

    def call(self, inputs, training=True):
        if not training or in_symbolic_scope():
            return inputs
        x = inputs
        unbatched = x.ndim == 3
        if unbatched:
            x = ops.expand_dims(x, 0)
        batch = x.shape[0]
        factor = lrandom.uniform(
            (batch, 1, 1, 1), 1.0 - self._lower, 1.0 + self._upper, x.dtype, self.generator
        )
        axes = (2, 3) if self.data_format == "channels_first" else (1, 2)
        mean = ops.mean(x, axis=axes, keepdims=True)
        out = (x - mean) * factor + mean
        out = ops.clip(out, float(self.value_range[0]), float(self.value_range[1]))
        return ops.squeeze(out, 0) if unbatched else out

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "factor": self.factor,
            "value_range": self.value_range,
            "seed": self.seed,
            "data_format": self.data_format,
        }
