"""Elementwise ops against NumPy: dtypes, broadcasting, 0-d, empty and strided inputs."""

import numpy as np
import pytest

import lamina
from lamina import ops

from testutil import DTYPES, FLOAT_DTYPES, NUMERIC_DTYPES, VIEW_KINDS, as_view, assert_matches, random_array

ARITH = ["add", "subtract", "multiply", "divide", "power", "maximum", "minimum"]
COMPARE = ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal"]
LOGICAL = ["logical_and", "logical_or"]
BINARY = ARITH + COMPARE + LOGICAL

SHAPE_PAIRS = [
    ((2, 3), (2, 3)),
    ((2, 3), (3,)),
    ((3,), (2, 3)),
    ((4, 1, 3), (2, 1)),
    ((3, 1), (1, 4)),
    ((), (2, 3)),
    ((3,), ()),
    ((), ()),
    ((0, 3), (1, 3)),
    ((2, 0), (2, 1)),
]


def binary_inputs(rng, op, dtype, sa, sb):
    """Inputs for which `op` is well defined in `dtype` (no zero divisors, small powers)."""
    if op == "divide":
        a = random_array(rng, sa, dtype)
        mag = random_array(rng, sb, dtype, 1, 3)
        if dtype == "bool":
            b = np.ones(sb, bool)
        else:
            sign = np.where(random_array(rng, sb, "bool"), 1, -1).astype(dtype)
            b = (mag * sign).astype(dtype)
        return a, b
    if op == "power":
        if dtype in FLOAT_DTYPES:
            return random_array(rng, sa, dtype, 0.5, 2.0), random_array(rng, sb, dtype, -2.0, 2.0)
        return random_array(rng, sa, dtype, -3, 3), random_array(rng, sb, dtype, 0, 3)
    a = random_array(rng, sa, dtype, -3, 3)
    b = random_array(rng, sb, dtype, -3, 3)
    if dtype not in ("bool",):
        # Some exact ties, so equal/maximum see them.
        if a.size and b.size and a.shape == b.shape:
            a.flat[0] = b.flat[0]
    return a, b


def expected_binary(op, a, b):
    with np.errstate(all="ignore"):
        want = getattr(np, op)(a, b)
    # Documented: integer and bool true division gives float32.
    if op == "divide" and np.result_type(a, b).kind in "biu":
        want = want.astype("float32")
    return want


@pytest.mark.parametrize("op", BINARY)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa, sb", SHAPE_PAIRS, ids=str)
def test_binary_vs_numpy(rng, op, dtype, sa, sb):
    a, b = binary_inputs(rng, op, dtype, sa, sb)
    f = getattr(ops, op)
    if dtype == "bool" and op in ("subtract", "power"):
        # NumPy has no bool subtract; bool power would leave the supported dtypes.
        with pytest.raises(TypeError):
            f(lamina.tensor(a), lamina.tensor(b))
        return
    got = f(lamina.tensor(a), lamina.tensor(b))
    assert_matches(got, expected_binary(op, a, b))


@pytest.mark.parametrize("op", ["add", "multiply", "divide", "maximum", "minimum", "less", "equal", "logical_or"])
@pytest.mark.parametrize("da", DTYPES)
@pytest.mark.parametrize("db", DTYPES)
def test_binary_mixed_dtypes(rng, op, da, db):
    a = random_array(rng, (2, 3), da, 1, 3)
    b = random_array(rng, (3,), db, 1, 3)
    if op == "divide" and db == "bool":
        b = np.ones((3,), bool)
    got = getattr(ops, op)(lamina.tensor(a), lamina.tensor(b))
    assert_matches(got, expected_binary(op, a, b))


@pytest.mark.parametrize("op", BINARY)
@pytest.mark.parametrize("ka", VIEW_KINDS)
@pytest.mark.parametrize("kb", ["contiguous", "reversed", "strided"])
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_binary_on_views(rng, op, ka, kb, dtype):
    a, b = binary_inputs(rng, op, dtype, (3, 4), (3, 4))
    a, ta = as_view(a, ka)
    b, tb = as_view(b, kb)
    assert_matches(getattr(ops, op)(ta, tb), expected_binary(op, a, b))
    # a broadcast row against a strided matrix
    assert_matches(getattr(ops, op)(ta, tb[0]), expected_binary(op, a, b[0]))


# ---- unary ----------------------------------------------------------------------

UNARY_DOMAIN = {
    "negative": (-3, 3),
    "abs": (-3, 3),
    "exp": (-5, 5),
    "log": (0.05, 5),
    "log1p": (-0.9, 5),
    "sqrt": (0, 5),
    "square": (-3, 3),
    "sign": (-3, 3),
}
FLOAT_ONLY = {"exp", "log", "log1p", "sqrt"}
UNARY_SHAPES = [(), (0,), (5,), (3, 4), (2, 3, 4), (2, 0, 3)]


def expected_unary(op, a):
    if op in FLOAT_ONLY and a.dtype.kind in "biu":
        # Documented (dtype.h float_type, as keras.ops): int and bool inputs
        # of float functions compute in float32.
        a = a.astype("float32")
    with np.errstate(all="ignore"):
        return getattr(np, op)(a)


@pytest.mark.parametrize("op", list(UNARY_DOMAIN))
@pytest.mark.parametrize("dtype", NUMERIC_DTYPES)
@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
def test_unary_vs_numpy(rng, op, dtype, shape):
    lo, hi = UNARY_DOMAIN[op]
    a = random_array(rng, shape, dtype, lo, hi)
    if a.size and op in ("abs", "sign", "negative", "square"):
        a.flat[0] = 0
    assert_matches(getattr(ops, op)(lamina.tensor(a)), expected_unary(op, a))


@pytest.mark.parametrize("op", list(UNARY_DOMAIN))
@pytest.mark.parametrize("kind", VIEW_KINDS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_unary_on_views(rng, op, kind, dtype):
    lo, hi = UNARY_DOMAIN[op]
    a, t = as_view(random_array(rng, (4, 5), dtype, lo, hi), kind)
    assert_matches(getattr(ops, op)(t), expected_unary(op, a))


@pytest.mark.parametrize("op", ["exp", "log", "log1p", "sqrt"])
def test_float_functions_of_bool(op):
    a = np.array([True, False, True])
    assert_matches(getattr(ops, op)(lamina.tensor(a)), expected_unary(op, a))


def test_bool_unary():
    a = np.array([True, False])
    assert_matches(ops.abs(lamina.tensor(a)), np.abs(a))
    assert_matches(ops.logical_not(lamina.tensor(a)), np.logical_not(a))
    assert_matches(~lamina.tensor(a), ~a)
    with pytest.raises(TypeError):
        np.negative(a)
    with pytest.raises(TypeError):
        ops.negative(lamina.tensor(a))


@pytest.mark.parametrize("dtype", DTYPES)
def test_logical_ops_all_dtypes(rng, dtype):
    a = random_array(rng, (3, 4), dtype, -1, 1)
    b = random_array(rng, (4,), dtype, -1, 1)
    ta, tb = lamina.tensor(a), lamina.tensor(b)
    assert_matches(ops.logical_and(ta, tb), np.logical_and(a, b))
    assert_matches(ops.logical_or(ta, tb), np.logical_or(a, b))
    assert_matches(ops.logical_not(ta), np.logical_not(a))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_unary_special_values(dtype):
    a = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30, -1e-30, 1e30], dtype)
    t = lamina.tensor(a)
    with np.errstate(all="ignore"):
        for op in ["negative", "abs", "exp", "log", "log1p", "sqrt", "square", "sign"]:
            assert_matches(getattr(ops, op)(t), getattr(np, op)(a), atol=0)


def test_exp_float32_range_edges():
    a = np.array([88.0, 88.7, 89.0, 100.0, -87.0, -100.0, -104.0, -110.0, -1000.0], np.float32)
    with np.errstate(all="ignore"):
        want = np.exp(a)
    got = ops.exp(lamina.tensor(a)).numpy()
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    np.testing.assert_allclose(got[:2], want[:2], rtol=1e-6)
    assert got[4] == pytest.approx(float(want[4]), rel=1e-6)
    assert np.all(got[6:] <= 1.5e-45)
    assert got[7] == 0 and got[8] == 0


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_unary_precision_near_zero(dtype):
    a = np.array([1e-12, -1e-9, 3e-7, 1e-4], dtype)
    r = 1e-6 if dtype == "float64" else None
    assert_matches(ops.log1p(lamina.tensor(a)), np.log1p(a), rtol=r or 1e-6)
    assert_matches(ops.sqrt(lamina.tensor(np.abs(a))), np.sqrt(np.abs(a)), rtol=r or 1e-6)
    if dtype == "float64":
        assert_matches(ops.tanh(lamina.tensor(a)), np.tanh(a), rtol=1e-12)


# ---- clip / where ------------------------------------------------------------------


@pytest.mark.parametrize("dtype", NUMERIC_DTYPES)
@pytest.mark.parametrize("kind", ["contiguous", "transposed", "reversed"])
def test_clip_scalar_bounds(rng, dtype, kind):
    a, t = as_view(random_array(rng, (4, 5), dtype, -5, 5), kind)
    lo, hi = (-2, 3) if dtype.startswith("int") else (-1.5, 2.5)
    assert_matches(ops.clip(t, lo, hi), np.clip(a, lo, hi))


@pytest.mark.parametrize("dtype", NUMERIC_DTYPES)
def test_clip_array_bounds_broadcast(rng, dtype):
    a = random_array(rng, (3, 4), dtype, -5, 5)
    lo = random_array(rng, (4,), dtype, -3, 0)
    hi = random_array(rng, (3, 1), dtype, 1, 3)
    assert_matches(ops.clip(lamina.tensor(a), lamina.tensor(lo), lamina.tensor(hi)), np.clip(a, lo, hi))


def test_clip_0d_and_empty():
    assert_matches(ops.clip(lamina.tensor(np.float32(5.0)), 0.0, 1.0), np.float32(1.0))
    assert_matches(ops.clip(lamina.tensor(np.zeros((0, 2))), 0.0, 1.0), np.zeros((0, 2)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "sc, sa, sb", [((3, 4), (3, 4), (3, 4)), ((3, 1), (4,), ()), ((), (2, 3), (2, 3)), ((4,), (3, 1), (1, 4)), ((0, 2), (2,), ())],
    ids=str,
)
def test_where_vs_numpy(rng, dtype, sc, sa, sb):
    c = random_array(rng, sc, "bool")
    a = random_array(rng, sa, dtype)
    b = random_array(rng, sb, dtype)
    assert_matches(ops.where(lamina.tensor(c), lamina.tensor(a), lamina.tensor(b)), np.where(c, a, b))


@pytest.mark.parametrize("da, db", [("int32", "float32"), ("bool", "int64"), ("float32", "float64")])
def test_where_promotes(rng, da, db):
    c = random_array(rng, (5,), "bool")
    a = random_array(rng, (5,), da)
    b = random_array(rng, (5,), db)
    assert_matches(ops.where(c, lamina.tensor(a), lamina.tensor(b)), np.where(c, a, b))


def test_where_int_condition_and_scalars(rng):
    c = np.array([0, 2, -1, 0])
    a = random_array(rng, (4,), "float32")
    assert_matches(ops.where(lamina.tensor(c), lamina.tensor(a), 0.0), np.where(c, a, np.float32(0)))
    _, tc = as_view(np.array([[1, 0], [0, 1]]), "reversed")
    assert_matches(ops.where(tc, 1.0, -1.0), np.where(np.array([[1, 0], [0, 1]]), 1.0, -1.0))


@pytest.mark.parametrize("dtype", ["float32", "int32", "float64"])
@pytest.mark.parametrize("b_shape", [(3, 37), ()], ids=["b-array", "b-scalar"])
def test_where_long_contiguous_runs(rng, dtype, b_shape):
    # runs of 37: the 16-wide blended blocks (4-byte types) and their tail
    c = random_array(rng, (3, 37), "bool")
    a, b = random_array(rng, (3, 37), dtype), random_array(rng, b_shape, dtype)
    assert_matches(ops.where(lamina.tensor(c), lamina.tensor(a), lamina.tensor(b)), np.where(c, a, b),
                   atol=0, rtol=0)


def test_where_on_views(rng):
    c, tc = as_view(random_array(rng, (3, 4), "bool"), "transposed")
    a, ta = as_view(random_array(rng, (3, 4), "float64"), "strided")
    b, tb = as_view(random_array(rng, (3, 4), "float64"), "reversed")
    assert_matches(ops.where(tc, ta, tb), np.where(c, a, b))


# ---- sizes that take the multi-threaded paths -------------------------------------------------


@pytest.mark.parametrize("sa, sb", [((2, 100_000), (100_000,)), ((100_000, 3), (100_000, 1)), ((300, 400), (300, 400)), ((70_000,), ())], ids=str)
def test_large_binary_parallel_paths(rng, sa, sb):
    a = random_array(rng, sa, "float32")
    b = random_array(rng, sb, "float32")
    assert_matches(ops.add(lamina.tensor(a), lamina.tensor(b)), a + b, atol=0, rtol=0)
    assert_matches(ops.multiply(lamina.tensor(a), lamina.tensor(b)), a * b, atol=0, rtol=0)


def test_large_views_parallel_paths(rng):
    a = random_array(rng, (400, 300), "float64")
    t = lamina.tensor(a)
    assert_matches(ops.exp(t.T), np.exp(a.T))
    assert_matches(t.T[::-1] * 2.0 - t.T, a.T[::-1] * 2.0 - a.T)
    assert_matches(ops.sum(t.T, axis=1), a.T.sum(axis=1))
    assert_matches(ops.max(t[::-1, ::2], axis=0), a[::-1, ::2].max(axis=0))
