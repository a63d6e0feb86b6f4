"""Constant, Zeros, Ones, Identity."""

import numpy as np

from lamina import _core
from lamina._tensor import full
from lamina.backend.common import standardize_dtype
from lamina.initializers.initializer import Initializer


class Constant(Initializer):
    """Fills with `value` (a scalar, or an array broadcast to the shape)."""

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        dtype = standardize_dtype(dtype)
        v = self.value
        if np.ndim(v) == 0 and not isinstance(v, _core.Tensor):
            return full(shape, float(v), dtype=dtype)
        return _core.broadcast_to(_core.convert_to_tensor(np.asarray(v), dtype, True), tuple(shape)).contiguous()

    def get_config(self):
        v = self.value
        if isinstance(v, _core.Tensor):
            v = v.numpy().tolist()
        elif isinstance(v, np.ndarray):
            v = v.tolist()
        return {"value": v}


class Zeros(Initializer):
    """Fills with zeros."""

    def __call__(self, shape, dtype=None):
        return full(shape, 0.0, dtype=standardize_dtype(dtype))


class Ones(Initializer):
    """Fills with ones."""

    def __call__(self, shape, dtype=None):
        return full(shape, 1.0, dtype=standardize_dtype(dtype))


class Identity(Initializer):
    """`gain` times the identity matrix (2-D shapes only)."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        dtype = standardize_dtype(dtype)
        return _core.multiply(_core.eye(int(shape[0]), int(shape[1]), 0, dtype, "cpu"), float(self.gain))

    def get_config(self):
        return {"gain": self.gain}


IdentityInitializer = Identity
