"""Memory: graphs built and freed in a long loop do not leak; storage lifetimes."""

import gc
import time

import numpy as np

import lamina
from lamina import ops

from testutil import to_np, vmrss_kb

STEPS = 10**5
WARMUP = 2 * 10**4
ALLOWED_GROWTH_KB = 4 * 1024


def test_graph_loop_keeps_rss_flat():
    x = lamina.tensor(np.array([1.0, 2.0, 3.0], np.float32), requires_grad=True)
    start = time.perf_counter()
    rss_warm = None
    for i in range(STEPS):
        y = (x * x).sum()
        y.backward()
        x.grad = None
        if i + 1 == WARMUP:
            gc.collect()
            rss_warm = vmrss_kb()
    gc.collect()
    rss_end = vmrss_kb()
    elapsed = time.perf_counter() - start
    growth = rss_end - rss_warm
    assert growth < ALLOWED_GROWTH_KB, (
        f"RSS grew by {growth} kB between step {WARMUP} and step {STEPS} "
        f"({growth * 1024 / (STEPS - WARMUP):.1f} bytes/step)"
    )
    assert elapsed < 60, f"{STEPS} small steps took {elapsed:.1f} s"


def test_retained_graph_and_tape_loop_keep_rss_flat():
    w = lamina.tensor(np.ones((4, 4)), requires_grad=True)
    rss0 = None
    for i in range(20_000):
        with lamina.GradientTape() as tape:
            loss = ops.sum(ops.tanh(ops.matmul(w, w)))
        g = tape.gradient(loss, w)
        assert g is not None
        if i == 4_000:
            gc.collect()
            rss0 = vmrss_kb()
    gc.collect()
    assert vmrss_kb() - rss0 < ALLOWED_GROWTH_KB


def test_large_tensors_are_freed():
    gc.collect()
    rss0 = vmrss_kb()
    for _ in range(20):
        t = lamina.zeros((2_000_000,))  # 8 MB each
        s = ops.sum(t + 1.0)
        del t, s
    gc.collect()
    assert vmrss_kb() - rss0 < 40 * 1024


def test_views_keep_storage_alive():
    base = lamina.tensor(np.arange(10.0))
    view = base[2:5]
    del base
    gc.collect()
    np.testing.assert_array_equal(to_np(view), [2.0, 3.0, 4.0])
    arr = view.numpy()
    del view
    gc.collect()
    np.testing.assert_array_equal(arr, [2.0, 3.0, 4.0])
