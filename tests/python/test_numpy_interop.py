"""Memory sharing and conversion between lamina tensors, NumPy and DLPack."""

import gc

import numpy as np
import pytest

import lamina
from lamina import ops

from testutil import DTYPES, assert_matches, random_array, to_np


def test_numpy_method_shares_memory():
    t = lamina.tensor(np.zeros((2, 3), np.float32))
    a = t.numpy()
    a[1, 2] = 5.0
    assert to_np(t)[1, 2] == 5.0
    t[0, 0] = -1.0
    assert a[0, 0] == -1.0


@pytest.mark.parametrize("dtype", DTYPES)
def test_np_asarray_shares_memory(rng, dtype):
    t = lamina.tensor(random_array(rng, (3, 4), dtype))
    a = np.asarray(t)
    assert a.dtype == np.dtype(dtype) and a.shape == (3, 4)
    a[0, 0] = 1
    assert to_np(t)[0, 0] == 1
    assert np.shares_memory(a, t.numpy())


def test_np_asarray_of_view_keeps_strides():
    t = lamina.tensor(np.arange(12.0).reshape(3, 4))
    v = t.T[::-1]
    a = np.asarray(v)
    np.testing.assert_array_equal(a, np.arange(12.0).reshape(3, 4).T[::-1])
    a[0, 0] = 100.0  # v[0, 0] is t[0, 3]
    assert to_np(t)[0, 3] == 100.0


def test_np_array_copies_and_asarray_dtype():
    t = lamina.tensor(np.zeros(3))
    c = np.array(t)
    c[0] = 7.0
    assert to_np(t)[0] == 0.0
    f = np.asarray(t, dtype=np.float32)
    assert f.dtype == np.float32


def test_numpy_array_outlives_tensor():
    a = lamina.tensor(np.arange(5.0)).numpy()
    gc.collect()
    np.testing.assert_array_equal(a, np.arange(5.0))


def test_tensor_copies_by_default():
    a = np.arange(4.0)
    t = lamina.tensor(a)
    a[0] = 99.0
    assert to_np(t)[0] == 0.0
    t[1] = -5.0
    assert a[1] == 1.0


@pytest.mark.parametrize("dtype", DTYPES)
def test_tensor_copy_false_shares(rng, dtype):
    a = random_array(rng, (4,), dtype)
    t = lamina.tensor(a, copy=False)
    a[0] = 1
    assert to_np(t)[0] == 1
    t[1] = 0
    assert a[1] == 0


def test_tensor_copy_false_non_contiguous_shares():
    base = np.arange(10.0)
    a = base[::-2]
    t = lamina.tensor(a, copy=False)
    np.testing.assert_array_equal(to_np(t), a)
    base[9] = -1.0
    assert to_np(t)[0] == -1.0


def test_tensor_copy_false_with_dtype_change_copies():
    a = np.arange(3, dtype=np.int64)
    t = lamina.tensor(a, dtype="float64", copy=False)
    a[0] = 7
    assert to_np(t)[0] == 0.0


@pytest.mark.parametrize("dtype", DTYPES)
def test_from_numpy_shares(rng, dtype):
    a = random_array(rng, (2, 3), dtype)
    t = lamina.from_numpy(a)
    assert t.dtype == dtype and t.shape == (2, 3)
    a[1, 1] = 0
    assert to_np(t)[1, 1] == 0


def test_from_numpy_tensor_outlives_array():
    t = lamina.from_numpy(np.arange(6.0).reshape(2, 3))
    gc.collect()
    np.testing.assert_array_equal(to_np(t), np.arange(6.0).reshape(2, 3))
    assert float(ops.sum(t)) == 15.0


def test_from_numpy_rejects_non_arrays():
    with pytest.raises(TypeError):
        lamina.from_numpy([1.0, 2.0])


# ---- DLPack -------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_np_from_dlpack_shares(rng, dtype):
    t = lamina.tensor(random_array(rng, (3, 2), dtype))
    a = np.from_dlpack(t)
    assert a.dtype == np.dtype(dtype) and a.shape == (3, 2)
    np.testing.assert_array_equal(a, to_np(t))
    t[0, 0] = 1
    assert a[0, 0] == 1
    assert np.shares_memory(a, t.numpy())


def test_np_from_dlpack_of_view():
    t = lamina.tensor(np.arange(12.0).reshape(3, 4))
    a = np.from_dlpack(t.T[1:])
    np.testing.assert_array_equal(a, np.arange(12.0).reshape(3, 4).T[1:])
    t[2, 1] = -3.0
    assert a[0, 2] == -3.0


def test_dlpack_device():
    assert lamina.tensor([1.0]).__dlpack_device__() == (1, 0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_lamina_from_dlpack_shares(rng, dtype):
    a = random_array(rng, (2, 5), dtype)
    t = lamina.from_dlpack(a)
    assert_matches(t, a)
    a[0, 1] = 1
    assert to_np(t)[0, 1] == 1


def test_from_dlpack_of_lamina_tensor_and_strided_array():
    t = lamina.tensor(np.arange(4.0))
    u = lamina.from_dlpack(t)
    t[2] = 50.0
    assert to_np(u)[2] == 50.0
    a = np.arange(20.0).reshape(4, 5)[::2, 1::2]
    v = lamina.from_dlpack(a)
    assert_matches(v, a)


# ---- convert_to_tensor / convert_to_numpy ---------------------------------------------------


def test_convert_to_tensor():
    a = np.arange(3, dtype=np.int64)
    t = ops.convert_to_tensor(a)
    assert isinstance(t, lamina.Tensor)
    assert_matches(t, a)
    assert_matches(ops.convert_to_tensor(a, dtype="float32"), a.astype(np.float32))
    assert_matches(ops.convert_to_tensor([1.0, 2.0]), np.array([1.0, 2.0], np.float32))
    assert_matches(ops.convert_to_tensor(3), np.int32(3))
    x = lamina.tensor([1.0])
    y = ops.convert_to_tensor(x)  # a tensor is returned as is (same storage)
    x.numpy()[0] = 5.0
    assert to_np(y)[0] == 5.0
    assert ops.is_tensor(t) and not ops.is_tensor(a)


def test_convert_to_numpy():
    t = lamina.tensor(np.arange(4.0).reshape(2, 2))
    a = ops.convert_to_numpy(t)
    assert isinstance(a, np.ndarray)
    np.testing.assert_array_equal(a, np.arange(4.0).reshape(2, 2))
    a[0, 0] = 9.0  # convert_to_numpy returns an independent copy
    assert to_np(t)[0, 0] == 0.0
    np.testing.assert_array_equal(ops.convert_to_numpy([1, 2]), [1, 2])


def test_shape_helpers_accept_numpy():
    a = np.zeros((2, 3, 4))
    assert ops.shape(a) == (2, 3, 4)
    assert ops.ndim(a) == 3 and ops.size(a) == 24 and ops.dtype(a) == "float64"
    assert_matches(ops.zeros_like(a), np.zeros_like(a))
    assert_matches(ops.ones_like(lamina.tensor(a), dtype="int32"), np.ones_like(a, dtype=np.int32))
    assert_matches(ops.full_like(a, 2.5), np.full_like(a, 2.5))


@pytest.mark.parametrize(
    "call",
    [
        lambda m, a: m.add(a, 1.5),
        lambda m, a: m.multiply(2, a),
        lambda m, a: m.exp(a),
        lambda m, a: m.sum(a, axis=0),
        lambda m, a: m.matmul(a, a.T),
        lambda m, a: m.where(a > 0, a, 0.0),
        lambda m, a: m.concatenate([a, a], axis=1),
        lambda m, a: m.clip(a, -0.5, 0.5),
        lambda m, a: m.maximum(a, 0.0),
        lambda m, a: m.transpose(a),
        lambda m, a: m.reshape(a, (-1,)),
        lambda m, a: m.take(a, [1, 0], axis=1),
    ],
)
def test_numpy_inputs_accepted_everywhere(rng, call):
    a = random_array(rng, (3, 4), "float64")
    want = call(np, a)
    got = call(ops, a)
    assert isinstance(got, lamina.Tensor)
    assert_matches(got, want)


def test_0d_and_empty_interop():
    s = lamina.tensor(np.float64(1.5) * np.ones(()))
    assert np.asarray(s).shape == () and float(np.asarray(s)) == 1.5
    e = lamina.tensor(np.zeros((0, 4), np.int32))
    assert np.asarray(e).shape == (0, 4) and np.asarray(e).dtype == np.int32
    assert np.from_dlpack(e).shape == (0, 4)


def test_negative_strides_across_dlpack_and_numpy():
    t = lamina.tensor(np.arange(6.0))
    r = t[::-1]
    np.testing.assert_array_equal(np.from_dlpack(r), np.arange(6.0)[::-1])
    np.testing.assert_array_equal(np.asarray(r), np.arange(6.0)[::-1])
    base = np.arange(6.0)
    v = lamina.from_dlpack(base[::-2])
    assert_matches(v, base[::-2])
    base[5] = -1.0
    assert to_np(v)[0] == -1.0
    w = lamina.from_numpy(base[::-2])
    assert_matches(w, base[::-2])
