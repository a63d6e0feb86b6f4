"""Optimizers against NumPy transcriptions of Keras's update formulas.

The learning rate lives in a float32 variable (as in Keras), so float64
references agree to ~1e-7 relative.
"""

import math

import numpy as np
import pytest

import lamina
from lamina import optimizers
from lamina.optimizers import schedules


def run(opt, w0, grads):
    """Applies `grads` (list of arrays) in turn to a variable starting at w0."""
    v = lamina.Variable(np.array(w0, dtype="float64"), dtype="float64", name="w")
    for g in grads:
        opt.apply_gradients([(lamina.tensor(np.array(g, dtype="float64")), v)])
    return v.numpy()


W0 = np.array([0.5, -1.5, 2.0])
G = [np.array([0.1, -0.2, 0.3]), np.array([-0.3, 0.4, 0.05]), np.array([0.2, 0.2, -0.1])]


def np_adam(w, grads, lr=0.001, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False, wd=0.0):
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    vh = np.zeros_like(w)
    for t, g in enumerate(grads, 1):
        w = w - w * wd * lr
        alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        vv = v
        if amsgrad:
            vh = np.maximum(vh, v)
            vv = vh
        w = w - alpha * m / (np.sqrt(vv) + eps)
    return w


def test_one_adam_step_matches_keras_formula():
    got = run(optimizers.Adam(learning_rate=0.1), W0, G[:1])
    # Step 1: m = 0.1 g, v = 0.001 g^2, alpha = lr * sqrt(0.001) / 0.1
    g = G[0]
    alpha = 0.1 * math.sqrt(1 - 0.999) / (1 - 0.9)
    expected = W0 - alpha * (0.1 * g) / (np.sqrt(0.001 * g * g) + 1e-7)
    np.testing.assert_allclose(got, expected, rtol=2e-7)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_three_steps(amsgrad):
    got = run(optimizers.Adam(learning_rate=0.05, amsgrad=amsgrad), W0, G)
    np.testing.assert_allclose(got, np_adam(W0, G, lr=0.05, amsgrad=amsgrad), rtol=2e-7)


def test_adamw_decays_before_adam_step():
    got = run(optimizers.AdamW(learning_rate=0.05, weight_decay=0.1), W0, G)
    np.testing.assert_allclose(got, np_adam(W0, G, lr=0.05, wd=0.1), rtol=2e-7)
    with pytest.raises(ValueError, match="weight_decay"):
        optimizers.AdamW(weight_decay=None)


def test_one_sgd_momentum_step_and_nesterov():
    lr, mom = 0.1, 0.9
    got = run(optimizers.SGD(learning_rate=lr, momentum=mom), W0, G[:2])
    m = np.zeros(3)
    w = W0.copy()
    for g in G[:2]:
        m = mom * m - lr * g
        w = w + m
    np.testing.assert_allclose(got, w, rtol=2e-7)
    got = run(optimizers.SGD(learning_rate=lr, momentum=mom, nesterov=True), W0, G[:2])
    m = np.zeros(3)
    w = W0.copy()
    for g in G[:2]:
        m = mom * m - lr * g
        w = w + mom * m - lr * g
    np.testing.assert_allclose(got, w, rtol=2e-7)
    np.testing.assert_allclose(run(optimizers.SGD(learning_rate=lr), W0, G[:1]), W0 - lr * G[0], rtol=2e-7)


@pytest.mark.parametrize("centered,momentum", [(False, 0.0), (True, 0.0), (False, 0.5), (True, 0.5)])
def test_rmsprop(centered, momentum):
    lr, rho, eps = 0.01, 0.9, 1e-7
    got = run(optimizers.RMSprop(learning_rate=lr, centered=centered, momentum=momentum), W0, G)
    w, vel, avg, mom = W0.copy(), np.zeros(3), np.zeros(3), np.zeros(3)
    for g in G:
        vel = rho * vel + (1 - rho) * g * g
        if centered:
            avg = rho * avg + (1 - rho) * g
            denom = vel - avg * avg + eps
        else:
            denom = vel + eps
        inc = lr * g / np.sqrt(denom)
        if momentum:
            mom = momentum * mom + inc
            w = w - mom
        else:
            w = w - inc
    np.testing.assert_allclose(got, w, rtol=2e-7)


def test_adagrad_adadelta_adamax_lion():
    lr = 0.01
    got = run(optimizers.Adagrad(learning_rate=lr), W0, G)
    w, acc = W0.copy(), np.full(3, 0.1)
    for g in G:
        acc = acc + g * g
        w = w - lr * g / np.sqrt(acc + 1e-7)
    np.testing.assert_allclose(got, w, rtol=2e-7)

    got = run(optimizers.Adadelta(learning_rate=1.0), W0, G)
    w, ag, ad = W0.copy(), np.zeros(3), np.zeros(3)
    for g in G:
        ag = 0.95 * ag + 0.05 * g * g
        delta = -np.sqrt(ad + 1e-7) * g / np.sqrt(ag + 1e-7)
        ad = 0.95 * ad + 0.05 * delta * delta
        w = w + delta
    np.testing.assert_allclose(got, w, rtol=2e-7)

    got = run(optimizers.Adamax(learning_rate=lr), W0, G)
    w, m, u = W0.copy(), np.zeros(3), np.zeros(3)
    for t, g in enumerate(G, 1):
        m = m + (g - m) * 0.1
        u = np.maximum(0.999 * u, np.abs(g))
        w = w - lr * m / ((1 - 0.9**t) * (u + 1e-7))
    np.testing.assert_allclose(got, w, rtol=2e-7)

    got = run(optimizers.Lion(learning_rate=lr), W0, G)
    w, m = W0.copy(), np.zeros(3)
    for g in G:
        w = w - lr * np.sign(0.9 * m + 0.1 * g)
        m = 0.99 * m + 0.01 * g
    np.testing.assert_allclose(got, w, rtol=2e-7)


def test_nadam():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    got = run(optimizers.Nadam(learning_rate=lr), W0, G)
    w, m, v, up = W0.copy(), np.zeros(3), np.zeros(3), 1.0
    for t, g in enumerate(G, 1):
        u_t = b1 * (1 - 0.5 * 0.96**t)
        u_t1 = b1 * (1 - 0.5 * 0.96 ** (t + 1))
        up = up * u_t
        up1 = up * u_t1
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        m_hat = u_t1 * m / (1 - up1) + (1 - u_t) * g / (1 - up)
        v_hat = v / (1 - b2**t)
        w = w - m_hat * lr / (np.sqrt(v_hat) + eps)
    np.testing.assert_allclose(got, w, rtol=2e-7)


def test_clipping():
    g = np.array([3.0, 4.0, 0.0])
    np.testing.assert_allclose(run(optimizers.SGD(1.0, clipnorm=1.0), W0, [g]), W0 - g / 5.0, rtol=2e-7)
    np.testing.assert_allclose(run(optimizers.SGD(1.0, clipvalue=0.5), W0, [g]), W0 - np.clip(g, -0.5, 0.5), rtol=2e-7)
    a = lamina.Variable(np.zeros(2), dtype="float64")
    b = lamina.Variable(np.zeros(1), dtype="float64")
    opt = optimizers.SGD(1.0, global_clipnorm=1.0)
    opt.apply_gradients([(lamina.tensor(np.array([3.0, 0.0])), a), (lamina.tensor(np.array([4.0])), b)])
    np.testing.assert_allclose(a.numpy(), [-0.6, 0.0], rtol=2e-7)
    np.testing.assert_allclose(b.numpy(), [-0.8], rtol=2e-7)
    with pytest.raises(ValueError, match="Only one of"):
        optimizers.SGD(clipnorm=1.0, global_clipnorm=1.0)


def test_weight_decay_and_exclusion():
    a = lamina.Variable(np.ones(2), dtype="float64", name="a")
    b = lamina.Variable(np.ones(2), dtype="float64", name="b")
    opt = optimizers.SGD(0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_list=[b])
    zero = lamina.tensor(np.zeros(2))
    opt.apply_gradients([(zero, a), (zero, b)])
    np.testing.assert_allclose(a.numpy(), 1 - 0.1 * 0.5, rtol=2e-7)
    np.testing.assert_allclose(b.numpy(), 1.0)


def test_iterations_variables_config_and_lr_setter():
    opt = optimizers.Adam(learning_rate=0.01)
    w = lamina.Variable(np.zeros((2, 3)), name="kernel")
    for _ in range(3):
        opt.apply_gradients([(lamina.ones((2, 3)), w)])
    assert int(opt.iterations.numpy()) == 3
    names = [v.name for v in opt.variables]
    assert names == ["iteration", "learning_rate", "kernel_momentum", "kernel_velocity"]
    config = opt.get_config()
    assert config["name"] == "adam" and config["beta_1"] == 0.9 and config["epsilon"] == 1e-7
    assert abs(config["learning_rate"] - 0.01) < 1e-9
    clone = optimizers.Adam.from_config(config)
    assert clone.beta_2 == 0.999
    opt.learning_rate = 0.5
    assert abs(float(opt.learning_rate.numpy()) - 0.5) < 1e-7
    assert isinstance(optimizers.get("rmsprop"), optimizers.RMSprop)
    with pytest.raises(ValueError, match="Could not interpret optimizer"):
        optimizers.get("adamz")
    with pytest.raises(ValueError, match="decay"):
        optimizers.SGD(decay=0.1)


def test_missing_gradients_warn_and_unknown_variable():
    a = lamina.Variable(np.ones(2), name="a")
    b = lamina.Variable(np.ones(2), name="b")
    opt = optimizers.SGD(0.1)
    with pytest.warns(UserWarning, match="Gradients do not exist"):
        opt.apply_gradients([(lamina.ones(2), a), (None, b)])
    c = lamina.Variable(np.ones(2), name="c")
    with pytest.raises(KeyError, match="cannot recognize variable"):
        opt.apply_gradients([(lamina.ones(2), c)])


def test_schedules():
    s = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert s(0) == pytest.approx(0.1) and s(10) == pytest.approx(0.05) and s(5) == pytest.approx(0.1 * 0.5**0.5)
    s = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    assert s(15) == pytest.approx(0.05)
    s = schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    assert (s(0), s(10), s(11), s(20), s(21)) == (1.0, 1.0, 0.5, 0.5, 0.1)
    s = schedules.PolynomialDecay(1.0, 10, end_learning_rate=0.0, power=2.0)
    assert s(5) == pytest.approx(0.25) and s(50) == pytest.approx(0.0)
    s = schedules.InverseTimeDecay(1.0, 10, 0.5)
    assert s(20) == pytest.approx(0.5)
    s = schedules.CosineDecay(1.0, 10, alpha=0.1)
    assert s(0) == pytest.approx(1.0) and s(10) == pytest.approx(0.1) and s(5) == pytest.approx(0.55)
    s = schedules.CosineDecay(0.0, 10, warmup_target=1.0, warmup_steps=4)
    assert s(2) == pytest.approx(0.5) and s(4) == pytest.approx(1.0) and s(9) == pytest.approx(0.5)
    assert schedules.ExponentialDecay.from_config(schedules.ExponentialDecay(0.1, 3, 0.9).get_config()).decay_steps == 3


def test_optimizer_follows_schedule():
    sched = schedules.PiecewiseConstantDecay([1], [1.0, 0.1])
    opt = optimizers.SGD(learning_rate=sched)
    w = lamina.Variable(np.zeros(1), dtype="float64")
    g = lamina.tensor(np.ones(1))
    opt.apply_gradients([(g, w)])  # step 0 -> lr 1.0
    opt.apply_gradients([(g, w)])  # step 1 -> lr 1.0 (<= boundary)
    opt.apply_gradients([(g, w)])  # step 2 -> lr 0.1
    np.testing.assert_allclose(w.numpy(), [-2.1], rtol=2e-7)
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        opt.learning_rate = 0.5
    assert opt.get_config()["learning_rate"]["class_name"] == "PiecewiseConstantDecay"


def test_constraint_applied_after_update():
    d = lamina.layers.Dense(2, kernel_constraint=lamina.constraints.NonNeg(), kernel_initializer="ones")
    d.build((None, 2))
    opt = optimizers.SGD(1.0)
    opt.apply_gradients([(lamina.full((2, 2), 5.0), d.kernel)])
    np.testing.assert_array_equal(d.kernel.numpy(), 0.0)


def test_ema_and_gradient_accumulation():
    w = lamina.Variable(np.zeros(1), dtype="float64")
    opt = optimizers.SGD(1.0, use_ema=True, ema_momentum=0.5)
    opt.apply_gradients([(lamina.tensor(np.ones(1)), w)])
    opt.apply_gradients([(lamina.tensor(np.ones(1)), w)])
    np.testing.assert_allclose(w.numpy(), [-2.0])
    opt.finalize_variable_values([w])
    # As Keras: the first step copies the weights into the average (-1), then 0.5 * -1 + 0.5 * -2.
    np.testing.assert_allclose(w.numpy(), [0.5 * -1 + 0.5 * -2])
    w = lamina.Variable(np.zeros(1), dtype="float64")
    opt = optimizers.SGD(1.0, gradient_accumulation_steps=2)
    opt.apply_gradients([(lamina.tensor(np.array([1.0])), w)])
    np.testing.assert_allclose(w.numpy(), [0.0])
    opt.apply_gradients([(lamina.tensor(np.array([3.0])), w)])
    np.testing.assert_allclose(w.numpy(), [-2.0])
    assert int(opt.iterations.numpy()) == 1  # updates, not calls (as Keras)


def test_learning_rate_variable_is_assignable():
    opt = optimizers.SGD(learning_rate=0.1)
    opt.learning_rate.assign(0.5)
    w = lamina.Variable(np.zeros(1), dtype="float64")
    opt.apply_gradients([(lamina.tensor(np.ones(1)), w)])
    np.testing.assert_allclose(w.numpy(), [-0.5])
    assert float(opt.learning_rate) == pytest.approx(0.5)
