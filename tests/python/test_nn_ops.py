"""Fused neural-network ops against NumPy references (float64) and central
finite differences: convolution (strides, dilation, groups, padding, 1-D,
NCHW, transposed), pooling, layer/RMS/batch normalisation, dropout and
softmax cross-entropy."""

import numpy as np
import pytest

import lamina
from lamina import ops

from testutil import check_grad, to_np


def keras_pad(n, k, s, d, same):
    span = (k - 1) * d + 1
    if not same:
        return (n - span) // s + 1, 0
    out = -(-n // s)
    total = max((out - 1) * s + span - n, 0)
    return out, total // 2


def conv2d_ref(x, w, s=(1, 1), padding="valid", d=(1, 1), groups=1):
    """Direct NHWC convolution in float64."""
    n, h, wd, c = x.shape
    kh, kw, cg, f = w.shape
    same = padding == "same"
    oh, pt = keras_pad(h, kh, s[0], d[0], same)
    ow, pl = keras_pad(wd, kw, s[1], d[1], same)
    out = np.zeros((n, oh, ow, f))
    fg = f // groups
    for oy in range(oh):
        for ox in range(ow):
            for i in range(kh):
                for j in range(kw):
                    iy, ix = oy * s[0] - pt + i * d[0], ox * s[1] - pl + j * d[1]
                    if 0 <= iy < h and 0 <= ix < wd:
                        for g in range(groups):
                            xs = x[:, iy, ix, g * cg:(g + 1) * cg]
                            out[:, oy, ox, g * fg:(g + 1) * fg] += xs @ w[i, j, :, g * fg:(g + 1) * fg]
    return out


CONV_CASES = [
    # (x shape, kernel shape, strides, padding, dilation, groups)
    ((2, 7, 6, 3), (3, 3, 3, 4), (1, 1), "valid", (1, 1), 1),
    ((2, 7, 6, 3), (3, 3, 3, 4), (1, 1), "same", (1, 1), 1),
    ((1, 8, 9, 2), (3, 2, 2, 5), (2, 2), "same", (1, 1), 1),
    ((1, 8, 9, 2), (3, 3, 2, 3), (2, 1), "valid", (1, 1), 1),
    ((1, 9, 9, 2), (3, 3, 2, 3), (1, 1), "same", (2, 2), 1),
    ((2, 6, 6, 4), (3, 3, 2, 6), (1, 1), "same", (1, 1), 2),
    ((2, 6, 5, 4), (1, 1, 4, 3), (1, 1), "valid", (1, 1), 1),
]


@pytest.mark.parametrize("xs,ks,s,pad,d,groups", CONV_CASES)
def test_conv2d_matches_reference(rng, xs, ks, s, pad, d, groups):
    x, w = rng.standard_normal(xs), rng.standard_normal(ks)
    got = ops.conv(x, w, strides=s, padding=pad, dilation_rate=d)
    np.testing.assert_allclose(to_np(got), conv2d_ref(x, w, s, pad, d, groups), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("xs,ks,s,pad,d,groups", CONV_CASES[:3] + CONV_CASES[5:6])
def test_conv2d_gradients(rng, xs, ks, s, pad, d, groups):
    x, w = rng.standard_normal(xs), rng.standard_normal(ks)
    check_grad(lambda a, b: ops.conv(a, b, strides=s, padding=pad, dilation_rate=d), x, w)


def test_conv2d_float32_and_odd_same_padding_goes_bottom_right(rng):
    x = rng.standard_normal((1, 6, 6, 1)).astype(np.float32)
    w = rng.standard_normal((2, 2, 1, 1)).astype(np.float32)
    got = ops.conv(x, w, strides=2, padding="same")
    assert got.dtype == "float32"
    np.testing.assert_allclose(to_np(got), conv2d_ref(x.astype(np.float64), w.astype(np.float64), (2, 2), "same"),
                               rtol=1e-5, atol=1e-5)


def test_conv1d_and_channels_first(rng):
    x, w = rng.standard_normal((2, 9, 3)), rng.standard_normal((3, 3, 4))
    got = ops.conv(x, w, strides=2, padding="same")
    ref = conv2d_ref(x[:, None], w[None], (1, 2), "same")[:, 0]
    np.testing.assert_allclose(to_np(got), ref, rtol=1e-10, atol=1e-10)
    x2 = rng.standard_normal((2, 3, 5, 6))  # NCHW
    w2 = rng.standard_normal((3, 3, 3, 2))
    got = ops.conv(x2, w2, padding="same", data_format="channels_first")
    ref = conv2d_ref(x2.transpose(0, 2, 3, 1), w2, padding="same").transpose(0, 3, 1, 2)
    np.testing.assert_allclose(to_np(got), ref, rtol=1e-10, atol=1e-10)


def test_depthwise_and_separable(rng):
    x = rng.standard_normal((1, 5, 5, 3))
    dw = rng.standard_normal((3, 3, 3, 2))
    got = ops.depthwise_conv(x, dw, padding="same")
    ref = conv2d_ref(x, dw.reshape(3, 3, 1, 6), padding="same", groups=3)
    np.testing.assert_allclose(to_np(got), ref, rtol=1e-10, atol=1e-10)
    pw = rng.standard_normal((1, 1, 6, 4))
    got = ops.separable_conv(x, dw, pw, padding="same")
    np.testing.assert_allclose(to_np(got), conv2d_ref(ref, pw), rtol=1e-10, atol=1e-10)
    check_grad(lambda a, b: ops.depthwise_conv(a, b, padding="same"), x, dw)


def conv_transpose_ref(x, w, s, padding, out_hw):
    """Scatter form of the transposed convolution; w (kh, kw, f, c)."""
    n, h, wd, c = x.shape
    kh, kw, f, _ = w.shape
    ho, wo = out_hw
    same = padding == "same"
    _, pt = keras_pad(ho, kh, s[0], 1, same)
    _, pl = keras_pad(wo, kw, s[1], 1, same)
    out = np.zeros((n, ho, wo, f))
    for iy in range(h):
        for ix in range(wd):
            for i in range(kh):
                for j in range(kw):
                    oy, ox = iy * s[0] - pt + i, ix * s[1] - pl + j
                    if 0 <= oy < ho and 0 <= ox < wo:
                        out[:, oy, ox, :] += x[:, iy, ix, :] @ w[i, j].T
    return out


@pytest.mark.parametrize("s,pad,ks", [((1, 1), "valid", (3, 3)), ((2, 2), "same", (3, 3)),
                                      ((2, 2), "valid", (2, 2)), ((2, 1), "same", (3, 2))])
def test_conv_transpose(rng, s, pad, ks):
    x = rng.standard_normal((2, 4, 3, 3))
    w = rng.standard_normal(ks + (2, 3))
    got = ops.conv_transpose(x, w, strides=s, padding=pad)
    ref = conv_transpose_ref(x, w, s, pad, got.shape[1:3])
    if pad == "same":
        assert got.shape[1:3] == (4 * s[0], 3 * s[1])
    np.testing.assert_allclose(to_np(got), ref, rtol=1e-10, atol=1e-10)
    check_grad(lambda a, b: ops.conv_transpose(a, b, strides=s, padding=pad), x, w)


def test_conv_transpose_is_adjoint_of_conv(rng):
    x = rng.standard_normal((1, 8, 8, 3))
    w = rng.standard_normal((3, 3, 3, 5))
    y = rng.standard_normal((1, 4, 4, 5))
    lhs = np.sum(to_np(ops.conv(x, w, strides=2, padding="same")) * y)
    rhs = np.sum(x * to_np(ops.conv_transpose(y, w, strides=2, padding="same")))
    assert abs(lhs - rhs) < 1e-9 * max(1, abs(lhs))


def test_conv_errors():
    x = np.zeros((1, 4, 4, 3))
    with pytest.raises(ValueError, match=r"conv.*3 channels"):
        ops.conv(x, np.zeros((3, 3, 2, 4)))
    with pytest.raises(ValueError, match=r"larger than the input"):
        ops.conv(x, np.zeros((5, 5, 3, 4)))
    with pytest.raises(ValueError, match=r"rank"):
        ops.conv(np.zeros((4, 4)), np.zeros((3, 3, 3, 4)))
    with pytest.raises(ValueError, match=r"padding"):
        ops.conv(x, np.zeros((3, 3, 3, 4)), padding="full")


def pool_ref(x, p, s, padding, mode):
    n, h, w, c = x.shape
    same = padding == "same"
    oh, pt = keras_pad(h, p[0], s[0], 1, same)
    ow, pl = keras_pad(w, p[1], s[1], 1, same)
    out = np.zeros((n, oh, ow, c))
    for oy in range(oh):
        for ox in range(ow):
            y0, x0 = oy * s[0] - pt, ox * s[1] - pl
            win = x[:, max(y0, 0):min(y0 + p[0], h), max(x0, 0):min(x0 + p[1], w), :]
            out[:, oy, ox] = win.max(axis=(1, 2)) if mode == "max" else win.mean(axis=(1, 2))
    return out


@pytest.mark.parametrize("p,s,pad", [((2, 2), None, "valid"), ((3, 3), (2, 2), "same"),
                                     ((2, 3), (1, 2), "valid"), ((3, 2), (2, 2), "same")])
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pooling(rng, p, s, pad, mode):
    x = rng.standard_normal((2, 7, 6, 3))
    fn = ops.max_pool if mode == "max" else ops.average_pool
    got = fn(x, p, s, pad)
    ref = pool_ref(x, p, s or p, pad, mode)
    np.testing.assert_allclose(to_np(got), ref, rtol=1e-12, atol=1e-12)
    check_grad(lambda a: fn(a, p, s, pad), x)


def test_pool1d(rng):
    x = rng.standard_normal((2, 9, 3))
    got = ops.max_pool(x, 2)
    np.testing.assert_allclose(to_np(got), x[:, :8].reshape(2, 4, 2, 3).max(axis=2))
    got = ops.average_pool(x, 3, 3)
    np.testing.assert_allclose(to_np(got), x.reshape(2, 3, 3, 3).mean(axis=2))


@pytest.mark.parametrize("shape", [(4, 7), (2, 3, 16), (5, 1)])
def test_layer_norm(rng, shape):
    x = rng.standard_normal(shape) * 3 + 1
    g, b = rng.standard_normal(shape[-1]), rng.standard_normal(shape[-1])
    got = ops.layer_normalization(x, g, b, epsilon=1e-3)
    m, v = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    np.testing.assert_allclose(to_np(got), (x - m) / np.sqrt(v + 1e-3) * g + b, rtol=1e-10, atol=1e-10)
    check_grad(lambda a, c, d: ops.layer_normalization(a, c, d, epsilon=1e-3), x, g, b)
    check_grad(lambda a: ops.layer_normalization(a, epsilon=1e-3, axis=0), x)


def test_rms_norm(rng):
    x, g = rng.standard_normal((3, 8)), rng.standard_normal(8)
    got = ops.rms_normalization(x, g, epsilon=1e-6)
    ref = x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-6) * g
    np.testing.assert_allclose(to_np(got), ref, rtol=1e-10)
    check_grad(lambda a, c: ops.rms_normalization(a, c, epsilon=1e-6), x, g)


def _row_norm_ref(x, g, b, up, rms, eps):
    """Float64 row norm forward and (dx, dgamma, dbeta) for cotangent `up`."""
    d = x.shape[-1]
    m = np.zeros_like(x[..., :1]) if rms else x.mean(-1, keepdims=True)
    rs = 1 / np.sqrt(((x - m) ** 2).mean(-1, keepdims=True) + eps)
    h = (x - m) * rs
    y = h * g + (0 if b is None else b)
    dh = up * g
    a = 0 if rms else dh.mean(-1, keepdims=True)
    dx = rs * (dh - a - h * (dh * h).mean(-1, keepdims=True))
    rows = tuple(range(x.ndim - 1))
    return y, dx, (up * h).sum(rows), up.sum(rows)


# float32 takes a blocked path for rows of 16/32/48/64 features (16 rows at a
# time, the rest of the rows the general loop); the other sizes and float64
# the general loop. Row counts around the block and chunk sizes.
@pytest.mark.parametrize("d", [1, 8, 16, 17, 32, 48, 64, 80, 1000])
@pytest.mark.parametrize("rows", [1, 15, 16, 17, 47, 1031])
@pytest.mark.parametrize("rms", [False, True])
def test_row_norm_float32_against_float64(rng, d, rows, rms):
    if d == 1000 and rows == 1031:
        rows = 37
    x = rng.standard_normal((rows, d)) * 3 + 1
    g, b = rng.standard_normal(d), rng.standard_normal(d)
    up = rng.standard_normal((rows, d))
    lx, lg, lb = (lamina.tensor(a.astype(np.float32)) for a in (x, g, b))
    for t in (lx, lg, lb):
        t.requires_grad = True
    if rms:
        y = ops.rms_normalization(lx, lg, epsilon=1e-5)
    else:
        y = ops.layer_normalization(lx, lg, lb, epsilon=1e-5)
    ops.sum(ops.multiply(y, lamina.tensor(up.astype(np.float32)))).backward()
    x32, g32, b32, up32 = (a.astype(np.float32).astype(np.float64) for a in (x, g, b, up))
    ry, rdx, rdg, rdb = _row_norm_ref(x32, g32, None if rms else b32, up32, rms, 1e-5)
    scale = lambda r: 1e-4 * (1 + np.abs(r).max())
    np.testing.assert_allclose(to_np(y), ry, rtol=1e-4, atol=scale(ry))
    np.testing.assert_allclose(to_np(lx.grad), rdx, rtol=1e-3, atol=scale(rdx))
    np.testing.assert_allclose(to_np(lg.grad), rdg, rtol=1e-3, atol=scale(rdg) * np.sqrt(rows))
    if not rms:
        np.testing.assert_allclose(to_np(lb.grad), rdb, rtol=1e-3, atol=scale(rdb) * np.sqrt(rows))


def test_layer_norm_float32_without_params_and_3d(rng):
    x = rng.standard_normal((3, 11, 16)) * 2 - 1
    got = ops.layer_normalization(lamina.tensor(x.astype(np.float32)), epsilon=1e-3)
    m, v = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    np.testing.assert_allclose(to_np(got), (x - m) / np.sqrt(v + 1e-3), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shape", [(16, 3), (2, 4, 5, 3)])
def test_batch_norm_train(rng, shape):
    x = rng.standard_normal(shape) * 2 + 0.5
    g, b = rng.standard_normal(shape[-1]), rng.standard_normal(shape[-1])
    y, mean, var = ops.batch_norm_train(x, g, b, epsilon=1e-3)
    axes = tuple(range(len(shape) - 1))
    m, v = x.mean(axes), x.var(axes)
    np.testing.assert_allclose(to_np(mean), m, rtol=1e-10)
    np.testing.assert_allclose(to_np(var), v, rtol=1e-10)
    np.testing.assert_allclose(to_np(y), (x - m) / np.sqrt(v + 1e-3) * g + b, rtol=1e-10, atol=1e-10)
    check_grad(lambda a, c, d: ops.batch_norm_train(a, c, d, epsilon=1e-3)[0], x, g, b)


def _bn_reference(x, g, b, eps):
    axes = tuple(range(x.ndim - 1))
    m, v = x.mean(axes), x.var(axes)
    return (x - m) / np.sqrt(v + eps) * g + b, m, v


# 16/32/64 channels take the register-accumulator path; 5 the general one.
# Row counts cross the 64-row blocks and the per-thread chunks unevenly.
@pytest.mark.parametrize("shape", [(1, 16), (3, 5), (2, 9, 7, 32), (130, 64), (4, 6, 6, 16)])
@pytest.mark.parametrize("relu", [False, True])
def test_batch_norm_train_block_paths_and_fused_relu(rng, shape, relu):
    x = rng.standard_normal(shape) * 2 + 0.5
    g, b = rng.standard_normal(shape[-1]), rng.standard_normal(shape[-1])
    y, mean, var = ops.batch_norm_train(x, g, b, epsilon=1e-3, relu=relu)
    ref, m, v = _bn_reference(x, g, b, 1e-3)
    np.testing.assert_allclose(to_np(mean), m, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(to_np(var), v, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(to_np(y), np.maximum(ref, 0) if relu else ref, rtol=1e-9, atol=1e-10)
    if x.size <= 600:
        check_grad(lambda a, c, d: ops.batch_norm_train(a, c, d, epsilon=1e-3, relu=relu)[0], x, g, b)


def test_batch_norm_fused_relu_gradient_matches_separate_relu(rng):
    x = rng.standard_normal((300, 32)).astype(np.float32) * 3 + 1
    g, b = rng.standard_normal(32).astype(np.float32), rng.standard_normal(32).astype(np.float32)
    w = rng.standard_normal((300, 32)).astype(np.float32)
    grads = []
    for fused in (False, True):
        xt, gt, bt = (lamina.tensor(a, requires_grad=True) for a in (x, g, b))
        y = ops.batch_norm_train(xt, gt, bt, epsilon=1e-5, relu=fused)[0]
        y = y if fused else ops.relu(y)
        ops.sum(y * lamina.tensor(w)).backward()
        grads.append([to_np(y)] + [to_np(t.grad) for t in (xt, gt, bt)])
    for a, c in zip(*grads):
        np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-5)


def test_batch_norm_statistics_with_large_offset():
    # Sums are shifted by the first row: a mean 1e4 times the spread keeps its variance.
    x = (1e4 + np.linspace(-1, 1, 512 * 16).reshape(512, 16)).astype(np.float32)
    _, mean, var = ops.batch_norm_train(x)
    np.testing.assert_allclose(to_np(mean), x.astype(np.float64).mean(0), rtol=1e-6)
    np.testing.assert_allclose(to_np(var), x.astype(np.float64).var(0), rtol=1e-3)


def test_batch_norm_nan_stays_in_its_channel():
    x = np.ones((70, 16), np.float32)
    x[:, 3] = np.arange(70)
    x[5, 3] = np.nan
    y, mean, var = ops.batch_norm_train(x, relu=True)
    assert np.isnan(to_np(mean)[3]) and np.isnan(to_np(var)[3]) and np.isnan(to_np(y)[:, 3]).all()
    others = np.delete(np.arange(16), 3)
    assert np.isfinite(to_np(var)[others]).all() and np.isfinite(to_np(y)[:, others]).all()


def test_relu_gradient_is_zero_at_and_below_zero_and_keeps_nan():
    x = lamina.tensor(np.array([-2.0, 0.0, 3.0, np.nan]), requires_grad=True)
    y = ops.relu(x)
    ops.sum(y * lamina.tensor(np.array([5.0, 6.0, 7.0, 8.0]))).backward()
    np.testing.assert_array_equal(to_np(x.grad)[:3], [0.0, 0.0, 7.0])
    assert np.isnan(to_np(y)[3])


def test_batch_norm_channels_first(rng):
    x = rng.standard_normal((4, 3, 2, 2))
    y, mean, _ = ops.batch_norm_train(x, axis=1)
    np.testing.assert_allclose(to_np(mean), x.mean(axis=(0, 2, 3)), rtol=1e-10)
    assert y.shape == x.shape


def test_dropout_mask_statistics_and_gradient():
    x = lamina.ones((200, 500), dtype="float64")
    x.requires_grad = True
    y = lamina.random.dropout(x, 0.3, seed=7)
    yn = to_np(y)
    kept = yn != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(yn[kept], 1 / 0.7)
    ops.sum(y).backward()
    np.testing.assert_allclose(to_np(x.grad), yn)  # d/dx of x*mask/(1-p) is mask/(1-p)
    same = lamina.random.dropout(lamina.ones((200, 500), dtype="float64"), 0.3, seed=7)
    np.testing.assert_array_equal(to_np(same), yn)
    with pytest.raises(ValueError, match="rate"):
        lamina.random.dropout(x, 1.0)


def test_sparse_categorical_crossentropy(rng):
    z = rng.standard_normal((6, 5)) * 4
    y = rng.integers(0, 5, 6)
    got = ops.sparse_categorical_crossentropy(y, z, from_logits=True)
    lse = np.log(np.exp(z - z.max(1, keepdims=True)).sum(1)) + z.max(1)
    np.testing.assert_allclose(to_np(got), lse - z[np.arange(6), y], rtol=1e-12)
    check_grad(lambda a: ops.sparse_categorical_crossentropy(y, a, from_logits=True), z)
    big = ops.sparse_categorical_crossentropy([0], [[1000.0, 0.0]], from_logits=True)
    assert np.isfinite(to_np(big)).all()
    with pytest.raises(ValueError, match=r"labels must be in \[0, 5\)"):
        ops.sparse_categorical_crossentropy([5], z[:1], from_logits=True)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    got = ops.sparse_categorical_crossentropy(y, p)
    np.testing.assert_allclose(to_np(got), -np.log(np.clip(p, 1e-7, 1 - 1e-7)[np.arange(6), y]), rtol=1e-9)


@pytest.mark.parametrize("c", [1, 2, 15, 16, 17, 1000, 1003])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sparse_xent_forward_and_gradient(rng, c, dtype):
    rows = 37
    z = rng.standard_normal((rows, c)) * 5
    z[0, :] = 80.0  # a constant row
    if c > 1:
        z[1, 0] = -200.0  # a far-out logit: exp underflows
    y = rng.integers(0, c, rows)
    lz = lamina.tensor(z.astype(dtype))
    lz.requires_grad = True
    w = rng.standard_normal(rows)
    loss = ops.sparse_categorical_crossentropy(y, lz, from_logits=True)
    ops.sum(ops.multiply(loss, lamina.tensor(w.astype(dtype)))).backward()
    zz = z.astype(dtype).astype(np.float64)
    m = zz.max(1, keepdims=True)
    lse = np.log(np.exp(zz - m).sum(1, keepdims=True)) + m
    ref = lse[:, 0] - zz[np.arange(rows), y]
    dz = np.exp(zz - lse) * w[:, None]
    dz[np.arange(rows), y] -= w
    rtol, atol = (1e-5, 1e-5) if dtype == "float32" else (1e-12, 1e-12)
    np.testing.assert_allclose(to_np(loss), ref, rtol=rtol, atol=atol)
    np.testing.assert_allclose(to_np(lz.grad), dz, rtol=rtol * 10, atol=atol)



def test_categorical_and_binary_crossentropy(rng):
    z = rng.standard_normal((4, 3))
    t = rng.dirichlet(np.ones(3), 4)
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    np.testing.assert_allclose(to_np(ops.categorical_crossentropy(t, z, from_logits=True)),
                               -(t * logp).sum(1), rtol=1e-12)
    check_grad(lambda a, b: ops.categorical_crossentropy(b, a, from_logits=True), z, t)
    yb = (rng.random((4, 3)) < 0.5).astype(np.float64)
    sig = 1 / (1 + np.exp(-z))
    ref = -(yb * np.log(sig) + (1 - yb) * np.log(1 - sig))
    np.testing.assert_allclose(to_np(ops.binary_crossentropy(yb, z, from_logits=True)), ref, rtol=1e-10)
    np.testing.assert_allclose(to_np(ops.binary_crossentropy(yb, sig)), ref, rtol=1e-6)
    check_grad(lambda a: ops.binary_crossentropy(yb, a, from_logits=True), z)


# ---- bias + activation epilogue (Dense / Conv layers) ---------------------------------------

@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 4, 16), (70, 32), (1, 7)])
@pytest.mark.parametrize("relu", [False, True])
def test_bias_act_matches_numpy_and_finite_differences(rng, shape, relu):
    x = rng.standard_normal(shape)
    b = rng.standard_normal(shape[-1])
    y = lamina._core.bias_act(lamina.tensor(x), lamina.tensor(b), relu)
    ref = x + b
    np.testing.assert_allclose(to_np(y), np.maximum(ref, 0) if relu else ref, rtol=1e-12)
    if x.size <= 600:
        check_grad(lambda a, c: lamina._core.bias_act(a, c, relu), x, b)


def test_bias_act_gradient_equals_the_separate_ops(rng):
    x = rng.standard_normal((300, 48)).astype(np.float32)
    b = rng.standard_normal(48).astype(np.float32)
    w = rng.standard_normal((300, 48)).astype(np.float32)
    grads = []
    for fused in (False, True):
        xt, bt = lamina.tensor(x, requires_grad=True), lamina.tensor(b, requires_grad=True)
        y = lamina._core.bias_act(xt, bt, True) if fused else ops.relu(xt + bt)
        ops.sum(y * lamina.tensor(w)).backward()
        grads.append([to_np(y), to_np(xt.grad), to_np(bt.grad)])
    for a, c in zip(*grads):
        np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-4)


def test_bias_act_errors_name_the_op_and_shapes():
    x = lamina.tensor(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"bias_relu.*\(4,\).*\(2, 3\)"):
        lamina._core.bias_act(x, lamina.tensor(np.ones(4, np.float32)), True)
    with pytest.raises((TypeError, ValueError), match="bias_add"):
        lamina._core.bias_act(lamina.tensor(np.ones((2, 3), np.int32)), lamina.tensor(np.ones(3)), False)
