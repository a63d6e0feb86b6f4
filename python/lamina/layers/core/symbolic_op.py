"""Operation layers recorded for arithmetic and indexing on KerasTensors."""

from lamina.backend.symbolic import compute_output_spec
from lamina.layers.layer import Layer


class SymbolicOp(Layer):
    """Wraps a function of tensors so it can sit in a functional graph."""

    _is_symbolic_op = True

    def __init__(self, fn, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.fn = fn
        self.built = True
        self.supports_masking = False
        self._allow_non_tensor_positional_args = True

    def call(self, *args):
        return self.fn(*args)

    def compute_output_spec(self, *args, **kwargs):
        return compute_output_spec(self.fn, *args)

    def get_config(self):
        raise NotImplementedError(
            "Models using arithmetic on symbolic tensors cannot be serialized to a config; "
            "use layers (e.g. lamina.layers.Add, Lambda) instead."
        )


def symbolic_op(name, fn, *args):
    return SymbolicOp(fn, name=None if name is None else _unique(name))(*args)


def _unique(name):
    from lamina.utils.naming import uniquify

    return uniquify(name)
