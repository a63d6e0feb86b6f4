"""Tensor creation, indexing and the Python-side Tensor methods."""

import numpy as np

from lamina import _core
from lamina._core import Tensor
from lamina.runtime import default_device


def _on_device(t, device=None):
    dev = device or default_device()
    return t if dev == "cpu" else _core.to_device(t, dev)


def tensor(data, dtype=None, copy=True, requires_grad=False, device=None):
    """Makes a tensor from array-like `data`.

    NumPy arrays keep their dtype; Python floats become float32, ints int32.
    The data is copied unless `copy=False` and `data` is a NumPy array of a
    supported dtype, in which case the tensor shares its memory (as
    `torch.from_numpy`): writes through either are seen by the other.
    """
    t = _core.convert_to_tensor(data, dtype, copy)
    t = _on_device(t, device)
    if requires_grad:
        t.requires_grad = True
    return t


def from_numpy(array):
    """A tensor sharing `array`'s memory (no copy)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return _core.convert_to_tensor(array, None, False)


def from_dlpack(x):
    """A tensor sharing the memory of any DLPack-capable array."""
    return _core.from_dlpack(x)


def _shape(shape):
    return (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)


def zeros(shape, dtype=None, device=None):
    return _core.full(_shape(shape), 0.0, dtype, device or default_device())


def ones(shape, dtype=None, device=None):
    return _core.full(_shape(shape), 1.0, dtype, device or default_device())


def full(shape, fill_value, dtype=None, device=None):
    if dtype is None and isinstance(fill_value, bool):
        dtype = "bool"
    elif dtype is None and isinstance(fill_value, int):
        dtype = "int32"
    return _core.full(_shape(shape), float(fill_value), dtype, device or default_device())


def arange(start, stop=None, step=1, dtype=None, device=None):
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, stop, step))
        dtype = "int32" if ints else "float32"
    return _core.arange(float(start), float(stop), float(step), dtype, device or default_device())


def eye(N, M=None, k=0, dtype=None, device=None):
    return _core.eye(int(N), int(N if M is None else M), int(k), dtype, device or default_device())


# ---- indexing -------------------------------------------------------------


def _expand_key(t, key):
    """Splits a key into (basic slices per axis, new-axis positions, advanced index)."""
    if not isinstance(key, tuple):
        key = (key,)
    n_real = sum(1 for k in key if k is not None and k is not Ellipsis)
    if sum(1 for k in key if k is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if n_real > t.ndim:
        raise IndexError(
            f"too many indices for tensor of shape {t.shape}: got {n_real}, rank {t.ndim}"
        )
    out = []
    for k in key:
        if k is Ellipsis:
            out.extend([slice(None)] * (t.ndim - n_real))
        else:
            out.append(k)
    # `k is Ellipsis`, never `in`: `in` compares index arrays elementwise.
    if not any(k is Ellipsis for k in key):
        out.extend([slice(None)] * (t.ndim - n_real))
    return out


def _getitem(self, key):
    if isinstance(key, (Tensor, np.ndarray, list)) and not isinstance(key, tuple):
        idx = key if isinstance(key, Tensor) else np.asarray(key)
        if str(getattr(idx, "dtype", "")) == "bool":
            mask = np.asarray(idx)
            flat = np.flatnonzero(mask.reshape(-1)) if mask.ndim else None
            if mask.shape != tuple(self.shape[: mask.ndim]):
                raise IndexError(
                    f"boolean index of shape {mask.shape} does not match tensor shape {self.shape}"
                )
            lead = _core.reshape(self, (-1,) + tuple(self.shape[mask.ndim:]))
            return _core.take(lead, flat.astype(np.int64), 0)
        return _core.take(self, idx, 0)
    items = _expand_key(self, key)
    starts, stops, steps, final_shape, drops = [], [], [], [], []
    axis = 0
    adv = None
    shape = self.shape
    for k in items:
        if k is None:
            final_shape.append(1)
            continue
        n = shape[axis]
        if isinstance(k, slice):
            s0, s1, st = k.indices(n)
            starts.append(s0)
            stops.append(s1)
            steps.append(st)
            length = len(range(s0, s1, st))
            final_shape.append(length)
        elif isinstance(k, (Tensor, np.ndarray, list)):
            kd = k.numpy() if isinstance(k, Tensor) else np.asarray(k)
            if kd.dtype == np.bool_:
                # A 1-D mask on one axis selects the positions where it is True.
                if kd.shape != (n,):
                    raise IndexError(
                        f"boolean index of shape {kd.shape} does not match axis {axis} of size {n}"
                    )
                k = np.flatnonzero(kd)
            if adv is not None:
                raise IndexError("only one integer-array index is supported per indexing call")
            adv = (axis, k, len(final_shape))
            starts.append(0)
            stops.append(n)
            steps.append(1)
            final_shape.append(n)
        else:
            i = int(k)
            if i < -n or i >= n:
                raise IndexError(f"index {i} is out of bounds for axis {axis} with size {n}")
            i = i + n if i < 0 else i
            starts.append(i)
            stops.append(i + 1)
            steps.append(1)
            drops.append(len(final_shape))
            final_shape.append(1)
        axis += 1
    out = _core.slice(self, starts, stops, steps) if self.ndim else self
    if adv is not None:
        ax, idx, pos = adv
        out = _core.take(out, idx, ax)
        idx_ndim = np.ndim(idx) if not isinstance(idx, Tensor) else idx.ndim
        final_shape = final_shape[:pos] + list(out.shape[ax : ax + idx_ndim]) + final_shape[pos + 1 :]
        drops = [d if d < pos else d + idx_ndim - 1 for d in drops]
    final = [d for i, d in enumerate(final_shape) if i not in drops]
    return _core.reshape(out, tuple(final))


def _is_advanced(key):
    keys = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, (Tensor, np.ndarray, list)) for k in keys)


def _setitem(self, key, value):
    """`t[key] = value` in place, with NumPy's semantics (broadcast, cast).

    Integer-array and boolean-mask keys write through a NumPy view of the
    tensor's memory (CPU tensors only); basic keys assign into a view.
    """
    if self.requires_grad and self.is_leaf and _core.is_grad_enabled():
        raise RuntimeError(
            "in-place assignment to a leaf tensor that requires grad; wrap it in lamina.no_grad()"
        )
    if _is_advanced(key):
        if self.device != "cpu":
            raise IndexError(
                "assignment through an integer-array or boolean index is only supported on CPU "
                "tensors; use index_add or where"
            )
        keys = key if isinstance(key, tuple) else (key,)
        np_key = tuple(np.asarray(k.numpy()) if isinstance(k, Tensor) else k for k in keys)
        _expand_key(self, np_key)  # lamina's own checks (rank, ellipsis) first
        val = value.numpy() if isinstance(value, Tensor) else value
        arr = self.numpy()  # shares the tensor's memory
        arr[np_key if isinstance(key, tuple) else np_key[0]] = val
        return
    view = _getitem(self, key)
    # As NumPy, a value may carry extra leading size-1 axes.
    vshape = tuple(value.shape) if isinstance(value, Tensor) else np.shape(value)
    extra = len(vshape) - view.ndim
    if extra > 0 and all(d == 1 for d in vshape[:extra]):
        value = _core.reshape(value, vshape[extra:])
    _core.assign(view, value)


def _repr(self):
    body = np.array2string(self.numpy(), separator=", ", prefix="lamina.Tensor(")
    extra = f", dtype={self.dtype}"
    if self.device != "cpu":
        extra += f", device={self.device}"
    if self.requires_grad:
        extra += ", requires_grad=True"
    return f"lamina.Tensor({body}{extra})"


def _backward(self, gradient=None, retain_graph=False):
    """Accumulates d(self)/d(leaf) into the `.grad` of every leaf requiring grad."""
    if gradient is not None and not isinstance(gradient, Tensor):
        gradient = _core.convert_to_tensor(gradient, self.dtype)
    _core.backward(self, gradient, retain_graph)


def _to(self, device):
    from lamina.runtime import _check_device

    return _core.to_device(self, _check_device(device))


def _install_methods():
    from lamina import ops

    Tensor.__getitem__ = _getitem
    Tensor.__setitem__ = _setitem
    Tensor.__repr__ = _repr
    Tensor.__str__ = _repr
    Tensor.backward = _backward
    Tensor.to = _to
    Tensor.T = property(lambda self: _core.transpose(self))
    Tensor.reshape = lambda self, *shape: _core.reshape(
        self, shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape
    )
    Tensor.transpose = lambda self, *axes: _core.transpose(self, axes or None)
    Tensor.permute = lambda self, *axes: _core.transpose(
        self, axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else axes
    )
    Tensor.astype = lambda self, dtype: _core.cast(self, dtype)
    Tensor.sum = lambda self, axis=None, keepdims=False: _core.sum(self, axis, keepdims)
    Tensor.mean = lambda self, axis=None, keepdims=False: _core.mean(self, axis, keepdims)
    Tensor.max = lambda self, axis=None, keepdims=False: _core.max(self, axis, keepdims)
    Tensor.min = lambda self, axis=None, keepdims=False: _core.min(self, axis, keepdims)
    Tensor.expand = lambda self, *shape: _core.broadcast_to(
        self, shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape
    )
    Tensor.broadcast_to = lambda self, shape: _core.broadcast_to(self, shape)
    Tensor.flatten = lambda self: _core.reshape(self, (-1,))
    Tensor.squeeze = lambda self, axis=None: _core.squeeze(self, axis)
    Tensor.tolist = lambda self: self.numpy().tolist()
    Tensor.__iter__ = lambda self: (self[i] for i in range(len(self)))
    del ops


_install_methods()
