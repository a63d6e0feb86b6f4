"""`lamina.Variable`: a named, stateful tensor (the Keras `Variable`)."""

import math
import threading

import numpy as np

from lamina import _core
from lamina._core import Tensor
from lamina.autograd import no_grad
from lamina.backend.common import standardize_dtype, standardize_shape


# While a model file is loaded, the most elements a new variable may have:
# a crafted config must not make the loader allocate (and fill) terabytes.
_creation_limit = threading.local()


def _check_creation_limit(shape):
    limit = getattr(_creation_limit, "value", None)
    if limit is not None and math.prod(d for d in shape if d) > limit:
        raise ValueError(
            f"refusing to create a variable of shape {shape}: it is larger than anything the file holds "
            f"({limit} elements at most)."
        )


def _initial_value(initializer, shape, dtype):
    if callable(initializer) and not isinstance(initializer, (Tensor, np.ndarray)):
        if shape is None:
            raise ValueError(
                "When creating a Variable from an initializer, the `shape` argument "
                f"should be specified. Received: initializer={initializer} and shape={shape}"
            )
        _check_creation_limit(standardize_shape(shape))
        value = initializer(standardize_shape(shape), dtype=dtype)
    else:
        value = initializer
    if isinstance(value, Tensor):
        value = _core.cast(value, dtype) if value.dtype != dtype else _core.copy(value)
        return value.detach() if value.requires_grad else value
    return _core.convert_to_tensor(np.asarray(value), dtype, True)


class Variable(Tensor):
    """A tensor holding state, as `keras.Variable`.

    It is a `lamina.Tensor` (every op accepts it and gradients flow into it
    when `trainable`), with a `name`, a `path`, and in-place `assign` methods
    that are never recorded by autograd.

    Args:
        initializer: initial value (array-like or tensor), or an initializer
            (callable `(shape, dtype) -> tensor`, or its string name).
        shape: the shape, required with a callable initializer.
        dtype: the dtype (defaults to the initial value's, or `floatx()`).
        trainable: whether gradients should be computed for it.
        name: a name (defaults to "variable").

    Example:
        v = lamina.Variable(initializer="glorot_uniform", shape=(3, 2), name="w")
        v.assign_sub(0.1 * v)
    """

    def __init__(
        self,
        initializer,
        shape=None,
        dtype=None,
        trainable=True,
        autocast=True,
        aggregation="none",
        synchronization="auto",
        name=None,
    ):
        # Its initial value would be recorded and re-written at each replay.
        _core.capture_taint("it creates a variable")
        if isinstance(initializer, str):
            from lamina import initializers

            initializer = initializers.get(initializer)
        if dtype is None:
            if isinstance(initializer, (Tensor, np.ndarray)):
                dtype = standardize_dtype(str(initializer.dtype))
                if dtype.startswith("float"):
                    dtype = standardize_dtype(None)
            elif callable(initializer):
                dtype = standardize_dtype(None)
            else:
                arr = np.asarray(initializer)
                dtype = "float32" if arr.dtype.kind == "f" else standardize_dtype(arr.dtype)
        else:
            dtype = standardize_dtype(dtype)
        value = _initial_value(initializer, shape, dtype)
        if shape is not None and tuple(value.shape) != standardize_shape(shape):
            raise ValueError(
                f"Initial value has shape {tuple(value.shape)}, which differs from the "
                f"requested shape {tuple(shape)}"
            )
        super().__init__(value)
        if name is not None and (not isinstance(name, str) or "/" in name):
            raise ValueError(
                f"Argument `name` must be a string and cannot contain character `/`. Received: name={name}"
            )
        if name is None:
            from lamina.utils.naming import auto_name

            name = auto_name("Variable")
        self._name = name
        self._path = self._name
        self._trainable = bool(trainable)
        self.autocast = autocast
        self.aggregation = aggregation
        self.synchronization = synchronization
        self.regularizer = None
        self.constraint = None
        self.overwrite_with_gradient = False
        if self._trainable and value.dtype in ("float32", "float64"):
            self.requires_grad = True

    # ---- identity ---------------------------------------------------------
    @property
    def name(self):
        return self._name

    @property
    def path(self):
        return self._path

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        if self.dtype in ("float32", "float64"):
            self.requires_grad = self._trainable

    @property
    def value(self):
        """The current value (the variable itself, as a tensor)."""
        return self

    # ---- state updates ----------------------------------------------------
    def _check_shape(self, value):
        shape = tuple(getattr(value, "shape", np.shape(value)))
        if shape != tuple(self.shape) and shape != ():
            raise ValueError(
                "The shape of the target variable and the shape of the target value in "
                f"`variable.assign(value)` must match. variable.shape={tuple(self.shape)}, "
                f"Received: value.shape={shape}. Target variable: {self!r}"
            )

    def assign(self, value):
        if not isinstance(value, Tensor):
            value = np.asarray(value)
        self._check_shape(value)
        with no_grad():
            _core.assign(self, value)
        return self

    def assign_add(self, value):
        with no_grad():
            _core.assign(self, _core.add(self, value))
        return self

    def assign_sub(self, value):
        with no_grad():
            _core.assign(self, _core.subtract(self, value))
        return self

    def numpy(self):
        return super().numpy()

    def __repr__(self):
        return (
            f"<Variable path={self.path}, shape={tuple(self.shape)}, dtype={self.dtype}, "
            f"value={np.array2string(self.numpy(), threshold=10)}>"
        )

    __str__ = __repr__

    def __array__(self, dtype=None, copy=None):
        arr = self.numpy()
        return arr.astype(dtype) if dtype is not None else arr

    def __hash__(self):
        return id(self)

    def __reduce__(self):
        return (
            _rebuild_variable,
            (np.array(self.numpy()), self.dtype, self._trainable, self._name),
        )


def _rebuild_variable(value, dtype, trainable, name):
    return Variable(value, dtype=dtype, trainable=trainable, name=name)
