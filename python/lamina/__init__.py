"""lamina: a fast deep-learning framework with a compiled C++ core and a Keras-style API."""

from lamina import _core
from lamina._core import Tensor
from lamina._tensor import (
    arange,
    eye,
    from_dlpack,
    from_numpy,
    full,
    ones,
    tensor,
    zeros,
)
from lamina.autograd import GradientTape, enable_grad, no_grad
from lamina.runtime import build_info, device, get_num_threads, set_num_threads
from lamina import ops, random  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "Tensor",
    "GradientTape",
    "arange",
    "build_info",
    "device",
    "enable_grad",
    "eye",
    "from_dlpack",
    "from_numpy",
    "full",
    "get_num_threads",
    "no_grad",
    "ones",
    "ops",
    "random",
    "set_num_threads",
    "tensor",
    "zeros",
]
