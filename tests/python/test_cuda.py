"""CUDA: CPU/CUDA parity where a device is available; clear errors where it is not."""

import numpy as np
import pytest

import lamina
from lamina import ops

from testutil import to_np

INFO = lamina.build_info()
needs_cuda = pytest.mark.skipif(
    not INFO["cuda_available"],
    reason="CUDA not available: lamina built without CUDA or no CUDA device present",
)


def test_build_info_keys():
    for key in ["version", "blas", "compiler", "cuda", "cuda_available", "num_threads"]:
        assert key in INFO
    assert isinstance(INFO["cuda"], bool) and isinstance(INFO["cuda_available"], bool)
    assert not (INFO["cuda_available"] and not INFO["cuda"])


@pytest.mark.skipif(INFO["cuda"], reason="lamina was built with CUDA")
def test_cpu_only_build_to_cuda_raises_clearly():
    t = lamina.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="CUDA"):
        t.to("cuda")
    with pytest.raises(RuntimeError, match="CUDA"):
        t.to("gpu")
    with pytest.raises(RuntimeError, match="CUDA"):
        with lamina.device("cuda"):
            pass
    with pytest.raises(RuntimeError, match="CUDA"):
        lamina.tensor([1.0], device="cuda")
    np.testing.assert_array_equal(to_np(t), [1.0, 2.0])


@pytest.mark.skipif(not INFO["cuda"] or INFO["cuda_available"], reason="needs a CUDA build without a device")
def test_cuda_build_without_device_raises_clearly():
    with pytest.raises(RuntimeError, match="no CUDA device"):
        lamina.tensor([1.0]).to("cuda")


def test_to_cpu_is_identity_on_cpu():
    t = lamina.tensor([1.0, 2.0])
    c = t.to("cpu")
    assert c.device == "cpu"
    np.testing.assert_array_equal(to_np(c), [1.0, 2.0])


# ---- parity (run only with a CUDA device) --------------------------------------------------


def _pair(rng, shape, dtype, lo=-3.0, hi=3.0):
    if dtype == "bool":
        a = rng.random(shape) < 0.5
    elif dtype.startswith("int"):
        a = rng.integers(int(lo), int(hi) + 1, size=shape).astype(dtype)
    else:
        a = rng.uniform(lo, hi, size=shape).astype(dtype)
    return a, lamina.tensor(a).to("cuda")


def _check(gpu, cpu, rtol=1e-5, atol=1e-6):
    assert gpu.device == "cuda"
    assert gpu.dtype == cpu.dtype and gpu.shape == cpu.shape
    g, c = to_np(gpu.to("cpu")), to_np(cpu)
    if g.dtype.kind in "biu":
        np.testing.assert_array_equal(g, c)
    else:
        np.testing.assert_allclose(g, c, rtol=rtol, atol=atol, equal_nan=True)


@needs_cuda
@pytest.mark.parametrize("op", ["add", "subtract", "multiply", "divide", "maximum", "minimum", "power", "less", "equal"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64"])
@pytest.mark.parametrize("sa, sb", [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 3), (4, 1)), ((), (5,))], ids=str)
def test_cuda_binary_parity(rng, op, dtype, sa, sb):
    lo = 0.5 if op in ("power", "divide") else -3
    a, ga = _pair(rng, sa, dtype, lo, 3)
    b, gb = _pair(rng, sb, dtype, 1 if op in ("divide", "power") else -3, 3)
    _check(getattr(ops, op)(ga, gb), getattr(ops, op)(lamina.tensor(a), lamina.tensor(b)))


@needs_cuda
@pytest.mark.parametrize("op", ["negative", "abs", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "square", "sign", "log1p", "softplus", "gelu", "silu"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cuda_unary_parity(rng, op, dtype):
    a, ga = _pair(rng, (5, 7), dtype, 0.1 if op in ("log", "sqrt") else -3, 3)
    _check(getattr(ops, op)(ga), getattr(ops, op)(lamina.tensor(a)))
    _check(getattr(ops, op)(ga.T), getattr(ops, op)(lamina.tensor(a).T))


@needs_cuda
@pytest.mark.parametrize("op", ["sum", "mean", "max", "min", "prod", "var", "std", "logsumexp", "argmax", "argmin"])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_cuda_reduction_parity(rng, op, axis, dtype):
    if op in ("argmax", "argmin") and isinstance(axis, tuple):
        axis = 1
    a, ga = _pair(rng, (3, 4, 5), dtype, 0.5 if op == "prod" else -3, 1.5 if op == "prod" else 3)
    _check(getattr(ops, op)(ga, axis=axis), getattr(ops, op)(lamina.tensor(a), axis=axis), rtol=1e-4, atol=1e-4)


@needs_cuda
@pytest.mark.parametrize("sa, sb", [((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((4,), (4, 3)), ((64, 128), (128, 96))], ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cuda_matmul_parity(rng, sa, sb, dtype):
    a, ga = _pair(rng, sa, dtype)
    b, gb = _pair(rng, sb, dtype)
    _check(ops.matmul(ga, gb), ops.matmul(lamina.tensor(a), lamina.tensor(b)), rtol=1e-4, atol=1e-3)
    if len(sa) == 2 and len(sb) == 2:  # transposed (strided) operands
        _check(ops.matmul(gb.T, ga.T), ops.matmul(lamina.tensor(b).T, lamina.tensor(a).T), rtol=1e-4, atol=1e-3)


@needs_cuda
def test_cuda_backward_parity(rng):
    a = rng.standard_normal((3, 4))
    w = rng.standard_normal((4, 2))
    grads = {}
    for dev in ["cpu", "cuda"]:
        x = lamina.tensor(a).to(dev)
        x.requires_grad = True
        wt = lamina.tensor(w).to(dev)
        ops.sum(ops.softmax(ops.matmul(ops.tanh(x), wt), axis=-1) * 3.0).backward()
        grads[dev] = to_np(x.grad.to("cpu"))
    np.testing.assert_allclose(grads["cuda"], grads["cpu"], rtol=1e-10, atol=1e-12)


@needs_cuda
def test_cuda_device_scope_and_random_parity():
    with lamina.device("cuda"):
        z = lamina.zeros((2, 3))
        r = lamina.random.normal((1000,), seed=4)
    assert z.device == "cuda" and r.device == "cuda"
    np.testing.assert_array_equal(to_np(r.to("cpu")), to_np(lamina.random.normal((1000,), seed=4)))
    t = lamina.tensor([1.0, 2.0]).to("cuda")
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0])  # a host copy
    with pytest.raises(ValueError, match="device"):
        ops.add(t, lamina.tensor([1.0, 2.0]))


# ---- NN ops end to end: forward and gradients on CUDA vs CPU ----------------------------------


_DEVICES = ("cpu", "cuda")


def _grad_parity(rng, fn, arrays, ints=(), rtol=1e-4, atol=1e-4):
    """Runs fn(*float inputs, *int inputs) on each device, then backward of
    sum(out * w) for a random w; the outputs and input grads must agree."""
    res = []
    for dev in _DEVICES:
        xs = []
        for a in arrays:
            t = lamina.tensor(a).to(dev)
            t.requires_grad = True
            xs.append(t)
        out = fn(*xs, *[lamina.tensor(i).to(dev) for i in ints])
        assert out.device == dev
        w = lamina.tensor(np.random.default_rng(7).standard_normal(out.shape).astype(arrays[0].dtype)).to(dev)
        ops.sum(out * w).backward()
        res.append([to_np(out.to("cpu"))] + [to_np(x.grad.to("cpu")) for x in xs])
    for c, g in zip(*res):
        np.testing.assert_allclose(g, c, rtol=rtol, atol=atol)


@needs_cuda
@pytest.mark.parametrize("strides,padding,dilation", [(1, "same", 1), (2, "same", 1), (1, "valid", 2)])
def test_cuda_conv2d_parity(rng, strides, padding, dilation):
    x = rng.standard_normal((2, 9, 8, 3)).astype("float32")
    w = rng.standard_normal((3, 3, 3, 4)).astype("float32")
    _grad_parity(rng, lambda a, b: ops.conv(a, b, strides=strides, padding=padding, dilation_rate=dilation), [x, w])


@needs_cuda
def test_cuda_pool_parity(rng):
    x = rng.standard_normal((2, 7, 6, 3)).astype("float32")
    _grad_parity(rng, lambda a: ops.max_pool(a, 2, padding="same") + ops.average_pool(a, 2, padding="same"), [x])


@needs_cuda
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cuda_layer_norm_parity(rng, dtype):
    x = rng.standard_normal((6, 5, 37)).astype(dtype)
    g, b = rng.standard_normal(37).astype(dtype), rng.standard_normal(37).astype(dtype)
    _grad_parity(rng, lambda a, c, d: ops.layer_normalization(a, c, d, epsilon=1e-3), [x, g, b])


@needs_cuda
def test_cuda_batch_norm_parity(rng):
    x = rng.standard_normal((40, 6)).astype("float32")
    g, b = rng.standard_normal(6).astype("float32"), rng.standard_normal(6).astype("float32")
    _grad_parity(rng, lambda a, c, d: ops.batch_norm_train(a, c, d, epsilon=1e-3)[0], [x, g, b])


@needs_cuda
@pytest.mark.parametrize("cell,ra", [("lstm", True), ("gru", True), ("gru", False), ("simple_rnn", True)])
def test_cuda_rnn_parity(rng, cell, ra):
    B, T, I, U = 3, 6, 4, 5
    G = {"lstm": 4, "gru": 3, "simple_rnn": 1}[cell]
    x = rng.standard_normal((B, T, I))
    W, Uk, b = rng.standard_normal((I, G * U)) * 0.5, rng.standard_normal((U, G * U)) * 0.5, rng.standard_normal(G * U) * 0.1
    mask = np.ones((B, T))
    mask[0, 4:] = 0
    mask[1, :2] = 0

    def f(x_, W_, U_, b_, m_):
        seq, h, c = ops.rnn(cell, x_, W_, U_, b_, None, None, m_, reset_after=ra)
        return ops.concatenate([ops.reshape(seq, (-1,)), ops.reshape(h, (-1,)), ops.reshape(c, (-1,))], 0)

    _grad_parity(rng, f, [x, W, Uk, b], ints=[mask], rtol=1e-9, atol=1e-10)


@needs_cuda
@pytest.mark.parametrize("causal", [False, True])
def test_cuda_attention_parity(rng, causal):
    q = rng.standard_normal((2, 70, 3, 16)).astype("float32")
    k = rng.standard_normal((2, 70, 3, 16)).astype("float32")
    v = rng.standard_normal((2, 70, 3, 16)).astype("float32")
    bias = rng.standard_normal((1, 3, 70, 70)).astype("float32")
    _grad_parity(rng, lambda a, b, c, d: ops.dot_product_attention(a, b, c, bias=d, is_causal=causal), [q, k, v, bias])


@needs_cuda
def test_cuda_sparse_xent_parity(rng):
    z = rng.standard_normal((33, 10)).astype("float32") * 4
    y = rng.integers(0, 10, size=33)
    _grad_parity(rng, lambda a, t: ops.sparse_categorical_crossentropy(t, a, from_logits=True), [z], ints=[y], rtol=1e-5, atol=1e-6)


@needs_cuda
def test_cuda_dropout_same_mask():
    x = np.ones((4, 999), dtype="float32")
    got = lamina.random.dropout(lamina.tensor(x).to("cuda"), 0.4, seed=3)
    want = lamina.random.dropout(lamina.tensor(x), 0.4, seed=3)
    assert got.device == "cuda"
    np.testing.assert_array_equal(to_np(got.to("cpu")), to_np(want))
