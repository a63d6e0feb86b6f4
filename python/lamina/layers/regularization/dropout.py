"""Dropout (inverted scaling) and its spatial variants."""

from lamina import ops
from lamina import random as lrandom
from lamina.backend.config import standardize_data_format
from lamina.backend.symbolic import in_symbolic_scope
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer
from lamina.utils.rng_utils import make_seed_generator


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zeroes entries with probability `rate`, scales the rest by 1/(1-rate)."""
    keep_prob = 1.0 - rate
    shape = tuple(inputs.shape)
    if noise_shape is None:
        noise_shape = shape
    else:
        noise_shape = tuple(s if n is None else n for n, s in zip(noise_shape, shape))
    if noise_shape == shape and 0.0 < keep_prob:
        # One fused pass; backward regenerates the mask from the Philox stream.
        return lrandom.dropout(inputs, rate, seed=seed)
    mask = ops.less(lrandom.uniform(noise_shape, 0.0, 1.0, inputs.dtype, seed), keep_prob)
    if noise_shape != shape:
        mask = ops.broadcast_to(mask, shape)
    if keep_prob == 0.0:
        return ops.zeros_like(inputs)
    return ops.where(mask, inputs / keep_prob, 0.0)


class Dropout(Layer):
    """Randomly sets input units to 0 with frequency `rate` during training,
    scaling the others by `1 / (1 - rate)`; the identity at inference.

    Args:
        rate: float in [0, 1], the fraction to drop.
        noise_shape: shape of the binary mask (None entries follow the input),
            e.g. `(batch, 1, features)` to share it across timesteps.
        seed: seed of the layer's random stream (default: from the global seed).
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate <= 1:
            raise ValueError(f"Invalid value received for argument `rate`. Expected a float value between 0 and 1. Received: rate={rate}")
        self.rate = rate
        self.seed = seed
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed_generator = make_seed_generator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if training and self.rate > 0 and not in_symbolic_scope():
            return dropout(inputs, self.rate, self._noise_shape(inputs), self.seed_generator)
        return inputs

    def _noise_shape(self, inputs):
        return self.noise_shape

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape}


class SpatialDropout1D(Dropout):
    """Drops whole feature maps of `(batch, steps, channels)` inputs."""

    def __init__(self, rate, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)
        self.input_spec = InputSpec(ndim=3)

    def _noise_shape(self, inputs):
        return (inputs.shape[0], 1, inputs.shape[2])

    def get_config(self):
        return {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype}


class SpatialDropout2D(Dropout):
    """Drops whole channels of 4-D image inputs."""

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=4)

    def _noise_shape(self, inputs):
        s = inputs.shape
        if self.data_format == "channels_first":
            return (s[0], s[1], 1, 1)
        return (s[0], 1, 1, s[3])

    def get_config(self):
        return {"rate": self.rate, "data_format": self.data_format, "seed": self.seed, "name": self.name, "dtype": self.dtype}


class SpatialDropout3D(Dropout):
    """Drops whole channels of 5-D volume inputs."""

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=5)

    def _noise_shape(self, inputs):
        s = inputs.shape
        if self.data_format == "channels_first":
            return (s[0], s[1], 1, 1, 1)
        return (s[0], 1, 1, 1, s[4])

    def get_config(self):
        return {"rate": self.rate, "data_format": self.data_format, "seed": self.seed, "name": self.name, "dtype": self.dtype}
