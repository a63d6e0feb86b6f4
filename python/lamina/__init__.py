"""lamina: a fast deep-learning framework with a compiled C++ core and a Keras-style API.

`import lamina as keras` gives the Keras 3 names: `lamina.layers`,
`lamina.Sequential`, `lamina.Model`, `lamina.Input`, `lamina.optimizers`,
`lamina.losses`, `lamina.metrics`, `lamina.callbacks`, `lamina.utils`, ...
"""

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
from lamina.backend import symbolic_ops as _symbolic_ops  # noqa: E402

_symbolic_ops.install(ops)  # keras.ops on KerasTensors records graph operations

# Keras-style API.
from lamina.backend.variables import Variable  # noqa: E402
from lamina.backend.keras_tensor import KerasTensor  # noqa: E402
from lamina import backend  # noqa: E402
from lamina import (  # noqa: E402
    activations,
    constraints,
    initializers,
    regularizers,
)
from lamina import layers  # noqa: E402
from lamina import losses, metrics, optimizers  # noqa: E402
from lamina import callbacks  # noqa: E402
from lamina import models  # noqa: E402
from lamina import datasets, saving, utils  # noqa: E402
from lamina import mixed_precision  # noqa: E402
from lamina.layers import Input, InputSpec, Layer  # noqa: E402
from lamina.models import Functional, Model, Sequential  # noqa: E402
from lamina.backend import config  # noqa: E402
from lamina.utils.rng_utils import set_random_seed  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "Tensor",
    "GradientTape",
    "Variable",
    "KerasTensor",
    "Input",
    "InputSpec",
    "Layer",
    "Model",
    "Sequential",
    "Functional",
    "activations",
    "arange",
    "backend",
    "build_info",
    "callbacks",
    "constraints",
    "device",
    "enable_grad",
    "eye",
    "from_dlpack",
    "from_numpy",
    "full",
    "get_num_threads",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "no_grad",
    "ones",
    "ops",
    "optimizers",
    "random",
    "regularizers",
    "saving",
    "set_num_threads",
    "set_random_seed",
    "tensor",
    "utils",
    "zeros",
]
