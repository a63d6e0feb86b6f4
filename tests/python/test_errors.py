"""Error types and messages, NaN/inf semantics, and inputs left intact by failed ops."""

import numpy as np
import pytest

import lamina
from lamina import ops

from testutil import assert_matches, to_np


# ---- shape mismatches -------------------------------------------------------------------

BINARY_NAMES = ["add", "subtract", "multiply", "divide", "power", "maximum", "minimum", "equal", "less", "greater_equal", "logical_and"]


@pytest.mark.parametrize("op", BINARY_NAMES)
def test_binary_shape_mismatch_names_op_and_shapes(op):
    a = lamina.tensor(np.ones((2, 3)))
    b = lamina.tensor(np.ones((4,)))
    with pytest.raises(ValueError) as e:
        getattr(ops, op)(a, b)
    msg = str(e.value)
    assert op in msg and "(2, 3)" in msg and "(4,)" in msg, msg


def test_operator_shape_mismatch():
    a = lamina.tensor(np.ones((2, 3)))
    b = lamina.tensor(np.ones((4,)))
    for f in [lambda: a + b, lambda: a - b, lambda: a * b, lambda: a / b, lambda: a < b]:
        with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
            f()


def test_other_shape_errors_name_shapes():
    a = lamina.tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        ops.matmul(a, np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"matmul"):
        ops.matmul(lamina.tensor(np.float32(1)), a)
    with pytest.raises(ValueError, match=r"concatenate.*\(2, 3\).*\(2, 4\)|concatenate.*\(2, 4\).*\(2, 3\)"):
        ops.concatenate([a, np.ones((2, 4))], axis=0)
    with pytest.raises(ValueError, match=r"stack.*\(2, 3\).*\(3, 2\)"):
        ops.stack([a, np.ones((3, 2))])
    with pytest.raises(ValueError, match=r"reshape.*\(2, 3\).*\(4, 2\)"):
        ops.reshape(a, (4, 2))
    with pytest.raises(ValueError, match=r"broadcast_to.*\(2, 3\).*\(3, 3\)"):
        ops.broadcast_to(a, (3, 3))
    with pytest.raises(ValueError, match=r"where"):
        ops.where(np.ones((5,), bool), a, 0.0)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        ops.add(a, a.reshape(3, 2))


# ---- unsupported dtypes -----------------------------------------------------------------


@pytest.mark.parametrize(
    "arr",
    [np.array([1 + 2j, 3j]), np.array([1 + 2j], np.complex64), np.array(["a", "bc"]), np.array([b"x"]), np.array([None, 1], dtype=object), np.array([1], np.float128) if hasattr(np, "float128") else np.array([1j])],
    ids=lambda a: a.dtype.name,
)
def test_unsupported_numpy_dtype(arr):
    with pytest.raises(TypeError) as e:
        lamina.tensor(arr)
    assert arr.dtype.name in str(e.value)
    with pytest.raises(TypeError):
        ops.add(lamina.tensor([1.0]), arr)


@pytest.mark.parametrize("name", ["float16", "uint8", "complex64", "bfloat16", "string"])
def test_unsupported_dtype_string(name):
    with pytest.raises(TypeError, match=name):
        lamina.tensor([1.0, 2.0], dtype=name)
    with pytest.raises(TypeError, match=name):
        lamina.zeros((2,), dtype=name)
    with pytest.raises(TypeError, match=name):
        ops.cast(lamina.tensor([1.0]), name)


def test_python_complex_scalar_rejected():
    with pytest.raises(TypeError, match="complex"):
        lamina.tensor([1.0]) + 1j


def test_bool_arithmetic_type_errors():
    b = lamina.tensor([True, False])
    with pytest.raises(TypeError, match="subtract"):
        b - b
    with pytest.raises(TypeError):
        -b


def test_integer_index_dtype_required():
    with pytest.raises(TypeError):
        ops.take(lamina.tensor([1.0, 2.0]), lamina.tensor([0.0]))
    with pytest.raises(TypeError):
        ops.one_hot(lamina.tensor([0.5]), 3)


# ---- axes and indices out of range ---------------------------------------------------------

AXIS_OPS = {
    "sum": lambda t: ops.sum(t, axis=2),
    "sum_neg": lambda t: ops.sum(t, axis=-3),
    "sum_tuple": lambda t: ops.sum(t, axis=(0, 5)),
    "mean": lambda t: ops.mean(t, axis=2),
    "max": lambda t: ops.max(t, axis=2),
    "min": lambda t: ops.min(t, axis=-3),
    "prod": lambda t: ops.prod(t, axis=7),
    "var": lambda t: ops.var(t, axis=2),
    "std": lambda t: ops.std(t, axis=2),
    "logsumexp": lambda t: ops.logsumexp(t, axis=2),
    "argmax": lambda t: ops.argmax(t, axis=2),
    "argmin": lambda t: ops.argmin(t, axis=-3),
    "softmax": lambda t: ops.softmax(t, axis=2),
    "log_softmax": lambda t: ops.log_softmax(t, axis=-3),
    "expand_dims": lambda t: ops.expand_dims(t, 3),
    "squeeze": lambda t: ops.squeeze(t, 2),
    "concatenate": lambda t: ops.concatenate([t, t], axis=2),
    "stack": lambda t: ops.stack([t, t], axis=3),
    "take": lambda t: ops.take(t, [0], axis=2),
    "take_along_axis": lambda t: ops.take_along_axis(t, np.zeros((2, 3), np.int64), axis=2),
    "transpose": lambda t: ops.transpose(t, (0, 2)),
    "repeat": lambda t: ops.repeat(t, 2, axis=2),
    "flip": lambda t: ops.flip(t, 2),
    "split": lambda t: ops.split(t, 1, axis=2),
}


@pytest.mark.parametrize("name", list(AXIS_OPS))
def test_out_of_range_axis_raises_indexerror(name):
    t = lamina.tensor(np.ones((2, 3)))
    with pytest.raises(IndexError):
        AXIS_OPS[name](t)


def test_axis_error_message_names_axis_and_rank():
    with pytest.raises(IndexError, match=r"sum.*axis 5.*rank 2"):
        ops.sum(lamina.tensor(np.ones((2, 3))), axis=5)


def test_out_of_range_indices_raise_indexerror():
    t = lamina.tensor(np.arange(6.0).reshape(2, 3))
    with pytest.raises(IndexError, match="3"):
        t[3]
    with pytest.raises(IndexError):
        t[-3]
    with pytest.raises(IndexError):
        t[0, 3]
    with pytest.raises(IndexError, match="index 5"):
        ops.take(t, [0, 5], axis=1)
    with pytest.raises(IndexError):
        ops.take(t, [-7])
    with pytest.raises(IndexError):
        ops.take_along_axis(t, np.array([[0, 3, 1]]), axis=1)
    with pytest.raises(IndexError):
        ops.index_add(t, 0, [2], np.ones((1, 3)))
    with pytest.raises(IndexError):
        t[np.array([True, False, True])]


# ---- NaN and inf behave like NumPy ----------------------------------------------------------

NAN_CASES = [
    ("log(-1)", lambda m: m.log(m.asarray([-1.0, 0.0, 1.0]))),
    ("sqrt(-1)", lambda m: m.sqrt(m.asarray([-1.0, -0.0, 4.0]))),
    ("log1p(-2)", lambda m: m.log1p(m.asarray([-2.0, -1.0]))),
    ("0/0", lambda m: m.divide(m.asarray([0.0, 1.0, -1.0]), m.asarray([0.0, 0.0, 0.0]))),
    ("inf-inf", lambda m: m.subtract(m.asarray([np.inf]), m.asarray([np.inf]))),
    ("0*inf", lambda m: m.multiply(m.asarray([0.0]), m.asarray([np.inf]))),
    ("pow(-1,0.5)", lambda m: m.power(m.asarray([-1.0, 0.0]), m.asarray([0.5, -1.0]))),
    ("exp(nan)", lambda m: m.exp(m.asarray([np.nan, np.inf, -np.inf]))),
    ("maximum(nan)", lambda m: m.maximum(m.asarray([np.nan, 1.0, 2.0]), m.asarray([1.0, np.nan, 0.0]))),
    ("minimum(nan)", lambda m: m.minimum(m.asarray([np.nan, 1.0, 2.0]), m.asarray([1.0, np.nan, 0.0]))),
    ("sign(nan)", lambda m: m.sign(m.asarray([np.nan, -0.0, -2.0]))),
    ("abs(-inf)", lambda m: m.abs(m.asarray([-np.inf, np.nan]))),
    ("tanh(nan)", lambda m: m.tanh(m.asarray([np.nan, np.inf, -np.inf]))),
    ("sum(nan)", lambda m: m.sum(m.asarray([1.0, np.nan]))),
    ("clip(nan)", lambda m: m.clip(m.asarray([np.nan, 5.0]), 0.0, 1.0)),
]


class _NP:
    def __init__(self, dtype):
        self.dtype = dtype

    def asarray(self, v):
        return np.asarray(v, self.dtype)

    def __getattr__(self, name):
        return getattr(np, name)


class _LA:
    def __init__(self, dtype):
        self.dtype = dtype

    def asarray(self, v):
        return lamina.tensor(np.asarray(v, self.dtype))

    def __getattr__(self, name):
        return getattr(ops, name)


@pytest.mark.parametrize("name, fn", NAN_CASES, ids=[c[0] for c in NAN_CASES])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_nan_semantics_match_numpy(name, fn, dtype):
    with np.errstate(all="ignore"):
        want = fn(_NP(dtype))
    got = fn(_LA(dtype))
    assert_matches(got, np.asarray(want, dtype=dtype), atol=0)


def test_integer_zero_division_no_crash():
    assert_matches(lamina.tensor([0, 1]) / lamina.tensor([0, 0]), np.array([np.nan, np.inf], np.float32))
    # floor_divide and mod by zero give 0 for ints, as NumPy
    a, b = np.array([5, -5], np.int32), np.array([0, 0], np.int32)
    with np.errstate(all="ignore"):
        assert_matches(lamina.tensor(a) // lamina.tensor(b), a // b)
        assert_matches(lamina.tensor(a) % lamina.tensor(b), a % b)


def test_empty_mean_var_are_nan():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_matches(ops.mean(lamina.tensor(np.zeros((0,)))), np.mean(np.zeros((0,))))
        assert_matches(ops.var(lamina.tensor(np.zeros((0, 2))), axis=0), np.var(np.zeros((0, 2)), axis=0))


# ---- failed ops leave their inputs unchanged ----------------------------------------------


def _snapshot(*ts):
    return [to_np(t) for t in ts]


def _unchanged(ts, snaps):
    for t, s in zip(ts, snaps):
        np.testing.assert_array_equal(to_np(t), s)


FAILING = {
    "add": (lambda a, b: ops.add(a, b), ValueError),
    "matmul": (lambda a, b: ops.matmul(a, b), ValueError),
    "concatenate": (lambda a, b: ops.concatenate([a, b], axis=0), ValueError),
    "reshape": (lambda a, b: ops.reshape(a, (5, 5)), ValueError),
    "take": (lambda a, b: ops.take(a, [0, -1, 9], axis=0), IndexError),
    "index_add": (lambda a, b: ops.index_add(a, 0, [0, 9], np.ones((2, 3))), IndexError),
    "setitem": (lambda a, b: a.__setitem__(slice(None), b), ValueError),
    "setitem_index": (lambda a, b: a.__setitem__(7, 1.0), IndexError),
    "sum_axis": (lambda a, b: ops.sum(a, axis=4), IndexError),
    "cast": (lambda a, b: ops.cast(a, "float16"), TypeError),
    "operator": (lambda a, b: a * b, ValueError),
    "backward": (lambda a, b: a.backward(), ValueError),
}


@pytest.mark.parametrize("name", list(FAILING))
def test_failed_op_leaves_inputs_unchanged(name):
    fn, exc = FAILING[name]
    a = lamina.tensor(np.arange(6.0).reshape(2, 3))
    b = lamina.tensor(np.arange(8.0).reshape(2, 4))
    snaps = _snapshot(a, b)
    with pytest.raises(exc):
        fn(a, b)
    _unchanged([a, b], snaps)
    assert a.shape == (2, 3) and b.shape == (2, 4)


def test_take_does_not_modify_negative_index_tensor():
    idx = lamina.tensor(np.array([-1, 0, -2], np.int64))
    ops.take(lamina.tensor(np.arange(4.0)), idx)
    np.testing.assert_array_equal(to_np(idx), [-1, 0, -2])
    with pytest.raises(IndexError):
        ops.take(lamina.tensor(np.arange(4.0)), lamina.tensor(np.array([-1, 9])))


def test_failed_backward_leaves_grads_untouched():
    x = lamina.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    with pytest.raises(ValueError):
        y.backward()
    assert x.grad is None
    ops.sum(y).backward()
    np.testing.assert_allclose(to_np(x.grad), [2.0, 4.0])


def test_failed_setitem_on_grad_leaf_leaves_values():
    x = lamina.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError):
        x[0] = 9.0
    np.testing.assert_array_equal(to_np(x), [1.0, 2.0])


def test_misc_value_errors():
    with pytest.raises(ValueError):
        lamina.arange(0, 5, 0)
    with pytest.raises(ValueError):
        ops.reshape(lamina.tensor(np.ones(6)), (-1, -1))
    with pytest.raises(ValueError):
        ops.sum(lamina.tensor(np.ones((2, 3))), axis=(0, 0))
    with pytest.raises(ValueError):
        ops.one_hot(lamina.tensor([0]), 0)
    with pytest.raises(ValueError):
        lamina.set_num_threads(0)
    with pytest.raises(ValueError, match="device"):
        lamina.tensor([1.0]).to("tpu")
