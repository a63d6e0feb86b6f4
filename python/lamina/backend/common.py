"""dtype and shape helpers shared by layers, losses and metrics."""

import numpy as np

from lamina import _core

_ALIASES = {
    "float": "float32",
    "double": "float64",
    "int": "int32",
    "long": "int64",
    "boolean": "bool",
    "float16": "float32",  # lamina computes half inputs in float32
    "bfloat16": "float32",
    "uint8": "int32",
    "int8": "int32",
    "int16": "int32",
    "uint16": "int32",
    "uint32": "int64",
}
FLOAT_DTYPES = ("float32", "float64")
INT_DTYPES = ("int32", "int64")


def standardize_dtype(dtype):
    """A dtype name lamina knows ("float32", "float64", "int32", "int64", "bool")."""
    if dtype is None:
        from lamina.backend.config import floatx

        return floatx()
    if isinstance(dtype, dict):  # a serialized DTypePolicy
        dtype = dtype.get("config", {}).get("name", "float32")
    if hasattr(dtype, "name") and not isinstance(dtype, str):
        dtype = dtype.name
    if not isinstance(dtype, str):
        dtype = np.dtype(dtype).name
    dtype = _ALIASES.get(dtype, dtype)
    if dtype.startswith("mixed_"):
        return "float32"
    if dtype not in FLOAT_DTYPES + INT_DTYPES + ("bool",):
        raise ValueError(f"Invalid dtype: {dtype!r}. lamina supports float32, float64, int32, int64, bool")
    return dtype


def is_float_dtype(dtype):
    return standardize_dtype(dtype) in FLOAT_DTYPES


def is_int_dtype(dtype):
    return standardize_dtype(dtype) in INT_DTYPES


def standardize_shape(shape):
    """A tuple of ints and Nones; raises on anything else."""
    if shape is None:
        raise ValueError("Undefined shapes are not supported.")
    if not hasattr(shape, "__iter__"):
        raise ValueError(f"Cannot convert '{shape}' to a shape.")
    out = []
    for e in shape:
        if e is None:
            out.append(None)
            continue
        if isinstance(e, (int, np.integer)) and not isinstance(e, bool):
            if e < 0:
                raise ValueError(
                    f"Negative dimensions are not allowed in a shape. Received: shape={tuple(shape)}"
                )
            out.append(int(e))
            continue
        raise ValueError(
            f"Cannot convert '{tuple(shape)}' to a shape. Found invalid entry '{e}' of type {type(e)}."
        )
    return tuple(out)


def is_tensor(x):
    return isinstance(x, _core.Tensor)


class _Masked(_core.Tensor):
    """A view of a tensor that carries a Keras mask (plain tensors have no attributes)."""



def get_keras_mask(x):
    return getattr(x, "_keras_mask", None)


def set_keras_mask(x, mask):
    """`x` carrying `mask` (wrapped without copying when `x` cannot hold attributes)."""
    if mask is None:
        if getattr(x, "_keras_mask", None) is not None:
            try:
                x._keras_mask = None
            except AttributeError:
                pass
        return x
    try:
        x._keras_mask = mask
        return x
    except AttributeError:
        pass
    if isinstance(x, _core.Tensor):
        y = _Masked(x)
        y._keras_mask = mask
        return y
    return x
