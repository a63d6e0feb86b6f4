"""Shared helpers for lamina's Python test suite (imported as `testutil`;
not named conftest, so tests in subfolders with their own conftest.py never
import the wrong one).

NumPy is the oracle. Helpers here build inputs of every supported dtype,
non-contiguous lamina views with the same values as a NumPy array, and check
lamina's backward pass against central finite differences in float64.
"""

import numpy as np

import lamina
from lamina import ops

DTYPES = ["float32", "float64", "int32", "int64", "bool"]
FLOAT_DTYPES = ["float32", "float64"]
INT_DTYPES = ["int32", "int64"]
NUMERIC_DTYPES = FLOAT_DTYPES + INT_DTYPES

# Layouts in which an input can reach an op: see `as_view`.
VIEW_KINDS = ["contiguous", "transposed", "strided", "reversed"]


def tols(dtype):
    """(rtol, atol) for comparing results computed in `dtype`."""
    dtype = np.dtype(dtype).name
    if dtype == "float32":
        return 2e-5, 1e-6
    if dtype == "float64":
        return 1e-11, 1e-13
    return 0, 0


def random_array(rng, shape, dtype, low=-3.0, high=3.0):
    """Random values of `dtype`: floats in [low, high), ints in [low, high], bools."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if dtype.kind in "iu":
        return rng.integers(int(np.floor(low)), int(np.ceil(high)) + 1, size=shape).astype(dtype)
    return rng.uniform(low, high, size=shape).astype(dtype)


def to_np(t):
    """A copy of a lamina tensor's values as a NumPy array."""
    assert isinstance(t, lamina.Tensor), f"expected a lamina.Tensor, got {type(t).__name__}"
    return np.array(t.numpy(), copy=True)


def assert_matches(t, expected, rtol=None, atol=None, dtype=None):
    """`t` has `expected`'s shape, dtype (or `dtype`) and values (NaNs equal)."""
    assert isinstance(t, lamina.Tensor), f"expected a lamina.Tensor, got {type(t).__name__}"
    expected = np.asarray(expected)
    want_dtype = np.dtype(dtype).name if dtype is not None else expected.dtype.name
    assert t.shape == expected.shape, f"shape {t.shape} != expected {expected.shape}"
    assert t.dtype == want_dtype, f"dtype {t.dtype} != expected {want_dtype}"
    got = to_np(t)
    if np.dtype(want_dtype).kind in "biu":
        np.testing.assert_array_equal(got, expected.astype(want_dtype))
    else:
        r, a = tols(want_dtype)
        np.testing.assert_allclose(
            got,
            expected.astype(want_dtype),
            rtol=r if rtol is None else rtol,
            atol=a if atol is None else atol,
            equal_nan=True,
        )


def as_view(arr, kind):
    """(numpy_array, lamina_tensor) holding `arr`'s values, the tensor laid out as `kind`.

    contiguous: a fresh contiguous tensor; transposed: the .T of a contiguous
    tensor; strided: every other element of a wider tensor along the last axis;
    reversed: a negative-step view along the first axis.
    """
    arr = np.asarray(arr)
    if kind == "contiguous" or arr.ndim == 0:
        return arr, lamina.tensor(arr)
    if kind == "transposed":
        base = lamina.tensor(np.ascontiguousarray(arr.T))
        t = base.T
    elif kind == "strided":
        wide = np.zeros(arr.shape[:-1] + (2 * arr.shape[-1] + 1,), dtype=arr.dtype)
        wide[..., 1::2] = arr
        t = lamina.tensor(wide)[..., 1::2]
    elif kind == "reversed":
        base = lamina.tensor(np.ascontiguousarray(arr[::-1]))
        t = base[::-1]
    else:
        raise ValueError(kind)
    assert t.shape == arr.shape
    np.testing.assert_array_equal(to_np(t), arr)
    return arr, t


# ---- gradient checking --------------------------------------------------------


def numeric_grad(f, arrays, eps=1e-6):
    """Central finite differences of the scalar function f(list of float64 arrays)."""
    grads = []
    for i, a in enumerate(arrays):
        g = np.zeros_like(a, dtype=np.float64)
        for idx in np.ndindex(a.shape):
            plus = [x.copy() for x in arrays]
            minus = [x.copy() for x in arrays]
            plus[i][idx] += eps
            minus[i][idx] -= eps
            g[idx] = (f(plus) - f(minus)) / (2 * eps)
        grads.append(g)
    return grads


def check_grad(fn, *arrays, rtol=1e-5, atol=1e-7, eps=1e-6, seed=0, wrt=None):
    """Compares lamina's backward of `fn` with central finite differences.

    `fn` takes lamina tensors (float64, requires_grad=True) and returns a
    tensor; the scalar differentiated is sum(fn(...) * W) for fixed random W.
    `wrt` lists the argument positions that get gradients (default: all).
    """
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    wrt = list(range(len(arrays))) if wrt is None else list(wrt)
    ts = [lamina.tensor(a.copy(), requires_grad=(i in wrt)) for i, a in enumerate(arrays)]
    out = fn(*ts)
    assert isinstance(out, lamina.Tensor)
    assert out.dtype == "float64", f"{out.dtype}: a float64 input must give a float64 output"
    assert out.requires_grad, "the output of a differentiable op must require grad"
    w = np.random.default_rng(seed).standard_normal(out.shape)
    loss = ops.sum(out * lamina.tensor(w))
    loss.backward()
    analytic = []
    for i in wrt:
        g = ts[i].grad
        assert g is not None, f"input {i} got no gradient"
        assert g.shape == ts[i].shape, f"grad shape {g.shape} != input shape {ts[i].shape}"
        assert g.dtype == "float64"
        analytic.append(to_np(g))

    def scalar(arrs):
        with lamina.no_grad():
            o = fn(*[lamina.tensor(a) for a in arrs])
        return float(np.sum(to_np(o) * w))

    def f_wrt(sub):
        full = list(arrays)
        for k, i in enumerate(wrt):
            full[i] = sub[k]
        return scalar(full)

    numeric = numeric_grad(f_wrt, [arrays[i] for i in wrt], eps=eps)
    for i, a, n in zip(wrt, analytic, numeric):
        np.testing.assert_allclose(a, n, rtol=rtol, atol=atol, err_msg=f"gradient of input {i}")


def vmrss_kb():
    """Resident set size of this process in kB."""
    try:
        import psutil

        return psutil.Process().memory_info().rss // 1024
    except ImportError:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    raise RuntimeError("cannot read RSS")
