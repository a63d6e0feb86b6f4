"""TruePositives..., Precision, Recall, AUC."""

import numpy as np

from lamina.backend.config import epsilon
from lamina.metrics import metrics_utils as mu
from lamina.metrics.metric import Metric, scalar, to_numpy


class _ConfusionMatrixConditionCount(Metric):
    _which = None

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds, self._single = mu.parse_thresholds(thresholds)
        self.accumulator = self.add_variable(shape=(len(self.thresholds),), initializer="zeros", name="accumulator")

    def update_state(self, y_true, y_pred, sample_weight=None):
        labels, preds, w = mu.prepare_confusion_inputs(y_true, y_pred, sample_weight)
        acc = np.zeros(len(self.thresholds))
        kw = {k: None for k in ("tp", "fp", "tn", "fn")}
        kw[self._which] = acc
        mu.update_confusion(kw["tp"], kw["fp"], kw["tn"], kw["fn"], labels, preds, w, self.thresholds)
        self.accumulator.numpy()[...] += acc

    def result(self):
        v = self.accumulator.numpy()
        return scalar(v[0] if self._single else v, self.dtype)

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionMatrixConditionCount):
    """Weighted count of true positives (prediction > threshold, label 1)."""

    _which = "tp"

    _direction = "up"

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(thresholds=thresholds, name=name, dtype=dtype)


class FalsePositives(_ConfusionMatrixConditionCount):
    """Weighted count of false positives."""

    _which = "fp"

    _direction = "down"

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(thresholds=thresholds, name=name, dtype=dtype)


class TrueNegatives(_ConfusionMatrixConditionCount):
    """Weighted count of true negatives."""

    _which = "tn"

    _direction = "up"

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(thresholds=thresholds, name=name, dtype=dtype)


class FalseNegatives(_ConfusionMatrixConditionCount):
    """Weighted count of false negatives."""

    _which = "fn"

    _direction = "down"

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(thresholds=thresholds, name=name, dtype=dtype)


class Precision(Metric):
    """tp / (tp + fp) at `thresholds` (0.5 default); `top_k` and `class_id`
    restrict to the top predictions / one class."""

    _direction = "up"

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        default = -1e-7 if top_k is not None else 0.5
        self.thresholds, self._single = mu.parse_thresholds(thresholds, default)
        n = len(self.thresholds)
        self.true_positives = self.add_variable(shape=(n,), initializer="zeros", name="true_positives")
        self.false_positives = self.add_variable(shape=(n,), initializer="zeros", name="false_positives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        labels, preds, w = mu.prepare_confusion_inputs(y_true, y_pred, sample_weight, self.top_k, self.class_id)
        tp = np.zeros(len(self.thresholds))
        fp = np.zeros(len(self.thresholds))
        mu.update_confusion(tp, fp, None, None, labels, preds, w, self.thresholds)
        self.true_positives.numpy()[...] += tp
        self.false_positives.numpy()[...] += fp

    def result(self):
        tp = self.true_positives.numpy()
        r = mu.divide_no_nan(tp, tp + self.false_positives.numpy())
        return scalar(r[0] if self._single else r, self.dtype)

    def get_config(self):
        return {
            **super().get_config(),
            "thresholds": self.init_thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
        }


class Recall(Metric):
    """tp / (tp + fn) at `thresholds` (0.5 default)."""

    _direction = "up"

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        default = -1e-7 if top_k is not None else 0.5
        self.thresholds, self._single = mu.parse_thresholds(thresholds, default)
        n = len(self.thresholds)
        self.true_positives = self.add_variable(shape=(n,), initializer="zeros", name="true_positives")
        self.false_negatives = self.add_variable(shape=(n,), initializer="zeros", name="false_negatives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        labels, preds, w = mu.prepare_confusion_inputs(y_true, y_pred, sample_weight, self.top_k, self.class_id)
        tp = np.zeros(len(self.thresholds))
        fn = np.zeros(len(self.thresholds))
        mu.update_confusion(tp, None, None, fn, labels, preds, w, self.thresholds)
        self.true_positives.numpy()[...] += tp
        self.false_negatives.numpy()[...] += fn

    def result(self):
        tp = self.true_positives.numpy()
        r = mu.divide_no_nan(tp, tp + self.false_negatives.numpy())
        return scalar(r[0] if self._single else r, self.dtype)

    def get_config(self):
        return {
            **super().get_config(),
            "thresholds": self.init_thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
        }


class AUC(Metric):
    """Area under the ROC or PR curve, from confusion counts at
    `num_thresholds` (200) evenly spaced thresholds, with Keras's
    interpolation (trapezoids for ROC, Davis & Goadrich for PR)."""

    _direction = "up"

    def __init__(
        self,
        num_thresholds=200,
        curve="ROC",
        summation_method="interpolation",
        name=None,
        dtype=None,
        thresholds=None,
        multi_label=False,
        num_labels=None,
        label_weights=None,
        from_logits=False,
    ):
        super().__init__(name=name, dtype=dtype)
        curve = curve.upper() if isinstance(curve, str) else curve
        if curve not in ("ROC", "PR"):
            raise ValueError(f'Invalid `curve` argument value "{curve}". Expected one of: ROC, PR')
        summation_method = summation_method.lower()
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(
                f'Invalid `summation_method` argument value "{summation_method}". '
                "Expected one of: interpolation, minoring, majoring"
            )
        self.curve = curve
        self.summation_method = summation_method
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = None if label_weights is None else np.asarray(label_weights, dtype=np.float64)
        self.from_logits = from_logits
        if thresholds is not None:
            self.num_thresholds = len(thresholds) + 2
            t = sorted(float(v) for v in thresholds)
            self._init_from_thresholds = True
        else:
            if num_thresholds <= 1:
                raise ValueError(f"Argument `num_thresholds` must be an integer > 1. Received: num_thresholds={num_thresholds}")
            self.num_thresholds = num_thresholds
            t = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._init_from_thresholds = False
        self._thresholds = np.array([0.0 - epsilon()] + t + [1.0 + epsilon()])
        self._built = False
        if num_labels is not None:
            self._build(num_labels)

    @property
    def thresholds(self):
        return list(self._thresholds)

    def _build(self, num_labels):
        shape = (self.num_thresholds, num_labels) if self.multi_label else (self.num_thresholds,)
        self.true_positives = self.add_variable(shape=shape, initializer="zeros", name="true_positives")
        self.false_positives = self.add_variable(shape=shape, initializer="zeros", name="false_positives")
        self.true_negatives = self.add_variable(shape=shape, initializer="zeros", name="true_negatives")
        self.false_negatives = self.add_variable(shape=shape, initializer="zeros", name="false_negatives")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred_np = to_numpy(y_pred).astype(np.float64)
        if self.from_logits:
            y_pred_np = 1.0 / (1.0 + np.exp(-y_pred_np))
        if not self._built:
            self._build(y_pred_np.shape[-1] if self.multi_label else 1)
        if not self.multi_label:
            labels, preds, w = mu.prepare_confusion_inputs(y_true, y_pred_np, sample_weight)
            counts = [np.zeros(self.num_thresholds) for _ in range(4)]
            mu.update_confusion(*counts, labels, preds, w, self._thresholds)
        else:
            yt = to_numpy(y_true).astype(np.float64)
            n = y_pred_np.shape[-1]
            yt2 = yt.reshape(-1, n)
            yp2 = y_pred_np.reshape(-1, n)
            sw = None if sample_weight is None else to_numpy(sample_weight)
            counts = [np.zeros((self.num_thresholds, n)) for _ in range(4)]
            for j in range(n):
                labels, preds, w = mu.prepare_confusion_inputs(
                    yt2[:, j], yp2[:, j], None if sw is None else np.broadcast_to(sw.reshape(-1, 1) if sw.ndim == 1 else sw.reshape(-1, n), yt2.shape)[:, j]
                )
                c = [np.zeros(self.num_thresholds) for _ in range(4)]
                mu.update_confusion(*c, labels, preds, w, self._thresholds)
                for k in range(4):
                    counts[k][:, j] = c[k]
            if self.label_weights is not None:
                pass
        for var, c in zip(
            (self.true_positives, self.false_positives, self.true_negatives, self.false_negatives), counts
        ):
            var.numpy()[...] += c

    def _interpolate_pr_auc(self, tp, fp, fn):
        n = self.num_thresholds
        dtp = tp[: n - 1] - tp[1:]
        p = tp + fp
        dp = p[: n - 1] - p[1:]
        prec_slope = mu.divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - prec_slope * p[1:]
        safe_p_ratio = np.where(
            (p[: n - 1] > 0) & (p[1:] > 0),
            mu.divide_no_nan(p[: n - 1], np.maximum(p[1:], 0)),
            np.ones_like(p[1:]),
        )
        inc = mu.divide_no_nan(
            prec_slope * (dtp + intercept * np.log(safe_p_ratio)),
            np.maximum(tp[1:] + fn[1:], 0),
        )
        return inc

    def result(self):
        if not self._built:
            return scalar(0.0, self.dtype)
        tp = self.true_positives.numpy().astype(np.float64)
        fp = self.false_positives.numpy().astype(np.float64)
        tn = self.true_negatives.numpy().astype(np.float64)
        fn = self.false_negatives.numpy().astype(np.float64)
        n = self.num_thresholds
        if self.curve == "PR" and self.summation_method == "interpolation":
            terms = self._interpolate_pr_auc(tp, fp, fn)
        else:
            recall = mu.divide_no_nan(tp, tp + fn)
            if self.curve == "ROC":
                x = mu.divide_no_nan(fp, fp + tn)
                y = recall
            else:
                x = recall
                y = mu.divide_no_nan(tp, tp + fp)
            if self.summation_method == "interpolation":
                heights = (y[: n - 1] + y[1:]) / 2.0
            elif self.summation_method == "minoring":
                heights = np.minimum(y[: n - 1], y[1:])
            else:
                heights = np.maximum(y[: n - 1], y[1:])
            terms = (x[: n - 1] - x[1:]) * heights
        if self.multi_label:
            by_label = np.sum(terms, axis=0)
            if self.label_weights is None:
                return scalar(np.mean(by_label), self.dtype)
            return scalar(np.sum(by_label * self.label_weights) / np.sum(self.label_weights), self.dtype)
        return scalar(np.sum(terms), self.dtype)

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        config = {
            **super().get_config(),
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
            "from_logits": self.from_logits,
        }
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config
