"""GaussianNoise, GaussianDropout, AlphaDropout, ActivityRegularization."""

import math

from lamina import ops
from lamina import random as lrandom
from lamina import regularizers
from lamina.backend.symbolic import in_symbolic_scope
from lamina.layers.layer import Layer
from lamina.utils.rng_utils import make_seed_generator


class GaussianNoise(Layer):
    """Adds zero-centred Gaussian noise of `stddev` during training."""

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= stddev:
            raise ValueError(f"Invalid value received for argument `stddev`. Expected a non-negative float. Received: stddev={stddev}")
        self.stddev = stddev
        self.seed = seed
        self.seed_generator = make_seed_generator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if training and self.stddev > 0 and not in_symbolic_scope():
            return inputs + lrandom.normal(tuple(inputs.shape), 0.0, self.stddev, inputs.dtype, self.seed_generator)
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(Layer):
    """Multiplies by Gaussian noise of mean 1 and stddev sqrt(rate / (1 - rate)) during training."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate <= 1:
            raise ValueError(f"Invalid value received for argument `rate`. Expected a float value between 0 and 1. Received: rate={rate}")
        self.rate = rate
        self.seed = seed
        self.seed_generator = make_seed_generator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if training and 0 < self.rate < 1 and not in_symbolic_scope():
            stddev = math.sqrt(self.rate / (1.0 - self.rate))
            return inputs * lrandom.normal(tuple(inputs.shape), 1.0, stddev, inputs.dtype, self.seed_generator)
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class AlphaDropout(Layer):
    """Dropout that keeps the mean and variance of SELU activations."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate <= 1:
            raise ValueError(f"Invalid value received for argument `rate`. Expected a float value between 0 and 1. Received: rate={rate}")
        self.rate = rate
        self.seed = seed
        self.noise_shape = noise_shape
        self.seed_generator = make_seed_generator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if training and 0 < self.rate < 1 and not in_symbolic_scope():
            alpha = 1.6732632423543772848170429916717
            scale = 1.0507009873554804934193349852946
            alpha_p = -alpha * scale
            shape = tuple(inputs.shape) if self.noise_shape is None else tuple(
                s if n is None else n for n, s in zip(self.noise_shape, inputs.shape)
            )
            kept = ops.greater_equal(lrandom.uniform(shape, 0.0, 1.0, inputs.dtype, self.seed_generator), self.rate)
            kept = ops.cast(ops.broadcast_to(kept, tuple(inputs.shape)), inputs.dtype)
            a = ((1 - self.rate) * (1 + self.rate * alpha_p**2)) ** -0.5
            b = -a * alpha_p * self.rate
            x = inputs * kept + alpha_p * (1 - kept)
            return a * x + b
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape}


class ActivityRegularization(Layer):
    """Identity that adds `l1 * sum(|x|) + l2 * sum(x**2)` of its input to the losses."""

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.supports_masking = True
        self.l1 = l1
        self.l2 = l2
        self.built = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        base = super().get_config()
        base.pop("activity_regularizer", None)
        return {**base, "l1": self.l1, "l2": self.l2}
