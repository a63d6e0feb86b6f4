"""Shape ops, gathers, casts, and Python indexing / assignment against NumPy."""

import numpy as np
import pytest

import lamina
from lamina import ops

from testutil import DTYPES, VIEW_KINDS, as_view, assert_matches, random_array, to_np


# ---- reshape / squeeze / expand_dims / broadcast_to --------------------------------


@pytest.mark.parametrize(
    "shape, new",
    [((2, 3, 4), (6, 4)), ((2, 3, 4), (-1,)), ((2, 3, 4), (4, -1, 2)), ((6,), (1, 6, 1)), ((), (1, 1)),
     ((1,), ()), ((0, 3), (3, 0)), ((0, 3), (-1, 3)), ((2, 3), (3, 2))],
    ids=str,
)
@pytest.mark.parametrize("kind", VIEW_KINDS)
@pytest.mark.parametrize("dtype", ["float32", "int32", "bool"])
def test_reshape_vs_numpy(rng, shape, new, kind, dtype):
    a, t = as_view(random_array(rng, shape, dtype), kind)
    assert_matches(ops.reshape(t, new), np.reshape(a, new))


def test_reshape_contiguous_is_a_view():
    base = lamina.tensor(np.zeros((2, 3)))
    r = ops.reshape(base, (3, 2))
    base.numpy()[1, 2] = 5.0
    assert to_np(r)[2, 1] == 5.0


@pytest.mark.parametrize("shape, axis", [((1, 3, 1), None), ((1, 3, 1), 0), ((1, 3, 1), -1), ((1, 3, 1), (0, 2)), ((1,), None), ((), None), ((2, 1, 0), 1)], ids=str)
def test_squeeze(rng, shape, axis):
    a = random_array(rng, shape, "float32")
    assert_matches(ops.squeeze(lamina.tensor(a), axis), np.squeeze(a, axis))


def test_squeeze_non_unit_axis_raises():
    with pytest.raises(ValueError):
        ops.squeeze(lamina.tensor(np.ones((2, 3))), 0)


@pytest.mark.parametrize("shape, axis", [((2, 3), 0), ((2, 3), 1), ((2, 3), 2), ((2, 3), -1), ((2, 3), -3), ((), 0), ((2, 3), (0, 3)), ((4,), (0, -1))], ids=str)
def test_expand_dims(rng, shape, axis):
    a = random_array(rng, shape, "int64")
    assert_matches(ops.expand_dims(lamina.tensor(a), axis), np.expand_dims(a, axis))


@pytest.mark.parametrize("shape, target", [((3,), (2, 3)), ((2, 1), (2, 4)), ((), (2, 2)), ((1, 3), (0, 3)), ((2, 1, 3), (4, 2, 5, 3))], ids=str)
@pytest.mark.parametrize("kind", ["contiguous", "reversed"])
def test_broadcast_to(rng, shape, target, kind):
    a, t = as_view(random_array(rng, shape, "float64"), kind)
    assert_matches(ops.broadcast_to(t, target), np.broadcast_to(a, target))


# ---- concatenate / stack / split ------------------------------------------------------


@pytest.mark.parametrize("axis", [0, 1, -1, 2])
@pytest.mark.parametrize("dtype", DTYPES)
def test_concatenate(rng, axis, dtype):
    shapes = {0: [(1, 3, 2), (2, 3, 2), (0, 3, 2)], 1: [(2, 1, 2), (2, 3, 2)], -1: [(2, 3, 1), (2, 3, 2), (2, 3, 3)], 2: [(2, 3, 2), (2, 3, 0)]}[axis]
    arrays = [random_array(rng, s, dtype) for s in shapes]
    assert_matches(ops.concatenate([lamina.tensor(a) for a in arrays], axis=axis), np.concatenate(arrays, axis=axis))


def test_concatenate_views_and_mixed_dtypes(rng):
    a, ta = as_view(random_array(rng, (3, 4), "float32"), "transposed")
    b, tb = as_view(random_array(rng, (2, 4), "int32"), "reversed")
    c = random_array(rng, (1, 4), "bool")
    assert_matches(ops.concatenate([ta, tb, c], axis=0), np.concatenate([a, b, c], axis=0))
    assert_matches(ops.concatenate([ta, ta], axis=1), np.concatenate([a, a], axis=1))


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
@pytest.mark.parametrize("dtype", ["float64", "int32", "bool"])
def test_stack(rng, axis, dtype):
    arrays = [random_array(rng, (2, 3), dtype) for _ in range(3)]
    assert_matches(ops.stack([lamina.tensor(a) for a in arrays], axis=axis), np.stack(arrays, axis=axis))


def test_stack_0d_and_views(rng):
    assert_matches(ops.stack([lamina.tensor(np.float32(1)), lamina.tensor(np.float32(2))]), np.array([1.0, 2.0], np.float32))
    a, ta = as_view(random_array(rng, (3, 4), "float64"), "strided")
    b, tb = as_view(random_array(rng, (3, 4), "float64"), "transposed")
    assert_matches(ops.stack([ta, tb], axis=1), np.stack([a, b], axis=1))


@pytest.mark.parametrize("sections, axis", [(2, 0), (3, 1), (1, 0), ([1, 3], 1), ([0, 2, 2], 0), ([5], 1), ([2], -1), (6, -1)], ids=str)
def test_split(rng, sections, axis):
    a = random_array(rng, (4, 6), "float32")
    got = ops.split(lamina.tensor(a), sections, axis=axis)
    want = np.split(a, sections, axis=axis)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert_matches(g, w)


def test_split_uneven_raises():
    with pytest.raises(ValueError):
        ops.split(lamina.tensor(np.ones((5,))), 2)


# ---- tile / repeat / pad ----------------------------------------------------------------


@pytest.mark.parametrize("shape, reps", [((3,), 2), ((3,), (2, 2)), ((2, 3), (2, 1)), ((2, 3), (3,)), ((2, 3), (1, 2, 2)), ((), (3,)), ((2, 3), (0, 1)), ((2,), (1,))], ids=str)
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_tile(rng, shape, reps, dtype):
    a = random_array(rng, shape, dtype)
    assert_matches(ops.tile(lamina.tensor(a), reps), np.tile(a, reps))


@pytest.mark.parametrize("shape, repeats, axis", [((3,), 2, None), ((2, 3), 2, None), ((2, 3), 3, 0), ((2, 3), 2, 1), ((2, 3), 2, -1), ((2, 3), 0, 1), ((2, 3), 1, 0)], ids=str)
@pytest.mark.parametrize("kind", ["contiguous", "transposed"])
def test_repeat(rng, shape, repeats, axis, kind):
    a, t = as_view(random_array(rng, shape, "int32"), kind)
    assert_matches(ops.repeat(t, repeats, axis=axis), np.repeat(a, repeats, axis=axis))


@pytest.mark.parametrize("shape, width", [((3,), 2), ((3,), ((1, 2),)), ((2, 3), ((1, 0), (2, 1))), ((2, 3), 1), ((2, 3), ((0, 0), (0, 3))), ((0, 2), ((1, 1), (0, 0)))], ids=str)
@pytest.mark.parametrize("value", [None, 0.0, 2.5])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_pad(rng, shape, width, value, dtype):
    a = random_array(rng, shape, dtype)
    want = np.pad(a, width, mode="constant", constant_values=0 if value is None else value)
    assert_matches(ops.pad(lamina.tensor(a), width, constant_values=value), want)


def test_pad_views(rng):
    a, t = as_view(random_array(rng, (3, 4), "float64"), "reversed")
    assert_matches(ops.pad(t, ((1, 1), (2, 0))), np.pad(a, ((1, 1), (2, 0))))


def test_pad_negative_and_mode_errors():
    with pytest.raises(ValueError):
        ops.pad(lamina.tensor(np.ones(3)), ((-1, 0),))
    with pytest.raises(ValueError):
        ops.pad(lamina.tensor(np.ones(3)), 1, mode="reflect")


# ---- take / take_along_axis / one_hot ----------------------------------------------------


@pytest.mark.parametrize(
    "shape, indices, axis",
    [((5,), [0, 4, 2, 2], None), ((3, 4), [1, 0, -1], 0), ((3, 4), [[0, 3], [2, 1]], 1), ((3, 4), [5, 11, 0], None),
     ((3, 4), [-4, 3], -1), ((2, 3, 4), [[1], [0]], 1), ((3, 4), [], 0), ((3, 4), 2, 1)],
    ids=str,
)
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
@pytest.mark.parametrize("index_dtype", ["int32", "int64"])
def test_take(rng, shape, indices, axis, dtype, index_dtype):
    a = random_array(rng, shape, dtype)
    idx = np.asarray(indices, dtype=index_dtype)
    assert_matches(ops.take(lamina.tensor(a), lamina.tensor(idx), axis=axis), np.take(a, idx, axis=axis))


def test_take_views(rng):
    a, t = as_view(random_array(rng, (4, 5), "float64"), "transposed")
    assert_matches(ops.take(t, [3, 0], axis=1), np.take(a, [3, 0], axis=1))
    b, tb = as_view(random_array(rng, (4, 5), "float64"), "strided")
    assert_matches(ops.take(tb, np.array([[1, 2], [0, 0]]), axis=0), np.take(b, [[1, 2], [0, 0]], axis=0))


@pytest.mark.parametrize("shape, axis", [((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -1), ((2, 3, 4), 1), ((5,), 0)], ids=str)
@pytest.mark.parametrize("kind", ["contiguous", "reversed"])
def test_take_along_axis(rng, shape, axis, kind):
    a, t = as_view(random_array(rng, shape, "float64"), kind)
    idx = np.argsort(a, axis=axis)
    assert_matches(ops.take_along_axis(t, lamina.tensor(idx), axis=axis), np.take_along_axis(a, idx, axis=axis))
    top = np.take(idx, [0], axis=axis)  # fewer indices than the axis length
    assert_matches(ops.take_along_axis(t, top, axis=axis), np.take_along_axis(a, top, axis=axis))


def test_take_along_axis_broadcasts(rng):
    a = random_array(rng, (3, 4), "float32")
    idx = np.array([[0, 3, 1]]).T  # (3, 1)
    assert_matches(ops.take_along_axis(a, idx, axis=1), np.take_along_axis(a, idx, axis=1))
    idx2 = np.array([[2, 0, 1, 1]])  # (1, 4) along axis 0
    assert_matches(ops.take_along_axis(a, idx2, axis=0), np.take_along_axis(a, idx2, axis=0))


@pytest.mark.parametrize("shape", [(5,), (2, 3), ()], ids=str)
@pytest.mark.parametrize("dtype", [None, "float64", "int32", "bool"])
def test_one_hot(rng, shape, dtype):
    x = rng.integers(0, 4, size=shape).astype(np.int32)
    want = np.eye(4, dtype=dtype or "float32")[x]
    assert_matches(ops.one_hot(lamina.tensor(x), 4, dtype=dtype), want)


def test_one_hot_out_of_range_is_zero_row():
    """Documented (keras.ops.one_hot): out-of-range ids give all-zero rows."""
    got = to_np(ops.one_hot(lamina.tensor([0, 3, -1, 5]), 3))
    np.testing.assert_array_equal(got, [[1, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]])


# ---- cast ---------------------------------------------------------------------------------


@pytest.mark.parametrize("src", DTYPES)
@pytest.mark.parametrize("dst", DTYPES)
@pytest.mark.parametrize("kind", ["contiguous", "transposed"])
def test_cast(rng, src, dst, kind):
    a, t = as_view(random_array(rng, (3, 4), src, -5, 5), kind)
    assert_matches(ops.cast(t, dst), a.astype(dst))
    assert_matches(t.astype(np.dtype(dst)), a.astype(dst))


def test_cast_float_to_int_truncates_and_to_bool():
    a = np.array([-2.7, -0.5, 0.0, 0.5, 2.7, -0.0], np.float64)
    assert_matches(ops.cast(a, "int32"), a.astype(np.int32))
    assert_matches(ops.cast(a, "bool"), a.astype(bool))
    assert_matches(ops.cast(np.array([np.nan, np.inf]), "bool"), np.array([True, True]))


# ---- __getitem__ -----------------------------------------------------------------------------


KEYS = [
    0,
    -1,
    2,
    slice(None),
    slice(1, 3),
    slice(None, None, 2),
    slice(None, None, -1),
    slice(None, None, -2),
    slice(3, 0, -1),
    slice(-100, 100),
    slice(5, 1),
    (1, 2),
    (0, -1, 3),
    (slice(None), 1),
    (slice(None), slice(None, None, -1), 0),
    (1, slice(None, None, -1)),
    (Ellipsis, 0),
    (Ellipsis, slice(1, 3)),
    (0, Ellipsis),
    (0, Ellipsis, 1),
    (None,),
    (None, slice(None)),
    (slice(None), None, 0),
    (Ellipsis, None),
    (0, None, Ellipsis, None),
    (),
    Ellipsis,
    [0, 2],
    [-1, 0, 0],
    np.array([[0, 1], [2, 0]]),
    (slice(None), [3, 0, 1]),
    (slice(1, None), np.array([0, 0])),
    ([1, 0], 2),
    (Ellipsis, [1]),
    (0, [2, 1]),
    (slice(None, None, -1), [0, 3]),
]


@pytest.mark.parametrize("key", KEYS, ids=repr)
@pytest.mark.parametrize("kind", ["contiguous", "transposed", "reversed"])
def test_getitem_vs_numpy(rng, key, kind):
    a, t = as_view(random_array(rng, (3, 4, 5), "float32"), kind)
    assert_matches(t[key], a[key])


@pytest.mark.parametrize("key", KEYS[:12] + [(Ellipsis, 1), (None, 0), ()], ids=repr)
@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_getitem_dtypes(rng, key, dtype):
    a = random_array(rng, (4, 5), dtype)
    assert_matches(lamina.tensor(a)[key], a[key])


@pytest.mark.parametrize("key", [(), Ellipsis, None, (None, Ellipsis)], ids=repr)
def test_getitem_0d(key):
    a = np.array(3.5, np.float32)
    assert_matches(lamina.tensor(a)[key], a[key])


def test_getitem_lamina_index_tensors(rng):
    a = random_array(rng, (4, 3), "float64")
    t = lamina.tensor(a)
    assert_matches(t[lamina.tensor([3, 1])], a[[3, 1]])
    assert_matches(t[:, lamina.tensor(np.array([2, 2]))], a[:, [2, 2]])


@pytest.mark.parametrize("mask_shape", [(3, 4, 5), (3, 4), (3,)], ids=str)
@pytest.mark.parametrize("as_tensor", [False, True])
def test_getitem_bool_mask(rng, mask_shape, as_tensor):
    a = random_array(rng, (3, 4, 5), "float32")
    mask = random_array(rng, mask_shape, "bool")
    m = lamina.tensor(mask) if as_tensor else mask
    assert_matches(lamina.tensor(a)[m], a[mask])


def test_getitem_1d_mask_in_tuple(rng):
    a = random_array(rng, (3, 4), "float32")
    m = np.array([True, False, True, True])
    t = lamina.tensor(a)
    assert_matches(t[:, m], a[:, m])
    assert_matches(t[m[:3], 1], a[m[:3], 1])
    assert_matches(t[..., lamina.tensor(m)], a[..., m])
    with pytest.raises(IndexError):
        t[:, m[:3]]


def test_getitem_mask_from_comparison(rng):
    a = random_array(rng, (4, 5), "float64")
    t = lamina.tensor(a)
    assert_matches(t[t > 0], a[a > 0])
    assert_matches(t[t > 100], a[a > 100])  # empty result


def test_basic_slices_are_views():
    base = lamina.tensor(np.zeros((4, 5)))
    v = base[1:3, ::-2]
    base.numpy()[2, 4] = 7.0
    assert to_np(v)[1, 0] == 7.0


# ---- __setitem__ -----------------------------------------------------------------------------


SET_CASES = [
    (0, 1.5),
    (-1, np.arange(5.0)),
    ((slice(None), 1), -2.0),
    ((Ellipsis, 0), np.arange(4.0)),
    ((slice(None, None, -1), slice(1, 3)), np.ones((4, 2)) * 3),
    ((1, slice(None, None, -2)), np.array([9.0, 8.0, 7.0])),
    ((slice(1, 3), slice(None)), np.arange(10.0).reshape(2, 5)),
    (Ellipsis, 0.0),
    ((2, 3), 42),
    ((slice(None), None, 1), np.arange(4.0).reshape(4, 1)),
    ((slice(4, 10),), 1.0),
]


@pytest.mark.parametrize("key, value", SET_CASES, ids=lambda v: repr(v)[:30])
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_setitem_vs_numpy(key, value, dtype):
    a = np.arange(20).reshape(4, 5).astype(dtype)
    t = lamina.tensor(a.copy())
    t[key] = value
    a[key] = value
    assert_matches(t, a)


def test_setitem_value_with_leading_unit_axes_and_cast():
    a = np.zeros((4, 5))
    t = lamina.tensor(a.copy())
    t[...] = np.arange(20.0).reshape(1, 1, 4, 5)
    a[...] = np.arange(20.0).reshape(1, 1, 4, 5)
    assert_matches(t, a)
    t[1] = lamina.tensor(np.ones((1, 5)))
    a[1] = np.ones((1, 5))
    assert_matches(t, a)
    with pytest.raises(ValueError):
        t[1] = np.ones((2, 5))
    i = np.zeros(3, np.int32)
    ti = lamina.tensor(i.copy())
    ti[0], ti[1] = 2.7, -2.7
    i[0], i[1] = 2.7, -2.7
    assert_matches(ti, i)


def test_setitem_with_tensor_value_and_overlap():
    a = np.arange(10.0)
    t = lamina.tensor(a.copy())
    t[1:] = t[:-1]
    a[1:] = a[:-1].copy()
    assert_matches(t, a)
    t[::-1] = lamina.tensor(np.arange(10.0))
    a[::-1] = np.arange(10.0)
    assert_matches(t, a)


def test_setitem_through_view_writes_base():
    base = lamina.tensor(np.zeros((3, 4)))
    v = base.T
    v[1] = 5.0
    want = np.zeros((3, 4))
    want[:, 1] = 5.0
    assert_matches(base, want)


def test_setitem_bool_mask():
    a = np.array([[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]])
    t = lamina.tensor(a.copy())
    t[t < 0] = 0.0
    a[a < 0] = 0.0
    assert_matches(t, a)


def test_setitem_mask_in_tuple():
    a = np.arange(12.0).reshape(3, 4)
    t = lamina.tensor(a.copy())
    m = np.array([True, False, False, True])
    t[1:, m] = lamina.tensor(np.array([-1.0, -2.0]))
    a[1:, m] = np.array([-1.0, -2.0])
    assert_matches(t, a)


def test_setitem_integer_array():
    a = np.arange(12.0).reshape(4, 3)
    t = lamina.tensor(a.copy())
    t[[0, 2]] = -1.0
    a[[0, 2]] = -1.0
    assert_matches(t, a)
    t[:, [1]] = np.array([[7.0], [8.0], [9.0], [10.0]])
    a[:, [1]] = np.array([[7.0], [8.0], [9.0], [10.0]])
    assert_matches(t, a)


def test_setitem_shape_mismatch_raises_and_keeps_values():
    a = np.arange(6.0).reshape(2, 3)
    t = lamina.tensor(a.copy())
    with pytest.raises(ValueError):
        t[0] = np.ones(4)
    assert_matches(t, a)


def test_setitem_leaf_requiring_grad():
    t = lamina.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        t[0] = 5.0
    with lamina.no_grad():
        t[0] = 5.0
    np.testing.assert_array_equal(to_np(t), [5.0, 2.0, 3.0])


@pytest.mark.parametrize("key", [5, -6, (0, 7), (slice(None), -8)], ids=repr)
def test_getitem_out_of_range_raises_indexerror(key):
    t = lamina.tensor(np.zeros((5, 7)))
    with pytest.raises(IndexError):
        t[key]
    with pytest.raises(IndexError):
        np.zeros((5, 7))[key]


def test_too_many_indices_raises_indexerror():
    with pytest.raises(IndexError):
        lamina.tensor(np.zeros((2, 3)))[0, 0, 0]
    with pytest.raises(IndexError):
        lamina.tensor(np.zeros((2, 3)))[..., 0, ...]
    with pytest.raises(IndexError):
        lamina.tensor(np.zeros((2, 3)))[[0, 5]]


# ---- keras-style slice / slice_update / index_add -------------------------------------------


@pytest.mark.parametrize("start, shape", [((0, 0), (3, 4)), ((1, 1), (2, 2)), ((1, 0), (-1, 2)), ((2, 3), (1, 1)), ((3, 4), (0, 0)), ((0, 2), (3, -1))], ids=str)
def test_keras_slice(start, shape):
    a = np.arange(12).reshape(3, 4)
    stop = [a.shape[i] if n == -1 else s + n for i, (s, n) in enumerate(zip(start, shape))]
    want = a[start[0]:stop[0], start[1]:stop[1]]
    assert_matches(ops.slice(lamina.tensor(a), start, shape), want)


@pytest.mark.parametrize("start, shape", [((2, 2), (2, 2)), ((0, 0), (4, 1)), ((-1, 0), (1, 1)), ((0, 5), (1, -1)), ((0,), (1,))], ids=str)
def test_keras_slice_out_of_bounds_raises(start, shape):
    with pytest.raises((IndexError, ValueError)):
        ops.slice(lamina.tensor(np.arange(12).reshape(3, 4)), start, shape)


def test_slice_update():
    a = np.zeros((3, 4))
    got = ops.slice_update(lamina.tensor(a), (1, 2), np.ones((2, 2)))
    want = a.copy()
    want[1:3, 2:4] = 1.0
    assert_matches(got, want)
    np.testing.assert_array_equal(a, 0.0)  # input untouched
    with pytest.raises(IndexError):
        ops.slice_update(lamina.tensor(a), (2, 3), np.ones((2, 2)))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_index_add_matches_np_add_at(rng, axis):
    base = random_array(rng, (4, 5), "float64")
    n = base.shape[axis]
    idx = np.array([0, n - 1, 0, -1])
    upd_shape = list(base.shape)
    upd_shape[axis] = len(idx)
    upd = random_array(rng, tuple(upd_shape), "float64")
    want = base.copy()
    np.add.at(want, (slice(None),) * (axis % 2) + (idx,), upd)
    assert_matches(ops.index_add(lamina.tensor(base), axis, idx, upd), want)
    assert_matches(ops.scatter_add(lamina.tensor(base), axis, idx, upd), want)


@pytest.mark.parametrize("itype", [np.int32, np.int64])
def test_numpy_integer_axes_and_shapes(itype):
    a = np.arange(6.0).reshape(2, 3)
    t = lamina.tensor(a)
    assert_matches(ops.sum(t, axis=itype(1)), a.sum(axis=itype(1)))
    assert_matches(ops.max(t, axis=(itype(0),), keepdims=True), a.max(axis=(0,), keepdims=True))
    assert_matches(ops.expand_dims(t, itype(0)), np.expand_dims(a, 0))
    assert_matches(ops.squeeze(ops.expand_dims(t, 0), itype(0)), a)
    assert_matches(ops.reshape(t, itype(6)), a.reshape(6))
    assert_matches(ops.tile(t, itype(2)), np.tile(a, 2))
    assert_matches(ops.argmax(t, axis=itype(0)), np.argmax(a, axis=0))
    assert_matches(t[itype(1), itype(-1)], a[1, -1])
