"""predict / predict_on_batch through captured kernel programs
(trainers/compiled_function.py, the default `jit_compile="auto"`): equal bit
for bit to eager prediction on every reference model, including a smaller
last batch; random numbers and state updates replayed as eager; refused
where a replay could be wrong (values read on the host), with the eager
result; kept in step with the weights and with the model's layers."""

import numpy as np
import pytest

import lamina
from lamina import layers as L

from test_reference_models import REFERENCE

INPUTS = {
    "mlp": lambda r, n: r.standard_normal((n, 784)).astype("float32"),
    "mnist_convnet": lambda r, n: r.standard_normal((n, 28, 28, 1)).astype("float32"),
    "resnet20": lambda r, n: r.standard_normal((n, 32, 32, 3)).astype("float32"),
    "frozen_transfer": lambda r, n: r.standard_normal((n, 32, 32, 3)).astype("float32"),
    "lstm_classifier": lambda r, n: r.integers(0, 20000, (n, 12)).astype("int32"),
    "gru_classifier": lambda r, n: r.integers(0, 1000, (n, 12)).astype("int32"),
    "transformer_classifier": lambda r, n: r.integers(0, 20000, (n, 200)).astype("int32"),
}


def eager_twin(build, model):
    twin = build(lamina)
    twin.set_weights(model.get_weights())
    twin.compile(jit_compile=False)
    return twin


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_reference_models_predict_as_eager(name, nprng):
    build = REFERENCE[name][0]
    model = build(lamina)
    twin = eager_twin(build, model)
    x = INPUTS[name](nprng, 11)
    # batches of 4, 4, 3: two signatures, each captured, verified, replayed
    for _ in range(3):
        np.testing.assert_array_equal(model.predict(x, batch_size=4, verbose=0),
                                      twin.predict(x, batch_size=4, verbose=0))
    fn = model.predict_function
    assert not fn.refused, fn.refused
    assert len(fn._programs) == 2 and all(p.verified for p in fn._programs.values())
    for _ in range(3):
        x1 = INPUTS[name](nprng, 1)
        np.testing.assert_array_equal(model.predict_on_batch(x1), twin.predict_on_batch(x1))


def test_replay_follows_weight_updates(nprng):
    model = lamina.Sequential([lamina.Input((6,)), L.Dense(4, activation="relu"), L.Dense(2)])
    model.compile("sgd", "mse")
    x, y = nprng.standard_normal((8, 6)).astype("float32"), nprng.standard_normal((8, 2)).astype("float32")
    for _ in range(3):
        model.predict_on_batch(x)  # captured and verified
    model.fit(x, y, epochs=2, verbose=0)
    model.layers[0].kernel.assign(np.ones((6, 4), "float32"))
    twin = lamina.Sequential([lamina.Input((6,)), L.Dense(4, activation="relu"), L.Dense(2)])
    twin.set_weights(model.get_weights())
    twin.compile(jit_compile=False)
    np.testing.assert_array_equal(model.predict_on_batch(x), twin.predict_on_batch(x))


def test_host_reads_refuse_capture_and_random_numbers_replay_fresh(nprng):
    class HostRead(L.Layer):
        def call(self, x):
            scale = float(np.abs(lamina.ops.convert_to_numpy(x)).max())  # value-dependent
            return x / scale

    class Noise(L.Layer):
        def call(self, x):
            return x + lamina.random.normal(lamina.ops.shape(x))

    x = nprng.standard_normal((3, 5)).astype("float32")
    host = lamina.Sequential([lamina.Input((5,)), HostRead()])
    for k in (1.0, 2.0, 7.0):  # a baked-in scale would be wrong from the second batch on
        np.testing.assert_allclose(host.predict_on_batch(x * k), x / np.abs(x).max(), rtol=1e-6)
    assert "reads a tensor" in next(iter(host.predict_function.refused.values()))
    # Each replay reserves its own counters from the stream, as the eager
    # step would: the same numbers as eager calls from the same seed.
    noisy = lamina.Sequential([lamina.Input((5,)), Noise()])
    eager = lamina.Sequential([lamina.Input((5,)), Noise()])
    eager.compile(jit_compile=False)
    runs = []
    for model in (noisy, eager):
        lamina.random.set_seed(5)
        runs.append([model.predict_on_batch(x) for _ in range(6)])
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
    assert all(not np.array_equal(a, b) for a, b in zip(runs[0], runs[0][1:]))
    assert not noisy.predict_function.refused
    assert all(p.verified for p in noisy.predict_function._programs.values())


def test_jit_compile_false_and_run_eagerly_do_not_capture(nprng):
    x = nprng.standard_normal((2, 3)).astype("float32")
    for kwargs in ({"jit_compile": False}, {"run_eagerly": True}):
        model = lamina.Sequential([lamina.Input((3,)), L.Dense(2)])
        model.compile("sgd", "mse", **kwargs)
        model.predict_on_batch(x)
        assert not hasattr(model.predict_function, "refused")


def test_replayed_index_check_and_changed_layers(nprng):
    model = lamina.Sequential([lamina.Input((4,), dtype="int32"), L.Embedding(10, 3)])
    ok = nprng.integers(0, 10, (2, 4)).astype("int32")
    for _ in range(3):
        model.predict_on_batch(ok)
    assert model.predict_function._programs
    with pytest.raises(IndexError, match="out of bounds"):
        model.predict_on_batch(np.full((2, 4), 10, "int32"))
    model.add(L.Dense(5))
    assert model.predict_on_batch(ok).shape == (2, 4, 5)


def test_programs_that_would_hold_too_much_run_eagerly(nprng, monkeypatch):
    from lamina.trainers import compiled_function

    monkeypatch.setattr(compiled_function, "MAX_HELD_BYTES", 1 << 10)
    model = lamina.Sequential([lamina.Input((64,)), L.Dense(64)])
    x = nprng.standard_normal((8, 64)).astype("float32")
    twin = lamina.Sequential([lamina.Input((64,)), L.Dense(64)])
    twin.set_weights(model.get_weights())
    twin.compile(jit_compile=False)
    for _ in range(4):  # eager, captured, planned and refused, eager
        np.testing.assert_array_equal(model.predict_on_batch(x), twin.predict_on_batch(x))
    assert "MB" in next(iter(model.predict_function.refused.values()))


def test_state_updates_replay_as_eager(nprng):
    # a stateful RNN assigns its states each call: the verification restores
    # them between its replay and its eager run
    def build():
        return lamina.Sequential([lamina.Input((3, 2), batch_size=2), L.SimpleRNN(4, stateful=True)])

    model, twin = build(), build()
    twin.set_weights(model.get_weights())
    twin.compile(jit_compile=False)
    x = nprng.standard_normal((2, 3, 2)).astype("float32")
    for _ in range(6):
        np.testing.assert_array_equal(model.predict_on_batch(x), twin.predict_on_batch(x))
    assert not model.predict_function.refused
    assert all(p.verified for p in model.predict_function._programs.values())


def test_inputs_of_other_dtypes_are_cast_as_eager(nprng):
    model = lamina.Sequential([lamina.Input((5,)), L.Dense(3)])
    twin = lamina.Sequential([lamina.Input((5,)), L.Dense(3)])
    twin.set_weights(model.get_weights())
    twin.compile(jit_compile=False)
    for dtype in ("float64", "uint8", "int16"):
        for _ in range(3):
            x = (nprng.standard_normal((4, 5)) * 10).astype(dtype)
            np.testing.assert_array_equal(model.predict_on_batch(x), twin.predict_on_batch(x))
    assert not model.predict_function.refused
    assert all(p.verified for p in model.predict_function._programs.values())


def test_a_deep_copy_makes_its_own_programs(nprng):
    import copy

    model = lamina.Sequential([lamina.Input((3,)), L.Dense(2)])
    x = nprng.standard_normal((2, 3)).astype("float32")
    for _ in range(3):
        model.predict_on_batch(x)
    clone = copy.deepcopy(model)
    clone.layers[0].kernel.assign(np.zeros((3, 2), "float32"))
    np.testing.assert_array_equal(clone.predict_on_batch(x), np.zeros((2, 2), "float32") + clone.layers[0].bias.numpy())
    assert not np.array_equal(model.predict_on_batch(x), clone.predict_on_batch(x))
