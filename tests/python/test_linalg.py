"""matmul, dot, einsum, transpose and friends against NumPy."""

import numpy as np
import pytest

import lamina
from lamina import ops

from testutil import NUMERIC_DTYPES, VIEW_KINDS, as_view, assert_matches, random_array, to_np

MATMUL_SHAPES = [
    ((3, 4), (4, 5)),
    ((1, 4), (4, 1)),
    ((4,), (4,)),
    ((4,), (4, 5)),
    ((3, 4), (4,)),
    ((2, 3, 4), (2, 4, 5)),
    ((2, 3, 4), (4, 5)),
    ((2, 3, 2, 4), (4, 5)),
    ((2, 0, 4), (4, 5)),
    ((3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((1, 3, 4), (2, 4, 5)),
    ((4,), (2, 4, 5)),
    ((2, 3, 4), (4,)),
    ((0, 4), (4, 5)),
    ((3, 0), (0, 5)),
    ((2, 0, 4), (4, 3)),
]


def tol(dtype):
    return dict(rtol=1e-5, atol=1e-5) if dtype == "float32" else {}


@pytest.mark.parametrize("sa, sb", MATMUL_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", NUMERIC_DTYPES)
def test_matmul_vs_numpy(rng, sa, sb, dtype):
    a = random_array(rng, sa, dtype)
    b = random_array(rng, sb, dtype)
    want = np.matmul(a, b)
    assert_matches(ops.matmul(lamina.tensor(a), lamina.tensor(b)), want, **tol(dtype))
    assert_matches(lamina.tensor(a) @ lamina.tensor(b), want, **tol(dtype))


@pytest.mark.parametrize("da, db", [("int32", "float32"), ("float32", "float64"), ("int64", "int32"), ("bool", "float32")])
def test_matmul_mixed_dtypes(rng, da, db):
    a = random_array(rng, (3, 4), da)
    b = random_array(rng, (4, 2), db)
    assert_matches(ops.matmul(lamina.tensor(a), lamina.tensor(b)), np.matmul(a, b), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("ka", VIEW_KINDS)
@pytest.mark.parametrize("kb", VIEW_KINDS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_matmul_on_views(rng, ka, kb, dtype):
    a, ta = as_view(random_array(rng, (3, 4), dtype), ka)
    b, tb = as_view(random_array(rng, (4, 5), dtype), kb)
    assert_matches(ops.matmul(ta, tb), a @ b, **tol(dtype))


def test_batched_matmul_on_views(rng):
    base_a = random_array(rng, (4, 2, 3), "float64")
    base_b = random_array(rng, (2, 5, 4), "float64")
    ta = ops.transpose(lamina.tensor(base_a), (1, 2, 0))  # (2, 3, 4), non-contiguous
    tb = ops.transpose(lamina.tensor(base_b), (0, 2, 1))  # (2, 4, 5), last two swapped
    assert_matches(ops.matmul(ta, tb), base_a.transpose(1, 2, 0) @ base_b.transpose(0, 2, 1))
    tc = lamina.tensor(base_b)[::-1, ::-2, ::2]  # (2, 3, 2)
    assert_matches(ops.matmul(ta[:, :, 1:], tc), base_a.transpose(1, 2, 0)[:, :, 1:] @ base_b[::-1, ::-2, ::2])


def test_matmul_larger_against_numpy(rng):
    a = rng.standard_normal((3, 70, 130))
    b = rng.standard_normal((130, 90))
    assert_matches(ops.matmul(a, b), a @ b, rtol=1e-10, atol=1e-10)
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    assert_matches(ops.matmul(a32, b32), a32 @ b32, rtol=1e-4, atol=1e-4)


DOT_SHAPES = [((4,), (4,)), ((3, 4), (4, 5)), ((3, 4), (4,)), ((4,), (4, 2)), ((), (3,)), ((2, 3), ()),
              ((2, 3, 4), (4, 5)), ((2, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3))]


@pytest.mark.parametrize("sa, sb", DOT_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "int32"])
def test_dot_vs_numpy(rng, sa, sb, dtype):
    a = random_array(rng, sa, dtype)
    b = random_array(rng, sb, dtype)
    assert_matches(ops.dot(lamina.tensor(a), lamina.tensor(b)), np.dot(a, b))


def test_tensordot_inner_outer_vdot(rng):
    a = random_array(rng, (2, 3, 4), "float64")
    b = random_array(rng, (3, 4, 5), "float64")
    assert_matches(ops.tensordot(a, b, axes=2), np.tensordot(a, b, axes=2))
    assert_matches(ops.tensordot(a, b, axes=([1], [0])), np.tensordot(a, b, axes=([1], [0])))
    c = random_array(rng, (5, 4), "float64")
    assert_matches(ops.inner(a, c), np.inner(a, c))
    x, y = random_array(rng, (3,), "float64"), random_array(rng, (4,), "float64")
    assert_matches(ops.outer(x, y), np.outer(x, y))
    assert_matches(ops.vdot(a, a), np.vdot(a, a))


EINSUM_CASES = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ij->ji", [(3, 4)]),
    ("i,i->", [(5,), (5,)]),
    ("ij,j->i", [(3, 4), (4,)]),
    ("...ij,...jk->...ik", [(2, 3, 4, 5), (2, 3, 5, 6)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (4, 5)]),
    ("...ij,...jk->...ik", [(3, 4), (2, 4, 5)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ij,ij->ij", [(3, 4), (3, 4)]),
    ("ij,ik->jk", [(3, 4), (3, 5)]),
    ("ij->", [(3, 4)]),
    ("ij->j", [(3, 4)]),
    ("ijk->kij", [(2, 3, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("bqd,bkd->bqk", [(2, 3, 4), (1, 5, 4)]),
]


@pytest.mark.parametrize("subscripts, shapes", EINSUM_CASES, ids=lambda v: str(v))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_einsum_vs_numpy(rng, subscripts, shapes, dtype):
    arrays = [random_array(rng, s, dtype) for s in shapes]
    want = np.einsum(subscripts, *arrays)
    got = ops.einsum(subscripts, *[lamina.tensor(a) for a in arrays])
    assert_matches(got, want, **tol(dtype))


def test_einsum_on_views(rng):
    a, ta = as_view(random_array(rng, (3, 4), "float64"), "transposed")
    b, tb = as_view(random_array(rng, (4, 5), "float64"), "reversed")
    assert_matches(ops.einsum("ij,jk->ik", ta, tb), a @ b)


@pytest.mark.parametrize("subscripts, shapes", [("ii", [(3, 3)]), ("ii->i", [(3, 3)]), ("iij->j", [(2, 2, 3)]), ("ij,jj->i", [(2, 3), (3, 3)])])
def test_einsum_diagonals_are_not_supported(subscripts, shapes):
    arrays = [np.ones(s) for s in shapes]
    with pytest.raises(ValueError, match="repeated label"):
        ops.einsum(subscripts, *arrays)


def test_einsum_operand_count_and_rank_errors():
    with pytest.raises(ValueError):
        ops.einsum("ij,jk->ik", np.ones((2, 3)))
    with pytest.raises(ValueError):
        ops.einsum("ij->ij", np.ones((2, 3, 4)))


# ---- transpose -------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape, axes",
    [((3, 4), None), ((3, 4), (1, 0)), ((3, 4), (0, 1)), ((2, 3, 4), None), ((2, 3, 4), (1, 2, 0)),
     ((2, 3, 4), (-1, 0, -2)), ((5,), None), ((), None), ((0, 3), None), ((2, 1, 3), (2, 1, 0))],
    ids=str,
)
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_transpose_vs_numpy(rng, shape, axes, dtype):
    a = random_array(rng, shape, dtype)
    t = ops.transpose(lamina.tensor(a), axes)
    assert_matches(t, np.transpose(a, axes))


def test_transpose_is_a_view():
    base = lamina.tensor(np.arange(6.0).reshape(2, 3))
    t = ops.transpose(base)
    assert not t.is_contiguous()
    base.numpy()[0, 2] = 42.0
    assert to_np(t)[2, 0] == 42.0


@pytest.mark.parametrize("kind", VIEW_KINDS)
def test_transpose_of_views(rng, kind):
    a, t = as_view(random_array(rng, (3, 4), "float64"), kind)
    assert_matches(ops.transpose(t), a.T)
    assert_matches(ops.transpose(t, (1, 0)) + 0, a.T)


def test_swapaxes_moveaxis_flip(rng):
    a = random_array(rng, (2, 3, 4), "float32")
    t = lamina.tensor(a)
    assert_matches(ops.swapaxes(t, 0, 2), np.swapaxes(a, 0, 2))
    assert_matches(ops.moveaxis(t, 0, -1), np.moveaxis(a, 0, -1))
    assert_matches(ops.moveaxis(t, [0, 1], [2, 0]), np.moveaxis(a, [0, 1], [2, 0]))
    assert_matches(ops.flip(t, 1), np.flip(a, 1))
    assert_matches(ops.flip(t), np.flip(a))


@pytest.mark.parametrize("axes", [(0, 0), (0, 1, 2), (0, 5)])
def test_transpose_bad_axes(axes):
    t = lamina.tensor(np.ones((2, 3)))
    with pytest.raises((ValueError, IndexError)):
        ops.transpose(t, axes)


@pytest.mark.parametrize("m", [1, 2, 5, 6, 7, 12, 16, 17])
@pytest.mark.parametrize("n", [64, 192, 70])
def test_float32_few_rows_times_wide_matrix(m, n):
    """Few rows against a wide matrix take the register-blocked small GEMM
    (N a multiple of 64) or gemv (one row); the rest BLAS. All against NumPy."""
    rng = np.random.default_rng(m * 1000 + n)
    a = rng.standard_normal((m, 37)).astype(np.float32)
    b = rng.standard_normal((37, n)).astype(np.float32)
    got = ops.matmul(lamina.tensor(a), lamina.tensor(b)).numpy()
    np.testing.assert_allclose(got, a.astype(np.float64) @ b.astype(np.float64), rtol=1e-5, atol=1e-5)
