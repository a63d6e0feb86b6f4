"""Property-based tests (hypothesis): broadcasting and reductions against NumPy."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import lamina
from lamina import ops

from testutil import assert_matches

SETTINGS = settings(max_examples=int(__import__("os").environ.get("LAMINA_HYPOTHESIS_EXAMPLES", "60")), deadline=None, suppress_health_check=[HealthCheck.too_slow])

DTYPES = ["float32", "float64", "int32", "int64", "bool"]


def elements(dtype):
    if dtype == "bool":
        return st.booleans()
    if dtype.startswith("int"):
        return st.integers(-50, 50)
    return st.floats(-1e3, 1e3, width=32 if dtype == "float32" else 64)


@st.composite
def broadcast_pair(draw, ops_=("add", "multiply", "maximum", "minimum", "less", "equal", "subtract")):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, min_side=0, max_side=4))
    da = draw(st.sampled_from(DTYPES))
    db = draw(st.sampled_from(DTYPES))
    op = draw(st.sampled_from(ops_))
    if op == "subtract" and da == "bool" and db == "bool":
        op = "add"
    a = draw(hnp.arrays(da, shapes.input_shapes[0], elements=elements(da)))
    b = draw(hnp.arrays(db, shapes.input_shapes[1], elements=elements(db)))
    return op, a, b, shapes.result_shape


@SETTINGS
@given(broadcast_pair())
def test_broadcasting_matches_numpy(case):
    op, a, b, result_shape = case
    want = getattr(np, op)(a, b)
    assert want.shape == result_shape
    got = getattr(ops, op)(lamina.tensor(a), lamina.tensor(b))
    assert_matches(got, want, rtol=1e-6, atol=1e-6)


@SETTINGS
@given(broadcast_pair(ops_=("add", "multiply", "subtract")), st.sampled_from(["contiguous", "reversed"]))
def test_broadcasting_on_reversed_views(case, kind):
    op, a, b, _ = case
    ta = lamina.tensor(a)
    if kind == "reversed" and a.ndim:
        ta = lamina.tensor(np.ascontiguousarray(a[::-1]))[::-1]
    assert_matches(getattr(ops, op)(ta, lamina.tensor(b)), getattr(np, op)(a, b), rtol=1e-6, atol=1e-6)


@SETTINGS
@given(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, min_side=1, max_side=3))
def test_broadcast_gradients_reduce_to_input_shapes(shapes):
    sa, sb = shapes.input_shapes
    a = lamina.tensor(np.ones(sa), requires_grad=True)
    b = lamina.tensor(np.full(sb, 2.0), requires_grad=True)
    ops.sum(a * b).backward()
    n_out = int(np.prod(shapes.result_shape))
    assert a.grad.shape == sa and b.grad.shape == sb
    # each input element is used n_out / size times
    np.testing.assert_allclose(a.grad.numpy(), np.full(sa, 2.0 * n_out / max(int(np.prod(sa)), 1)))
    np.testing.assert_allclose(b.grad.numpy(), np.full(sb, 1.0 * n_out / max(int(np.prod(sb)), 1)))


@st.composite
def reduction_case(draw):
    dtype = draw(st.sampled_from(["float64", "float32", "int32", "int64", "bool"]))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4))
    a = draw(hnp.arrays(dtype, shape, elements=elements(dtype) if dtype != "float64" else st.floats(-100, 100)))
    nd = len(shape)
    axis = draw(
        st.one_of(
            st.none(),
            st.integers(-nd, nd - 1) if nd else st.none(),
            st.lists(st.integers(0, nd - 1), unique=True, max_size=nd).map(tuple) if nd else st.just(()),
        )
    )
    keepdims = draw(st.booleans())
    op = draw(st.sampled_from(["sum", "max", "min", "mean", "prod", "argmax", "var"]))
    if op == "argmax" and isinstance(axis, tuple):
        axis = axis[0] if axis else None
    return op, a, axis, keepdims


@SETTINGS
@given(reduction_case())
def test_reductions_match_numpy(case):
    op, a, axis, keepdims = case
    x = a
    if op in ("mean", "var") and a.dtype.kind in "biu":
        x = a.astype(np.float32)  # documented: float reductions of ints compute in float32
    if op == "prod" and a.dtype.kind == "f":
        x = np.clip(a, -2, 2)
        a = x
    kwargs = {"axis": axis, "keepdims": keepdims}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            want = getattr(np, op)(x, **kwargs)
        except ValueError:
            with pytest.raises(ValueError):
                getattr(ops, op)(lamina.tensor(a), **kwargs)
            return
    got = getattr(ops, op)(lamina.tensor(a), **kwargs)
    if op == "prod" and a.dtype.kind in "iu":
        # int64 products may wrap around identically; compare exactly
        assert_matches(got, want)
        return
    assert_matches(got, want, rtol=2e-5, atol=1e-4)
