"""Callbacks and the progress output of fit / evaluate / predict."""

import re

import numpy as np
import pytest

import lamina
from lamina import callbacks, layers
from lamina.utils import io_utils


def data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-1.0], [0.5]])).astype("float32")
    return x, y


def model(lr=0.01):
    m = lamina.Sequential([lamina.Input((3,)), layers.Dense(1)])
    m.compile(lamina.optimizers.SGD(lr), "mse", metrics=["mae"])
    return m


def test_callback_hooks_order_and_params():
    events = []

    class Rec(callbacks.Callback):
        def on_train_begin(self, logs=None):
            events.append(("train_begin", dict(self.params)))

        def on_epoch_begin(self, epoch, logs=None):
            events.append(("epoch_begin", epoch))

        def on_train_batch_end(self, batch, logs=None):
            events.append(("batch_end", batch, sorted(logs)))

        def on_epoch_end(self, epoch, logs=None):
            events.append(("epoch_end", epoch, sorted(logs)))

        def on_test_begin(self, logs=None):
            events.append(("test_begin",))

        def on_train_end(self, logs=None):
            events.append(("train_end", sorted(logs)))

    x, y = data(32)
    m = model()
    rec = Rec()
    m.fit(x, y, batch_size=16, epochs=2, verbose=0, validation_data=(x, y), callbacks=[rec])
    assert rec.model is m
    assert events[0] == ("train_begin", {"verbose": 0, "epochs": 2, "steps": 2})
    assert events[1] == ("epoch_begin", 0)
    assert events[2] == ("batch_end", 0, ["loss", "mae"])
    assert ("test_begin",) in events
    assert ("epoch_end", 0, ["loss", "mae", "val_loss", "val_mae"]) in events
    assert events[-1] == ("train_end", ["loss", "mae", "val_loss", "val_mae"])


def test_early_stopping_and_restore_best_weights():
    x, y = data()
    m = model(lr=0.05)

    class Spike(callbacks.Callback):
        """Makes val_loss look worse after epoch 2."""

        def on_epoch_end(self, epoch, logs=None):
            if epoch >= 3:
                logs["val_loss"] = 1e6 + epoch

    best = {}

    class Snap(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                best["w"] = self.model.get_weights()

    es = callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True, verbose=1)
    hist = m.fit(x, y, epochs=20, verbose=0, validation_data=(x, y), callbacks=[Spike(), Snap(), es])
    assert hist.epoch == [0, 1, 2, 3, 4]
    assert es.stopped_epoch == 4 and es.best_epoch == 2
    for a, b in zip(m.get_weights(), best["w"]):
        np.testing.assert_array_equal(a, b)
    es = callbacks.EarlyStopping(monitor="mae")
    es.set_model(m)
    es._set_monitor_op()
    assert es.monitor_op is np.less
    acc_model = lamina.Sequential([lamina.Input((3,)), layers.Dense(2, activation="softmax")])
    acc_model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    acc_model.fit(x, (y[:, 0] > 0).astype("int32"), verbose=0)
    es = callbacks.EarlyStopping(monitor="val_accuracy")
    es.set_model(acc_model)
    es._set_monitor_op()
    assert es.monitor_op is np.greater


def test_learning_rate_scheduler_and_reduce_on_plateau():
    x, y = data()
    m = model(lr=0.1)
    sched = callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    hist = m.fit(x, y, epochs=3, verbose=0, callbacks=[sched])
    np.testing.assert_allclose(hist.history["learning_rate"], [0.05, 0.025, 0.0125], rtol=1e-6)
    m = model(lr=0.1)
    hist = m.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.LearningRateScheduler(lambda epoch: 0.3)])
    np.testing.assert_allclose(hist.history["learning_rate"], [0.3, 0.3], rtol=1e-6)

    class Flat(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = 1.0

    m = model(lr=0.1)
    rlr = callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, min_lr=0.02)
    hist = m.fit(x, y, epochs=5, verbose=0, callbacks=[Flat(), rlr])
    np.testing.assert_allclose(hist.history["learning_rate"], [0.1, 0.1, 0.05, 0.025, 0.02], rtol=1e-6)
    with pytest.raises(ValueError, match="factor"):
        callbacks.ReduceLROnPlateau(factor=1.5)


def test_csv_logger(tmp_path):
    x, y = data()
    path = tmp_path / "log.csv"
    m = model()
    m.fit(x, y, epochs=3, verbose=0, validation_data=(x, y), callbacks=[callbacks.CSVLogger(str(path))])
    lines = path.read_text().strip().splitlines()
    assert lines[0] == "epoch,loss,mae,val_loss,val_mae"
    assert len(lines) == 4 and lines[1].startswith("0,")
    m.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.CSVLogger(str(path), append=True, separator=";")])
    assert len(path.read_text().strip().splitlines()) == 5


def test_lambda_callback_and_history_object():
    x, y = data()
    m = model()
    seen = []
    cb = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(round(logs["loss"], 6)))
    hist = m.fit(x, y, epochs=2, verbose=0, callbacks=[cb])
    assert seen == [round(v, 6) for v in hist.history["loss"]]
    assert m.history is hist and hist.model is m


def test_progress_output_non_tty_one_line_per_epoch(capsys, monkeypatch):
    monkeypatch.setattr(io_utils, "is_tty", lambda: False)
    x, y = data()
    m = model()
    m.fit(x, y, epochs=2, batch_size=16, verbose=1, validation_data=(x, y))
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Epoch 1/2"
    assert re.fullmatch(r"4/4 - \d+s - \d+(us|ms|s)/step - loss: [\d.e+-]+ - mae: [\d.e+-]+ - val_loss: [\d.e+-]+ - val_mae: [\d.e+-]+", out[1]), out[1]
    assert out[2] == "Epoch 2/2" and len(out) == 4
    m.fit(x, y, epochs=2, verbose=2)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 4 and out[1].startswith("2/2 - ")
    m.fit(x, y, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""
    m.evaluate(x, y, verbose=1)
    assert capsys.readouterr().out.startswith("2/2 - ")
    m.predict(x, verbose=1)
    assert capsys.readouterr().out.startswith("2/2 - ")


def test_progress_output_tty_redraws_in_place(capsys, monkeypatch):
    monkeypatch.setattr(io_utils, "is_tty", lambda: True)
    x, y = data()
    m = model()
    m.fit(x, y, epochs=1, batch_size=16, verbose=1)
    out = capsys.readouterr().out
    assert "\r" in out and "━" in out and out.endswith("\n")
    assert "Epoch" not in out  # single epoch: no header, as Keras
    final = out.split("\r")[-1]
    assert re.search(r"4/4.*loss: [\d.]+ - mae: [\d.]+", final)


def test_progbar_standalone(capsys, monkeypatch):
    monkeypatch.setattr(io_utils, "is_tty", lambda: False)
    bar = lamina.utils.Progbar(3, verbose=1)
    for i in range(3):
        bar.update(i + 1, [("loss", 0.5)])
    assert re.fullmatch(r"3/3 - \d+s - \d+(us|ms|s)/step - loss: 0\.5000\n", capsys.readouterr().out)
