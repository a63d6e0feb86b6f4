"""Parity of the Keras-style API with Keras itself, where Keras is installed
(it is not a dependency: these tests skip otherwise). Same weights, same data:
layer outputs and configs, optimizer steps, losses, metrics, a whole `fit`
(history and final weights) and the text of `summary()` must agree."""

import os
import re

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
try:
    import keras

    keras.layers  # noqa: B018
except Exception as e:  # not installed, or no usable backend
    pytest.skip(f"Keras is not installed here ({type(e).__name__}: {e})", allow_module_level=True)

import lamina  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


@pytest.fixture(autouse=True, scope="module")
def _fresh_keras_names():
    # Keras numbers layers per session: leave its counters as other tests expect.
    yield
    keras.backend.clear_session()

RNG = np.random.default_rng(0)
X2 = RNG.uniform(-1, 1, (4, 6)).astype("float32")
X3 = RNG.uniform(-1, 1, (4, 5, 6)).astype("float32")
X4 = RNG.uniform(-1, 1, (4, 4, 4, 3)).astype("float32")
I2 = RNG.integers(0, 10, (4, 7))


def knp(x):
    return keras.ops.convert_to_numpy(x)


LAYERS = {
    "Dense": (lambda m: m.Dense(4, activation="relu"), X2),
    "Dense3D": (lambda m: m.Dense(3, use_bias=False), X3),
    "Activation": (lambda m: m.Activation("gelu"), X2),
    "Flatten": (lambda m: m.Flatten(), X3),
    "Reshape": (lambda m: m.Reshape((2, -1)), X3),
    "Permute": (lambda m: m.Permute((2, 1)), X3),
    "RepeatVector": (lambda m: m.RepeatVector(3), X2),
    "Embedding": (lambda m: m.Embedding(10, 4, mask_zero=True), I2),
    "LayerNormalization": (lambda m: m.LayerNormalization(), X3),
    "LayerNormalizationAxes": (lambda m: m.LayerNormalization(axis=[1, 2]), X3),
    "LayerNormalizationRMS": (lambda m: m.LayerNormalization(rms_scaling=True), X3),
    "BatchNormalization": (lambda m: m.BatchNormalization(), X2),
    "BatchNormalizationAxis1": (lambda m: m.BatchNormalization(axis=1), X4),
    "UnitNormalization": (lambda m: m.UnitNormalization(), X2),
    "RMSNormalization": (lambda m: m.RMSNormalization(), X3),
    "RMSNormalizationAxes": (lambda m: m.RMSNormalization(axis=[1, 2]), X3),
    "GroupNormalization": (lambda m: m.GroupNormalization(groups=3), X3),
    "ReLU": (lambda m: m.ReLU(max_value=0.5, negative_slope=0.1, threshold=0.1), X2),
    "LeakyReLU": (lambda m: m.LeakyReLU(), X2),
    "PReLU": (lambda m: m.PReLU(), X2),
    "ELU": (lambda m: m.ELU(), X2),
    "Softmax": (lambda m: m.Softmax(), X2),
    "GlobalAveragePooling1D": (lambda m: m.GlobalAveragePooling1D(), X3),
    "GlobalMaxPooling2D": (lambda m: m.GlobalMaxPooling2D(keepdims=True), X4),
    "UpSampling2D": (lambda m: m.UpSampling2D(), X4),
    "UpSampling2DBilinear": (lambda m: m.UpSampling2D(interpolation="bilinear"), X4),
    "ZeroPadding2D": (lambda m: m.ZeroPadding2D(((1, 2), (0, 1))), X4),
    "Cropping2D": (lambda m: m.Cropping2D(((1, 0), (1, 1))), X4),
    "Rescaling": (lambda m: m.Rescaling(0.5, 0.1), X2),
    "Normalization": (lambda m: m.Normalization(mean=0.5, variance=2.0), X2),
    "Dropout": (lambda m: m.Dropout(0.3), X2),
    "RandomContrast": (lambda m: m.RandomContrast(0.2), X4),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_parity(name):
    make, x = LAYERS[name]
    kl, ll = make(keras.layers), make(lamina.layers)
    kl(x)
    ll(x)
    assert [tuple(w.shape) for w in kl.weights] == [tuple(w.shape) for w in ll.weights]
    assert [w.path.split("/", 1)[-1] for w in kl.weights] == [w.path.split("/", 1)[-1] for w in ll.weights]
    weights = [
        RNG.standard_normal(tuple(w.shape)).astype("float32") * 0.3 + (1.5 if "variance" in w.name else 0.0)
        for w in kl.weights
    ]
    kl.set_weights(weights)
    ll.set_weights(weights)
    np.testing.assert_allclose(ll(x, training=False).numpy(), knp(kl(x, training=False)), rtol=1e-5, atol=1e-5)
    kc, lc = kl.get_config(), ll.get_config()
    assert set(kc) <= set(lc)
    for key in set(kc) - {"name", "dtype"}:
        a, b = kc[key], lc[key]
        if isinstance(a, dict) and isinstance(b, dict):
            assert a.get("class_name") == b.get("class_name"), key
        else:
            assert (list(a) if isinstance(a, tuple) else a) == (list(b) if isinstance(b, tuple) else b), key


def _steps(opt, variable_cls, to_tensor, grads, w0):
    v = variable_cls(w0.copy())
    for g in grads:
        opt.apply_gradients([(to_tensor(g), v)])
    return np.asarray(knp(v) if variable_cls is keras.Variable else v.numpy())


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
        ("Adam", {"learning_rate": 0.01, "amsgrad": True}),
        ("AdamW", {"learning_rate": 0.01, "weight_decay": 0.1}),
        ("RMSprop", {"learning_rate": 0.01, "centered": True, "momentum": 0.5}),
        ("Adagrad", {"learning_rate": 0.1}),
        ("Adadelta", {"learning_rate": 1.0}),
        ("Adamax", {"learning_rate": 0.01}),
        ("Nadam", {"learning_rate": 0.01}),
        ("Lion", {"learning_rate": 0.01}),
        ("SGD", {"learning_rate": 0.1, "global_clipnorm": 0.5}),
    ],
)
def test_optimizer_parity(name, kwargs):
    w0 = RNG.normal(size=(3, 4)).astype("float32")
    grads = [RNG.normal(size=(3, 4)).astype("float32") for _ in range(4)]
    k = _steps(getattr(keras.optimizers, name)(**kwargs), keras.Variable, keras.ops.convert_to_tensor, grads, w0)
    l = _steps(getattr(lamina.optimizers, name)(**kwargs), lamina.Variable, lamina.tensor, grads, w0)
    np.testing.assert_allclose(l, k, rtol=1e-5, atol=1e-6)
    kc = getattr(keras.optimizers, name)(**kwargs).get_config()
    lc = getattr(lamina.optimizers, name)(**kwargs).get_config()
    assert set(kc) == set(lc)


YT = RNG.uniform(0, 1, (6, 4)).astype("float32")
YP = RNG.uniform(0.01, 1, (6, 4)).astype("float32")
BIN = (RNG.uniform(size=(6, 4)) > 0.5).astype("float32")
LOGITS = RNG.normal(size=(6, 4)).astype("float32")
SIG = 1 / (1 + np.exp(-LOGITS))
PROBS = np.exp(LOGITS) / np.exp(LOGITS).sum(-1, keepdims=True)
ONEHOT = np.eye(4, dtype="float32")[RNG.integers(0, 4, 6)]
LABELS = ONEHOT.argmax(-1)
SW = RNG.uniform(0, 2, 6).astype("float32")

LOSSES = [
    ("MeanSquaredError", {}, YT, YP), ("MeanAbsoluteError", {}, YT, YP), ("MeanAbsolutePercentageError", {}, YT, YP),
    ("MeanSquaredLogarithmicError", {}, YT, YP), ("Huber", {"delta": 0.3}, YT, YP), ("LogCosh", {}, YT, YP),
    ("Poisson", {}, YT, YP), ("KLDivergence", {}, YT, YP), ("CosineSimilarity", {}, YT - 0.5, YP - 0.5),
    ("Hinge", {}, BIN, LOGITS), ("SquaredHinge", {}, BIN, LOGITS), ("CategoricalHinge", {}, ONEHOT, LOGITS),
    ("BinaryCrossentropy", {}, BIN, SIG), ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, BIN, LOGITS),
    ("CategoricalCrossentropy", {}, ONEHOT, PROBS), ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, ONEHOT, LOGITS),
    ("SparseCategoricalCrossentropy", {}, LABELS, PROBS), ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 1}, LABELS, LOGITS),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "from_logits": True, "label_smoothing": 0.1}, BIN, LOGITS),
    ("CategoricalFocalCrossentropy", {}, ONEHOT, PROBS),
]


@pytest.mark.parametrize("case", range(len(LOSSES)), ids=[c[0] for c in LOSSES])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none", "mean_with_sample_weight"])
def test_loss_parity(case, reduction):
    name, kwargs, yt, yp = LOSSES[case]
    for sw in (None, SW):
        k = knp(getattr(keras.losses, name)(reduction=reduction, **kwargs)(yt, yp, sample_weight=sw))
        l = getattr(lamina.losses, name)(reduction=reduction, **kwargs)(yt, yp, sample_weight=sw).numpy()
        np.testing.assert_allclose(l, k, rtol=2e-5, atol=1e-6)


METRICS = [
    ("BinaryAccuracy", {}, BIN, SIG), ("CategoricalAccuracy", {}, ONEHOT, PROBS), ("SparseCategoricalAccuracy", {}, LABELS, PROBS),
    ("TopKCategoricalAccuracy", {"k": 2}, ONEHOT, PROBS), ("SparseTopKCategoricalAccuracy", {"k": 2}, LABELS, PROBS),
    ("Precision", {"top_k": 2}, BIN, SIG), ("Recall", {"thresholds": [0.3, 0.6]}, BIN, SIG), ("Recall", {"class_id": 2}, BIN, SIG),
    ("TruePositives", {}, BIN, SIG), ("FalseNegatives", {}, BIN, SIG),
    ("AUC", {}, BIN, SIG), ("AUC", {"curve": "PR"}, BIN, SIG), ("AUC", {"multi_label": True}, BIN, SIG), ("AUC", {"from_logits": True}, BIN, LOGITS),
    ("F1Score", {"average": "macro", "threshold": 0.5}, BIN, SIG), ("F1Score", {"average": "weighted"}, ONEHOT, PROBS),
    ("RootMeanSquaredError", {}, YT, YP), ("R2Score", {"class_aggregation": "variance_weighted_average"}, YT, YP),
    ("CosineSimilarity", {}, YT, YP), ("MeanIoU", {"num_classes": 4, "sparse_y_pred": False}, LABELS, PROBS),
    ("SparseCategoricalCrossentropy", {}, LABELS, PROBS), ("LogCoshError", {}, YT, YP),
    ("Accuracy", {}, LABELS, PROBS.argmax(-1)), ("MeanSquaredError", {}, YT, YP), ("MeanAbsoluteError", {}, YT, YP),
    ("Precision", {"thresholds": [0.2, 0.5, 0.8]}, BIN, SIG), ("Precision", {"class_id": 1, "thresholds": 0.4}, BIN, SIG),
    ("TrueNegatives", {"thresholds": [0.3, 0.7]}, BIN, SIG), ("FalsePositives", {}, BIN, SIG),
    ("AUC", {"num_thresholds": 50, "summation_method": "minoring"}, BIN, SIG),
    ("AUC", {"curve": "PR", "multi_label": True, "num_labels": 4, "label_weights": [1, 2, 0.5, 1]}, BIN, SIG),
    ("F1Score", {"average": "micro", "threshold": 0.4}, BIN, SIG), ("FBetaScore", {"beta": 2.0, "average": "macro"}, ONEHOT, PROBS),
    ("R2Score", {"num_regressors": 1}, YT[:, :1], YP[:, :1]), ("MeanIoU", {"num_classes": 4, "ignore_class": 0}, LABELS, PROBS.argmax(-1)),
    ("SparseTopKCategoricalAccuracy", {"k": 2, "from_sorted_ids": True}, LABELS, np.argsort(-PROBS, axis=-1)[:, :3]),
    ("IoU", {"num_classes": 4, "target_class_ids": [0, 2]}, LABELS, PROBS.argmax(-1)),
    ("BinaryIoU", {"target_class_ids": [1], "threshold": 0.3}, BIN, SIG), ("BinaryIoU", {}, BIN, SIG),
    ("OneHotIoU", {"num_classes": 4, "target_class_ids": [1, 3]}, ONEHOT, PROBS),
    ("OneHotMeanIoU", {"num_classes": 4}, ONEHOT, PROBS),
]


@pytest.mark.parametrize("case", range(len(METRICS)), ids=[c[0] for c in METRICS])
def test_metric_parity(case):
    name, kwargs, yt, yp = METRICS[case]
    km, lm = getattr(keras.metrics, name)(**kwargs), getattr(lamina.metrics, name)(**kwargs)
    weights = None if "IoU" in name else SW  # Keras's IoU metrics truncate float weights to int
    for m in (km, lm):
        m.update_state(yt, yp, sample_weight=weights)
        m.update_state(yt[:3], yp[:3])
    np.testing.assert_allclose(lm.result().numpy(), knp(km.result()), rtol=1e-5, atol=1e-6)
    assert re.sub(r"_\d+$", "", km.name) == re.sub(r"_\d+$", "", lm.name)


def _model(m):
    return m.Sequential(
        [
            m.Input((6,)),
            m.layers.Dense(16, activation="relu"),
            m.layers.BatchNormalization(),
            m.layers.Dropout(0.0),
            m.layers.Dense(8, activation="tanh", kernel_regularizer=m.regularizers.L2(0.01)),
            m.layers.Dense(3, activation="softmax"),
        ]
    )


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop"])
def test_fit_parity(optimizer):
    x = RNG.normal(size=(100, 6)).astype("float32")
    y = RNG.integers(0, 3, 100)
    xv, yv = RNG.normal(size=(30, 6)).astype("float32"), RNG.integers(0, 3, 30)
    km, lm = _model(keras), _model(lamina)
    lm.set_weights(km.get_weights())
    hist = {}
    for mod, m in (("k", km), ("l", lm)):
        m.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
        hist[mod] = m.fit(
            x, y, batch_size=16, epochs=3, shuffle=False, verbose=0, validation_data=(xv, yv),
            class_weight={0: 1.0, 1: 2.0, 2: 0.5},
        ).history
    assert sorted(hist["k"]) == sorted(hist["l"])
    for key in hist["k"]:
        np.testing.assert_allclose(hist["l"][key], hist["k"][key], rtol=1e-5, atol=1e-6)
    for a, b in zip(km.get_weights(), lm.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(lm.evaluate(xv, yv, verbose=0), km.evaluate(xv, yv, verbose=0), rtol=1e-5)
    np.testing.assert_allclose(lm.predict(xv, verbose=0), km.predict(xv, verbose=0), rtol=1e-4, atol=1e-6)


def test_multi_output_fit_parity():
    def build(m):
        a = m.Input((6,), name="a")
        h = m.layers.Dense(8, activation="relu", name="h")(a)
        return m.Model(a, [m.layers.Dense(1, name="r")(h), m.layers.Dense(3, activation="softmax", name="c")(h)])

    x = RNG.normal(size=(64, 6)).astype("float32")
    yr, yc = RNG.normal(size=(64, 1)).astype("float32"), RNG.integers(0, 3, 64)
    km, lm = build(keras), build(lamina)
    lm.set_weights(km.get_weights())
    hist = {}
    for mod, m in (("k", km), ("l", lm)):
        m.compile("adam", ["mse", "sparse_categorical_crossentropy"], loss_weights=[0.3, 1.0], metrics=[["mae"], ["accuracy"]])
        hist[mod] = m.fit(x, [yr, yc], epochs=2, shuffle=False, verbose=0, sample_weight=np.linspace(0, 1, 64).astype("float32")).history
    assert sorted(hist["k"]) == sorted(hist["l"]) == ["c_accuracy", "c_loss", "loss", "r_loss", "r_mae"]
    for key in hist["k"]:
        np.testing.assert_allclose(hist["l"][key], hist["k"][key], rtol=1e-5, atol=1e-6)


def test_summary_text_parity(monkeypatch):
    monkeypatch.setattr("shutil.get_terminal_size", lambda *a, **k: os.terminal_size((80, 24)))
    texts = {}
    for mod, m in (("k", keras), ("l", lamina)):
        m.backend.clear_session()
        model = _model(m)
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(np.zeros((4, 6)), np.zeros(4), verbose=0)
        lines = []
        model.summary(print_fn=lines.append)
        texts[mod] = "\n".join(lines).strip()
    assert texts["l"] == texts["k"]


def test_weight_and_optimizer_variable_paths_parity():
    paths = {}
    for mod, m in (("k", keras), ("l", lamina)):
        m.backend.clear_session()
        model = _model(m)
        opt = m.optimizers.Adam(amsgrad=True)
        opt.build(model.trainable_weights)
        paths[mod] = ([w.path for w in model.weights], [(v.path, str(v.dtype)) for v in opt.variables])
    assert paths["l"] == paths["k"]


def test_summary_with_ops_parity(monkeypatch):
    monkeypatch.setattr("shutil.get_terminal_size", lambda *a, **k: os.terminal_size((80, 24)))
    texts = {}
    for mod, m in (("k", keras), ("l", lamina)):
        m.backend.clear_session()
        i = m.Input((5, 3))
        b = (m.ops.mean(i, axis=1) * 2.0)[:, :2]
        a = m.Input((2,), name="other")
        model = m.Model([i, a], m.layers.Dense(2)(m.layers.Add()([b, a])))
        lines = []
        model.summary(print_fn=lines.append)
        texts[mod] = "\n".join(lines).strip()
    assert texts["l"] == texts["k"]


def test_functional_layer_and_weight_order_parity():
    order = {}
    for mod, m in (("k", keras), ("l", lamina)):
        m.backend.clear_session()
        i = m.Input((3,), name="x")
        j = m.Input((4,), name="y")
        h = m.layers.Dense(2, name="dx")(i)
        z = m.layers.Dense(2, name="dz")(m.layers.Dense(5, name="dy")(j))
        shared = m.layers.Dense(2, name="shared")
        out = m.layers.Add(name="add")([shared(h), shared(z)])
        model = m.Model([i, j], [out, m.layers.Dense(1, name="aux")(z)])
        order[mod] = ([l.name for l in model.layers], [tuple(w.shape) for w in model.weights], model.output_names)
    assert order["l"] == order["k"]


def _two_input_model(m):
    a, b = m.Input((4,), name="a"), m.Input((2,), name="b")
    h = m.layers.Dense(8, activation="relu")(m.layers.Concatenate()([a, b]))
    return m.Model([a, b], m.layers.Dense(3, activation="softmax")(h))


FX = RNG.normal(size=(50, 4)).astype("float32")
FB = RNG.normal(size=(50, 2)).astype("float32")
FY = RNG.integers(0, 3, 50)
FSW = RNG.uniform(0.5, 2.0, 50).astype("float32")


def _four_feature_model(m):
    return m.Sequential([m.Input((4,)), m.layers.Dense(8, activation="relu"), m.layers.Dense(3, activation="softmax")])


def _batches(*arrays, size=16):
    # A finite generator (a fresh one per call, since each epoch drains it).
    for i in range(0, len(arrays[0]), size):
        yield tuple(a[i:i + size] for a in arrays)


def _dataset(m, weights=True):
    class Batches(m.utils.PyDataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            s = slice(i * 13, (i + 1) * 13)  # the last batch is smaller (11)
            return (FX[s], FY[s], FSW[s]) if weights else (FX[s], FY[s])

    return Batches()


# name: (model builder, fit(model, module) -> History)
FIT_OPTIONS = {
    "validation_split": (_model, lambda mod, m: mod.fit(np.c_[FX, FB], FY, batch_size=16, epochs=2,
                                                         validation_split=0.3, shuffle=False, verbose=0)),
    "validation_freq": (_model, lambda mod, m: mod.fit(np.c_[FX, FB], FY, batch_size=16, epochs=4, shuffle=False,
                                                        validation_data=(np.c_[FX, FB][:10], FY[:10]),
                                                        validation_freq=2, verbose=0)),
    "sample_weight": (_model, lambda mod, m: mod.fit(np.c_[FX, FB], FY, batch_size=16, epochs=2, shuffle=False,
                                                      sample_weight=FSW, verbose=0)),
    "class_weight": (_model, lambda mod, m: mod.fit(np.c_[FX, FB], FY, batch_size=16, epochs=2, shuffle=False,
                                                     class_weight={0: 0.5, 1: 1.0, 2: 2.0}, verbose=0)),
    "initial_epoch_and_steps": (_model, lambda mod, m: mod.fit(np.c_[FX, FB], FY, batch_size=8, epochs=4,
                                                                initial_epoch=2, steps_per_epoch=3, shuffle=False,
                                                                verbose=0)),
    "dict_inputs": (_two_input_model, lambda mod, m: mod.fit({"a": FX, "b": FB}, FY, batch_size=16, epochs=2,
                                                             shuffle=False, verbose=0)),
    "list_inputs_generator": (_two_input_model, lambda mod, m: mod.fit(
        (([a, b], y) for a, b, y in _batches(FX, FB, FY)), epochs=1, verbose=0)),
    "py_dataset_with_weights": (_four_feature_model, lambda mod, m: mod.fit(_dataset(m), epochs=2, shuffle=False,
                                                                             verbose=0)),
    "py_dataset_class_weight": (_four_feature_model, lambda mod, m: mod.fit(_dataset(m, weights=False), epochs=2,
                                                                             shuffle=False, verbose=0,
                                                                             class_weight={0: 0.5, 1: 1.0, 2: 3.0})),
}


@pytest.mark.parametrize("case", sorted(FIT_OPTIONS))
def test_fit_options_parity(case):
    build, fit = FIT_OPTIONS[case]
    km, lm = build(keras), build(lamina)
    lm.set_weights(km.get_weights())
    hist = {}
    for name, mod, m in (("k", km, keras), ("l", lm, lamina)):
        mod.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
        h = fit(mod, m)
        hist[name] = (h.epoch, h.params, h.history)
    assert hist["l"][:2] == hist["k"][:2]
    assert sorted(hist["l"][2]) == sorted(hist["k"][2])
    for key, values in hist["k"][2].items():
        np.testing.assert_allclose(hist["l"][2][key], values, rtol=1e-5, atol=1e-6, err_msg=key)
    for a, b in zip(km.get_weights(), lm.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)


def test_evaluate_return_dict_and_on_batch_parity():
    km, lm = _two_input_model(keras), _two_input_model(lamina)
    lm.set_weights(km.get_weights())
    out = {}
    for name, mod in (("k", km), ("l", lm)):
        mod.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        out[name] = [
            mod.evaluate([FX, FB], FY, batch_size=16, verbose=0, return_dict=True),
            mod.train_on_batch([FX, FB], FY, sample_weight=FSW, return_dict=True),
            mod.test_on_batch([FX, FB], FY, return_dict=True),
            mod.train_on_batch([FX, FB], FY),
            mod.predict_on_batch([FX, FB]),
            mod.predict([FX, FB], batch_size=7, verbose=0),
        ]
    for a, b in zip(out["k"], out["l"]):
        if isinstance(a, dict):
            assert sorted(a) == sorted(b)
            a, b = [a[k] for k in sorted(a)], [b[k] for k in sorted(a)]
        np.testing.assert_allclose(np.asarray(b, "float32"), np.asarray(knp(a) if not isinstance(a, list) else a,
                                                                          "float32"), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make_data", [
    lambda m: dict(x=np.c_[FX, FB], y=FY, sample_weight=FSW),
    lambda m: dict(x=_dataset(m)),
], ids=["arrays", "py_dataset"])
def test_class_weight_with_sample_weight_is_refused_like_keras(make_data):
    errors = {}
    for m in (keras, lamina):
        model = _model(m) if not isinstance(make_data(m)["x"], m.utils.PyDataset) else _four_feature_model(m)
        model.compile("sgd", "sparse_categorical_crossentropy")
        with pytest.raises(ValueError) as err:
            model.fit(**make_data(m), class_weight={0: 1.0, 1: 2.0, 2: 1.0}, verbose=0)
        errors[m.__name__] = str(err.value)
    assert errors["lamina"] == errors["keras"]


# (optimizer, kwargs given the module: schedules are built from its own classes)
OPTIMIZER_OPTIONS = {
    "adam_clipnorm": ("Adam", lambda m: dict(learning_rate=0.01, clipnorm=0.1)),
    "rmsprop_clipvalue": ("RMSprop", lambda m: dict(learning_rate=0.01, clipvalue=0.05)),
    "sgd_weight_decay": ("SGD", lambda m: dict(learning_rate=0.1, momentum=0.5, weight_decay=0.1)),
    "lion_weight_decay": ("Lion", lambda m: dict(learning_rate=0.01, weight_decay=0.05, beta_1=0.8)),
    "nadam_clip_decay": ("Nadam", lambda m: dict(learning_rate=0.01, clipnorm=0.5, weight_decay=0.01)),
    "adadelta_rho": ("Adadelta", lambda m: dict(learning_rate=0.5, rho=0.9, epsilon=1e-6)),
    "adagrad_accumulator": ("Adagrad", lambda m: dict(learning_rate=0.1, initial_accumulator_value=0.5)),
    "adamax_global_clipnorm": ("Adamax", lambda m: dict(learning_rate=0.01, global_clipnorm=0.3)),
    "adamw_cosine_warmup": ("AdamW", lambda m: dict(
        learning_rate=m.optimizers.schedules.CosineDecay(0.0, 10, warmup_target=0.05, warmup_steps=3),
        weight_decay=0.2)),
    "sgd_piecewise_nesterov": ("SGD", lambda m: dict(
        learning_rate=m.optimizers.schedules.PiecewiseConstantDecay([2], [0.1, 0.01]), momentum=0.9,
        nesterov=True, clipvalue=0.2)),
    "adam_exponential_amsgrad": ("Adam", lambda m: dict(
        learning_rate=m.optimizers.schedules.ExponentialDecay(0.02, 2, 0.5, staircase=True), amsgrad=True,
        global_clipnorm=1.0)),
    "adam_ema": ("Adam", lambda m: dict(learning_rate=0.01, use_ema=True, ema_momentum=0.5,
                                        ema_overwrite_frequency=2)),
    "adam_accumulation": ("Adam", lambda m: dict(learning_rate=0.01, gradient_accumulation_steps=2)),
}


@pytest.mark.parametrize("case", sorted(OPTIMIZER_OPTIONS))
def test_optimizer_options_parity(case):
    # Two variables (so global clipping spans them), six steps.
    name, kwargs = OPTIMIZER_OPTIONS[case]
    w0 = [RNG.normal(size=(3, 4)).astype("float32"), RNG.normal(size=(4,)).astype("float32")]
    grads = [[RNG.normal(size=w.shape).astype("float32") for w in w0] for _ in range(6)]
    out = {}
    for m in (keras, lamina):
        opt = getattr(m.optimizers, name)(**kwargs(m))
        variables = [m.Variable(w.copy()) for w in w0]
        for step in grads:
            opt.apply_gradients([(m.ops.convert_to_tensor(g), v) for g, v in zip(step, variables)])
        out[m.__name__] = ([knp(v) for v in variables], int(knp(opt.iterations)))
    for a, b in zip(out["keras"][0], out["lamina"][0]):
        # atol: lamina evaluates schedules in float64, Keras in float32.
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-5)
    assert out["lamina"][1] == out["keras"][1]


SCHEDULES = [
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=3, decay_rate=0.5, staircase=True)),
    ("PiecewiseConstantDecay", dict(boundaries=[2, 5], values=[1.0, 0.5, 0.1])),
    ("CosineDecay", dict(initial_learning_rate=0.0, decay_steps=10, alpha=0.1, warmup_target=0.2, warmup_steps=4)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=3, t_mul=2.0, m_mul=0.8, alpha=0.1)),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=5, end_learning_rate=0.01, power=0.5, cycle=True)),
    ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=2, decay_rate=0.5, staircase=True)),
]


@pytest.mark.parametrize("case", range(len(SCHEDULES)), ids=[s[0] for s in SCHEDULES])
def test_schedule_parity(case):
    name, kwargs = SCHEDULES[case]
    k = getattr(keras.optimizers.schedules, name)(**kwargs)
    l = getattr(lamina.optimizers.schedules, name)(**kwargs)
    for step in range(16):
        np.testing.assert_allclose(float(np.asarray(l(step))), float(knp(k(step))), rtol=1e-6, atol=1e-9)
    assert l.get_config() == k.get_config()


def test_optimizer_default_configs_match_keras():
    for name in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam", "Lion"):
        kc, lc = getattr(keras.optimizers, name)().get_config(), getattr(lamina.optimizers, name)().get_config()
        kc.pop("name"), lc.pop("name")
        assert lc == kc, name


@pytest.mark.parametrize("name,kwargs", [
    ("IoU", {"num_classes": 3, "target_class_ids": [0, 2]}), ("MeanIoU", {"num_classes": 3}), ("BinaryIoU", {}),
    ("OneHotIoU", {"num_classes": 3, "target_class_ids": [1]}), ("OneHotMeanIoU", {"num_classes": 3}),
    ("SparseTopKCategoricalAccuracy", {}), ("F1Score", {"average": "macro"}), ("AUC", {"curve": "PR"}),
])
def test_metric_config_keys_match_keras(name, kwargs):
    kc = getattr(keras.metrics, name)(**kwargs).get_config()
    lc = getattr(lamina.metrics, name)(**kwargs).get_config()
    assert sorted(lc) == sorted(kc)
    for key in set(kc) - {"name", "dtype"}:
        a, b = kc[key], lc[key]
        assert (list(a) if isinstance(a, tuple) else a) == (list(b) if isinstance(b, tuple) else b), key
