"""Shared helpers: confusion-matrix accumulation and `confusion_matrix`."""

import numpy as np

from lamina import _core
from lamina.backend.config import epsilon
from lamina.metrics.metric import to_numpy


def confusion_matrix(labels, predictions, num_classes=None, weights=None, dtype="int32"):
    """The confusion matrix of integer `labels` and `predictions` (rows:
    labels, columns: predictions), as `tf.math.confusion_matrix`."""
    labels = to_numpy(labels).reshape(-1).astype(np.int64)
    predictions = to_numpy(predictions).reshape(-1).astype(np.int64)
    if labels.shape != predictions.shape:
        raise ValueError(
            f"labels and predictions must have the same number of elements: {labels.size} vs {predictions.size}"
        )
    if labels.size and (labels.min() < 0 or predictions.min() < 0):
        raise ValueError("labels and predictions must be non-negative class indices")
    if num_classes is None:
        num_classes = int(max(labels.max(initial=-1), predictions.max(initial=-1)) + 1)
    elif labels.size and (labels.max() >= num_classes or predictions.max() >= num_classes):
        raise ValueError(
            f"labels and predictions must be smaller than num_classes={num_classes}; got max label "
            f"{labels.max()} and max prediction {predictions.max()}"
        )
    w = None if weights is None else np.broadcast_to(to_numpy(weights).reshape(-1), labels.shape)
    cm = np.bincount(labels * num_classes + predictions, weights=w, minlength=num_classes * num_classes)
    cm = cm.reshape(num_classes, num_classes)
    np_dtype = {"int32": np.int32, "int64": np.int64, "float32": np.float32, "float64": np.float64}[dtype]
    return _core.convert_to_tensor(cm.astype(np_dtype), None, True)


def parse_thresholds(thresholds, default=0.5):
    if thresholds is None:
        return [default], True
    if np.ndim(thresholds) == 0:
        t = [float(thresholds)]
        single = True
    else:
        t = [float(v) for v in thresholds]
        single = False
    for v in t:
        if not 0 <= v <= 1:
            raise ValueError(f"Threshold values must be in [0, 1]. Received: {thresholds}")
    return t, single


def prepare_confusion_inputs(y_true, y_pred, sample_weight=None, top_k=None, class_id=None):
    """Flattened (labels bool, predictions float, weights) arrays."""
    y_true = to_numpy(y_true).astype(np.float64)
    y_pred = to_numpy(y_pred).astype(np.float64)
    if y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        y_pred = np.squeeze(y_pred, -1)
    elif y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        y_true = np.squeeze(y_true, -1)
    if y_pred.size and (y_pred.min() < 0 or y_pred.max() > 1):
        raise ValueError(
            "Predictions must be >= 0 and <= 1 for confusion-matrix metrics (apply a sigmoid/softmax, or "
            f"use from_logits where available). Got values in [{y_pred.min()}, {y_pred.max()}]"
        )
    if top_k is not None:
        k = int(top_k)
        order = np.argsort(-y_pred, axis=-1, kind="stable")[..., :k]
        keep = np.zeros(y_pred.shape, dtype=bool)
        np.put_along_axis(keep, order, True, axis=-1)
        y_pred = np.where(keep, y_pred, -np.inf)
    if class_id is not None:
        y_true = y_true[..., class_id]
        y_pred = y_pred[..., class_id]
    if sample_weight is not None:
        w = to_numpy(sample_weight).astype(np.float64)
        while w.ndim < y_pred.ndim:
            w = np.expand_dims(w, -1)
        w = np.broadcast_to(w, y_pred.shape)
    else:
        w = np.ones_like(y_pred)
    return y_true.reshape(-1) > 0.5, y_pred.reshape(-1), w.reshape(-1)


def update_confusion(tp, fp, tn, fn, labels, preds, weights, thresholds):
    """Adds counts for each threshold (prediction > threshold is positive)."""
    t = np.asarray(thresholds)[:, None]
    pos = preds[None, :] > t
    lab = labels[None, :]
    w = weights[None, :]
    if tp is not None:
        tp += np.sum(w * (pos & lab), axis=1)
    if fp is not None:
        fp += np.sum(w * (pos & ~lab), axis=1)
    if tn is not None:
        tn += np.sum(w * (~pos & ~lab), axis=1)
    if fn is not None:
        fn += np.sum(w * (~pos & lab), axis=1)


def divide_no_nan(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return np.where(b == 0, 0.0, a / np.where(b == 0, 1.0, b))


EPSILON = epsilon
