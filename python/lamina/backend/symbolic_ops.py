"""Lets `lamina.ops` functions take symbolic KerasTensors, as `keras.ops`.

Called on a KerasTensor (or a list containing one), an op records a small
operation layer in the functional graph instead of computing; on real
tensors it runs directly (one type check per argument).
"""

import functools
import inspect

from lamina.backend.keras_tensor import KerasTensor

# Functions that are not tensor ops, or that answer for symbolic tensors directly.
_SKIP = {
    "Tensor", "np", "builtins", "string", "is_tensor", "convert_to_numpy", "arange", "eye", "full",
    "ones", "zeros", "assign",
}
_SEQ = (list, tuple)


def _has_symbolic(seq):
    for b in seq:
        c = b.__class__
        if c is KerasTensor or (c in _SEQ and _has_symbolic(b)):
            return True
    return False


def _symbolic_call(name, fn, args, kwargs):
    from lamina.layers.core.symbolic_op import symbolic_op

    static = {k: v for k, v in kwargs.items() if not (v.__class__ is KerasTensor or (v.__class__ in _SEQ and _has_symbolic(v)))}
    dynamic = [k for k in kwargs if k not in static]
    return symbolic_op(name, *args, *[kwargs[k] for k in dynamic], op_kwargs=static, dynamic_keys=dynamic, n_args=len(args))


def _wrap(name, fn):
    @functools.wraps(fn)
    def op(*args, **kwargs):
        for a in args:
            c = a.__class__
            if c is KerasTensor or (c in _SEQ and _has_symbolic(a)):
                return _symbolic_call(name, fn, args, kwargs)
        if kwargs:
            for a in kwargs.values():
                c = a.__class__
                if c is KerasTensor or (c in _SEQ and _has_symbolic(a)):
                    return _symbolic_call(name, fn, args, kwargs)
        return fn(*args, **kwargs)

    op._lamina_symbolic_wrapped = True
    return op


def _shape_like(attr, fn):
    @functools.wraps(fn)
    def op(x):
        if x.__class__ is KerasTensor:
            return getattr(x, attr)
        return fn(x)

    return op


def install(ops_module):
    """Wraps every op of `ops_module` in place (idempotent)."""
    if getattr(ops_module, "_symbolic_dispatch_installed", False):
        return
    for name in dir(ops_module):
        if name.startswith("_") or name in _SKIP:
            continue
        fn = getattr(ops_module, name)
        if inspect.ismodule(fn) or isinstance(fn, type) or not callable(fn):
            continue
        if getattr(fn, "_lamina_symbolic_wrapped", False):
            continue
        if name in ("shape", "ndim", "dtype"):
            setattr(ops_module, name, _shape_like(name, fn))
        else:
            setattr(ops_module, name, _wrap(name, fn))
    ops_module._symbolic_dispatch_installed = True
