"""Output specs of arbitrary calls, found by running them on small zero tensors.

Unknown (None) sizes are replaced by two different sizes in two runs; output
sizes that differ between the runs are unknown (None) in the result. The runs
happen without gradients and inside a "symbolic scope" in which layers skip
side effects (batch-statistics updates, random draws).
"""

import contextlib
import threading

from lamina import _core
from lamina.autograd import no_grad
from lamina.backend.keras_tensor import KerasTensor
from lamina.utils import tree

_state = threading.local()
_SIZES = (2, 3)


def in_symbolic_scope():
    return getattr(_state, "depth", 0) > 0


@contextlib.contextmanager
def symbolic_scope():
    _state.depth = getattr(_state, "depth", 0) + 1
    try:
        yield
    finally:
        _state.depth -= 1


def _concrete(x, size):
    if isinstance(x, KerasTensor):
        shape = tuple(size if d is None else d for d in x.shape)
        return _core.full(shape, 0.0, x.dtype, "cpu")
    return x


def compute_output_spec(fn, *args, **kwargs):
    """KerasTensors with the shapes and dtypes `fn(*args, **kwargs)` gives."""
    flat = tree.flatten((args, kwargs))
    has_none = any(isinstance(x, KerasTensor) and None in x.shape for x in flat)
    results = []
    for size in _SIZES if has_none else _SIZES[:1]:
        a, k = tree.map_structure(lambda x: _concrete(x, size), (args, kwargs))
        with no_grad(), symbolic_scope():
            out = fn(*a, **k)
        results.append(out)

    def to_spec(*outs):
        o = outs[0]
        if not isinstance(o, _core.Tensor):
            return o
        shape = list(o.shape)
        for other in outs[1:]:
            for i, (d0, d1) in enumerate(zip(o.shape, other.shape)):
                if d0 != d1:
                    shape[i] = None
        return KerasTensor(tuple(shape), dtype=o.dtype)

    return tree.map_structure(to_spec, *results)
