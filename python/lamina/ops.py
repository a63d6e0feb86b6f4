"""Tensor operations, named and argued as `keras.ops`.

Every function accepts lamina tensors, NumPy arrays and Python scalars.
Most are compiled ops from `lamina._core`; the few below written in Python
are compositions of those (their gradients come for free).
"""

import builtins
import string

import numpy as np

from lamina import _core
from lamina._core import (  # noqa: F401  (re-exported)
    abs,
    absolute,
    add,
    argmax,
    argmin,
    assign,
    broadcast_to,
    cast,
    ceil,
    clip,
    concatenate,
    copy,
    cos,
    divide,
    elu,
    equal,
    erf,
    exp,
    expand_dims,
    expm1,
    floor,
    floor_divide,
    gelu,
    greater,
    greater_equal,
    index_add,
    isfinite,
    isinf,
    isnan,
    leaky_relu,
    less,
    less_equal,
    log,
    log1p,
    log_softmax,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mod,
    multiply,
    negative,
    not_equal,
    one_hot,
    power,
    prod,
    reciprocal,
    relu,
    relu6,
    repeat,
    reshape,
    round,
    selu,
    sigmoid,
    sign,
    silu,
    sin,
    softmax,
    softplus,
    sqrt,
    square,
    squeeze,
    stack,
    std,
    subtract,
    sum,
    sum_to,
    take,
    take_along_axis,
    tanh,
    tile,
    transpose,
    true_divide,
    var,
    where,
)
from lamina._tensor import arange, eye, full, ones, zeros  # noqa: F401

Tensor = _core.Tensor


def convert_to_tensor(x, dtype=None, sparse=None):
    """A lamina tensor from array-like `x` (a tensor is returned as is)."""
    return _core.convert_to_tensor(x, dtype, True)


def convert_to_numpy(x):
    """A NumPy array with `x`'s values."""
    if isinstance(x, Tensor):
        return np.array(x.numpy())
    return np.asarray(x)


def is_tensor(x):
    return isinstance(x, Tensor)


def shape(x):
    return convert_to_tensor(x).shape


def ndim(x):
    return convert_to_tensor(x).ndim


def size(x):
    return convert_to_tensor(x).size


def dtype(x):
    return convert_to_tensor(x).dtype


def zeros_like(x, dtype=None):
    x = convert_to_tensor(x)
    return _core.full(x.shape, 0.0, dtype or x.dtype, x.device)


def ones_like(x, dtype=None):
    x = convert_to_tensor(x)
    return _core.full(x.shape, 1.0, dtype or x.dtype, x.device)


def full_like(x, fill_value, dtype=None):
    x = convert_to_tensor(x)
    return _core.full(x.shape, float(fill_value), dtype or x.dtype, x.device)


def hard_sigmoid(x):
    return clip(convert_to_tensor(x) / 6.0 + 0.5, 0.0, 1.0)


def swish(x):
    return silu(x)


def all(x, axis=None, keepdims=False):
    # Counting with sum (identity 0) makes empty inputs True, as NumPy.
    x = convert_to_tensor(x)
    return _core.equal(_core.sum(cast(equal(x, 0), "int32"), axis, keepdims), 0)


def any(x, axis=None, keepdims=False):
    x = convert_to_tensor(x)
    return _core.greater(_core.sum(cast(not_equal(x, 0), "int32"), axis, keepdims), 0)


def ravel(x):
    return reshape(x, (-1,))


def flip(x, axis=None):
    x = convert_to_tensor(x)
    axes = range(x.ndim) if axis is None else ([axis] if isinstance(axis, int) else axis)
    for a in axes:
        x = _core.flip(x, a)
    return x


def swapaxes(x, axis1, axis2):
    x = convert_to_tensor(x)
    perm = list(range(x.ndim))
    perm[axis1], perm[axis2] = perm[axis2], perm[axis1]
    return transpose(x, perm)


def moveaxis(x, source, destination):
    x = convert_to_tensor(x)
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    src = [s % x.ndim for s in src]
    dst = [d % x.ndim for d in dst]
    rest = [i for i in range(x.ndim) if i not in src]
    perm = [None] * x.ndim
    for s, d in zip(src, dst):
        perm[d] = s
    it = iter(rest)
    perm = [p if p is not None else next(it) for p in perm]
    return transpose(x, perm)


def split(x, indices_or_sections, axis=0):
    """Splits along `axis` into equal sections or at the given indices (as NumPy)."""
    x = convert_to_tensor(x)
    n = x.shape[axis]
    if isinstance(indices_or_sections, int):
        if indices_or_sections <= 0 or n % indices_or_sections:
            raise ValueError(
                f"[split] axis {axis} of size {n} cannot be split into "
                f"{indices_or_sections} equal sections"
            )
        step = n // indices_or_sections
        bounds = list(range(0, n + 1, step))
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [n]
    out = []
    ax = axis % x.ndim
    for b0, b1 in zip(bounds[:-1], bounds[1:]):
        start = [0] * x.ndim
        stop = list(x.shape)
        start[ax], stop[ax] = builtins.min(b0, n), builtins.max(builtins.min(b1, n), builtins.min(b0, n))
        out.append(_core.slice(x, start, stop, [1] * x.ndim))
    return out


def pad(x, pad_width, mode="constant", constant_values=None):
    """Pads with a constant (Keras's default mode)."""
    if mode != "constant":
        raise ValueError(f"[pad] only mode='constant' is supported, got {mode!r}")
    x = convert_to_tensor(x)
    pw = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2))
    value = 0.0 if constant_values is None else float(constant_values)
    return _core.pad_constant(x, [tuple(int(v) for v in row) for row in pw], value)


def dot(x1, x2):
    """NumPy's dot: inner product, matrix product, or contraction of the last
    axis of `x1` with the second-to-last of `x2`."""
    a, b = convert_to_tensor(x1), convert_to_tensor(x2)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    if b.ndim <= 2 or a.ndim == 1:
        return matmul(a, b)
    return tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 2]))


def tensordot(x1, x2, axes=2):
    a, b = convert_to_tensor(x1), convert_to_tensor(x2)
    if isinstance(axes, int):
        ax_a = list(range(a.ndim - axes, a.ndim))
        ax_b = list(range(axes))
    else:
        ax_a, ax_b = axes
        ax_a = [ax_a] if isinstance(ax_a, int) else list(ax_a)
        ax_b = [ax_b] if isinstance(ax_b, int) else list(ax_b)
    ax_a = [i % a.ndim for i in ax_a]
    ax_b = [i % b.ndim for i in ax_b]
    free_a = [i for i in range(a.ndim) if i not in ax_a]
    free_b = [i for i in range(b.ndim) if i not in ax_b]
    k = int(np.prod([a.shape[i] for i in ax_a]))
    a2 = reshape(transpose(a, free_a + ax_a), (-1, k))
    b2 = reshape(transpose(b, ax_b + free_b), (k, -1))
    out_shape = tuple(a.shape[i] for i in free_a) + tuple(b.shape[i] for i in free_b)
    return reshape(matmul(a2, b2), out_shape)


def vdot(x1, x2):
    return sum(multiply(ravel(x1), ravel(x2)))


def inner(x1, x2):
    return tensordot(x1, x2, axes=([-1], [-1]))


def outer(x1, x2):
    return multiply(reshape(x1, (-1, 1)), reshape(x2, (1, -1)))


def _parse_einsum(subscripts, operands):
    subscripts = subscripts.replace(" ", "")
    if "->" in subscripts:
        lhs, out = subscripts.split("->")
    else:
        lhs, out = subscripts, None
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"[einsum] {len(terms)} terms in {subscripts!r} but {len(operands)} operands")
    used = set(c for c in subscripts if c.isalpha())
    spare = [c for c in string.ascii_letters if c not in used]
    ell = None
    for i, (t, x) in enumerate(zip(terms, operands)):
        if "..." in t:
            n = x.ndim - (len(t) - 3)
            ell_i = "".join(spare[:n]) if ell is None or len(ell) < n else ell[len(ell) - n:]
            if ell is None or len(ell) < n:
                ell = "".join(spare[:n])
                ell_i = ell
            terms[i] = t.replace("...", ell_i)
    if out is None:
        counts = {}
        for t in terms:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        out = (ell or "") + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in (ell or "")))
    elif "..." in out:
        out = out.replace("...", ell or "")
    for t, x in zip(terms, operands):
        if len(t) != x.ndim:
            raise ValueError(f"[einsum] term {t!r} has {len(t)} labels but its operand has shape {x.shape}")
        if len(set(t)) != len(t):
            raise ValueError(f"[einsum] repeated label in term {t!r} (diagonals) is not supported")
    return terms, out


def _sum_out(x, term, keep):
    """Sums away labels of `term` not in `keep`."""
    axes = [i for i, c in enumerate(term) if c not in keep]
    if axes:
        x = sum(x, axes)
        term = "".join(c for c in term if c in keep)
    return x, term


def _contract(a, ta, b, tb, keep):
    a, ta = _sum_out(a, ta, set(tb) | keep)
    b, tb = _sum_out(b, tb, set(ta) | keep)
    batch = [c for c in ta if c in tb and c in keep]
    contr = [c for c in ta if c in tb and c not in keep]
    left = [c for c in ta if c not in tb]
    right = [c for c in tb if c not in ta]
    size = {}
    for c, n in list(zip(ta, a.shape)) + list(zip(tb, b.shape)):
        size[c] = builtins.max(size.get(c, 1), n)
    a = transpose(a, [ta.index(c) for c in batch + left + contr])
    b = transpose(b, [tb.index(c) for c in batch + contr + right])
    nb, nl, nc, nr = (int(np.prod([size[c] for c in g])) for g in (batch, left, contr, right))
    a = reshape(broadcast_to(a, tuple(size[c] for c in batch + left + contr)), (nb, nl, nc))
    b = reshape(broadcast_to(b, tuple(size[c] for c in batch + contr + right)), (nb, nc, nr))
    out = reshape(matmul(a, b), tuple(size[c] for c in batch + left + right))
    return out, "".join(batch + left + right)


def einsum(subscripts, *operands):
    """Einstein summation, computed as transposes, reshapes and batched matmuls."""
    ops_ = [convert_to_tensor(x) for x in operands]
    terms, out = _parse_einsum(subscripts, ops_)
    x, tx = ops_[0], terms[0]
    for i in range(1, len(ops_)):
        later = set("".join(terms[i + 1:])) | set(out)
        x, tx = _contract(x, tx, ops_[i], terms[i], later)
    x, tx = _sum_out(x, tx, set(out))
    if set(out) - set(tx):
        raise ValueError(f"[einsum] output labels {out!r} not all found in the inputs")
    return transpose(x, [tx.index(c) for c in out]) if tx != out else x


def _block_stops(op, x_shape, start, sizes):
    """Stops of the block of `sizes` at `start` (a size of -1: to the end), checked
    to lie inside `x_shape`: _core.slice trusts its bounds."""
    if len(start) != len(x_shape) or len(sizes) != len(x_shape):
        raise ValueError(
            f"[{op}] expected {len(x_shape)} start indices and sizes for shape {x_shape}, "
            f"got {tuple(start)} and {tuple(sizes)}"
        )
    stop = []
    for s, n, d in zip(start, sizes, x_shape):
        e = d if n == -1 else s + n
        if s < 0 or n < -1 or s > d or e > d:
            raise IndexError(
                f"[{op}] a block of shape {tuple(sizes)} at {tuple(start)} does not fit in shape {x_shape}"
            )
        stop.append(e)
    return stop


def slice(inputs, start_indices, shape):
    """keras.ops.slice: a block of `shape` starting at `start_indices` (a size
    of -1 takes the rest of that axis, as tf.slice)."""
    x = convert_to_tensor(inputs)
    start = [int(s) for s in start_indices]
    stop = _block_stops("slice", x.shape, start, [int(n) for n in shape])
    return _core.slice(x, start, stop, [1] * x.ndim)


def slice_update(inputs, start_indices, updates):
    """A copy of `inputs` with `updates` written at `start_indices`."""
    x = copy(convert_to_tensor(inputs))
    u = convert_to_tensor(updates)
    start = [int(s) for s in start_indices]
    stop = _block_stops("slice_update", x.shape, start, list(u.shape))
    _core.assign(_core.slice(x, start, stop, [1] * x.ndim), u)
    return x


def scatter_add(x, axis, indices, updates):
    """`x` with `updates` added at `indices` along `axis` (repeats accumulate)."""
    return index_add(x, axis, indices, updates)


def stop_gradient(x):
    return convert_to_tensor(x).detach()


def softsign(x):
    x = convert_to_tensor(x)
    return x / (abs(x) + 1.0)


def log_sigmoid(x):
    return negative(softplus(negative(x)))


def normalize(x, axis=-1, order=2):
    x = convert_to_tensor(x)
    return x / maximum(sqrt(sum(square(x), axis, True)), 1e-12)


from lamina._nn_ops import (  # noqa: E402,F401  (keras.ops.nn)
    average_pool,
    batch_norm_train,
    batch_normalization,
    binary_crossentropy,
    categorical_crossentropy,
    conv,
    conv_transpose,
    depthwise_conv,
    dot_product_attention,
    layer_normalization,
    max_pool,
    moments,
    rms_normalization,
    rnn,
    separable_conv,
    sparse_categorical_crossentropy,
)
