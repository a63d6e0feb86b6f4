"""Random initializers drawing from lamina's Philox streams.

As in Keras 3, an initializer made with `seed=None` picks a seed when it is
created (derived from the global seed, so `lamina.utils.set_random_seed`
makes everything reproducible); calling the same instance twice gives the
same values.
"""

import math

import numpy as np

from lamina import _core
from lamina import random as lrandom
from lamina.backend.common import standardize_dtype
from lamina.initializers.initializer import Initializer
from lamina.utils.rng_utils import make_default_seed


class RandomInitializer(Initializer):
    def __init__(self, seed=None):
        self._init_seed = seed
        if seed is None:
            seed = make_default_seed()
        elif isinstance(seed, dict):
            seed = int(seed.get("config", {}).get("seed", 0))
        elif not isinstance(seed, (int, np.integer, lrandom.SeedGenerator)):
            raise ValueError(
                "`seed` argument should be an instance of `lamina.random.SeedGenerator()` or an "
                f"integer. Received: seed={seed}"
            )
        self.seed = seed

    def get_config(self):
        seed = self._init_seed
        return {"seed": seed if not isinstance(seed, lrandom.SeedGenerator) else None}


class RandomNormal(RandomInitializer):
    """Normal values: `mean` 0.0, `stddev` 0.05 by default."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return lrandom.normal(shape, self.mean, self.stddev, standardize_dtype(dtype), self.seed)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class TruncatedNormal(RandomInitializer):
    """Normal values redrawn beyond two standard deviations."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return lrandom.truncated_normal(shape, self.mean, self.stddev, standardize_dtype(dtype), self.seed)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class RandomUniform(RandomInitializer):
    """Uniform values in [minval, maxval): -0.05..0.05 by default."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval = minval
        self.maxval = maxval
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return lrandom.uniform(shape, self.minval, self.maxval, standardize_dtype(dtype), self.seed)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


def compute_fans(shape):
    shape = tuple(shape)
    if len(shape) < 1:
        fan_in = fan_out = 1
    elif len(shape) == 1:
        fan_in = fan_out = shape[0]
    elif len(shape) == 2:
        fan_in, fan_out = shape
    else:
        receptive = math.prod(shape[:-2])
        fan_in = shape[-2] * receptive
        fan_out = shape[-1] * receptive
    return int(fan_in), int(fan_out)


class VarianceScaling(RandomInitializer):
    """Scale-aware initializer: stddev (or limit) from `scale / n`, n the
    fan in, fan out or their average (`mode`)."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        allowed_modes = {"fan_in", "fan_out", "fan_avg"}
        if mode not in allowed_modes:
            raise ValueError(f"Invalid `mode` argument: expected one of {allowed_modes}. Received: mode={mode}")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        allowed = {"uniform", "truncated_normal", "untruncated_normal"}
        if distribution not in allowed:
            raise ValueError(
                f"Invalid `distribution` argument: expected one of {allowed}. Received: distribution={distribution}"
            )
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        dtype = standardize_dtype(dtype)
        fan_in, fan_out = compute_fans(shape)
        scale = self.scale
        if self.mode == "fan_in":
            scale /= max(1.0, fan_in)
        elif self.mode == "fan_out":
            scale /= max(1.0, fan_out)
        else:
            scale /= max(1.0, (fan_in + fan_out) / 2.0)
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(scale) / 0.87962566103423978
            return lrandom.truncated_normal(shape, 0.0, stddev, dtype, self.seed)
        if self.distribution == "untruncated_normal":
            return lrandom.normal(shape, 0.0, math.sqrt(scale), dtype, self.seed)
        limit = math.sqrt(3.0 * scale)
        return lrandom.uniform(shape, -limit, limit, dtype, self.seed)

    def get_config(self):
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            **super().get_config(),
        }


class _Preset(VarianceScaling):
    _scale, _mode, _dist = 1.0, "fan_in", "truncated_normal"

    def __init__(self, seed=None):
        super().__init__(scale=self._scale, mode=self._mode, distribution=self._dist, seed=seed)

    def get_config(self):
        return {"seed": self._init_seed if not isinstance(self._init_seed, lrandom.SeedGenerator) else None}


class GlorotUniform(_Preset):
    """Uniform in ±sqrt(6 / (fan_in + fan_out)): the Keras default for kernels."""

    _scale, _mode, _dist = 1.0, "fan_avg", "uniform"


class GlorotNormal(_Preset):
    _scale, _mode, _dist = 1.0, "fan_avg", "truncated_normal"


class LecunNormal(_Preset):
    _scale, _mode, _dist = 1.0, "fan_in", "truncated_normal"


class LecunUniform(_Preset):
    _scale, _mode, _dist = 1.0, "fan_in", "uniform"


class HeNormal(_Preset):
    _scale, _mode, _dist = 2.0, "fan_in", "truncated_normal"


class HeUniform(_Preset):
    _scale, _mode, _dist = 2.0, "fan_in", "uniform"


class Orthogonal(RandomInitializer):
    """A (semi-)orthogonal matrix, from the QR decomposition of normal values:
    the Keras default for recurrent kernels."""

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        dtype = standardize_dtype(dtype)
        if len(shape) < 2:
            raise ValueError(
                "The tensor to initialize must be at least two-dimensional. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        num_rows = math.prod(shape[:-1])
        num_cols = shape[-1]
        flat = (max(num_cols, num_rows), min(num_cols, num_rows))
        a = lrandom.normal(flat, 0.0, 1.0, "float64", self.seed).numpy()
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        if num_rows < num_cols:
            q = q.T
        q = self.gain * q.reshape(tuple(shape))
        return _core.convert_to_tensor(np.ascontiguousarray(q), dtype, True)

    def get_config(self):
        return {"gain": self.gain, **super().get_config()}


OrthogonalInitializer = Orthogonal
