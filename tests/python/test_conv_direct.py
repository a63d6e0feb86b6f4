"""float32 conv2d through the direct stride-1 kernels (cpu/conv_direct.cpp):
channel counts that are multiples of 8/16, several images, "same"/"valid",
dilation, non-square and 1x1 kernels; forward and both gradients against a
float64 NumPy reference, and the im2col path's cases (one image, odd
channel counts, strides) beside them."""

import numpy as np
import pytest

import lamina
from lamina import ops

from testutil import to_np


def keras_pad(n, k, s, d, same):
    span = (k - 1) * d + 1
    if not same:
        return (n - span) // s + 1, 0
    out = -(-n // s)
    return out, max((out - 1) * s + span - n, 0) // 2


def conv_and_grads_ref(x, w, gy, s, padding, d):
    """y = conv(x, w) and the gradients of sum(y * gy), in float64."""
    n, h, wd, c = x.shape
    kh, kw, _, f = w.shape
    oh, pt = keras_pad(h, kh, s[0], d[0], padding == "same")
    ow, pl = keras_pad(wd, kw, s[1], d[1], padding == "same")
    y, dx, dw = np.zeros((n, oh, ow, f)), np.zeros_like(x), np.zeros_like(w)
    for oy in range(oh):
        for ox in range(ow):
            for i in range(kh):
                for j in range(kw):
                    iy, ix = oy * s[0] - pt + i * d[0], ox * s[1] - pl + j * d[1]
                    if 0 <= iy < h and 0 <= ix < wd:
                        y[:, oy, ox] += x[:, iy, ix] @ w[i, j]
                        dx[:, iy, ix] += gy[:, oy, ox] @ w[i, j].T
                        dw[i, j] += x[:, iy, ix].T @ gy[:, oy, ox]
    return y, dx, dw


CASES = [
    # (x shape, kernel shape, strides, padding, dilation)
    ((3, 8, 8, 16), (3, 3, 16, 16), (1, 1), "same", (1, 1)),
    ((3, 8, 8, 16), (3, 3, 16, 16), (1, 1), "valid", (1, 1)),
    ((3, 13, 13, 32), (3, 3, 32, 64), (1, 1), "valid", (1, 1)),
    ((2, 6, 6, 64), (3, 3, 64, 64), (1, 1), "same", (1, 1)),
    ((3, 7, 9, 8), (3, 2, 8, 32), (1, 1), "same", (2, 1)),
    ((3, 5, 6, 16), (5, 5, 16, 48), (1, 1), "same", (1, 1)),
    ((3, 10, 4, 24), (1, 1, 24, 16), (1, 1), "valid", (1, 1)),
    ((4, 9, 11, 16), (2, 4, 16, 32), (1, 1), "same", (1, 2)),
    # rows of >= 16 pixels with 16k channels: the blocked 16 x 16 transposes
    ((2, 5, 21, 16), (3, 3, 16, 32), (1, 1), "same", (1, 1)),
    ((2, 4, 16, 32), (3, 3, 32, 16), (1, 1), "valid", (1, 1)),
    # Winograd F(2x2, 3x3) (cpu/conv_winograd.cpp): odd output sizes (half
    # tiles), "valid", non-square, tiny images, input channels that are no
    # multiple of 16 (masked vectors), and the dx of each
    ((2, 7, 9, 32), (3, 3, 32, 32), (1, 1), "same", (1, 1)),
    ((2, 9, 6, 32), (3, 3, 32, 16), (1, 1), "valid", (1, 1)),
    ((3, 3, 3, 24), (3, 3, 24, 32), (1, 1), "valid", (1, 1)),
    ((3, 1, 2, 40), (3, 3, 40, 48), (1, 1), "same", (1, 1)),
    ((2, 34, 35, 16), (3, 3, 16, 64), (1, 1), "same", (1, 1)),
    ((2, 12, 12, 64), (3, 3, 64, 32), (1, 1), "valid", (1, 1)),
    # outputs of 12+ pixels each way take F(4x4, 3x3): cut edge tiles
    ((2, 15, 17, 32), (3, 3, 32, 32), (1, 1), "same", (1, 1)),
    ((2, 16, 18, 24), (3, 3, 24, 32), (1, 1), "valid", (1, 1)),
    # small images' tiles pooled into one band: a full group of 7 and a rest
    ((9, 8, 8, 32), (3, 3, 32, 32), (1, 1), "same", (1, 1)),
    ((5, 6, 7, 16), (3, 3, 16, 16), (1, 1), "valid", (1, 1)),
    ((2, 8, 8, 32), (3, 3, 32, 32), (1, 1), "same", (2, 2)),  # dilated: direct
    # im2col path: one image, channels that are no multiple of 8 / 16, strides
    ((1, 8, 8, 16), (3, 3, 16, 16), (1, 1), "same", (1, 1)),
    ((3, 7, 7, 3), (3, 3, 3, 20), (1, 1), "same", (1, 1)),
    ((3, 9, 9, 16), (3, 3, 16, 32), (2, 2), "same", (1, 1)),
]


@pytest.fixture
def two_threads():
    old = lamina.get_num_threads()
    lamina.set_num_threads(2)
    yield
    lamina.set_num_threads(old)


@pytest.mark.parametrize("xs,ks,s,pad,d", CASES)
def test_float32_conv_forward_and_gradients(rng, two_threads, xs, ks, s, pad, d):
    x = rng.standard_normal(xs).astype(np.float32)
    w = (rng.standard_normal(ks) * 0.2).astype(np.float32)
    lx, lw = lamina.tensor(x), lamina.tensor(w)
    lx.requires_grad = lw.requires_grad = True
    y = ops.conv(lx, lw, strides=s, padding=pad, dilation_rate=d)
    gy = rng.standard_normal(tuple(y.shape)).astype(np.float32)
    ops.sum(y * lamina.tensor(gy)).backward()
    ry, rdx, rdw = conv_and_grads_ref(x.astype(np.float64), w.astype(np.float64),
                                      gy.astype(np.float64), s, pad, d)
    scale = np.sqrt(ks[0] * ks[1] * ks[2])  # float32 error grows with the sum length
    np.testing.assert_allclose(to_np(y), ry, rtol=1e-4, atol=2e-5 * scale)
    np.testing.assert_allclose(to_np(lx.grad), rdx, rtol=1e-4, atol=2e-5 * scale)
    np.testing.assert_allclose(to_np(lw.grad), rdw, rtol=1e-4, atol=1e-4 * np.sqrt(y.size))


def test_only_one_gradient_and_repeatable(rng, two_threads):
    x = rng.standard_normal((5, 8, 8, 16)).astype(np.float32)
    w = (rng.standard_normal((3, 3, 16, 32)) * 0.2).astype(np.float32)
    grads = []
    for _ in range(2):
        lw = lamina.tensor(w)
        lw.requires_grad = True
        ops.sum(ops.conv(lamina.tensor(x), lw, padding="same")).backward()
        grads.append(to_np(lw.grad))
    # the per-thread sums are added in image order: bit-identical runs
    np.testing.assert_array_equal(grads[0], grads[1])
    _, _, rdw = conv_and_grads_ref(x.astype(np.float64), w.astype(np.float64),
                                   np.ones((5, 8, 8, 32)), (1, 1), "same", (1, 1))
    np.testing.assert_allclose(grads[0], rdw, rtol=1e-4, atol=1e-3)
    lx = lamina.tensor(x)
    lx.requires_grad = True
    ops.sum(ops.conv(lx, lamina.tensor(w), padding="same")).backward()
    _, rdx, _ = conv_and_grads_ref(x.astype(np.float64), w.astype(np.float64),
                                   np.ones((5, 8, 8, 32)), (1, 1), "same", (1, 1))
    np.testing.assert_allclose(to_np(lx.grad), rdx, rtol=1e-4, atol=1e-4)
