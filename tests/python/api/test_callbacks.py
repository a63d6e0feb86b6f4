"""Callbacks and the progress output of fit / evaluate / predict."""

import os
import re
import warnings

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


# ---- EarlyStopping details, without Keras ---------------------------------------------
def _drive_epochs(cb, m, values, key="val_loss"):
    """Feeds `values` as the monitored log, one per epoch, as `fit` would;
    the weights are set to the epoch number so a restore can be traced.
    Returns the epoch training stopped at (None if it ran through)."""
    cb.set_model(m)
    m.stop_training = False
    cb.on_train_begin()
    stopped = None
    for epoch, v in enumerate(values):
        m.set_weights([np.full(w.shape, epoch, "float32") for w in m.get_weights()])
        cb.on_epoch_begin(epoch)
        cb.on_epoch_end(epoch, {"loss": float(v), key: float(v)})
        if m.stop_training:
            stopped = epoch
            break
    cb.on_train_end()
    return stopped


def test_early_stopping_start_from_epoch_and_baseline():
    m = model()
    # Epochs before start_from_epoch are not monitored: 9 and 8 are not "best".
    es = callbacks.EarlyStopping(patience=1, start_from_epoch=2, restore_best_weights=True)
    assert _drive_epochs(es, m, [1.0, 0.5, 3.0, 3.5, 2.0]) == 3
    assert es.best == 3.0 and es.best_epoch == 2 and m.get_weights()[0].flat[0] == 2
    # An improvement that does not beat the baseline does not reset patience.
    es = callbacks.EarlyStopping(patience=2, baseline=2.5)
    assert _drive_epochs(es, m, [3.0, 2.9, 2.95, 2.0]) == 2
    es = callbacks.EarlyStopping(patience=2)
    assert _drive_epochs(es, m, [3.0, 2.9, 2.95, 2.0]) is None
    # min_delta: smaller improvements count as none.
    es = callbacks.EarlyStopping(patience=1, min_delta=0.5)
    assert _drive_epochs(es, m, [3.0, 2.8, 2.0]) == 1


def test_terminate_on_nan_graceful_and_raise():
    x, y = data()
    m = model()
    ends = []
    spy = callbacks.LambdaCallback(on_train_end=lambda logs: ends.append(True))
    y_bad = y.copy()
    y_bad[20] = np.nan
    hist = m.fit(x, y_bad, batch_size=16, epochs=3, shuffle=False, verbose=0, callbacks=[callbacks.TerminateOnNaN(), spy])
    assert len(hist.epoch) == 1 and ends == [True]  # stopped in epoch 1, cleanup ran
    with pytest.raises(RuntimeError, match="NaN or Inf loss"):
        m.fit(x, y_bad, batch_size=16, epochs=3, shuffle=False, verbose=0, callbacks=[callbacks.TerminateOnNaN(raise_error=True)])


def test_nan_loss_warns_without_terminate_on_nan():
    x, y = data()
    y_bad = y.copy()
    y_bad[20] = np.nan
    with pytest.warns(RuntimeWarning, match="The loss became nan"):
        model().fit(x, y_bad, batch_size=16, epochs=1, shuffle=False, verbose=0)


def test_csv_logger_append_keeps_one_header(tmp_path):
    x, y = data()
    path = tmp_path / "log.csv"
    m = model()
    logger = callbacks.CSVLogger(str(path))
    m.fit(x, y, epochs=2, verbose=0, callbacks=[logger])
    m.fit(x, y, epochs=1, verbose=0, validation_data=(x, y), callbacks=[callbacks.CSVLogger(str(path), append=True)])
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch,loss,mae,val_loss,val_mae"  # room for validation columns, as Keras
    assert lines[1].endswith(",NA,NA") and lines[2].startswith("1,")
    assert lines[3].startswith("0,") and "NA" not in lines[3] and len(lines) == 4
    m.fit(x, y, epochs=1, verbose=0, callbacks=[logger])  # a reused logger starts its file again
    assert len(path.read_text().splitlines()) == 2


# ---- the same decisions as Keras, given the same logs --------------------------------------
def _keras():
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        import keras

        keras.callbacks  # noqa: B018
    except Exception as e:  # not installed, or no usable backend
        pytest.skip(f"Keras is not installed here ({type(e).__name__}: {e})")
    return keras


def _twin_models(keras):
    xs, ys = np.ones((4, 2), "float32"), np.ones((4, 1), "float32")
    km = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    km.compile(keras.optimizers.SGD(0.1), "mse", metrics=["mae", keras.metrics.R2Score()])
    km.fit(xs, ys, verbose=0)  # builds the metrics that mode="auto" looks at
    lm = lamina.Sequential([lamina.Input((2,)), layers.Dense(1)])
    lm.compile(lamina.optimizers.SGD(0.1), "mse", metrics=["mae", lamina.metrics.R2Score()])
    lm.fit(xs, ys, verbose=0)
    return km, lm


def _random_walks(seed, n):
    import random

    rng = random.Random(seed)
    for _ in range(n):
        yield rng, (np.cumsum([rng.gauss(0, 1) for _ in range(15)]) + 10).round(3)


# r2_score is maximised: "auto" must find that from the metric, not the name.
_MONITORS = [("val_loss", "auto"), ("val_loss", "min"), ("val_score", "max"), ("val_mae", "auto"), ("val_r2_score", "auto")]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Keras on NumPy 2
def test_early_stopping_matches_keras():
    keras = _keras()
    km, lm = _twin_models(keras)
    stops = set()
    for rng, walk in _random_walks(0, 200):
        key, mode = rng.choice(_MONITORS)
        kwargs = dict(
            monitor=key, mode=mode, patience=rng.choice([0, 1, 2, 4]), min_delta=rng.choice([0, 0.1, 0.5]),
            baseline=rng.choice([None, float(walk[0]), float(walk[0]) - 1]), start_from_epoch=rng.choice([0, 2]),
            restore_best_weights=rng.choice([True, False]),
        )
        k_stop = _drive_epochs(keras.callbacks.EarlyStopping(**kwargs), km, walk, key)
        l_stop = _drive_epochs(callbacks.EarlyStopping(**kwargs), lm, walk, key)
        assert l_stop == k_stop, (kwargs, list(walk))
        # the same epoch's weights restored (or the last ones kept)
        assert lm.get_weights()[0].flat[0] == km.get_weights()[0].flat[0], (kwargs, list(walk))
        stops.add(k_stop)
    assert len(stops) > 5  # the cases differ


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Keras on NumPy 2
def test_reduce_lr_on_plateau_matches_keras():
    keras = _keras()
    km, lm = _twin_models(keras)
    for rng, walk in _random_walks(1, 200):
        key, mode = rng.choice(_MONITORS)
        kwargs = dict(
            monitor=key, mode=mode, factor=rng.choice([0.5, 0.2]), patience=rng.choice([0, 1, 2]),
            cooldown=rng.choice([0, 1, 2]), min_delta=rng.choice([0, 1e-4, 0.3]), min_lr=rng.choice([0, 0.01, 0.03]),
        )
        rates = []
        for cb, m in ((keras.callbacks.ReduceLROnPlateau(**kwargs), km), (callbacks.ReduceLROnPlateau(**kwargs), lm)):
            m.optimizer.learning_rate.assign(0.1)
            lr = []
            cb.set_model(m)
            cb.on_train_begin()
            for epoch, v in enumerate(walk):
                cb.on_epoch_end(epoch, {"loss": float(v), key: float(v)})
                lr.append(float(np.asarray(m.optimizer.learning_rate.numpy())))
            rates.append(lr)
        np.testing.assert_allclose(rates[1], rates[0], rtol=1e-6, err_msg=str((kwargs, list(walk))))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Keras on NumPy 2
def test_model_checkpoint_matches_keras(tmp_path):
    import random

    keras = _keras()
    km, lm = _twin_models(keras)
    rng = random.Random(1)
    compared = 0
    while compared < 120:
        template = rng.choice(["ckpt-{epoch:02d}-{val_loss:.3f}", "m-{epoch}", "b-{epoch}-{batch}", "best", "e{epoch:03d}-{loss:.2f}"])
        kwargs = dict(
            save_best_only=rng.choice([False, True]), monitor=rng.choice(["val_loss", "val_mae", "loss", "val_r2_score"]),
            mode=rng.choice(["auto", "min", "max"]), save_freq=rng.choice(["epoch", 1, 2, 5]),
            initial_value_threshold=rng.choice([None, None, 1.5]),
        )
        values = [round(rng.uniform(0, 3), 3) for _ in range(4)]
        batches = rng.choice([1, 3, 4])
        missing_val = rng.choice([(), (1,)])  # an epoch without validation logs
        if ("batch" in template) == (kwargs["save_freq"] == "epoch") or (
            "val_" in template and (kwargs["save_freq"] != "epoch" or missing_val)
        ):
            continue  # templates that cannot be formatted with these logs, in either library
        names = []
        for lib, m, ext in ((keras, km, ".keras"), (lamina, lm, ".lamina")):
            saved = []
            cb = lib.callbacks.ModelCheckpoint(str(tmp_path / (template + ext)), **kwargs)
            m.save = lambda path, overwrite=True, _saved=saved, _n=len(ext), **kw: _saved.append(os.path.basename(path)[:-_n])
            try:
                _drive_checkpoint(cb, m, values, batches, missing_val)
            except TypeError:
                # Keras sets its monitor op at the first epoch end: a best-only
                # check on an earlier batch fails there (lamina sets it up front).
                assert lib is keras
                break
            finally:
                del m.save
            names.append(saved)
        else:
            compared += 1
            assert names[1] == names[0], (template, kwargs, values, batches, missing_val)


def _drive_checkpoint(cb, m, values, batches, missing_val):
    cb.set_model(m)
    cb.on_train_begin()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Can save best model only with ... available"
        for epoch, v in enumerate(values):
            cb.on_epoch_begin(epoch)
            for b in range(batches):
                cb.on_train_batch_begin(b)
                cb.on_train_batch_end(b, {"loss": v + b})
            logs = {"loss": v, "mae": 0.5}
            if epoch not in missing_val:
                logs.update(val_loss=v + 0.25, val_mae=v, val_r2_score=1.0 - v)
            cb.on_epoch_end(epoch, logs)
    cb.on_train_end()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Keras on NumPy 2
def test_csv_logger_matches_keras(tmp_path):
    keras = _keras()
    km, lm = _twin_models(keras)
    runs = [  # (append, logs per epoch)
        (False, [{"loss": 0.5, "mae": 0.25}, {"loss": 0.4, "mae": 0.125}]),
        (True, [{"loss": 0.3, "mae": 0.1, "val_loss": 0.35, "val_mae": 0.2}]),
        (True, [{"loss": 0.2, "mae": np.float32(0.05), "vec": [1, 2]}]),
    ]
    texts = []
    for lib, m in ((keras, km), (lamina, lm)):
        path = str(tmp_path / f"{lib.__name__}.csv")
        for append, epochs in runs:
            cb = lib.callbacks.CSVLogger(path, separator=";", append=append)
            cb.set_model(m)
            cb.on_train_begin()
            for epoch, logs in enumerate(epochs):
                cb.on_epoch_end(epoch, dict(logs))
            cb.on_train_end()
        with open(path) as f:
            texts.append(f.read())
    assert texts[1] == texts[0]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Keras on NumPy 2
def test_lambda_callback_and_terminate_on_nan_match_keras():
    import inspect

    keras = _keras()
    for name in ("LambdaCallback", "TerminateOnNaN", "EarlyStopping", "ReduceLROnPlateau", "CSVLogger", "ModelCheckpoint"):
        k_params = inspect.signature(getattr(keras.callbacks, name)).parameters
        l_params = inspect.signature(getattr(callbacks, name)).parameters
        assert list(l_params) == list(k_params), name
        for p in k_params:
            if p not in ("filepath", "filename"):
                assert l_params[p].default == k_params[p].default, (name, p)
    km, lm = _twin_models(keras)
    for lib, m in ((keras, km), (lamina, lm)):
        calls = []
        cb = lib.callbacks.LambdaCallback(
            on_epoch_begin=lambda e, logs: calls.append(("epoch_begin", e)),
            on_train_batch_end=lambda b, logs: calls.append(("batch_end", b)),
            on_test_begin=lambda logs: calls.append("test_begin"),  # other hooks go through **kwargs
        )
        cb.set_model(m)
        cb.on_epoch_begin(3, {})
        cb.on_train_batch_end(1, {})
        cb.on_test_begin({})
        cb.on_predict_end({})  # not given: a no-op
        assert calls == [("epoch_begin", 3), ("batch_end", 1), "test_begin"]
        nan = lib.callbacks.TerminateOnNaN()
        nan.set_model(m)
        m.stop_training = False
        nan.on_train_batch_end(0, {"loss": 1.0})
        assert not m.stop_training
        nan.on_train_batch_end(1, {"loss": float("inf")})
        assert m.stop_training


def test_tensorboard_event_files_read_back(tmp_path):
    accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator", reason="needs the tensorboard package"
    )
    x, y = data()
    m = model()
    tb = callbacks.TensorBoard(tmp_path / "logs", update_freq=2)
    hist = m.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0, callbacks=[tb])
    for run, prefix in (("train", ""), ("validation", "val_")):
        events = accumulator.EventAccumulator(str(tmp_path / "logs" / run))
        events.Reload()  # tensorboard's own reader
        for name in ("loss", "mae"):
            scalars = events.Scalars(f"epoch_{name}")
            assert [s.step for s in scalars] == [0, 1, 2]
            np.testing.assert_allclose([s.value for s in scalars], hist.history[prefix + name], rtol=1e-6)
    train = accumulator.EventAccumulator(str(tmp_path / "logs" / "train"))
    train.Reload()
    assert [s.step for s in train.Scalars("batch_loss")] == [2, 4, 6, 8]  # 3 batches per epoch, every 2nd
    np.testing.assert_allclose([s.value for s in train.Scalars("epoch_learning_rate")], 0.01, rtol=1e-6)


def test_hooks_of_evaluate_and_predict():
    events = []

    class Rec(callbacks.Callback):
        pass

    for hook in ("test_begin", "test_end", "predict_begin", "predict_end"):
        setattr(Rec, f"on_{hook}", lambda self, logs=None, _h=hook: events.append(_h))
    for hook in ("test_batch_begin", "test_batch_end", "predict_batch_begin", "predict_batch_end"):
        setattr(Rec, f"on_{hook}", lambda self, batch, logs=None, _h=hook: events.append((_h, batch)))
    x, y = data(32)
    m = model()
    m.evaluate(x, y, batch_size=16, verbose=0, callbacks=[Rec()])
    assert events == ["test_begin", ("test_batch_begin", 0), ("test_batch_end", 0), ("test_batch_begin", 1),
                      ("test_batch_end", 1), "test_end"]
    events.clear()
    m.predict(x, batch_size=32, verbose=0, callbacks=[Rec()])
    assert events == ["predict_begin", ("predict_batch_begin", 0), ("predict_batch_end", 0), "predict_end"]
