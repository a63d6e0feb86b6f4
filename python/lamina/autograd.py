"""Gradient recording controls and TensorFlow-style GradientTape."""

import contextlib

from lamina import _core


@contextlib.contextmanager
def no_grad():
    """Ops inside do not record a graph (inference, optimizer updates)."""
    prev = _core.is_grad_enabled()
    _core.set_grad_enabled(False)
    try:
        yield
    finally:
        _core.set_grad_enabled(prev)


@contextlib.contextmanager
def enable_grad():
    prev = _core.is_grad_enabled()
    _core.set_grad_enabled(True)
    try:
        yield
    finally:
        _core.set_grad_enabled(prev)


class GradientTape:
    """Records ops for differentiation, as `tf.GradientTape`.

    Tensors that require gradients (trainable variables) are watched
    automatically; `watch(x)` adds others. The graph is freed after the first
    `gradient` call unless `persistent=True`.

    Example:
        x = lamina.tensor([1.0, 2.0])
        with lamina.GradientTape() as tape:
            tape.watch(x)
            y = lamina.ops.sum(x * x)
        tape.gradient(y, x)  # [2., 4.]
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self.persistent = persistent
        self._watched = []
        self._used = False
        self._prev = None

    def __enter__(self):
        self._prev = _core.is_grad_enabled()
        _core.set_grad_enabled(True)
        return self

    def __exit__(self, *exc):
        _core.set_grad_enabled(self._prev)
        return False

    def watch(self, tensor):
        for t in tensor if isinstance(tensor, (list, tuple)) else [tensor]:
            if not isinstance(t, _core.Tensor):
                raise TypeError(f"GradientTape.watch expects lamina tensors, got {type(t).__name__}")
            if t.is_leaf and not t.requires_grad:
                t.requires_grad = True
            self._watched.append(t)

    def gradient(self, target, sources, output_gradients=None):
        """Gradients of `target` with respect to `sources` (a tensor or a nested list)."""
        if self._used and not self.persistent:
            raise RuntimeError(
                "GradientTape.gradient can only be called once on a non-persistent tape"
            )
        self._used = True
        single = isinstance(sources, _core.Tensor)
        flat = [sources] if single else list(_flatten(sources))
        for s in flat:
            if s is not None and not isinstance(s, _core.Tensor):
                raise TypeError(f"GradientTape.gradient sources must be tensors, got {type(s).__name__}")
        if not isinstance(target, _core.Tensor) or not target.requires_grad:
            grads = [None] * len(flat)
        else:
            want = [s for s in flat if s is not None and s.requires_grad]
            got = _core.grad(target, want, output_gradients, self.persistent) if want else []
            it = iter(got)
            grads = [next(it) if (s is not None and s.requires_grad) else None for s in flat]
        return grads[0] if single else _unflatten(sources, iter(grads))


def _flatten(x):
    if isinstance(x, (list, tuple)):
        for v in x:
            yield from _flatten(v)
    else:
        yield x


def _unflatten(structure, it):
    if isinstance(structure, (list, tuple)):
        return type(structure)(_unflatten(v, it) for v in structure)
    return next(it)
