"""Accuracy metrics (functions return per-sample matches, classes average them)."""

import numpy as np

from lamina.metrics.metric import scalar, to_numpy
from lamina.metrics.reduction_metrics import MeanMetricWrapper, _squeeze_or_expand


def _np_pair(y_true, y_pred):
    y_pred = to_numpy(y_pred)
    y_true = to_numpy(y_true)
    return y_true, y_pred


def accuracy(y_true, y_pred):
    """1.0 where y_true == y_pred exactly."""
    y_true, y_pred = _np_pair(y_true, y_pred)
    y_true, y_pred = _squeeze_or_expand(y_true, y_pred)
    return scalar((y_true == y_pred).astype(np.float32))


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where (y_pred > threshold) equals y_true."""
    y_true, y_pred = _np_pair(y_true, y_pred)
    y_true, y_pred = _squeeze_or_expand(y_true, y_pred)
    pred = (y_pred > threshold).astype(y_true.dtype)
    return scalar((y_true == pred).astype(np.float32))


def categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) equals argmax(y_true) (one-hot labels)."""
    y_true, y_pred = _np_pair(y_true, y_pred)
    reshape = False
    true_org_shape = y_true.shape
    y_true = np.argmax(y_true, axis=-1)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = np.squeeze(y_true, -1)
        reshape = True
    pred = np.argmax(y_pred, axis=-1)
    matches = (y_true == pred).astype(np.float32)
    if reshape:
        matches = matches.reshape(true_org_shape[:-1])
    return scalar(matches)


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) equals the integer label."""
    y_true, y_pred = _np_pair(y_true, y_pred)
    reshape = False
    org_shape = y_true.shape
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = np.squeeze(y_true, -1)
        reshape = True
    pred = np.argmax(y_pred, axis=-1)
    matches = (y_true.astype(np.float64) == pred.astype(np.float64)).astype(np.float32)
    if reshape:
        matches = matches.reshape(org_shape)
    return scalar(matches)


def _in_top_k(labels, scores, k):
    labels = labels.astype(np.int64).reshape(-1)
    scores = scores.reshape(-1, scores.shape[-1])
    target = scores[np.arange(len(labels)), labels]
    greater = np.sum(scores > target[:, None], axis=-1)
    return greater < k


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the true class (argmax of one-hot labels) is in the top k."""
    y_true, y_pred = _np_pair(y_true, y_pred)
    labels = np.argmax(y_true, axis=-1)
    shape = labels.shape
    return scalar(_in_top_k(labels, y_pred, k).astype(np.float32).reshape(shape))


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the integer label is among the top k predictions."""
    y_true, y_pred = _np_pair(y_true, y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = np.squeeze(y_true, -1)
    if from_sorted_ids:
        hits = np.any(y_pred[..., :k] == y_true[..., None], axis=-1)
        return scalar(hits.astype(np.float32))
    shape = y_true.shape
    return scalar(_in_top_k(y_true, y_pred, k).astype(np.float32).reshape(shape))


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly."""

    _direction = "up"

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(fn=accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often (y_pred > threshold) matches binary labels."""

    _direction = "up"

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(fn=binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold


class CategoricalAccuracy(MeanMetricWrapper):
    """How often argmax(y_pred) matches one-hot labels."""

    _direction = "up"

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(fn=categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often argmax(y_pred) matches integer labels."""

    _direction = "up"

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(fn=sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the (one-hot) target is in the top `k` predictions."""

    _direction = "up"

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(fn=top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer target is in the top `k` predictions."""

    _direction = "up"

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None, from_sorted_ids=False):
        super().__init__(fn=sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k, from_sorted_ids=from_sorted_ids)
        self.k = k

    def get_config(self):
        config = super().get_config()
        if not config.get("from_sorted_ids"):
            del config["from_sorted_ids"]  # as Keras: only listed when set
        return config
