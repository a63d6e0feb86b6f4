"""`Metric`: stateful metric base class (`keras.metrics.Metric`).

State lives in non-trainable `lamina.Variable`s (`metric.variables`);
updates are computed with NumPy on detached values and written in place.
"""

import numpy as np

from lamina import _core
from lamina.backend.common import standardize_dtype
from lamina.backend.variables import Variable
from lamina.initializers import get as get_initializer


def to_numpy(x, dtype=None):
    """A NumPy array of a tensor / array-like's values (no graph)."""
    if isinstance(x, _core.Tensor):
        arr = x.numpy()
    else:
        arr = np.asarray(x)
    if dtype is not None and arr.dtype != dtype:
        arr = arr.astype(dtype)
    return arr


def scalar(value, dtype="float32"):
    return _core.convert_to_tensor(np.asarray(value, dtype=dtype), None, True)


class Metric:
    """Base class: implement `update_state(...)`, `result()` and, if the state
    is not all zeros-initialized, `reset_state()`.

    Args:
        name: the metric's name (used in logs).
        dtype: the dtype of results (default float32).
    """

    def __init__(self, dtype=None, name=None):
        from lamina.utils.naming import auto_name

        self.name = name or auto_name(self.__class__.__name__)
        self._dtype = standardize_dtype(dtype) if dtype is not None else "float32"
        self._variables = []
        self._initializers = []

    @property
    def dtype(self):
        return self._dtype

    @property
    def variables(self):
        out = list(self._variables)
        for v in self.__dict__.values():
            if isinstance(v, Metric):
                out.extend(v.variables)
        return out

    def add_variable(self, shape, initializer="zeros", dtype=None, aggregation="sum", name=None):
        init = get_initializer(initializer)
        v = Variable(init, shape=tuple(shape), dtype=dtype or self._dtype, trainable=False, name=name)
        self._variables.append(v)
        self._initializers.append(init)
        return v

    add_weight = add_variable

    def reset_state(self):
        for v, init in zip(self._variables, self._initializers):
            v.assign(init(tuple(v.shape), dtype=v.dtype))

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{self.__class__.__name__} name={self.name}>"

    def stateless_update_state(self, *args, **kwargs):
        raise NotImplementedError("stateless metric APIs are not supported by lamina")
