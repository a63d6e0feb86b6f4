"""Reductions against NumPy: every axis combination, keepdims, dtypes, views, empty."""

import warnings

import numpy as np
import pytest

import lamina
from lamina import ops

from testutil import DTYPES, FLOAT_DTYPES, VIEW_KINDS, as_view, assert_matches, random_array

REDUCTIONS = ["sum", "mean", "max", "min", "prod", "var", "std", "logsumexp"]
FLOAT_RESULT = {"mean", "var", "std", "logsumexp"}

CASES = [
    ((2, 3, 4), None),
    ((2, 3, 4), 0),
    ((2, 3, 4), 1),
    ((2, 3, 4), -1),
    ((2, 3, 4), (0, 2)),
    ((2, 3, 4), (-1, 0)),
    ((2, 3, 4), (0, 1, 2)),
    ((2, 3, 4), (1, 2)),
    ((2, 3, 4), ()),
    ((5,), None),
    ((5,), 0),
    ((5,), -1),
    ((), None),
    ((), ()),
    ((1, 4, 1), (0, 2)),
    ((3, 1), 1),
]


def np_logsumexp(a, axis=None, keepdims=False):
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        r = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    if not keepdims:
        r = np.squeeze(r, axis=axis) if axis is not None else r.reshape(())
    return r


def reference(op, a, axis, keepdims):
    if op in FLOAT_RESULT and a.dtype.kind in "biu":
        # Documented (dtype.h float_type, as keras.ops): int/bool inputs of
        # float reductions compute in float32 (NumPy: float64).
        a = a.astype("float32")
    if op == "logsumexp":
        return np_logsumexp(a, axis, keepdims)
    with np.errstate(all="ignore"):
        return getattr(np, op)(a, axis=axis, keepdims=keepdims)


def tolerances(op, dtype):
    # NumPy sums float32 pairwise in float32, lamina in double blocks: allow for NumPy's error.
    if dtype == "float32" or (op in FLOAT_RESULT and dtype not in FLOAT_DTYPES):
        return dict(rtol=1e-5, atol=1e-5)
    return {}


# logsumexp of bools is not meaningful.
OP_DTYPES = [(op, d) for op in REDUCTIONS for d in DTYPES if not (op == "logsumexp" and d == "bool")]


@pytest.mark.parametrize("op, dtype", OP_DTYPES)
@pytest.mark.parametrize("shape, axis", CASES, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_vs_numpy(rng, op, dtype, shape, axis, keepdims):
    lo, hi = (0.5, 1.5) if op == "prod" and dtype in FLOAT_DTYPES else (-3, 3)
    a = random_array(rng, shape, dtype, lo, hi)
    got = getattr(ops, op)(lamina.tensor(a), axis=axis, keepdims=keepdims)
    assert_matches(got, reference(op, a, axis, keepdims), **tolerances(op, dtype))


@pytest.mark.parametrize("op", REDUCTIONS)
@pytest.mark.parametrize("kind", VIEW_KINDS)
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
def test_reduction_on_views(rng, op, kind, axis):
    a, t = as_view(random_array(rng, (4, 5), "float64", 0.5, 1.5), kind)
    assert_matches(getattr(ops, op)(t, axis=axis), reference(op, a, axis, False))
    assert_matches(getattr(ops, op)(t, axis=axis, keepdims=True), reference(op, a, axis, True))


def test_reduction_on_3d_views(rng):
    a = random_array(rng, (3, 4, 5), "float64")
    t = lamina.tensor(a)
    v = ops.transpose(t, (2, 0, 1))[::2, :, ::-1]
    av = a.transpose(2, 0, 1)[::2, :, ::-1]
    for axis in [None, 0, 1, 2, (0, 2), (1, 2), (0, 1)]:
        for op in ["sum", "max", "mean", "var"]:
            assert_matches(getattr(ops, op)(v, axis=axis), getattr(np, op)(av, axis=axis))


@pytest.mark.parametrize("op", ["sum", "prod", "mean"])
@pytest.mark.parametrize("shape, axis", [((0,), None), ((0, 3), 0), ((0, 3), 1), ((2, 0), None), ((2, 0), 0)], ids=str)
def test_empty_reductions_with_identity(op, shape, axis):
    a = np.zeros(shape, np.float32)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy warns on the mean of nothing
        want = getattr(np, op)(a, axis=axis)
    assert_matches(getattr(ops, op)(lamina.tensor(a), axis=axis), want)


@pytest.mark.parametrize("op", ["max", "min", "argmax", "argmin"])
def test_empty_reductions_without_identity_raise(op):
    a = np.zeros((0, 3), np.float32)
    with pytest.raises(ValueError):
        getattr(np, op)(a, axis=0)
    with pytest.raises(ValueError):
        getattr(ops, op)(lamina.tensor(a), axis=0)
    # Reducing the non-empty axis is fine.
    if op in ("max", "min"):
        assert_matches(getattr(ops, op)(lamina.tensor(a), axis=1), getattr(np, op)(a, axis=1))


# ---- argmax / argmin --------------------------------------------------------------


@pytest.mark.parametrize("op", ["argmax", "argmin"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, axis", [((2, 3, 4), None), ((2, 3, 4), 0), ((2, 3, 4), 1), ((2, 3, 4), -1), ((6,), 0), ((6,), None), ((3, 1), 1)], ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_argreductions(rng, op, dtype, shape, axis, keepdims):
    a = random_array(rng, shape, dtype, -2, 2)  # small int range: ties, first index wins
    want = getattr(np, op)(a, axis=axis, keepdims=keepdims)
    assert_matches(getattr(ops, op)(lamina.tensor(a), axis=axis, keepdims=keepdims), want)


@pytest.mark.parametrize("op", ["argmax", "argmin"])
@pytest.mark.parametrize("kind", VIEW_KINDS)
def test_argreductions_on_views(rng, op, kind):
    a, t = as_view(random_array(rng, (4, 5), "float32"), kind)
    for axis in [None, 0, 1]:
        assert_matches(getattr(ops, op)(t, axis=axis), getattr(np, op)(a, axis=axis))


def test_argmax_nan_wins():
    a = np.array([[1.0, np.nan, 3.0], [np.nan, 5.0, np.nan]])
    assert_matches(ops.argmax(lamina.tensor(a), axis=1), np.argmax(a, axis=1))
    assert_matches(ops.argmin(lamina.tensor(a), axis=1), np.argmin(a, axis=1))
    assert_matches(ops.argmax(lamina.tensor(a)), np.argmax(a))


# ---- numerics ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_logsumexp_large_and_infinite(dtype):
    a = np.array([[1000.0, 1000.0], [-1000.0, -1001.0], [-np.inf, -np.inf], [np.inf, 1.0]], dtype)
    got = ops.logsumexp(lamina.tensor(a), axis=1)
    want = np.array([1000 + np.log(2), -1000 + np.log1p(np.exp(-1.0)), -np.inf, np.inf], dtype)
    assert_matches(got, want, rtol=1e-6)
    assert_matches(ops.logsumexp(lamina.tensor(a[:2]), axis=1, keepdims=True), want[:2, None], rtol=1e-6)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_var_std_large_offset(rng, dtype):
    a = (1e4 + rng.standard_normal(1000)).astype(dtype)
    assert_matches(ops.var(lamina.tensor(a)), np.var(a.astype(np.float64)).astype(dtype), rtol=1e-3)
    assert_matches(ops.std(lamina.tensor(a)), np.std(a.astype(np.float64)).astype(dtype), rtol=1e-3)


def test_long_float32_sum_accuracy(rng):
    a = rng.uniform(0, 1, 200_000).astype(np.float32)
    got = float(ops.sum(lamina.tensor(a)))
    assert got == pytest.approx(float(np.sum(a.astype(np.float64))), rel=1e-6)
    cols = a.reshape(-1, 4)
    assert_matches(ops.sum(lamina.tensor(cols), axis=0), np.sum(cols.astype(np.float64), axis=0).astype(np.float32), rtol=1e-6)


@pytest.mark.parametrize("op", ["max", "min", "sum"])
def test_nan_propagates(op):
    a = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0]], np.float32)
    for axis in [None, 0, 1]:
        assert_matches(getattr(ops, op)(lamina.tensor(a), axis=axis), getattr(np, op)(a, axis=axis))


@pytest.mark.parametrize("op", ["all", "any"])
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_all_any(rng, op, axis):
    a = random_array(rng, (3, 4), "int32", -1, 1)
    assert_matches(getattr(ops, op)(lamina.tensor(a), axis=axis), getattr(np, op)(a, axis=axis))


@pytest.mark.parametrize("op", ["all", "any"])
@pytest.mark.parametrize("shape, axis", [((0,), None), ((0, 3), None), ((0, 3), 0), ((0, 3), 1), ((2, 0), 1), ((3, 4), (0, 1))], ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_all_any_empty_and_axes(op, shape, axis, keepdims):
    a = np.zeros(shape)
    assert_matches(getattr(ops, op)(lamina.tensor(a), axis=axis, keepdims=keepdims), getattr(np, op)(a, axis=axis, keepdims=keepdims))


@pytest.mark.parametrize("op", ["all", "any"])
def test_all_any_nan_and_bool(op):
    a = np.array([[np.nan, 0.0], [1.0, 2.0]])
    for axis in [None, 0, 1]:
        assert_matches(getattr(ops, op)(a, axis=axis), getattr(np, op)(a, axis=axis))
    b = np.array([True, False])
    assert_matches(getattr(ops, op)(b), getattr(np, op)(b))
