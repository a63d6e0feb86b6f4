"""FBetaScore and F1Score."""

import numpy as np

from lamina.backend.config import epsilon
from lamina.metrics import metrics_utils as mu
from lamina.metrics.metric import Metric, scalar, to_numpy


class FBetaScore(Metric):
    """F-beta score for multi-class / multi-label predictions of shape
    `(batch, num_classes)`.

    Args:
        average: None (per class), "micro", "macro" or "weighted".
        beta: weight of recall relative to precision.
        threshold: predictions above it are positive; None: the argmax of
            each row is positive.
    """

    _direction = "up"

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(
                "Invalid `average` argument value. Expected one of: {None, 'micro', 'macro', 'weighted'}. "
                f"Received: average={average}"
            )
        if not isinstance(beta, float) or beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be a Python float > 0. Received: beta={beta}")
        if threshold is not None and (not isinstance(threshold, float) or threshold > 1.0 or threshold <= 0.0):
            raise ValueError(
                f"Invalid `threshold` argument value. It should be a Python float in the range ]0, 1]. Received: threshold={threshold}"
            )
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, num_classes):
        shape = () if self.average == "micro" else (num_classes,)
        self.true_positives = self.add_variable(shape, initializer="zeros", name="true_positives")
        self.false_positives = self.add_variable(shape, initializer="zeros", name="false_positives")
        self.false_negatives = self.add_variable(shape, initializer="zeros", name="false_negatives")
        self.intermediate_weights = self.add_variable(shape, initializer="zeros", name="intermediate_weights")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = to_numpy(y_true).astype(np.float64)
        y_pred = to_numpy(y_pred).astype(np.float64)
        if y_true.ndim != 2 or y_pred.ndim != 2:
            raise ValueError(
                f"FBetaScore expects 2D inputs with shape (batch_size, output_dim). Received input shapes: "
                f"y_pred.shape={y_pred.shape} and y_true.shape={y_true.shape}."
            )
        if not self._built:
            self._build(y_pred.shape[-1])
        if self.threshold is None:
            thr = np.max(y_pred, axis=-1, keepdims=True)
            y_pred = (y_pred >= thr) & (np.abs(y_pred) > 1e-9)
        else:
            y_pred = y_pred > self.threshold
        y_pred = y_pred.astype(np.float64)
        if sample_weight is not None:
            sw = to_numpy(sample_weight).astype(np.float64)
            if sw.ndim == 1:
                sw = sw[:, None]
        else:
            sw = None

        def wsum(val):
            if sw is not None:
                val = val * sw
            return np.sum(val, axis=self.axis)

        self.true_positives.numpy()[...] += wsum(y_pred * y_true)
        self.false_positives.numpy()[...] += wsum(y_pred * (1 - y_true))
        self.false_negatives.numpy()[...] += wsum((1 - y_pred) * y_true)
        self.intermediate_weights.numpy()[...] += wsum(y_true)

    def result(self):
        if not self._built:
            return scalar(0.0, self.dtype)
        tp = self.true_positives.numpy().astype(np.float64)
        precision = mu.divide_no_nan(tp, tp + self.false_positives.numpy())
        recall = mu.divide_no_nan(tp, tp + self.false_negatives.numpy())
        mul_value = precision * recall
        add_value = (self.beta**2) * precision + recall
        f = (1 + self.beta**2) * (mul_value / (add_value + epsilon()))
        if self.average == "weighted":
            w = self.intermediate_weights.numpy().astype(np.float64)
            weights = w / (np.sum(w) + epsilon())
            f = np.sum(f * weights)
        elif self.average is not None:
            f = np.mean(f)
        return scalar(f, self.dtype)

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        return {**super().get_config(), "beta": self.beta, "average": self.average, "threshold": self.threshold}


class F1Score(FBetaScore):
    """F1 score: the harmonic mean of precision and recall (beta = 1)."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
