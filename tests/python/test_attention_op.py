"""The tiled scaled-dot-product attention against a NumPy reference in
float64: bias, boolean masks, causal masking, custom scale, sequences longer
than one tile (online softmax across tiles), dropout, and finite-difference
gradients for query, key, value and bias."""

import numpy as np
import pytest

import lamina
from lamina import ops

from testutil import check_grad, to_np


def ref_attention(q, k, v, bias=None, mask=None, scale=None, causal=False):
    B, Tq, N, D = q.shape
    Tk = k.shape[1]
    scale = 1 / np.sqrt(D) if scale is None else scale
    s = np.einsum("bqnd,bknd->bnqk", q, k) * scale
    if bias is not None:
        s = s + bias
    keep = np.ones((B, N, Tq, Tk), bool)
    if mask is not None:
        keep &= np.broadcast_to(mask, keep.shape)
    if causal:
        keep &= np.tril(np.ones((Tq, Tk), bool))
    s = np.where(keep, s, -0.7 * np.finfo(np.float64).max)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    return np.einsum("bnqk,bknd->bqnd", p, v)


@pytest.mark.parametrize("Tq,Tk", [(5, 7), (70, 130), (129, 129)])
@pytest.mark.parametrize("causal", [False, True])
def test_attention_matches_reference(rng, Tq, Tk, causal):
    B, N, D = 2, 3, 8
    q, k, v = (rng.standard_normal((B, t, N, D)) for t in (Tq, Tk, Tk))
    got = ops.dot_product_attention(q, k, v, is_causal=causal)
    np.testing.assert_allclose(to_np(got), ref_attention(q, k, v, causal=causal), rtol=1e-10, atol=1e-12)


def test_attention_bias_mask_scale(rng):
    B, T, N, D = 2, 9, 2, 4
    q, k, v = (rng.standard_normal((B, T, N, D)) for _ in range(3))
    bias = rng.standard_normal((1, N, T, T))
    mask = rng.random((B, 1, T, T)) < 0.7
    mask[0, 0, 3] = False  # a fully masked row: uniform weights, as Keras
    got = ops.dot_product_attention(q, k, v, bias=bias, mask=mask, scale=0.3)
    np.testing.assert_allclose(to_np(got), ref_attention(q, k, v, bias, mask, 0.3), rtol=1e-10, atol=1e-12)


def test_attention_float32(rng):
    q, k, v = (rng.standard_normal((2, 100, 4, 16)).astype(np.float32) for _ in range(3))
    got = ops.dot_product_attention(q, k, v, is_causal=True)
    assert got.dtype == "float32"
    ref = ref_attention(*(a.astype(np.float64) for a in (q, k, v)), causal=True)
    np.testing.assert_allclose(to_np(got), ref, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("causal", [False, True])
def test_attention_gradients(rng, causal):
    B, T, N, D = 1, 6, 2, 3
    q, k, v = (rng.standard_normal((B, T, N, D)) for _ in range(3))
    bias = rng.standard_normal((B, N, T, T))
    check_grad(lambda a, b, c, d: ops.dot_product_attention(a, b, c, bias=d, is_causal=causal), q, k, v, bias)


def test_attention_gradients_across_tiles(rng):
    q, k, v = (rng.standard_normal((1, 70, 1, 2)) for _ in range(3))
    check_grad(lambda a, b, c: ops.dot_product_attention(a, b, c, is_causal=True), q, k, v, rtol=1e-4)


def test_attention_dropout(rng):
    q, k, v = (rng.standard_normal((2, 16, 2, 4)) for _ in range(3))
    base = to_np(ops.dot_product_attention(q, k, v))
    a = to_np(ops.dot_product_attention(q, k, v, dropout_rate=0.3, seed=5))
    b = to_np(ops.dot_product_attention(q, k, v, dropout_rate=0.3, seed=5))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, base)
    mean = np.mean([to_np(ops.dot_product_attention(q, k, v, dropout_rate=0.3, seed=s)) for s in range(200)], 0)
    assert np.abs(mean - base).mean() < 0.05 * np.abs(base).mean() + 0.02
    check_grad(lambda x, y, z: ops.dot_product_attention(x, y, z, dropout_rate=0.3, seed=9),
               q[:, :5], k[:, :5], v[:, :5])


def test_attention_errors(rng):
    q = rng.standard_normal((2, 5, 3, 4))
    with pytest.raises(ValueError, match="must be"):
        ops.dot_product_attention(q, q[:, :, :2], q)
    with pytest.raises(ValueError, match="mask of shape"):
        ops.dot_product_attention(q, q, q, mask=np.ones((4, 5, 5), bool))
    with pytest.raises(ValueError, match="batch, seq, heads, dim"):
        ops.dot_product_attention(q[0], q[0], q[0])
