"""Tensor creation, properties, Python operators and dtype promotion."""

import math

import numpy as np
import pytest

import lamina
from lamina import ops

from testutil import DTYPES, NUMERIC_DTYPES, assert_matches, random_array, to_np


# ---- lamina.tensor -------------------------------------------------------------


@pytest.mark.parametrize(
    "data, dtype",
    [
        ([1.0, 2.5], "float32"),
        ([[1.0, 2.0], [3.0, 4.0]], "float32"),
        ([1, 2, 3], "int32"),
        ([[1, 2], [3, 4]], "int32"),
        ([1, 2.5], "float32"),
        ([True, False], "bool"),
        (1.5, "float32"),
        (7, "int32"),
        (True, "bool"),
    ],
)
def test_tensor_from_python_default_dtypes(data, dtype):
    t = lamina.tensor(data)
    assert t.dtype == dtype
    np.testing.assert_array_equal(to_np(t), np.asarray(data).astype(dtype))
    assert t.shape == np.asarray(data).shape


@pytest.mark.parametrize("dtype", DTYPES)
def test_tensor_from_numpy_keeps_dtype(rng, dtype):
    a = random_array(rng, (2, 3), dtype)
    t = lamina.tensor(a)
    assert_matches(t, a)


@pytest.mark.parametrize("dtype", DTYPES)
def test_tensor_from_numpy_scalar_keeps_dtype(dtype):
    v = np.array(1.25).astype(dtype)[()]
    assert isinstance(v, np.generic)
    t = lamina.tensor(v)
    assert_matches(t, np.asarray(v))


@pytest.mark.parametrize("src", ["int8", "uint8", "int16", "uint16"])
def test_narrow_ints_widen_to_int32(src):
    a = np.array([0, 1, 100], dtype=src)
    assert_matches(lamina.tensor(a), a.astype("int32"))


def test_float16_array_widens_to_float32():
    a = np.array([0.5, 1.5], dtype=np.float16)
    assert_matches(lamina.tensor(a), a.astype("float32"))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("spelling", ["str", "numpy"])
def test_tensor_dtype_argument(dtype, spelling):
    d = dtype if spelling == "str" else np.dtype(dtype).type
    data = [0.0, 1.0, 2.0]
    t = lamina.tensor(data, dtype=d)
    assert_matches(t, np.asarray(data).astype(dtype))


def test_tensor_requires_grad_argument():
    t = lamina.tensor([1.0, 2.0], requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.grad is None
    assert not lamina.tensor([1.0]).requires_grad


def test_tensor_of_tensor():
    t = lamina.tensor([1.0, 2.0])
    assert lamina.tensor(t).dtype == "float32"
    assert_matches(lamina.tensor(t, dtype="float64"), np.array([1.0, 2.0]))


def test_empty_and_0d_tensors():
    e = lamina.tensor(np.zeros((0, 3), np.float32))
    assert e.shape == (0, 3) and e.size == 0 and e.ndim == 2
    assert to_np(e).shape == (0, 3)
    s = lamina.tensor(np.float64(2.5) * np.ones(()))
    assert s.shape == () and s.ndim == 0 and s.size == 1
    assert float(s) == 2.5


# ---- creation functions -----------------------------------------------------------


@pytest.mark.parametrize("shape", [(), 0, 3, (2, 3), (2, 0, 4), [1, 2]])
@pytest.mark.parametrize("dtype", [None] + DTYPES)
def test_zeros_ones(shape, dtype):
    want = dtype or "float32"
    assert_matches(lamina.zeros(shape, dtype=dtype), np.zeros(shape, want))
    assert_matches(lamina.ones(shape, dtype=dtype), np.ones(shape, want))


@pytest.mark.parametrize(
    "fill, dtype, want",
    [(2.5, None, "float32"), (3, None, "int32"), (True, None, "bool"), (2, "float64", "float64"),
     (-1, "int64", "int64"), (0.0, "bool", "bool")],
)
def test_full(fill, dtype, want):
    assert_matches(lamina.full((2, 3), fill, dtype=dtype), np.full((2, 3), fill, dtype=want))


@pytest.mark.parametrize(
    "args, kwargs, want_dtype",
    [
        ((5,), {}, "int32"),
        ((2, 9), {}, "int32"),
        ((2, 9, 3), {}, "int32"),
        ((9, 2, -2), {}, "int32"),
        ((0,), {}, "int32"),
        ((5, 2), {}, "int32"),
        ((0.0, 1.0, 0.1), {}, "float32"),
        ((0.5, 3), {}, "float32"),
        ((4,), {"dtype": "float64"}, "float64"),
        ((-3, 3), {"dtype": "int64"}, "int64"),
    ],
)
def test_arange(args, kwargs, want_dtype):
    want = np.arange(*args).astype(want_dtype)
    t = lamina.arange(*args, **kwargs)
    assert_matches(t, want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("n, m, k", [(3, None, 0), (3, 4, 0), (3, 4, 1), (4, 3, -1), (2, 2, 5), (0, None, 0)])
@pytest.mark.parametrize("dtype", [None, "float64", "int32", "bool"])
def test_eye(n, m, k, dtype):
    assert_matches(lamina.eye(n, m, k=k, dtype=dtype), np.eye(n, m, k=k, dtype=dtype or "float32"))


# ---- properties ------------------------------------------------------------------


def test_properties(rng):
    a = random_array(rng, (2, 3, 4), "float64")
    t = lamina.tensor(a)
    assert t.shape == (2, 3, 4) and isinstance(t.shape, tuple)
    assert t.dtype == "float64" and isinstance(t.dtype, str)
    assert t.ndim == 3
    assert t.size == 24
    assert len(t) == 2
    assert t.device == "cpu"
    np.testing.assert_array_equal(t.numpy(), a)
    assert t.tolist() == a.tolist()
    assert [to_np(r).tolist() for r in t] == [r.tolist() for r in a]


def test_scalar_conversions():
    t = lamina.tensor([[2.75]])
    assert float(t) == 2.75
    assert int(lamina.tensor(-3)) == -3
    assert bool(lamina.tensor([1.0])) is True
    assert bool(lamina.tensor(0)) is False
    assert lamina.tensor(3).item() == 3 and isinstance(lamina.tensor(3).item(), int)
    assert isinstance(lamina.tensor(3.5).item(), float)
    assert lamina.tensor(True).item() is True
    with pytest.raises(ValueError, match=r"\(2,\)"):
        float(lamina.tensor([1.0, 2.0]))
    with pytest.raises(TypeError):
        len(lamina.tensor(1.0))


def test_repr():
    r = repr(lamina.tensor([1.5, -2.0]))
    assert r.startswith("lamina.Tensor(")
    assert "1.5" in r and "-2." in r and "dtype=float32" in r
    assert "requires_grad=True" in repr(lamina.tensor([1.0], requires_grad=True))
    assert "dtype=int64" in repr(lamina.tensor(np.arange(3)))
    assert str(lamina.tensor([1, 2])) == repr(lamina.tensor([1, 2]))


def test_astype_and_methods(rng):
    a = random_array(rng, (3, 4), "float32")
    t = lamina.tensor(a)
    assert_matches(t.astype("int64"), a.astype("int64"))
    assert_matches(t.T, a.T)
    assert_matches(t.reshape(4, 3), a.reshape(4, 3))
    assert_matches(t.reshape((2, -1)), a.reshape(2, -1))
    assert_matches(t.transpose(), a.transpose())
    assert_matches(t.permute(1, 0), a.transpose(1, 0))
    assert_matches(t.flatten(), a.flatten())
    assert_matches(t.sum(axis=0), a.sum(axis=0))
    assert_matches(t.mean(axis=1, keepdims=True), a.mean(axis=1, keepdims=True))
    assert_matches(t.max(), a.max())
    assert_matches(t.min(axis=0), a.min(axis=0))
    assert_matches(t.broadcast_to((2, 3, 4)), np.broadcast_to(a, (2, 3, 4)))
    assert_matches(t.reshape(1, 3, 1, 4).squeeze(), a)


# ---- Python operators ------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_python_operators(rng, dtype):
    a = random_array(rng, (3, 4), dtype, 0.5, 2.0)
    b = random_array(rng, (4,), dtype, 0.5, 2.0)
    x, y = lamina.tensor(a), lamina.tensor(b)
    assert_matches(x + y, a + b)
    assert_matches(x - y, a - b)
    assert_matches(x * y, a * b)
    assert_matches(x / y, a / b)
    assert_matches(x ** y, a ** b)
    assert_matches(x @ lamina.tensor(a.T), a @ a.T)
    assert_matches(-x, -a)
    assert_matches(+x, a)
    assert_matches(abs(-x), a)
    assert_matches(x == y, a == b)
    assert_matches(x != y, a != b)
    assert_matches(x < y, a < b)
    assert_matches(x <= y, a <= b)
    assert_matches(x > y, a > b)
    assert_matches(x >= y, a >= b)


def test_reflected_operators():
    a = np.array([1.0, 2.0, 4.0], np.float32)
    x = lamina.tensor(a)
    assert_matches(2 + x, 2 + a)
    assert_matches(2 - x, 2 - a)
    assert_matches(3 * x, 3 * a)
    assert_matches(2 / x, 2 / a)
    assert_matches(2 ** x, 2 ** a)
    assert_matches(1.5 - x, 1.5 - a)
    assert_matches([1.0, 2.0, 4.0] @ x, np.float32(a @ a))
    assert_matches(ops.matmul(a, x), np.float32(a @ a))


def test_operators_with_numpy_operands():
    a = np.array([1.0, 2.0, 3.0])
    x = lamina.tensor(a)
    r = x + np.array([10.0, 20.0, 30.0])
    assert_matches(r, a + [10.0, 20.0, 30.0])
    assert_matches(x * [2.0, 2.0, 2.0], a * 2.0)


def test_eq_none():
    x = lamina.tensor([1.0])
    assert (x == None) is False  # noqa: E711
    assert (x != None) is True  # noqa: E711


def test_integer_operators():
    a = np.array([7, -7, 5], np.int32)
    b = np.array([2, 2, -3], np.int32)
    x, y = lamina.tensor(a), lamina.tensor(b)
    assert_matches(x // y, a // b)
    assert_matches(x % y, a % b)
    assert_matches(x & (x > 0), np.logical_and(a, a > 0))


# ---- dtype promotion --------------------------------------------------------------


@pytest.mark.parametrize("da", DTYPES)
@pytest.mark.parametrize("db", DTYPES)
def test_tensor_tensor_promotion_follows_numpy(da, db):
    a = np.ones((2,), da)
    b = np.ones((2,), db)
    want = np.result_type(a, b).name
    got = (lamina.tensor(a) + lamina.tensor(b)).dtype
    assert got == want
    assert ops.multiply(a, lamina.tensor(b)).dtype == np.multiply(a, b).dtype.name
    assert ops.maximum(lamina.tensor(a), b).dtype == np.maximum(a, b).dtype.name


@pytest.mark.parametrize(
    "da, db, want",
    [("int32", "float32", "float64"), ("int32", "int64", "int64"), ("bool", "int32", "int32"),
     ("int64", "float32", "float64"), ("float32", "float64", "float64"), ("bool", "float32", "float32")],
)
def test_promotion_examples(da, db, want):
    a, b = lamina.ones((2,), dtype=da), lamina.ones((2,), dtype=db)
    assert (a + b).dtype == want
    assert (b * a).dtype == want


@pytest.mark.parametrize(
    "dtype, scalar, want",
    [
        ("float32", 1.5, "float32"),
        ("float32", 2, "float32"),
        ("float64", 2, "float64"),
        ("int32", 2, "int32"),
        ("int64", 2, "int64"),
        ("int32", True, "int32"),
        ("bool", True, "bool"),
        ("bool", 2, "int64"),
        ("float64", 1.5, "float64"),
        ("int64", 1.5, "float32"),
    ],
)
def test_weak_python_scalars(dtype, scalar, want):
    """NEP 50: Python scalars adopt the tensor's dtype."""
    t = lamina.ones((3,), dtype=dtype)
    r = t + scalar
    assert r.dtype == want
    assert (scalar + t).dtype == want
    np.testing.assert_array_equal(to_np(r), np.ones(3, dtype) + scalar)


def test_int_times_python_float_is_float32():
    """Documented deviation: int32 tensor * 1.5 gives float32 (NumPy: float64)."""
    t = lamina.tensor(np.array([1, 2, 3], np.int32))
    r = t * 1.5
    assert r.dtype == "float32"
    np.testing.assert_allclose(to_np(r), [1.5, 3.0, 4.5])


@pytest.mark.parametrize("dtype", ["int32", "int64", "bool"])
def test_integer_true_division_gives_float32(dtype):
    a = np.array([1, 0, 1, 1]).astype(dtype)
    b = np.array([2, 1, 3, 1]).astype(dtype)
    r = lamina.tensor(a) / lamina.tensor(b)
    assert_matches(r, (a / b).astype("float32"))
    assert (lamina.tensor(a) / 2).dtype == "float32"


def test_int_true_division_by_zero_is_inf_or_nan():
    r = lamina.tensor([1, -1, 0]) / lamina.tensor([0, 0, 0])
    with np.errstate(all="ignore"):
        want = np.array([1, -1, 0]) / np.array([0, 0, 0])
    assert_matches(r, want.astype("float32"))


@pytest.mark.parametrize("op", ["add", "multiply", "subtract", "maximum", "less"])
@pytest.mark.parametrize("dtype", NUMERIC_DTYPES)
def test_ops_accept_numpy_and_scalars(rng, op, dtype):
    a = random_array(rng, (2, 3), dtype)
    f_l, f_n = getattr(ops, op), getattr(np, op)
    assert_matches(f_l(a, 2), f_n(a, 2))
    assert_matches(f_l(2, a), f_n(2, a))
    assert_matches(f_l(a, a), f_n(a, a))
    assert_matches(f_l(lamina.tensor(a), a[0]), f_n(a, a[0]))


def test_unary_ops_accept_python_scalars_and_lists():
    assert_matches(ops.exp(1.0), np.float32(math.e))
    assert_matches(ops.sqrt([4.0, 9.0]), np.array([2.0, 3.0], np.float32))
    assert_matches(ops.sum([1, 2, 3]), np.int64(6))
    assert_matches(ops.matmul([[1.0, 2.0]], np.array([[3.0], [4.0]], np.float32)), np.array([[11.0]], np.float32))


def test_python_ints_beyond_int32_are_not_wrapped():
    big = 2**40
    t = lamina.tensor([big, 1])
    assert t.dtype == "int64"
    np.testing.assert_array_equal(to_np(t), [big, 1])
    assert lamina.tensor(big).dtype == "int64" and lamina.tensor(big).item() == big
    assert lamina.tensor(-(2**31)).dtype == "int32" and lamina.tensor(-(2**31)).item() == -(2**31)
    assert lamina.tensor([2**31 - 1, -(2**31)]).dtype == "int32"
    assert lamina.tensor([]).dtype == "float32"


def test_weak_int_overflow_raises_like_numpy():
    a = np.array([1, 2], np.int32)
    with pytest.raises(OverflowError):
        a + 2**40
    with pytest.raises(OverflowError):
        lamina.tensor(a) + 2**40
    with pytest.raises(OverflowError):
        2**40 * lamina.tensor(a)
    # int64 tensors and float tensors take it
    assert_matches(lamina.tensor(a.astype(np.int64)) + 2**40, a.astype(np.int64) + 2**40)
    assert (lamina.tensor(np.array([1.0], np.float32)) + 2**40).dtype == "float32"
