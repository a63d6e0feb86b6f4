"""IoU metrics: IoU, MeanIoU, BinaryIoU, OneHotIoU, OneHotMeanIoU (Keras's).

All accumulate a confusion matrix; the IoU of class c is
tp / (tp + fp + fn), averaged over `target_class_ids` (classes absent from
both labels and predictions are left out of the mean)."""

import numpy as np

from lamina.metrics import metrics_utils as mu
from lamina.metrics.metric import Metric, scalar, to_numpy


class IoU(Metric):
    """Mean intersection-over-union over the classes `target_class_ids`."""

    _direction = "up"

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None, sparse_y_true=True,
                 sparse_y_pred=True, axis=-1):
        super().__init__(name=name, dtype=dtype)
        if max(target_class_ids) >= num_classes:
            raise ValueError(
                f"Target class id {max(target_class_ids)} is out of range, which is [0, {num_classes})."
            )
        self.num_classes = num_classes
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.target_class_ids = list(target_class_ids)
        self.total_cm = self.add_variable(shape=(num_classes, num_classes), initializer="zeros", name="total_confusion_matrix")

    def update_state(self, y_true, y_pred, sample_weight=None):
        yt = to_numpy(y_true)
        yp = to_numpy(y_pred)
        if not self.sparse_y_true:
            yt = np.argmax(yt, axis=self.axis)
        if not self.sparse_y_pred:
            yp = np.argmax(yp, axis=self.axis)
        yt = yt.reshape(-1).astype(np.int64)
        yp = yp.reshape(-1).astype(np.int64)
        w = None if sample_weight is None else np.broadcast_to(to_numpy(sample_weight).reshape(-1) if np.ndim(sample_weight) else to_numpy(sample_weight), yt.shape).astype(np.float64)
        if self.ignore_class is not None:
            keep = yt != self.ignore_class
            yt, yp = yt[keep], yp[keep]
            if w is not None:
                w = w[keep]
        cm = mu.confusion_matrix(yt, yp, self.num_classes, weights=w, dtype="float64").numpy()
        self.total_cm.numpy()[...] += cm

    def result(self):
        cm = self.total_cm.numpy().astype(np.float64)
        sum_over_row = cm.sum(axis=0)
        sum_over_col = cm.sum(axis=1)
        tp = np.diag(cm)
        denominator = sum_over_row + sum_over_col - tp
        ids = self.target_class_ids
        tp, denominator = tp[ids], denominator[ids]
        num_valid = np.sum(denominator > 1e-9)
        iou = mu.divide_no_nan(tp, denominator)
        return scalar(mu.divide_no_nan(np.sum(iou), num_valid), self.dtype)

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "target_class_ids": self.target_class_ids,
            "ignore_class": self.ignore_class,
            "sparse_y_true": self.sparse_y_true,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }


class MeanIoU(IoU):
    """Mean intersection-over-union over all `num_classes` classes."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True, sparse_y_pred=True,
                 axis=-1):
        super().__init__(num_classes, list(range(num_classes)), name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["target_class_ids"]
        return config


class BinaryIoU(IoU):
    """IoU of binary labels, predictions counting as 1 above `threshold`."""

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(2, target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = (to_numpy(y_pred) > self.threshold).astype(np.int64)
        return super().update_state(y_true, y_pred, sample_weight)

    def get_config(self):
        config = Metric.get_config(self)
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold, **config}


class OneHotIoU(IoU):
    """IoU with one-hot labels (and, by default, per-class prediction scores)."""

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None, sparse_y_pred=False,
                 axis=-1):
        super().__init__(num_classes, target_class_ids, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class OneHotMeanIoU(MeanIoU):
    """MeanIoU with one-hot labels (and, by default, per-class prediction scores)."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config
