"""`keras.mixed_precision`: dtype policies. lamina computes in float32 (or
float64); mixed policies are accepted and run in float32 with a warning."""

from lamina.backend.config import dtype_policy as global_policy  # noqa: F401
from lamina.backend.config import set_dtype_policy as set_global_policy  # noqa: F401
from lamina.layers.layer import DTypePolicy  # noqa: F401

Policy = DTypePolicy
