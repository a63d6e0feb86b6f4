"""Symbolic tensors for the functional API (`keras.KerasTensor`).

A `KerasTensor` has a shape (with `None` for unknown sizes) and a dtype but
no values. Calling a layer on one records a node in a graph; a functional
`Model(inputs, outputs)` replays that graph on real tensors. Arithmetic and
indexing on KerasTensors record small operation layers, so
`x = inputs * 2.0 + 1.0` works in a functional definition.
"""

import collections

from lamina.backend.common import standardize_dtype, standardize_shape

KerasHistory = collections.namedtuple("KerasHistory", ["operation", "node_index", "tensor_index"])


class KerasTensor:
    """A symbolic placeholder: shape, dtype, and the layer call that made it."""

    def __init__(self, shape, dtype="float32", sparse=False, ragged=False, record_history=True, name=None):
        self._shape = standardize_shape(shape)
        self._dtype = standardize_dtype(dtype)
        self.sparse = bool(sparse)
        self.ragged = bool(ragged)
        self.name = name or "keras_tensor"
        self.record_history = record_history

    @property
    def shape(self):
        return self._shape

    @property
    def dtype(self):
        return self._dtype

    @property
    def ndim(self):
        return len(self._shape)

    def reshape(self, newshape):
        from lamina.layers.core.symbolic_op import symbolic_op

        return symbolic_op("reshape", self, op_kwargs={"newshape": tuple(newshape)})

    def squeeze(self, axis=None):
        from lamina.layers.core.symbolic_op import symbolic_op

        return symbolic_op("squeeze", self, op_kwargs={"axis": axis})

    def __array__(self, *args, **kwargs):
        raise ValueError(
            "A KerasTensor is symbolic: it's a placeholder for a shape and a dtype. It doesn't "
            "have any actual numerical value. You cannot convert it to a NumPy array. "
            "In a functional model use lamina.ops functions, operators or layers on it."
        )

    def numpy(self):
        self.__array__()

    def __bool__(self):
        raise TypeError("A symbolic KerasTensor cannot be used as a boolean.")

    def __len__(self):
        raise TypeError("A symbolic KerasTensor has no len(); use `x.shape[0]`.")

    def __iter__(self):
        raise NotImplementedError(
            "Iterating over a symbolic KerasTensor is not supported."
        )

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, sparse={self.sparse}, name={self.name}>"

    __str__ = __repr__

    def __hash__(self):
        return id(self)

    def __eq__(self, other):
        return _binary("equal", self, other)

    def __ne__(self, other):
        return _binary("not_equal", self, other)

    def __getitem__(self, key):
        from lamina.layers.core.symbolic_op import get_item

        return get_item(self, key)


def _binary(name, a, b, reverse=False):
    from lamina.layers.core.symbolic_op import symbolic_op

    if reverse:
        a, b = b, a
    return symbolic_op(name, a, b)


def _unary(name):
    def f(self):
        from lamina.layers.core.symbolic_op import symbolic_op

        return symbolic_op(name, self)

    return f


_BINARY = {
    "add": "add",
    "sub": "subtract",
    "mul": "multiply",
    "truediv": "true_divide",
    "floordiv": "floor_divide",
    "mod": "mod",
    "pow": "power",
    "matmul": "matmul",
    "and": "logical_and",
    "or": "logical_or",
    "xor": "logical_xor",
}
for _k, _v in _BINARY.items():
    setattr(KerasTensor, f"__{_k}__", (lambda v: lambda self, other: _binary(v, self, other))(_v))
    setattr(
        KerasTensor,
        f"__r{_k}__",
        (lambda v: lambda self, other: _binary(v, self, other, reverse=True))(_v),
    )
for _k, _v in {"lt": "less", "le": "less_equal", "gt": "greater", "ge": "greater_equal"}.items():
    setattr(KerasTensor, f"__{_k}__", (lambda v: lambda self, other: _binary(v, self, other))(_v))
KerasTensor.__neg__ = _unary("negative")
KerasTensor.__abs__ = _unary("abs")
KerasTensor.__invert__ = _unary("logical_not")
KerasTensor.__pos__ = lambda self: self


def is_keras_tensor(x):
    return isinstance(x, KerasTensor)


def any_symbolic_tensors(args=None, kwargs=None):
    from lamina.utils import tree

    for x in tree.flatten((args, kwargs)):
        if isinstance(x, KerasTensor):
            return True
    return False
