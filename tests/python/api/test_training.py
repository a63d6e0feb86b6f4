"""compile / fit / evaluate / predict / *_on_batch: data formats, validation,
weights, reproducibility, freezing, errors."""

import warnings

import numpy as np
import pytest

import lamina
from lamina import layers


def blobs(n=300, seed=0, classes=3, dim=4):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 4, size=(classes, dim))
    y = rng.integers(0, classes, n)
    x = centers[y] + rng.normal(size=(n, dim))
    return x.astype("float32"), y.astype("int32")


def classifier(dim=4, classes=3):
    return lamina.Sequential(
        [lamina.Input((dim,)), layers.Dense(16, activation="relu"), layers.Dense(classes, activation="softmax")]
    )


def test_fit_reaches_high_accuracy():
    x, y = blobs()
    model = classifier()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert isinstance(hist, lamina.callbacks.History)
    assert sorted(hist.history) == ["accuracy", "loss"]
    assert hist.epoch == list(range(15))
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    loss, acc = model.evaluate(x, y, verbose=0)
    assert acc > 0.95
    assert model.evaluate(x, y, verbose=0, return_dict=True)["accuracy"] == pytest.approx(acc)
    probs = model.predict(x, verbose=0)
    assert isinstance(probs, np.ndarray) and probs.shape == (300, 3)
    np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-5)
    assert (probs.argmax(-1) == y).mean() == pytest.approx(acc, abs=1e-6)


def test_accuracy_resolution_and_one_hot():
    x, y = blobs()
    model = classifier()
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy", "mse"])
    model.fit(x, lamina.utils.to_categorical(y, 3), epochs=2, verbose=0)
    acc = model._compile_metrics.metrics[0]
    assert isinstance(acc, lamina.metrics.CategoricalAccuracy) and acc.name == "accuracy"
    assert model.metrics_names == ["loss", "compile_metrics"]
    binary = lamina.Sequential([lamina.Input((4,)), layers.Dense(1, activation="sigmoid")])
    binary.compile("adam", "binary_crossentropy", metrics=["acc"])
    logs = binary.fit(x, (y == 1).astype("float32"), epochs=1, verbose=0).history
    assert "acc" in logs
    assert isinstance(binary._compile_metrics.metrics[0], lamina.metrics.BinaryAccuracy)


def test_last_smaller_batch_and_batch_size():
    x, y = blobs(n=70)
    model = classifier()
    model.compile("sgd", "sparse_categorical_crossentropy")
    seen = []
    cb = lamina.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(b))
    model.fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[cb])
    assert seen == [0, 1, 2]
    assert model.predict(x, batch_size=32, verbose=0).shape == (70, 3)
    assert int(model.optimizer.iterations.numpy()) == 3


def test_validation_split_and_data():
    x, y = blobs(n=100)
    model = classifier()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y, epochs=2, validation_split=0.2, verbose=0)
    assert sorted(hist.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    ev = model.evaluate(x[80:], y[80:], verbose=0, return_dict=True)
    assert hist.history["val_loss"][-1] == pytest.approx(ev["loss"], rel=1e-5)
    hist = model.fit(x, y, epochs=4, validation_data=(x[:10], y[:10]), validation_freq=2, verbose=0)
    assert len(hist.history["val_loss"]) == 2
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(x, y, validation_split=1.5, verbose=0)


def test_sample_weight_and_class_weight():
    x, y = blobs(n=64)
    model = classifier()
    model.compile("sgd", "sparse_categorical_crossentropy")
    w = np.ones(64, dtype="float32")
    base = model.evaluate(x, y, verbose=0)
    assert model.evaluate(x, y, sample_weight=w * 2, verbose=0) == pytest.approx(2 * base, rel=1e-5)
    zero = model.evaluate(x, y, sample_weight=np.zeros(64), verbose=0)
    assert zero == 0.0
    before = [v.numpy().copy() for v in model.weights]
    model.fit(x, y, class_weight={0: 0.0, 1: 0.0, 2: 0.0}, epochs=1, verbose=0)
    for b, a in zip(before, model.weights):
        np.testing.assert_array_equal(b, a.numpy())
    with pytest.raises(ValueError, match="You cannot `class_weight` and `sample_weight` at the same time"):
        model.fit(x, y, class_weight={0: 1.0, 1: 2.0, 2: 1.0}, sample_weight=w, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="cardinality"):
        model.fit(x, y[:10], verbose=0)


def test_generators_and_pydataset():
    x, y = blobs(n=120)

    def gen():
        while True:
            for i in range(0, 120, 40):
                yield x[i : i + 40], y[i : i + 40]

    model = classifier()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(gen(), steps_per_epoch=3, epochs=3, verbose=0)
    assert len(hist.history["loss"]) == 3

    class DS(lamina.utils.PyDataset):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.epochs_seen = 0

        def __len__(self):
            return 3

        def __getitem__(self, i):
            return x[i * 40 : (i + 1) * 40], y[i * 40 : (i + 1) * 40]

        def on_epoch_end(self):
            self.epochs_seen += 1

    ds = DS()
    hist = model.fit(ds, epochs=2, verbose=0, validation_data=DS())
    assert ds.epochs_seen == 2 and len(hist.history["val_loss"]) == 2
    assert model.predict(DS(), verbose=0).shape == (120, 3)
    assert isinstance(model.evaluate(DS(), verbose=0), list)

    def finite():
        for i in range(0, 120, 40):
            yield x[i : i + 40], y[i : i + 40]

    hist = model.fit(finite(), epochs=1, verbose=0)
    assert len(hist.history["loss"]) == 1
    with pytest.warns(UserWarning, match="ran out of data"):
        model.fit(finite(), steps_per_epoch=5, epochs=2, verbose=0)


def test_multi_input_multi_output_dicts_and_loss_weights():
    a = lamina.Input((4,), name="a")
    b = lamina.Input((2,), name="b")
    h = layers.concatenate([layers.Dense(8, activation="relu")(a), b])
    out_r = layers.Dense(1, name="reg")(h)
    out_c = layers.Dense(3, activation="softmax", name="cls")(h)
    model = lamina.Model([a, b], [out_r, out_c])
    model.compile(
        "adam",
        loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"},
        loss_weights={"reg": 0.5, "cls": 1.0},
        metrics={"cls": ["accuracy"]},
    )
    rng = np.random.default_rng(0)
    xa, xb = rng.normal(size=(50, 4)), rng.normal(size=(50, 2))
    yr, yc = rng.normal(size=(50, 1)), rng.integers(0, 3, 50)
    hist = model.fit({"a": xa, "b": xb}, {"reg": yr, "cls": yc}, epochs=2, verbose=0)
    assert sorted(hist.history) == ["cls_accuracy", "cls_loss", "loss", "reg_loss"]
    logs = model.evaluate([xa, xb], [yr, yc], verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(0.5 * logs["reg_loss"] + logs["cls_loss"], rel=1e-4)
    preds = model.predict([xa, xb], verbose=0)
    assert preds[0].shape == (50, 1) and preds[1].shape == (50, 3)
    with pytest.raises(ValueError, match="as many entries as the model has outputs"):
        model.compile("adam", "mse", metrics=["mae"])


def test_on_batch_methods():
    x, y = blobs(n=32)
    model = classifier()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    loss, acc = model.train_on_batch(x, y)
    assert np.isfinite(loss) and 0 <= acc <= 1
    logs = model.train_on_batch(x, y, return_dict=True)
    assert set(logs) == {"loss", "accuracy"}
    assert isinstance(model.test_on_batch(x, y), list)
    out = model.predict_on_batch(x)
    assert isinstance(out, np.ndarray) and out.shape == (32, 3)


def test_regularization_losses_are_added():
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(2, kernel_regularizer=lamina.regularizers.L2(10.0), kernel_initializer="ones")])
    model.compile("sgd", "mse")
    x = np.zeros((4, 3), dtype="float32")
    y = np.zeros((4, 2), dtype="float32")
    assert model.evaluate(x, y, verbose=0) == pytest.approx(10.0 * 6, rel=1e-5)
    assert len(model.losses) == 1


def test_reproducible_with_same_seed():
    x, y = blobs(n=96)

    def train():
        lamina.utils.set_random_seed(42)
        model = lamina.Sequential(
            [lamina.Input((4,)), layers.Dense(16, activation="relu"), layers.Dropout(0.3), layers.Dense(3, activation="softmax")]
        )
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x, y, epochs=3, batch_size=16, verbose=0, shuffle=True)
        return model.get_weights()

    w1, w2 = train(), train()
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)
    lamina.utils.set_random_seed(43)
    w3 = classifier().get_weights()
    assert not np.array_equal(w3[0], w1[0])


_SEEDED_SCRIPT = """
import hashlib, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
import lamina
from lamina import layers

lamina.utils.set_random_seed(int(sys.argv[2]))
x = np.random.normal(size=(48, 5, 3)).astype("float32")  # drawn from NumPy's seeded global generator
y = (x.sum(axis=(1, 2)) > 0).astype("int32")
model = lamina.Sequential([
    lamina.Input((5, 3)), layers.GaussianNoise(0.1), layers.LSTM(6, dropout=0.2, recurrent_dropout=0.2),
    layers.Dense(8, activation="relu"), layers.Dropout(0.3), layers.BatchNormalization(),
    layers.Dense(2, activation="softmax"),
])
model.compile("adam", "sparse_categorical_crossentropy")
model.fit(x, y, batch_size=8, epochs=2, shuffle=True, validation_split=0.25, verbose=0)
digest = hashlib.sha256(b"".join(np.ascontiguousarray(w).tobytes() for w in model.get_weights()))
print(digest.hexdigest())
"""


def test_same_seed_gives_bit_identical_weights_across_processes(tmp_path):
    import os
    import subprocess
    import sys

    script = tmp_path / "seeded.py"
    script.write_text(_SEEDED_SCRIPT)
    python_dir = os.path.dirname(os.path.dirname(os.path.abspath(lamina.__file__)))

    def run(seed, hash_seed):
        # Different PYTHONHASHSEEDs: nothing may depend on set/dict hash order.
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        out = subprocess.run([sys.executable, str(script), python_dir, str(seed)], capture_output=True,
                             text=True, env=env, timeout=300)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip().splitlines()[-1]

    first, second, other = run(7, "1"), run(7, "2"), run(8, "1")
    assert first == second
    assert first != other


def test_freezing_layers():
    x, y = blobs(n=64)
    model = classifier()
    model.layers[0].trainable = False
    model.compile("adam", "sparse_categorical_crossentropy")
    frozen = model.layers[0].kernel.numpy().copy()
    head = model.layers[1].kernel.numpy().copy()
    model.fit(x, y, epochs=2, verbose=0)
    np.testing.assert_array_equal(model.layers[0].kernel.numpy(), frozen)
    assert not np.array_equal(model.layers[1].kernel.numpy(), head)
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2


def test_frozen_batchnorm_stays_in_inference_mode():
    x, _ = blobs(n=64)
    model = lamina.Sequential([lamina.Input((4,)), layers.BatchNormalization(), layers.Dense(1)])
    model.layers[0].trainable = False
    model.compile("sgd", "mse")
    model.fit(x, np.zeros((64, 1)), epochs=1, verbose=0)
    np.testing.assert_array_equal(model.layers[0].moving_mean.numpy(), 0.0)
    model.layers[0].trainable = True
    model.compile("sgd", "mse")
    model.fit(x, np.zeros((64, 1)), epochs=1, verbose=0)
    assert np.any(model.layers[0].moving_mean.numpy() != 0.0)


def test_errors():
    x, y = blobs(n=16)
    model = classifier()
    with pytest.raises(ValueError, match="compile"):
        model.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match="Could not interpret optimizer"):
        model.compile(optimizer="adamm", loss="mse")
    with pytest.raises(ValueError, match="Could not interpret loss"):
        model.compile(optimizer="adam", loss="msee")
    with pytest.raises(ValueError, match="Could not interpret metric"):
        model.compile(optimizer="adam", loss="mse", metrics=["acuracy"])
    model.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        model.fit(x, y + 3, verbose=0)
    model.compile("adam", "categorical_crossentropy")
    with pytest.raises(ValueError, match="same shape"):
        model.fit(x, y, verbose=0)
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match="incompatible shapes"):
        model.fit(x, np.zeros((16, 5)), verbose=0)
    with pytest.raises(ValueError, match=r"expected input .* shape \(None, 4\), got shape \(16, 5\)"):
        model.fit(np.zeros((16, 5)), np.zeros((16, 3)), verbose=0)


def test_errors_name_the_output_layer_and_argument():
    x = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    i = lamina.Input((4,))
    h = layers.Dense(8)(i)
    model = lamina.Model(i, [layers.Dense(2, name="reg")(h), layers.Dense(3, activation="softmax", name="cls")(h)])
    model.compile("adam", ["mse", "sparse_categorical_crossentropy"])
    with pytest.raises(ValueError, match=r"output 'cls' .*labels must be in \[0, 3\).*got label 7"):
        model.fit(x, [np.zeros((16, 2)), np.full(16, 7)], verbose=0)
    with pytest.raises(ValueError, match=r"output 'reg' .*incompatible shapes.*\(16, 5\).*\(16, 2\)"):
        model.train_on_batch(x, [np.zeros((16, 5)), np.zeros(16)])
    model.compile("adam", ["mse", "sparse_categorical_crossentropy"])
    with pytest.raises(ValueError, match=r"output 'cls' .*for one-hot labels use categorical_crossentropy"):
        model.evaluate(x, [np.zeros((16, 2)), np.zeros((16, 3))], verbose=0)
    # Unknown string aliases name the argument kind and the alias.
    for make, match in [
        (lambda: layers.Dense(2, activation="relux"), "activation function identifier: 'relux'"),
        (lambda: layers.Dense(2, kernel_initializer="glorot_unifrom"), "initializer identifier: glorot_unifrom"),
        (lambda: layers.Dense(2, kernel_regularizer="l3"), "regularizer identifier: l3"),
        (lambda: layers.Dense(2, kernel_constraint="maxnorm2"), "constraint identifier: maxnorm2"),
        (lambda: layers.Conv2D(2, 3, padding="sam"), "`padding` argument .* Received: sam"),
    ]:
        with pytest.raises(ValueError, match=match):
            make()
    # A built layer called on the wrong shape names itself and both shapes.
    dense = layers.Dense(3, name="probe")
    dense(np.ones((2, 5)))
    with pytest.raises(ValueError, match=r"Dense 'probe': expected input with last dimension 5, got shape \(2, 7\)"):
        dense(np.ones((2, 7)))


def test_nan_loss_is_reported_and_terminate_on_nan(capsys):
    x = np.ones((8, 2), dtype="float32")
    y = np.full((8, 1), np.nan, dtype="float32")
    model = lamina.Sequential([lamina.Input((2,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    with pytest.warns(RuntimeWarning, match="The loss became nan at epoch 1, batch 0"):
        model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    # With TerminateOnNaN attached, the callback reports it (and stops) instead of the warning.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hist = model.fit(x, y, epochs=3, batch_size=4, verbose=0, callbacks=[lamina.callbacks.TerminateOnNaN()])
    assert not [w for w in caught if "loss became nan" in str(w.message)]
    assert len(hist.history["loss"]) == 1
    assert "Batch 0: Invalid loss, terminating training" in capsys.readouterr().out


def test_initial_epoch_and_stop_training():
    x, y = blobs(n=32)
    model = classifier()
    model.compile("adam", "sparse_categorical_crossentropy")
    hist = model.fit(x, y, epochs=5, initial_epoch=3, verbose=0)
    assert hist.epoch == [3, 4]

    class Stop(lamina.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    hist = model.fit(x, y, epochs=10, verbose=0, callbacks=[Stop()])
    assert hist.epoch == [0, 1]


def test_tensors_as_inputs_and_int_inputs():
    x, y = blobs(n=40)
    model = classifier()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(lamina.tensor(x), lamina.tensor(y), epochs=1, verbose=0)
    tokens = np.random.default_rng(0).integers(1, 50, size=(40, 6))
    m = lamina.Sequential([lamina.Input((6,), dtype="int32"), layers.Embedding(50, 4), layers.Flatten(), layers.Dense(1)])
    m.compile("adam", "mse")
    m.fit(tokens, np.zeros((40, 1)), epochs=1, verbose=0)


def test_jit_compile_and_run_eagerly_accepted():
    model = classifier()
    assert model.jit_compile  # "auto": on
    model.compile("adam", "mse", jit_compile=False, run_eagerly=True)
    assert not model.jit_compile
    model.compile("adam", "mse", run_eagerly=True)
    assert not model.jit_compile
    model.compile("adam", "mse", jit_compile=True)
    assert model.jit_compile


def test_custom_test_step_and_predict_step():
    class M(lamina.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(1, kernel_initializer="ones")

        def call(self, x):
            return self.d(x)

        def test_step(self, data):
            x, y = data
            return {"custom": lamina.ops.mean(self(x))}

        def predict_step(self, data):
            x = data[0] if isinstance(data, tuple) else data
            return self(x) * 0.0 + 7.0

    m = M()
    m.compile("sgd", "mse")
    assert m.evaluate(np.ones((4, 2)), np.ones((4, 1)), verbose=0, return_dict=True) == {"custom": 2.0}
    np.testing.assert_array_equal(m.predict(np.ones((3, 2)), verbose=0), 7.0)


def test_deferred_sequential_with_integer_inputs_and_masking():
    m = lamina.Sequential([layers.Embedding(50, 8, mask_zero=True), layers.GlobalAveragePooling1D(), layers.Dense(1, activation="sigmoid")])
    m.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    tokens = np.random.default_rng(0).integers(0, 50, size=(64, 10))
    m.fit(tokens, np.ones((64, 1)), epochs=1, verbose=0)
    assert m.inputs[0].shape == (None, 10) and m.inputs[0].dtype.startswith("int")
    assert m.outputs[0].shape == (None, 1)
    x = np.array([[3, 4, 0, 0, 0, 0, 0, 0, 0, 0]])
    emb = m.layers[0].embeddings.numpy()
    pooled = lamina.Model(m.inputs, m.layers[1].output).predict(x, verbose=0)
    np.testing.assert_allclose(pooled[0], (emb[3] + emb[4]) / 2, rtol=1e-5)


def test_training_flag_reaches_layers_of_graph_models():
    x = np.ones((4, 200), dtype="float32")
    i = lamina.Input((200,))
    functional = lamina.Model(i, layers.Dropout(0.5)(i))
    sequential = lamina.Sequential([lamina.Input((200,)), layers.Dropout(0.5)])
    for model in (functional, sequential):
        assert np.all(model(x).numpy() == 1.0)
        dropped = (model(x, training=True).numpy() == 0).mean()
        assert 0.4 < dropped < 0.6
    forced = lamina.Model(i, layers.Dropout(0.5)(i, training=True))
    assert (forced(x).numpy() == 0).mean() > 0.4
    img = np.random.default_rng(0).normal(size=(2, 4, 4, 1)).astype("float32")
    j = lamina.Input((4, 4, 1))
    aug = lamina.Model(j, layers.RandomFlip("horizontal", seed=1)(j))
    np.testing.assert_array_equal(aug.predict(img, verbose=0), img)

    class Probe(layers.Layer):
        seen = []

        def call(self, x, training=None):
            Probe.seen.append(training)
            return x

    k = lamina.Input((2,))
    probe_model = lamina.Model(k, layers.Dense(1)(Probe()(k)))
    probe_model.compile("sgd", "mse")
    Probe.seen.clear()
    probe_model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=1, verbose=0)
    probe_model.predict(np.ones((4, 2)), verbose=0)
    assert Probe.seen == [True, False]
