"""lamina.random: reproducibility with seeds, and rough distribution statistics."""

import math

import numpy as np
import pytest

import lamina
from lamina import random

from testutil import to_np


@pytest.mark.parametrize("fn", [random.normal, random.uniform, random.truncated_normal])
def test_same_seed_same_values(fn):
    a = to_np(fn((4, 5), seed=123))
    b = to_np(fn((4, 5), seed=123))
    np.testing.assert_array_equal(a, b)
    c = to_np(fn((4, 5), seed=124))
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("fn", [random.normal, random.uniform])
@pytest.mark.parametrize("shape", [(), 0, 7, (3, 4), (2, 0, 3)], ids=str)
def test_shapes_and_default_dtype(fn, shape):
    t = fn(shape, seed=0)
    want = (shape,) if isinstance(shape, int) else shape
    assert t.shape == want and t.dtype == "float32"


@pytest.mark.parametrize("fn", [random.normal, random.uniform])
def test_float64_draws_have_float64_resolution(fn):
    """dtype='float64' must give float64 values, not float32 draws cast up
    (NumPy's generators use 53 random bits for float64)."""
    t = fn((1000,), dtype="float64", seed=5)
    assert t.dtype == "float64"
    a = to_np(t)
    assert np.any(a.astype(np.float32).astype(np.float64) != a), "every float64 draw is a float32 value"


def test_global_seed_reproducible():
    random.set_seed(7)
    a1 = to_np(random.normal((10,)))
    a2 = to_np(random.normal((10,)))
    random.set_seed(7)
    b1 = to_np(random.normal((10,)))
    b2 = to_np(random.normal((10,)))
    np.testing.assert_array_equal(a1, b1)
    np.testing.assert_array_equal(a2, b2)
    assert not np.array_equal(a1, a2), "consecutive draws from the global stream must differ"


def test_seed_generator():
    g1, g2 = random.SeedGenerator(3), random.SeedGenerator(3)
    x1, y1 = to_np(random.uniform((5,), seed=g1)), to_np(random.uniform((5,), seed=g1))
    x2, y2 = to_np(random.uniform((5,), seed=g2)), to_np(random.uniform((5,), seed=g2))
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(x1, y1)
    state = g1.get_state()
    z1 = to_np(random.normal((4,), seed=g1))
    g1.set_state(state)
    np.testing.assert_array_equal(to_np(random.normal((4,), seed=g1)), z1)


def test_values_independent_of_thread_count():
    prev = lamina.get_num_threads()
    try:
        lamina.set_num_threads(1)
        a = to_np(random.normal((50_000,), seed=11))
        lamina.set_num_threads(2)
        b = to_np(random.normal((50_000,), seed=11))
    finally:
        lamina.set_num_threads(prev)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mean, std", [(0.0, 1.0), (3.0, 0.5), (-2.0, 4.0)])
def test_normal_statistics(dtype, mean, std):
    n = 100_000
    a = to_np(random.normal((n,), mean=mean, stddev=std, dtype=dtype, seed=2024)).astype(np.float64)
    assert np.all(np.isfinite(a))
    assert abs(a.mean() - mean) < 5 * std / math.sqrt(n)
    assert abs(a.std() - std) < 0.02 * std
    z = (a - mean) / std
    assert abs(np.mean(np.abs(z) < 1) - 0.6827) < 0.01
    assert abs(np.mean(np.abs(z) < 2) - 0.9545) < 0.01
    assert abs(np.mean(z ** 3)) < 0.05  # symmetric


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("lo, hi", [(0.0, 1.0), (-3.0, 5.0), (10.0, 10.5)])
def test_uniform_statistics(dtype, lo, hi):
    n = 100_000
    a = to_np(random.uniform((n,), minval=lo, maxval=hi, dtype=dtype, seed=99)).astype(np.float64)
    assert a.min() >= lo and a.max() < hi or (a.max() <= hi and dtype == "float32")
    width = hi - lo
    assert abs(a.mean() - (lo + hi) / 2) < 5 * width / math.sqrt(12 * n)
    assert abs(a.var() - width**2 / 12) < 0.02 * width**2 / 12
    hist, _ = np.histogram(a, bins=10, range=(lo, hi))
    assert np.all(np.abs(hist / n - 0.1) < 0.01)


def test_uniform_default_range_is_half_open():
    a = to_np(random.uniform((200_000,), seed=1))
    assert a.min() >= 0.0 and a.max() < 1.0


def test_truncated_normal_bounds():
    a = to_np(random.truncated_normal((20_000,), mean=1.0, stddev=2.0, seed=3))
    assert a.min() >= 1.0 - 4.0 - 1e-6 and a.max() <= 1.0 + 4.0 + 1e-6
    assert abs(a.mean() - 1.0) < 0.05
    # std of a standard normal truncated to [-2, 2] is about 0.88
    assert abs(a.std() / 2.0 - 0.8796) < 0.02


def test_draws_are_uncorrelated():
    a = to_np(random.normal((2, 50_000), seed=8))
    r = np.corrcoef(a[0], a[1])[0, 1]
    assert abs(r) < 0.02
    lag = np.corrcoef(a[0, :-1], a[0, 1:])[0, 1]
    assert abs(lag) < 0.02
