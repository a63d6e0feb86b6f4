"""Losses against NumPy transcriptions of Keras's formulas, reductions,
sample weights and errors."""

import numpy as np
import pytest

import lamina
from lamina import losses

EPS = 1e-7
rng = np.random.default_rng(0)
YT = rng.uniform(0.1, 1.0, size=(4, 3)).astype("float32")
YP = rng.uniform(0.1, 1.0, size=(4, 3)).astype("float32")
LOGITS = rng.normal(size=(4, 3)).astype("float32")
ONEHOT = np.eye(3, dtype="float32")[[0, 2, 1, 2]]
LABELS = np.array([0, 2, 1, 2])
BIN = np.array([[0, 1, 1], [1, 0, 0], [1, 1, 0], [0, 0, 1]], dtype="float32")
PROBS = np.exp(LOGITS) / np.exp(LOGITS).sum(-1, keepdims=True)
SIG = 1 / (1 + np.exp(-LOGITS))


def val(x):
    return np.asarray(x.numpy(), dtype=np.float64)


def softplus(x):
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)


CASES = [
    (losses.MeanSquaredError(), YT, YP, ((YT - YP) ** 2).mean(-1)),
    (losses.MeanAbsoluteError(), YT, YP, np.abs(YT - YP).mean(-1)),
    (losses.MeanAbsolutePercentageError(), YT, YP, 100 * np.abs((YT - YP) / np.maximum(np.abs(YT), EPS)).mean(-1)),
    (losses.MeanSquaredLogarithmicError(), YT, YP, ((np.log(YP + 1) - np.log(YT + 1)) ** 2).mean(-1)),
    (losses.Huber(delta=0.2), YT, YP, np.where(np.abs(YP - YT) <= 0.2, 0.5 * (YP - YT) ** 2, 0.2 * np.abs(YP - YT) - 0.02).mean(-1)),
    (losses.LogCosh(), YT, YP, np.log(np.cosh(YP - YT)).mean(-1)),
    (losses.Poisson(), YT, YP, (YP - YT * np.log(YP + EPS)).mean(-1)),
    (losses.KLDivergence(), YT, YP, (YT * np.log(YT / YP)).sum(-1)),
    (losses.CosineSimilarity(), YT, YP, -(YT * YP).sum(-1) / np.linalg.norm(YT, axis=-1) / np.linalg.norm(YP, axis=-1)),
    (losses.Hinge(), BIN, LOGITS, np.maximum(1 - (2 * BIN - 1) * LOGITS, 0).mean(-1)),
    (losses.SquaredHinge(), BIN, LOGITS, (np.maximum(1 - (2 * BIN - 1) * LOGITS, 0) ** 2).mean(-1)),
    (losses.BinaryCrossentropy(), BIN, SIG, -(BIN * np.log(SIG) + (1 - BIN) * np.log(1 - SIG)).mean(-1)),
    (losses.BinaryCrossentropy(from_logits=True), BIN, LOGITS, (softplus(LOGITS) - BIN * LOGITS).mean(-1)),
    (
        losses.BinaryCrossentropy(label_smoothing=0.2),
        BIN, SIG,
        -((BIN * 0.8 + 0.1) * np.log(SIG) + (1 - (BIN * 0.8 + 0.1)) * np.log(1 - SIG)).mean(-1),
    ),
    (losses.CategoricalCrossentropy(), ONEHOT, PROBS, -(ONEHOT * np.log(PROBS)).sum(-1)),
    (losses.CategoricalCrossentropy(from_logits=True), ONEHOT, LOGITS, -(ONEHOT * np.log(PROBS)).sum(-1)),
    (
        losses.CategoricalCrossentropy(label_smoothing=0.3),
        ONEHOT, PROBS,
        -((ONEHOT * 0.7 + 0.1) * np.log(PROBS)).sum(-1),
    ),
    (losses.SparseCategoricalCrossentropy(), LABELS, PROBS, -np.log(PROBS[np.arange(4), LABELS])),
    (losses.SparseCategoricalCrossentropy(from_logits=True), LABELS[:, None], LOGITS, -np.log(PROBS[np.arange(4), LABELS])),
    (
        losses.BinaryFocalCrossentropy(gamma=2.0),
        BIN, SIG,
        ((1 - (BIN * SIG + (1 - BIN) * (1 - SIG))) ** 2 * -(BIN * np.log(SIG) + (1 - BIN) * np.log(1 - SIG))).mean(-1),
    ),
    (
        losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.3, gamma=1.0, from_logits=True),
        BIN, LOGITS,
        (
            (BIN * 0.3 + (1 - BIN) * 0.7)
            * (1 - (BIN * SIG + (1 - BIN) * (1 - SIG)))
            * -(BIN * np.log(SIG) + (1 - BIN) * np.log(1 - SIG))
        ).mean(-1),
    ),
]


@pytest.mark.parametrize("case", range(len(CASES)), ids=[c[0].__class__.__name__ for c in CASES])
def test_loss_matches_numpy(case):
    loss, yt, yp, per_sample = CASES[case]
    np.testing.assert_allclose(val(loss(yt, yp)), per_sample.mean(), rtol=2e-5, atol=1e-6)
    # reductions and sample weights
    sw = np.array([1.0, 0.0, 2.0, 0.5], dtype="float32")
    cfg = loss.get_config()
    none = loss.__class__.from_config({**cfg, "reduction": "none"})
    np.testing.assert_allclose(val(none(yt, yp)), per_sample, rtol=2e-5, atol=1e-6)
    total = loss.__class__.from_config({**cfg, "reduction": "sum"})
    np.testing.assert_allclose(val(total(yt, yp, sample_weight=sw)), (per_sample * sw).sum(), rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(val(loss(yt, yp, sample_weight=sw)), (per_sample * sw).sum() / 4, rtol=2e-5, atol=1e-6)
    mws = loss.__class__.from_config({**cfg, "reduction": "mean_with_sample_weight"})
    np.testing.assert_allclose(val(mws(yt, yp, sample_weight=sw)), (per_sample * sw).sum() / sw.sum(), rtol=2e-5, atol=1e-6)


def test_functions_and_aliases():
    np.testing.assert_allclose(val(losses.mse(YT, YP)), ((YT - YP) ** 2).mean(-1), rtol=1e-6)
    assert losses.get("mse") is losses.mean_squared_error
    assert losses.get("sparse_categorical_crossentropy") is losses.sparse_categorical_crossentropy
    assert isinstance(losses.get("MeanSquaredError"), losses.MeanSquaredError)
    with pytest.raises(ValueError, match="Could not interpret loss identifier"):
        losses.get("mean_squared_errr")
    assert losses.MeanSquaredError().name == "mean_squared_error"
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="avg")


def test_sparse_labels_out_of_range_raise():
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\).*got label 3"):
        losses.SparseCategoricalCrossentropy()(np.array([0, 1, 3, 2]), PROBS)
    with pytest.raises(ValueError, match="labels must be in"):
        losses.sparse_categorical_crossentropy(np.array([-1, 0, 0, 0]), PROBS)
    with pytest.raises(ValueError, match="integer class labels"):
        losses.sparse_categorical_crossentropy(np.array([0.5, 0, 0, 0]), PROBS)
    # ignore_class masks the padding label out of the mean
    y = np.array([0, -1, 1, -1])
    got = val(losses.SparseCategoricalCrossentropy(ignore_class=-1)(y, PROBS))
    np.testing.assert_allclose(got, -(np.log(PROBS[0, 0]) + np.log(PROBS[2, 1])) / 2, rtol=1e-5)


def test_shape_mismatch_errors():
    with pytest.raises(ValueError, match="must have the same shape"):
        losses.CategoricalCrossentropy()(LABELS, PROBS)
    with pytest.raises(ValueError, match="same shape up until the last dimension"):
        losses.SparseCategoricalCrossentropy()(np.zeros((4, 2)), PROBS)
    with pytest.raises(ValueError, match="incompatible shapes"):
        losses.MeanSquaredError()(np.zeros((4, 2)), np.zeros((4, 3)))


def test_gradients_flow_through_losses():
    logits = lamina.Variable(LOGITS, name="logits")
    with lamina.GradientTape() as tape:
        loss = losses.SparseCategoricalCrossentropy(from_logits=True)(LABELS, logits)
    g = tape.gradient(loss, logits).numpy()
    np.testing.assert_allclose(g, (PROBS - ONEHOT) / 4, rtol=1e-4, atol=1e-6)
