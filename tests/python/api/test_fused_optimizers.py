"""RMSprop, Adagrad, Adadelta, Adamax, Nadam and Lion update all parameters in
one C++ call per step (`_core.optimizer_update`), with the same results as the
per-variable formulas (`update_step`), which the Keras parity tests check."""

import numpy as np
import pytest

import lamina
from lamina import _core, optimizers

CASES = {
    "rmsprop": lambda: optimizers.RMSprop(0.01),
    "rmsprop_momentum_centered": lambda: optimizers.RMSprop(0.01, momentum=0.9, centered=True),
    "rmsprop_centered": lambda: optimizers.RMSprop(0.01, centered=True),
    "adagrad": lambda: optimizers.Adagrad(0.1),
    "adadelta": lambda: optimizers.Adadelta(1.0),
    "adamax": lambda: optimizers.Adamax(0.01),
    "nadam": lambda: optimizers.Nadam(0.01),
    "lion": lambda: optimizers.Lion(0.01),
}


def _run(make, steps, per_variable):
    rng = np.random.default_rng(0)
    shapes = [(7, 5), (5,), (3, 2, 4)]
    variables = [lamina.Variable(rng.standard_normal(s).astype("float32")) for s in shapes]
    opt = make()
    for _ in range(steps):
        grads = [lamina.tensor(rng.standard_normal(s).astype("float32")) for s in shapes]
        opt.apply(grads, variables)
    return [np.asarray(v) for v in variables]


@pytest.mark.parametrize("name", sorted(CASES))
def test_fused_matches_per_variable(name, monkeypatch):
    fused = _run(CASES[name], 5, per_variable=False)
    monkeypatch.delattr(_core, "optimizer_update")  # the per-variable update_step path
    reference = _run(CASES[name], 5, per_variable=True)
    for a, b in zip(fused, reference):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)  # float32 rounding


@pytest.mark.parametrize("name", sorted(CASES))
def test_one_native_call_per_step(name, monkeypatch):
    calls = []
    real = _core.optimizer_update
    monkeypatch.setattr(_core, "optimizer_update", lambda *a: (calls.append(a[0]), real(*a))[1])
    _run(CASES[name], 3, per_variable=False)
    assert len(calls) == 3 and len(set(calls)) == 1


def test_bad_calls_raise_clear_errors():
    p = lamina.Variable(np.zeros(3, "float32"))
    g = lamina.tensor(np.ones(3, "float32"))
    with pytest.raises(ValueError, match="unknown optimizer 'sgdx'"):
        _core.optimizer_update("sgdx", [p], [g], [], [0.1])
    with pytest.raises(ValueError, match="adadelta needs slot 1"):
        _core.optimizer_update("adadelta", [p], [g], [[lamina.tensor(np.zeros(3, "float32"))]], [1.0, 0.9, 1e-7])
    with pytest.raises(ValueError, match="lion takes 3 hyper-parameters"):
        _core.optimizer_update("lion", [p], [g], [[lamina.tensor(np.zeros(3, "float32"))]], [0.1])
    with pytest.raises(ValueError, match="gradient of shape"):
        _core.optimizer_update("lion", [p], [lamina.tensor(np.ones(4, "float32"))],
                               [[lamina.tensor(np.zeros(3, "float32"))]], [0.1, 0.9, 0.99])
