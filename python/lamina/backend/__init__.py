"""Backend helpers (`keras.backend`): configuration, symbolic tensors, variables."""

from lamina.backend.common import (  # noqa: F401
    get_keras_mask,
    is_float_dtype,
    is_int_dtype,
    is_tensor,
    set_keras_mask,
    standardize_dtype,
    standardize_shape,
)
from lamina.backend.config import (  # noqa: F401
    backend,
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
    standardize_data_format,
)
from lamina.backend.keras_tensor import KerasTensor, is_keras_tensor  # noqa: F401
from lamina.backend.variables import Variable  # noqa: F401


def clear_session(free_memory=True):
    """Resets the automatic layer names (dense, dense_1, ...) as Keras."""
    from lamina.utils.naming import reset_names

    reset_names()


def is_keras_tensor_or_tensor(x):
    return is_keras_tensor(x) or is_tensor(x)
