"""3-D convolution, transposed convolution and pooling ops (rank-5 inputs)
against float64 NumPy references written with loops, finite-difference
gradients, and errors that name the op and the shapes."""

import numpy as np
import pytest

from lamina import ops
from testutil import check_grad, to_np


@pytest.fixture
def rng():
    return np.random.default_rng(3)


def _triple(v):
    return (v,) * 3 if isinstance(v, int) else tuple(v)


def _pads(size, k, s, d, padding):
    """(before, after, output size) with Keras's 'same' split (extra after)."""
    keff = d * (k - 1) + 1
    if padding == "valid":
        return 0, 0, (size - keff) // s + 1
    out = -(-size // s)
    total = max((out - 1) * s + keff - size, 0)
    return total // 2, total - total // 2, out


def np_conv3d(x, k, strides=1, padding="valid", dilation=1):
    """x (N, D, H, W, C), kernel (KD, KH, KW, C/groups, F), grouped."""
    s, d = _triple(strides), _triple(dilation)
    groups = x.shape[-1] // k.shape[3]
    pads = [_pads(n, kk, ss, dd, padding) for n, kk, ss, dd in zip(x.shape[1:4], k.shape[:3], s, d)]
    xp = np.pad(x, [(0, 0)] + [(a, b) for a, b, _ in pads] + [(0, 0)])
    out_sz = [o for _, _, o in pads]
    cin, f = k.shape[3], k.shape[4]
    fpg = f // groups
    out = np.zeros((x.shape[0], *out_sz, f))
    for i, j, l in np.ndindex(*k.shape[:3]):
        patch = xp[:, i * d[0]: i * d[0] + (out_sz[0] - 1) * s[0] + 1: s[0],
                   j * d[1]: j * d[1] + (out_sz[1] - 1) * s[1] + 1: s[1],
                   l * d[2]: l * d[2] + (out_sz[2] - 1) * s[2] + 1: s[2]]
        for g in range(groups):
            out[..., g * fpg:(g + 1) * fpg] += patch[..., g * cin:(g + 1) * cin] @ k[i, j, l, :, g * fpg:(g + 1) * fpg]
    return out


def np_conv3d_transpose(x, k, strides=1, padding="valid", output_padding=None, dilation=1):
    """Scatter of every input voxel times the kernel (TF semantics), cropped to
    Keras's `deconv_output_length`; kernel (KD, KH, KW, F, C)."""
    s, d = _triple(strides), _triple(dilation)
    op = (None,) * 3 if output_padding is None else _triple(output_padding)
    outs, befores = [], []
    for n, kk, ss, dd, p in zip(x.shape[1:4], k.shape[:3], s, d, op):
        keff = dd * (kk - 1) + 1
        if p is None:
            o = n * ss + max(keff - ss, 0) if padding == "valid" else n * ss
        else:
            o = (n - 1) * ss + keff - 2 * (keff // 2 if padding == "same" else 0) + p
        full = (n - 1) * ss + keff
        outs.append(o)
        befores.append(max(full - o, 0) // 2 if padding == "same" else 0)
    big = np.zeros((x.shape[0],) + tuple(b + o + (n - 1) * ss + dd * (kk - 1) + 1 for b, o, n, ss, dd, kk in
                                         zip(befores, outs, x.shape[1:4], s, d, k.shape[:3])) + (k.shape[3],))
    for i, j, l in np.ndindex(*k.shape[:3]):
        contrib = x @ k[i, j, l].T
        big[:, i * d[0]: i * d[0] + (x.shape[1] - 1) * s[0] + 1: s[0],
            j * d[1]: j * d[1] + (x.shape[2] - 1) * s[1] + 1: s[1],
            l * d[2]: l * d[2] + (x.shape[3] - 1) * s[2] + 1: s[2]] += contrib
    b = befores
    return big[:, b[0]: b[0] + outs[0], b[1]: b[1] + outs[1], b[2]: b[2] + outs[2]]


def np_pool3d(x, pool, strides, padding, mode):
    """Max / mean over the in-input taps of each window."""
    pool = _triple(pool)
    strides = pool if strides is None else _triple(strides)
    pads = [_pads(n, p, s, 1, padding) for n, p, s in zip(x.shape[1:4], pool, strides)]
    out = np.zeros((x.shape[0],) + tuple(o for _, _, o in pads) + (x.shape[-1],))
    for idx in np.ndindex(*out.shape[1:4]):
        lo = [i * s - b for i, s, (b, _, _) in zip(idx, strides, pads)]
        win = x[:, max(lo[0], 0): lo[0] + pool[0], max(lo[1], 0): lo[1] + pool[1], max(lo[2], 0): lo[2] + pool[2]]
        out[(slice(None),) + idx] = win.max(axis=(1, 2, 3)) if mode == "max" else win.mean(axis=(1, 2, 3))
    return out


def first(a):
    return np.moveaxis(a, -1, 1)


def last(a):
    return np.moveaxis(a, 1, -1)


# ---- convolution ------------------------------------------------------------------

CONV_CASES = [
    # (input shape, kernel shape, strides, padding, dilation)
    ((2, 5, 6, 4, 3), (2, 3, 2, 3, 4), 1, "valid", 1),
    ((2, 7, 5, 6, 2), (3, 3, 3, 2, 3), 2, "same", 1),
    ((1, 6, 7, 5, 2), (3, 2, 3, 2, 2), (2, 1, 3), "same", 1),
    ((1, 7, 6, 7, 2), (2, 3, 2, 2, 3), 1, "same", (2, 1, 3)),
    ((2, 5, 4, 6, 3), (3, 2, 2, 3, 2), (3, 2, 1), "valid", 1),
    ((1, 5, 5, 5, 4), (2, 2, 3, 2, 6), 1, "same", 1),  # groups = 2
    ((1, 4, 5, 4, 6), (3, 2, 2, 1, 6), 2, "valid", 1),  # depthwise: groups = 6
]


@pytest.mark.parametrize("xs,ks,s,pad,d", CONV_CASES)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv3d_matches_reference(rng, xs, ks, s, pad, d, data_format):
    x, k = rng.standard_normal(xs), rng.standard_normal(ks)
    ref = np_conv3d(x, k, s, pad, d)
    if data_format == "channels_last":
        got = ops.conv(x, k, strides=s, padding=pad, dilation_rate=d)
    else:
        got = ops.conv(first(x), k, strides=s, padding=pad, dilation_rate=d, data_format="channels_first")
        got = last(to_np(got))
    np.testing.assert_allclose(got if isinstance(got, np.ndarray) else to_np(got), ref, rtol=1e-10, atol=1e-10)


def test_conv3d_float32(rng):
    x, k = rng.standard_normal((2, 6, 5, 4, 3)), rng.standard_normal((3, 2, 3, 3, 4))
    got = ops.conv(x.astype("float32"), k.astype("float32"), strides=2, padding="same")
    assert got.dtype == "float32"
    np.testing.assert_allclose(to_np(got), np_conv3d(x, k, 2, "same"), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("xs,ks,s,pad,d", [
    ((1, 4, 3, 4, 2), (2, 2, 2, 2, 2), 1, "valid", 1),
    ((1, 5, 4, 3, 2), (3, 2, 2, 2, 2), 2, "same", 1),
    ((1, 5, 3, 4, 4), (2, 2, 2, 2, 2), 1, "same", (2, 1, 1)),  # groups = 2
])
def test_conv3d_gradients(xs, ks, s, pad, d):
    rng = np.random.default_rng(11)
    check_grad(lambda a, b: ops.conv(a, b, strides=s, padding=pad, dilation_rate=d),
               rng.standard_normal(xs), rng.standard_normal(ks))


def test_conv3d_channels_first_gradients(rng):
    check_grad(lambda a, b: ops.conv(a, b, strides=(1, 2, 1), padding="same", data_format="channels_first"),
               rng.standard_normal((1, 2, 3, 4, 3)), rng.standard_normal((2, 2, 2, 2, 2)))


def test_depthwise_and_separable_conv3d(rng):
    # Depthwise = one group per input channel; separable = depthwise then 1x1x1.
    x, dk = rng.standard_normal((1, 5, 4, 6, 3)), rng.standard_normal((2, 3, 2, 3, 2))
    pk = rng.standard_normal((1, 1, 1, 6, 4))
    ref = np_conv3d(x, dk.reshape(2, 3, 2, 1, 6), 1, "same")
    np.testing.assert_allclose(to_np(ops.depthwise_conv(x, dk, padding="same")), ref, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(to_np(ops.separable_conv(x, dk, pk, padding="same")), np_conv3d(ref, pk),
                               rtol=1e-10, atol=1e-10)


# ---- transposed convolution ---------------------------------------------------------

TRANSPOSE_CASES = [
    # (input shape, kernel shape (k..., F, C), strides, padding, output_padding, dilation)
    ((2, 3, 4, 3, 2), (2, 3, 2, 3, 2), 1, "valid", None, 1),
    ((1, 3, 4, 2, 2), (3, 3, 3, 2, 2), 2, "same", None, 1),
    ((1, 3, 2, 4, 3), (2, 3, 2, 2, 3), (2, 1, 3), "valid", None, 1),
    ((1, 3, 3, 3, 2), (3, 3, 2, 3, 2), 2, "same", (1, 0, 1), 1),
    ((1, 3, 3, 2, 2), (2, 2, 2, 2, 2), 3, "valid", 1, 1),  # stride > kernel
    ((1, 4, 3, 3, 2), (3, 2, 3, 2, 2), 1, "same", None, (2, 1, 2)),
]


@pytest.mark.parametrize("xs,ks,s,pad,op,d", TRANSPOSE_CASES)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv3d_transpose_matches_reference(rng, xs, ks, s, pad, op, d, data_format):
    x, k = rng.standard_normal(xs), rng.standard_normal(ks)
    ref = np_conv3d_transpose(x, k, s, pad, op, d)
    kw = dict(strides=s, padding=pad, output_padding=op, dilation_rate=d)
    if data_format == "channels_last":
        got = to_np(ops.conv_transpose(x, k, **kw))
    else:
        got = last(to_np(ops.conv_transpose(first(x), k, data_format="channels_first", **kw)))
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-10)


def test_conv3d_transpose_is_adjoint_of_conv(rng):
    # <conv(x), y> == <x, conv_transpose(y)>: the same kernel array serves both
    # ((k..., in, out) for conv is (k..., filters, in) for the transpose).
    x, k = rng.standard_normal((1, 6, 5, 6, 2)), rng.standard_normal((3, 2, 3, 2, 4))
    y = rng.standard_normal((1, 3, 3, 3, 4))
    lhs = np.sum(to_np(ops.conv(x, k, strides=2, padding="same")) * y)
    rhs = np.sum(x * to_np(ops.conv_transpose(y, k, strides=2, padding="same")[:, :, :5]))
    assert abs(lhs - rhs) < 1e-9 * max(1.0, abs(lhs))


@pytest.mark.parametrize("s,pad,op", [(1, "valid", None), (2, "same", None), (2, "valid", 1)])
def test_conv3d_transpose_gradients(s, pad, op):
    rng = np.random.default_rng(5)
    check_grad(lambda a, b: ops.conv_transpose(a, b, strides=s, padding=pad, output_padding=op),
               rng.standard_normal((1, 2, 3, 2, 2)), rng.standard_normal((2, 2, 3, 2, 2)))


# ---- pooling ------------------------------------------------------------------------

POOL_CASES = [
    # (pool, strides, padding)
    (2, None, "valid"),
    (3, 2, "same"),
    ((3, 2, 2), 1, "same"),
    ((2, 3, 1), (1, 2, 1), "valid"),
    ((2, 2, 3), (3, 1, 2), "same"),
]


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("pool,s,pad", POOL_CASES)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_pool3d_matches_reference(rng, mode, pool, s, pad, data_format):
    x = rng.standard_normal((2, 7, 6, 5, 3))
    fn = ops.max_pool if mode == "max" else ops.average_pool
    ref = np_pool3d(x, pool, s, pad, mode)
    if data_format == "channels_last":
        got = to_np(fn(x, pool, s, pad))
    else:
        got = last(to_np(fn(first(x), pool, s, pad, data_format="channels_first")))
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("pool,s,pad", [(2, None, "valid"), (3, 2, "same"), ((2, 3, 2), 1, "same")])
def test_pool3d_gradients(mode, pool, s, pad):
    fn = ops.max_pool if mode == "max" else ops.average_pool
    # Distinct values: max pooling's derivative is defined away from ties.
    x = np.random.default_rng(2).permutation(60).reshape(1, 5, 4, 3, 1) * 0.1
    check_grad(lambda a: fn(a, pool, s, pad), x)


# ---- errors -------------------------------------------------------------------------


def test_errors_name_the_op_and_shapes():
    x = np.zeros((1, 4, 4, 4, 3))
    with pytest.raises(ValueError, match=r"\[conv\].*\(1, 4, 4, 4, 3\).*3 channels"):
        ops.conv(x, np.zeros((2, 2, 2, 2, 4)))
    with pytest.raises(ValueError, match=r"\[conv\].*larger than the input \(1, 4, 4, 4, 3\)"):
        ops.conv(x, np.zeros((5, 2, 2, 3, 4)))
    with pytest.raises(ValueError, match=r"\[conv\].*larger than the input"):
        ops.conv(x, np.zeros((3, 3, 3, 3, 4)), dilation_rate=(1, 1, 2))
    with pytest.raises(ValueError, match=r"\[conv\].*rank 5.*\(2, 2, 3, 4\)"):
        ops.conv(x, np.zeros((2, 2, 3, 4)))
    with pytest.raises(ValueError, match=r"\[conv\].*rank 3, 4 or 5.*\(1, 2, 4, 4, 4, 3\)"):
        ops.conv(np.zeros((1, 2, 4, 4, 4, 3)), np.zeros((2, 2, 2, 3, 4)))
    with pytest.raises(ValueError, match=r"\[conv\] padding"):
        ops.conv(x, np.zeros((2, 2, 2, 3, 4)), padding="full")
    with pytest.raises(ValueError, match=r"\[conv_transpose\].*\(1, 4, 4, 4, 3\).*\(2, 2, 2, 4, 2\)"):
        ops.conv_transpose(x, np.zeros((2, 2, 2, 4, 2)))
    with pytest.raises(ValueError, match=r"\[max_pool\].*larger than the input \(1, 4, 4, 4, 3\)"):
        ops.max_pool(x, (2, 5, 2))
    with pytest.raises(ValueError, match=r"\[average_pool\].*larger than the input"):
        ops.average_pool(x, 5)
    with pytest.raises(ValueError, match=r"pool_size.*3 ints"):
        ops.max_pool(x, (2, 2))
