"""Operation layers recorded when ops, operators or indexing are applied to
KerasTensors in a functional definition (`ops.mean(x, axis=1)`, `x * 2.0`,
`x[:, 0]`). They appear in `summary()` (as Keras's operations do), not in
`model.layers`, and serialize by op name."""

from lamina.backend.symbolic import compute_output_spec
from lamina.layers.layer import Layer


def _camel(name):
    return "".join(p[:1].upper() + p[1:] for p in name.strip("_").split("_"))


def _encode_key(key):
    if isinstance(key, slice):
        return {"__slice__": [key.start, key.stop, key.step]}
    if key is Ellipsis:
        return "__ellipsis__"
    if isinstance(key, tuple):
        return {"__tuple__": [_encode_key(k) for k in key]}
    if isinstance(key, list):
        return [_encode_key(k) for k in key]
    return key


def _decode_key(key):
    if isinstance(key, dict) and "__slice__" in key:
        return slice(*key["__slice__"])
    if key == "__ellipsis__":
        return Ellipsis
    if isinstance(key, dict) and "__tuple__" in key:
        return tuple(_decode_key(k) for k in key["__tuple__"])
    if isinstance(key, list):
        return [_decode_key(k) for k in key]
    return key


class SymbolicOp(Layer):
    """`lamina.ops.<op>(*tensors, **op_kwargs)` as a graph operation.

    Args:
        op: the name of a `lamina.ops` function, or "get_item".
        op_kwargs: its non-tensor keyword arguments.
        dynamic_keys: keyword arguments that hold tensors (passed after the
            positional ones).
        n_args: the number of positional arguments.
    """

    _is_symbolic_op = True

    def __init__(self, op, op_kwargs=None, dynamic_keys=(), n_args=None, name=None, **kwargs):
        kwargs.pop("trainable", None)
        kwargs.pop("dtype", None)
        super().__init__(name=name, **kwargs)
        self.op = op
        self.op_kwargs = dict(op_kwargs or {})
        self.dynamic_keys = list(dynamic_keys)
        self.n_args = n_args
        self.built = True
        self.supports_masking = False
        self.autocast = False
        self._summary_class_name = _camel(op)

    def _fn(self, *values):
        if self.op == "get_item":
            return values[0][_decode_key(self.op_kwargs["key"])]
        from lamina import ops

        fn = getattr(ops, self.op)
        n = len(values) if self.n_args is None else self.n_args
        return fn(*values[:n], **self.op_kwargs, **dict(zip(self.dynamic_keys, values[n:])))

    def call(self, *args):
        return self._fn(*args)

    def compute_output_spec(self, *args, **kwargs):
        return compute_output_spec(self._fn, *args)

    def get_config(self):
        return {
            "name": self.name,
            "op": self.op,
            "op_kwargs": self.op_kwargs,
            "dynamic_keys": self.dynamic_keys,
            "n_args": self.n_args,
        }


def symbolic_op(op, *args, op_kwargs=None, dynamic_keys=(), n_args=None):
    """Applies op `op` (a `lamina.ops` name, or "get_item") to symbolic args."""
    from lamina.utils.naming import uniquify

    layer = SymbolicOp(op, op_kwargs=op_kwargs, dynamic_keys=dynamic_keys, n_args=n_args, name=uniquify(op))
    return layer(*args)


def get_item(x, key):
    return symbolic_op("get_item", x, op_kwargs={"key": _encode_key(key)})
