"""Activations against NumPy references, along any axis and for extreme inputs."""

import math

import numpy as np
import pytest

import lamina
from lamina import ops

from testutil import FLOAT_DTYPES, VIEW_KINDS, as_view, assert_matches, random_array

_erf = np.vectorize(math.erf)


def np_sigmoid(x):
    with np.errstate(over="ignore"):
        return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))


def np_softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def np_elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946

REFERENCES = {
    "relu": lambda x: np.maximum(x, 0),
    "relu6": lambda x: np.clip(x, 0, 6),
    "leaky_relu": lambda x: np.where(x >= 0, x, 0.2 * x),
    "elu": np_elu,
    "selu": lambda x: SELU_SCALE * np_elu(x, SELU_ALPHA),
    "gelu": lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))),
    "silu": lambda x: x * np_sigmoid(x),
    "sigmoid": np_sigmoid,
    "tanh": np.tanh,
    "softplus": np_softplus,
}


def reference(name, x):
    """The activation of float64 `x` computed in float64, returned in x's dtype."""
    return REFERENCES[name](x.astype(np.float64)).astype(x.dtype)


def tol(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", list(REFERENCES))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (7,), (3, 4), (2, 3, 4)], ids=str)
def test_activation_vs_numpy(rng, name, dtype, shape):
    x = random_array(rng, shape, dtype, -8, 8)
    assert_matches(getattr(ops, name)(lamina.tensor(x)), reference(name, x), **tol(dtype))


@pytest.mark.parametrize("name", list(REFERENCES))
@pytest.mark.parametrize("kind", VIEW_KINDS)
def test_activation_on_views(rng, name, kind):
    x, t = as_view(random_array(rng, (4, 6), "float64", -5, 5), kind)
    assert_matches(getattr(ops, name)(t), reference(name, x), **tol("float64"))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_gelu_exact_and_approximate(rng, dtype):
    x = random_array(rng, (50,), dtype, -6, 6)
    x64 = x.astype(np.float64)
    exact = (0.5 * x64 * (1 + _erf(x64 / np.sqrt(2)))).astype(dtype)
    assert_matches(ops.gelu(lamina.tensor(x), approximate=False), exact, **tol(dtype))
    assert_matches(ops.gelu(lamina.tensor(x), approximate=True), reference("gelu", x), **tol(dtype))
    # keras.ops.gelu defaults to the tanh approximation.
    assert_matches(ops.gelu(lamina.tensor(x)), reference("gelu", x), **tol(dtype))


@pytest.mark.parametrize("slope", [0.01, 0.2, 1.5])
def test_leaky_relu_slope(rng, slope):
    x = random_array(rng, (20,), "float64")
    assert_matches(ops.leaky_relu(lamina.tensor(x), negative_slope=slope), np.where(x >= 0, x, slope * x))


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
def test_elu_alpha(rng, alpha):
    x = random_array(rng, (20,), "float64")
    assert_matches(ops.elu(lamina.tensor(x), alpha=alpha), np_elu(x, alpha))


def test_relu_keeps_int_dtype():
    x = np.array([-2, 0, 3], np.int32)
    assert_matches(ops.relu(lamina.tensor(x)), np.maximum(x, 0))


# ---- softmax / log_softmax --------------------------------------------------------------


def np_softmax(x, axis):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def np_log_softmax(x, axis):
    s = x - np.max(x, axis=axis, keepdims=True)
    return s - np.log(np.sum(np.exp(s), axis=axis, keepdims=True))


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2, -3])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("kind", ["contiguous", "transposed", "reversed"])
def test_softmax_any_axis(rng, axis, dtype, kind):
    x, t = as_view(random_array(rng, (2, 3, 4), dtype, -5, 5), kind)
    x64 = x.astype(np.float64)
    s = ops.softmax(t, axis=axis)
    assert_matches(s, np_softmax(x64, axis).astype(dtype), **tol(dtype))
    np.testing.assert_allclose(np.sum(s.numpy(), axis=axis), 1.0, rtol=1e-5)
    assert_matches(ops.log_softmax(t, axis=axis), np_log_softmax(x64, axis).astype(dtype), **tol(dtype))


def test_softmax_default_axis_is_last(rng):
    x = random_array(rng, (3, 5), "float64")
    assert_matches(ops.softmax(lamina.tensor(x)), np_softmax(x, -1))
    assert_matches(ops.log_softmax(lamina.tensor(x)), np_log_softmax(x, -1))


def test_softmax_1d_and_int_input():
    assert_matches(ops.softmax(lamina.tensor([1.0, 2.0, 3.0])), np_softmax(np.array([1.0, 2.0, 3.0]), 0).astype("float32"))
    # ints compute in float32 (documented, as keras.ops)
    assert_matches(ops.softmax(lamina.tensor([1, 2, 3])), np_softmax(np.array([1.0, 2.0, 3.0]), 0).astype("float32"))


# ---- numerical stability ----------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_softmax_large_inputs(dtype):
    x = lamina.tensor(np.array([1000.0, 1001.0], dtype))
    s = ops.softmax(x).numpy()
    assert not np.any(np.isnan(s))
    np.testing.assert_allclose(s, np_softmax(np.array([0.0, 1.0]), 0), rtol=1e-6)
    ls = ops.log_softmax(x).numpy()
    assert np.all(np.isfinite(ls))
    np.testing.assert_allclose(ls, np_log_softmax(np.array([0.0, 1.0]), 0), rtol=1e-6)
    neg = ops.softmax(lamina.tensor(np.array([-1000.0, -1001.0], dtype))).numpy()
    np.testing.assert_allclose(neg, np_softmax(np.array([0.0, -1.0]), 0), rtol=1e-6)
    big = ops.log_softmax(lamina.tensor(np.array([[0.0, 2000.0]], dtype)), axis=1).numpy()
    np.testing.assert_allclose(big, [[-2000.0, 0.0]], rtol=1e-6)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_activations_extreme_inputs(dtype):
    x = lamina.tensor(np.array([-1000.0, 1000.0], dtype))
    assert ops.softplus(lamina.tensor(np.array(1000.0, dtype))).item() == 1000.0
    np.testing.assert_array_equal(ops.softplus(x).numpy(), [0.0, 1000.0])
    np.testing.assert_array_equal(ops.sigmoid(x).numpy(), [0.0, 1.0])
    np.testing.assert_array_equal(ops.tanh(x).numpy(), [-1.0, 1.0])
    np.testing.assert_array_equal(ops.elu(x).numpy(), [-1.0, 1000.0])
    np.testing.assert_allclose(ops.selu(x).numpy(), [-SELU_SCALE * SELU_ALPHA, SELU_SCALE * 1000], rtol=1e-6)
    np.testing.assert_array_equal(ops.silu(x).numpy(), [0.0, 1000.0])
    np.testing.assert_array_equal(ops.gelu(x, approximate=True).numpy(), [0.0, 1000.0])
    np.testing.assert_array_equal(ops.gelu(x, approximate=False).numpy(), [0.0, 1000.0])
    np.testing.assert_array_equal(ops.relu6(x).numpy(), [0.0, 6.0])
    np.testing.assert_allclose(ops.leaky_relu(x).numpy(), [-200.0, 1000.0])
    for f in [ops.softplus, ops.sigmoid, ops.tanh, ops.elu, ops.selu, ops.silu, ops.gelu]:
        assert np.all(np.isfinite(f(x).numpy())), f


# f(nan), f(inf), f(-inf), f(0); None where the limit is not asserted (x * 0 at -inf).
SPECIAL = {
    "relu": [np.nan, np.inf, 0.0, 0.0],
    "relu6": [np.nan, 6.0, 0.0, 0.0],
    "sigmoid": [np.nan, 1.0, 0.0, 0.5],
    "tanh": [np.nan, 1.0, -1.0, 0.0],
    "softplus": [np.nan, np.inf, 0.0, np.log(2.0)],
    "elu": [np.nan, np.inf, -1.0, 0.0],
    "silu": [np.nan, np.inf, None, 0.0],
    "gelu": [np.nan, np.inf, None, 0.0],
}


@pytest.mark.parametrize("name", list(SPECIAL))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_activation_special_values(name, dtype):
    x = np.array([np.nan, np.inf, -np.inf, 0.0], dtype)
    got = getattr(ops, name)(lamina.tensor(x)).numpy()
    for g, w, xi in zip(got, SPECIAL[name], x):
        if w is None:
            continue
        if np.isnan(w):
            assert np.isnan(g), f"{name}({xi}) = {g}, expected nan"
        else:
            assert g == pytest.approx(w, rel=1e-6), f"{name}({xi}) = {g}, expected {w}"


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_softmax_gradient_finite_at_large_inputs(dtype):
    x = lamina.tensor(np.array([1000.0, 1001.0, 999.0], dtype), requires_grad=True)
    y = ops.sum(ops.softmax(x) * lamina.tensor(np.array([1.0, 2.0, 3.0], dtype)))
    y.backward()
    assert np.all(np.isfinite(x.grad.numpy()))
    x2 = lamina.tensor(np.array([1000.0], dtype), requires_grad=True)
    ops.softplus(x2).sum().backward()
    np.testing.assert_allclose(x2.grad.numpy(), [1.0])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_exact_gelu_tails_and_gradient(dtype):
    """The fused erf-form GELU against x * erfc(-x / sqrt 2) / 2 in float64
    (the erfc form does not cancel in the negative tail, where
    1 + erf(x / sqrt 2) does), and its derivative Phi(x) + x phi(x)."""
    x = np.linspace(-12.0, 12.0, 4801)
    cdf = 0.5 * np.array([math.erfc(-v / math.sqrt(2.0)) for v in x])
    ref = x * cdf
    dref = cdf + x * np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
    t = lamina.tensor(x.astype(dtype))
    t.requires_grad = True
    y = ops.gelu(t, approximate=False)
    ops.sum(y).backward()
    rtol, atol = (2e-5, 1e-37) if dtype == "float32" else (1e-12, 1e-300)
    np.testing.assert_allclose(y.numpy().astype(np.float64), ref, rtol=rtol, atol=atol)
    np.testing.assert_allclose(t.grad.numpy().astype(np.float64), dref, rtol=rtol,
                               atol=3e-7 if dtype == "float32" else 1e-15)
