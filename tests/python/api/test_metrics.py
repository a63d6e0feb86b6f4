"""Stateful metrics against NumPy references (and Keras docstring values)."""

import numpy as np
import pytest

from lamina import metrics


def r(m):
    return float(np.asarray(m.result().numpy()))


def test_mean_sum_and_reset():
    m = metrics.Mean()
    m.update_state([1, 3, 5, 7])
    assert r(m) == pytest.approx(4.0)
    m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    assert r(m) == pytest.approx((16 + 4) / 6)
    m.reset_state()
    assert r(m) == 0.0
    s = metrics.Sum()
    s.update_state([1, 3, 5, 7])
    assert r(s) == 16.0
    assert [v.name for v in m.variables] == ["total", "count"]


def test_accuracies():
    m = metrics.Accuracy()
    m.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]])
    assert r(m) == pytest.approx(0.75)
    m = metrics.BinaryAccuracy()
    m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])
    assert r(m) == pytest.approx(0.75)
    m = metrics.CategoricalAccuracy()
    m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    assert r(m) == pytest.approx(0.5)
    m = metrics.SparseCategoricalAccuracy()
    m.update_state([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])
    assert r(m) == pytest.approx(0.5)
    m.update_state([2, 1], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]], sample_weight=[0.7, 0.3])
    assert r(m) == pytest.approx((1 + 0.3) / 3)
    m = metrics.TopKCategoricalAccuracy(k=1)
    m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    assert r(m) == pytest.approx(0.5)
    m = metrics.SparseTopKCategoricalAccuracy(k=1)
    m.update_state([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    assert r(m) == pytest.approx(0.5)
    m = metrics.SparseTopKCategoricalAccuracy(k=2)
    m.update_state([2, 2], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    assert r(m) == pytest.approx(0.5)


def test_confusion_counts_precision_recall():
    yt = [0, 1, 1, 1, 0]
    yp = [0.6, 0.4, 0.7, 0.9, 0.1]
    for cls, expected in [
        (metrics.TruePositives, 2), (metrics.FalsePositives, 1), (metrics.TrueNegatives, 1), (metrics.FalseNegatives, 1),
    ]:
        m = cls()
        m.update_state(yt, yp)
        assert r(m) == expected
    m = metrics.TruePositives(thresholds=[0.3, 0.8])
    m.update_state(yt, yp)
    np.testing.assert_array_equal(m.result().numpy(), [3, 1])
    p = metrics.Precision()
    p.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    assert r(p) == pytest.approx(2 / 3)
    p.reset_state()
    p.update_state([0, 1, 1, 1], [1, 0, 1, 1], sample_weight=[0, 0, 1, 0])
    assert r(p) == pytest.approx(1.0)
    p = metrics.Precision(top_k=2)
    p.update_state([0, 0, 1, 1], [1, 1, 1, 1])
    assert r(p) == pytest.approx(0.0)
    p = metrics.Precision(class_id=1)
    p.update_state([[0, 1], [1, 0]], [[0.2, 0.8], [0.3, 0.7]])
    assert r(p) == pytest.approx(0.5)
    rec = metrics.Recall()
    rec.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    assert r(rec) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="Predictions must be"):
        rec.update_state([0, 1], [2.0, -1.0])


def test_auc_roc_and_pr():
    m = metrics.AUC(num_thresholds=3)
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    assert r(m) == pytest.approx(0.75)
    rng = np.random.default_rng(0)
    yt = rng.integers(0, 2, 2000)
    yp = np.clip(yt * 0.3 + rng.uniform(0, 0.7, 2000), 0, 1)
    m = metrics.AUC(num_thresholds=1000)
    m.update_state(yt, yp)
    pos, neg = yp[yt == 1], yp[yt == 0]
    exact = (pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean()
    assert r(m) == pytest.approx(exact, abs=2e-3)
    pr = metrics.AUC(curve="PR", num_thresholds=1000)
    pr.update_state(yt, yp)
    order = np.argsort(-yp)
    tp = np.cumsum(yt[order])
    precision = tp / np.arange(1, len(yt) + 1)
    ap = np.sum(precision * yt[order]) / yt.sum()
    assert r(pr) == pytest.approx(ap, abs=1e-2)
    logits = metrics.AUC(from_logits=True)
    logits.update_state([0, 1], [-3.0, 3.0])
    assert r(logits) == pytest.approx(1.0)
    ml = metrics.AUC(multi_label=True)
    ml.update_state([[0, 1], [1, 0], [1, 1]], [[0.1, 0.9], [0.8, 0.3], [0.7, 0.6]])
    assert r(ml) == pytest.approx(1.0)


def test_f1_score():
    yt = np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]], np.float32)
    yp = np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]], np.float32)
    m = metrics.F1Score(threshold=0.5)
    m.update_state(yt, yp)
    np.testing.assert_allclose(m.result().numpy(), [0.5, 0.8, 0.6666667], rtol=1e-5)
    for avg in ("micro", "macro", "weighted"):
        m = metrics.F1Score(average=avg, threshold=0.5)
        m.update_state(yt, yp)
        pred = yp > 0.5
        tp = (pred * yt).sum(0)
        fp = (pred * (1 - yt)).sum(0)
        fn = ((1 - pred) * yt).sum(0)
        if avg == "micro":
            tp, fp, fn = tp.sum(), fp.sum(), fn.sum()
        p = tp / (tp + fp)
        rr = tp / (tp + fn)
        f = 2 * p * rr / (p + rr + 1e-7)
        if avg == "macro":
            f = f.mean()
        elif avg == "weighted":
            f = (f * yt.sum(0) / yt.sum()).sum()
        assert r(m) == pytest.approx(float(f), rel=1e-5)


def test_regression_metrics():
    yt = np.array([[0.0, 1.0], [0.0, 0.0]])
    yp = np.array([[1.0, 1.0], [0.0, 0.0]])
    m = metrics.MeanSquaredError()
    m.update_state(yt, yp)
    assert r(m) == pytest.approx(0.25)
    m = metrics.MeanAbsoluteError()
    m.update_state(yt, yp)
    assert r(m) == pytest.approx(0.25)
    m = metrics.RootMeanSquaredError()
    m.update_state(yt, yp)
    assert r(m) == pytest.approx(0.5)
    m = metrics.R2Score()
    m.update_state([[1], [4], [3]], [[2], [4], [4]])
    assert r(m) == pytest.approx(0.57142854)
    m = metrics.CosineSimilarity()
    m.update_state([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]])
    assert r(m) == pytest.approx(0.5, rel=1e-5)


def test_mean_iou_and_confusion_matrix():
    m = metrics.MeanIoU(num_classes=2)
    m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    assert r(m) == pytest.approx(1 / 3)
    m.reset_state()
    m.update_state([0, 0, 1, 1], [0, 1, 0, 1], sample_weight=[0.3, 0.3, 0.3, 0.1])
    assert r(m) == pytest.approx((0.3 / 0.9 + 0.1 / 0.7) / 2, rel=1e-5)
    cm = metrics.confusion_matrix([1, 2, 4], [2, 2, 4], num_classes=5)
    expected = np.zeros((5, 5), int)
    expected[1, 2] = expected[2, 2] = expected[4, 4] = 1
    np.testing.assert_array_equal(cm.numpy(), expected)
    assert cm.dtype == "int32"
    with pytest.raises(ValueError, match="smaller than num_classes"):
        metrics.confusion_matrix([5], [0], num_classes=3)


def test_iou_variants():
    # Class 0: tp 1, fp 1, fn 1 -> 1/3; class 1: tp 1, fp 1, fn 1 -> 1/3; class 2: tp 1 -> 1.
    y_true, y_pred = [0, 0, 1, 1, 2], [0, 1, 1, 0, 2]
    m = metrics.IoU(num_classes=3, target_class_ids=[0, 2])
    m.update_state(y_true, y_pred)
    assert r(m) == pytest.approx((1 / 3 + 1) / 2)
    one_hot = metrics.OneHotMeanIoU(num_classes=3)
    one_hot.update_state(np.eye(3)[y_true], np.eye(3)[y_pred] * 0.8 + 0.05)
    assert r(one_hot) == pytest.approx((1 / 3 + 1 / 3 + 1) / 3)
    binary = metrics.BinaryIoU(target_class_ids=[1], threshold=0.5)
    binary.update_state([0, 1, 1, 0], [0.6, 0.7, 0.2, 0.1])  # class 1: tp 1, fp 1, fn 1
    assert r(binary) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="out of range"):
        metrics.IoU(num_classes=2, target_class_ids=[2])


def test_metric_get_and_config():
    assert isinstance(metrics.get("AUC"), metrics.AUC)
    assert metrics.get("mae") is metrics.mean_absolute_error
    with pytest.raises(ValueError, match="Could not interpret metric"):
        metrics.get("acuracy")
    p = metrics.Precision(thresholds=0.3, name="p")
    clone = metrics.Precision.from_config(p.get_config())
    assert clone.name == "p" and clone.thresholds == [0.3]
    m = metrics.Mean(name="m")
    assert m(np.array([2.0, 4.0])).numpy() == pytest.approx(3.0)


def test_loss_metrics_wrappers():
    m = metrics.SparseCategoricalCrossentropy()
    probs = np.array([[0.9, 0.1], [0.2, 0.8]])
    m.update_state([0, 1], probs)
    assert r(m) == pytest.approx(-np.log([0.9, 0.8]).mean(), rel=1e-5)
    m = metrics.BinaryCrossentropy()
    m.update_state([[1.0], [0.0]], [[0.9], [0.2]])
    assert r(m) == pytest.approx(-(np.log(0.9) + np.log(0.8)) / 2, rel=1e-5)
