"""Fused optimizer updates (`_core.adam_update`, `_core.sgd_update`) against
NumPy transcriptions of Keras's formulas, over several steps and parameters."""

import numpy as np
import pytest

import lamina
from lamina import _core


def np_adam(p, g, m, v, vhat, lr, b1, b2, eps, t, wd):
    if wd:
        p = p - p * wd * lr
    lr_t = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
    m = m + (g - m) * (1 - b1)
    v = v + (g * g - v) * (1 - b2)
    if vhat is not None:
        vhat = np.maximum(vhat, v)
        p = p - lr_t * m / (np.sqrt(vhat) + eps)
    else:
        p = p - lr_t * m / (np.sqrt(v) + eps)
    return p, m, v, vhat


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("wd", [0.0, 0.01])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_adam_matches_keras_formula(rng, amsgrad, wd, dtype):
    shapes = [(3, 4), (5,), (2, 2, 2)]
    ps = [rng.standard_normal(s).astype(dtype) for s in shapes]
    ms = [np.zeros(s, dtype) for s in shapes]
    vs = [np.zeros(s, dtype) for s in shapes]
    vh = [np.zeros(s, dtype) for s in shapes] if amsgrad else None
    lp = [lamina.tensor(p.copy()) for p in ps]
    lm = [lamina.tensor(m.copy()) for m in ms]
    lv = [lamina.tensor(v.copy()) for v in vs]
    lvh = [lamina.tensor(h.copy()) for h in vh] if amsgrad else []
    for t in range(1, 4):
        gs = [rng.standard_normal(s).astype(dtype) for s in shapes]
        _core.adam_update(lp, [lamina.tensor(g) for g in gs], lm, lv, lvh, 0.01, 0.9, 0.999, 1e-7, t, wd)
        for i in range(len(ps)):
            ps[i], ms[i], vs[i], h = np_adam(ps[i], gs[i], ms[i], vs[i], vh[i] if amsgrad else None,
                                            0.01, 0.9, 0.999, 1e-7, t, wd)
            if amsgrad:
                vh[i] = h
    tol = 1e-5 if dtype == "float32" else 1e-12
    for a, b in zip(lp, ps):
        np.testing.assert_allclose(a.numpy(), b, rtol=tol, atol=tol)


@pytest.mark.parametrize("momentum,nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_sgd_matches_keras_formula(rng, momentum, nesterov):
    p = rng.standard_normal((4, 3))
    m = np.zeros_like(p)
    lp, lm = lamina.tensor(p.copy()), lamina.tensor(m.copy())
    for _ in range(3):
        g = rng.standard_normal(p.shape)
        _core.sgd_update([lp], [lamina.tensor(g)], [lm] if momentum else [], 0.1, momentum, nesterov)
        if momentum:
            m = momentum * m - 0.1 * g
            p = p + (momentum * m - 0.1 * g if nesterov else m)
        else:
            p = p - 0.1 * g
    np.testing.assert_allclose(lp.numpy(), p, rtol=1e-12)


def test_optimizer_update_errors():
    p = lamina.zeros((3,))
    with pytest.raises(ValueError, match="gradient of shape"):
        _core.sgd_update([p], [lamina.zeros((4,))], [], 0.1, 0.0, False)
    with pytest.raises(ValueError, match="slot"):
        _core.adam_update([p], [lamina.zeros((3,))], [lamina.zeros((2,))], [lamina.zeros((3,))], [],
                          0.1, 0.9, 0.999, 1e-7, 1)
