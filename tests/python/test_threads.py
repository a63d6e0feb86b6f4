"""The thread pool: resizing it between parallel regions, results across thread counts."""

import time

import numpy as np
import pytest

import lamina
from lamina import ops

from testutil import to_np


@pytest.fixture
def restore_threads():
    prev = lamina.get_num_threads()
    yield
    lamina.set_num_threads(prev)


def test_resize_between_parallel_regions(restore_threads):
    """Workers started by set_num_threads must wait for the next job, not rerun the last one."""
    x = lamina.tensor(np.ones(200_000, np.float32))
    for n in [2, 1, 2, 3, 2, 4, 1, 2]:
        lamina.set_num_threads(n)
        time.sleep(0.005)  # let new workers start before the next parallel region
        assert lamina.get_num_threads() == n
        np.testing.assert_array_equal(to_np(x * 2.0), 2.0)
        assert float(ops.sum(x)) == 200_000.0


@pytest.mark.parametrize("n", [1, 2, 3])
def test_results_do_not_depend_on_thread_count(restore_threads, n):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((300, 500))
    b = rng.standard_normal((500, 40))
    lamina.set_num_threads(n)
    np.testing.assert_allclose(to_np(ops.exp(lamina.tensor(a))), np.exp(a), rtol=1e-15)
    np.testing.assert_allclose(to_np(ops.sum(lamina.tensor(a), axis=0)), a.sum(axis=0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(to_np(ops.max(lamina.tensor(a).T, axis=1)), a.T.max(axis=1))
    np.testing.assert_allclose(to_np(ops.matmul(a, b)), a @ b, rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(to_np(ops.take(lamina.tensor(a), np.arange(0, 300, 7), axis=0)), a[::7])
