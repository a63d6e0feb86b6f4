"""fit / evaluate through captured kernel programs (the default
`jit_compile="auto"`): forward, loss, backward and the fused optimizer update
replayed in C++. Every reference model trains to the same weights, bit for
bit, as eager training (dropout, batch norm, frozen layers, a smaller last
batch); learning-rate schedules, callbacks that change the rate, and each
fused optimizer replay with each step's values; steps that cannot be
replayed run eagerly and say why."""

import numpy as np
import pytest

import lamina
from lamina import layers as L

from test_compiled_predict import INPUTS
from test_reference_models import REFERENCE


def _labels(name, rng, n):
    k = REFERENCE[name][4][-1]
    if k == 1:
        return "binary_crossentropy", rng.integers(0, 2, (n, 1)).astype("float32")
    return "sparse_categorical_crossentropy", rng.integers(0, k, n)


def _train(build, jit, x, y, loss, optimizer="adam", epochs=3, **fit):
    lamina.utils.set_random_seed(3)
    model = build()
    model.compile(optimizer() if callable(optimizer) else optimizer, loss, metrics=["accuracy"], jit_compile=jit)
    lamina.utils.set_random_seed(4)
    history = model.fit(x, y, batch_size=4, epochs=epochs, verbose=0, **fit)
    # first eager, then captured, then verified
    evaluations = [model.evaluate(x, y, batch_size=4, verbose=0) for _ in range(3)]
    return model, history.history, evaluations


def _assert_same_training(a, b):
    for wa, wb in zip(a[0].get_weights(), b[0].get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert a[1] == b[1] and a[2] == b[2]


def _programs(fn):
    core = fn.compiled
    assert not core.refused, core.refused
    assert core._programs and all(p.verified for p in core._programs.values())
    return core


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_reference_models_train_as_eager(name, nprng):
    build = REFERENCE[name][0]
    x = INPUTS[name](nprng, 11)
    loss, y = _labels(name, nprng, 11)
    compiled = _train(lambda: build(lamina), "auto", x, y, loss)
    eager = _train(lambda: build(lamina), False, x, y, loss)
    _assert_same_training(compiled, eager)
    # batches of 4, 4, 3: both signatures captured, verified and replayed
    assert len(_programs(compiled[0].train_function)._programs) == 2
    _programs(compiled[0].test_function)


def _mlp():
    return lamina.Sequential([lamina.Input((6,)), L.Dense(8, activation="relu"), L.Dropout(0.3), L.Dense(3)])


def _data(rng, n=24):
    return rng.standard_normal((n, 6)).astype("float32"), rng.integers(0, 3, n)


LOSS = lamina.losses.SparseCategoricalCrossentropy(from_logits=True)


@pytest.mark.parametrize("optimizer", [
    lambda: lamina.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    lambda: lamina.optimizers.Adam(amsgrad=True),
    lambda: lamina.optimizers.AdamW(weight_decay=0.1),
    lambda: lamina.optimizers.RMSprop(momentum=0.5, centered=True),
    lambda: lamina.optimizers.Adagrad(0.1),
    lambda: lamina.optimizers.Adadelta(1.0),
    lambda: lamina.optimizers.Adamax(),
    lambda: lamina.optimizers.Lion(),
    lambda: lamina.optimizers.Adam(lamina.optimizers.schedules.ExponentialDecay(0.01, 2, 0.5)),
])
def test_fused_optimizers_replay_each_steps_values(optimizer, nprng):
    x, y = _data(nprng)
    compiled = _train(_mlp, "auto", x, y, LOSS, optimizer, epochs=4)
    eager = _train(_mlp, False, x, y, LOSS, optimizer, epochs=4)
    _assert_same_training(compiled, eager)
    _programs(compiled[0].train_function)
    assert int(compiled[0].optimizer.iterations.numpy()) == 24


def test_callbacks_that_change_the_learning_rate(nprng):
    x, y = _data(nprng)

    def schedule(epoch, lr):
        return lr * 0.1 if epoch else lr

    runs = [_train(_mlp, jit, x, y, LOSS, "sgd", epochs=3,
                   callbacks=[lamina.callbacks.LearningRateScheduler(schedule)]) for jit in ("auto", False)]
    _assert_same_training(*runs)
    assert np.isclose(float(runs[0][0].optimizer.learning_rate.numpy()), 0.01 * 0.01)


def test_the_rate_is_read_at_each_replay(nprng):
    # With a rate of zero set after capture, the weights must stop moving.
    x, y = _data(nprng)
    model, _, _ = _train(_mlp, "auto", x, y, LOSS, "sgd", epochs=2)
    _programs(model.train_function)
    model.optimizer.learning_rate.assign(0.0)
    before = model.get_weights()
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_steps_that_cannot_replay_run_eagerly_and_say_why(nprng):
    x, y = _data(nprng)

    class HostRead(L.Layer):
        def call(self, x):
            return x / float(np.abs(lamina.ops.convert_to_numpy(x)).max())

    cases = {
        "reads a tensor": (lambda: lamina.Sequential([lamina.Input((6,)), HostRead(), L.Dense(3)]), "adam"),
        "EMA": (_mlp, lambda: lamina.optimizers.Adam(use_ema=True)),
        "reads a tensor's value": (_mlp, lambda: lamina.optimizers.SGD(clipnorm=1.0)),
    }
    for why, (build, opt) in cases.items():
        compiled = _train(build, "auto", x, y, LOSS, opt)
        eager = _train(build, False, x, y, LOSS, opt)
        _assert_same_training(compiled, eager)
        refused = compiled[0].train_function.compiled.refused
        assert refused and all(why in r for r in refused.values()), refused


def test_custom_train_step_is_captured_whole(nprng):
    x, y = _data(nprng)

    class Custom(lamina.Model):
        def __init__(self):
            super().__init__()
            self.dense = L.Dense(3)

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            x, y = data
            with lamina.GradientTape() as tape:
                loss = self.compute_loss(x=x, y=y, y_pred=self(x, training=True))
            grads = tape.gradient(loss, self.trainable_weights)
            self.optimizer.apply(grads, self.trainable_weights)
            return {"loss": loss}

    runs = []
    for jit in ("auto", False):
        lamina.utils.set_random_seed(3)
        model = Custom()
        model.compile("adam", LOSS, jit_compile=jit)
        h = model.fit(x, y, batch_size=4, epochs=3, verbose=0)
        runs.append((model, h.history))
    for a, b in zip(runs[0][0].get_weights(), runs[1][0].get_weights()):
        np.testing.assert_array_equal(a, b)
    assert runs[0][1] == runs[1][1]
    fn = runs[0][0].train_function
    assert not fn.refused and all(p.verified for p in fn._programs.values())


def test_bad_labels_after_capture_raise(nprng):
    x, y = _data(nprng)
    model, _, _ = _train(_mlp, "auto", x, y, LOSS, "sgd")
    _programs(model.train_function)
    weights = model.get_weights()
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\).*got label 7"):
        model.train_on_batch(x[:4], np.array([0, 1, 7, 2]))
    with pytest.raises(ValueError, match="integer class labels"):
        model.train_on_batch(x[:4], np.array([0, 1, 0.5, 2], "float32"))
    for a, b in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_buffers_share_memory_by_lifetime(nprng):
    # Ten layers' activations, gradients and temporaries: each is dead long
    # before the step ends, so the planned arena is a fraction of their sum.
    def deep():
        return lamina.Sequential([lamina.Input((64,))] + [L.Dense(128, activation="relu") for _ in range(10)] + [L.Dense(3)])

    x, y = nprng.standard_normal((256, 64)).astype("float32"), nprng.integers(0, 3, 256)
    runs = []
    for jit in ("auto", False):
        lamina.utils.set_random_seed(3)
        model = deep()
        model.compile("adam", LOSS, jit_compile=jit)
        runs.append((model, model.fit(x, y, batch_size=64, epochs=2, verbose=0).history))
    for a, b in zip(runs[0][0].get_weights(), runs[1][0].get_weights()):
        np.testing.assert_array_equal(a, b)
    (program,) = _programs(runs[0][0].train_function)._programs.values()
    weights_and_slots = 3 * sum(w.nbytes for w in runs[0][0].get_weights())
    arena = program.capture.held_bytes - weights_and_slots
    assert program.capture.planned_bytes > 3 * arena > 0


def test_freezing_layers_between_fits_recaptures(nprng):
    x, y = _data(nprng)
    runs = []
    for jit in ("auto", False):
        lamina.utils.set_random_seed(3)
        model = _mlp()
        model.compile("adam", LOSS, jit_compile=jit)
        model.fit(x, y, batch_size=4, epochs=2, verbose=0)
        model.layers[0].trainable = False  # transfer learning: freeze, train on
        frozen = model.layers[0].get_weights()
        model.fit(x, y, batch_size=4, epochs=2, verbose=0)
        for a, b in zip(frozen, model.layers[0].get_weights()):
            np.testing.assert_array_equal(a, b)
        runs.append(model)
    for a, b in zip(runs[0].get_weights(), runs[1].get_weights()):
        np.testing.assert_array_equal(a, b)
