"""Regression metrics: MSE, MAE, MAPE, MSLE, RMSE, CosineSimilarity, LogCoshError, R2Score."""

import numpy as np

from lamina import losses
from lamina.metrics.metric import Metric, scalar, to_numpy
from lamina.metrics.reduction_metrics import Mean, MeanMetricWrapper, _squeeze_or_expand


class MeanSquaredError(MeanMetricWrapper):
    """Mean of squared errors over all samples seen."""

    _direction = "down"

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(fn=losses.mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean of absolute errors over all samples seen."""

    _direction = "down"

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(losses.mean_absolute_error, name, dtype=dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    _direction = "down"

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(losses.mean_absolute_percentage_error, name, dtype=dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    _direction = "down"

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(losses.mean_squared_logarithmic_error, name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """sqrt(mean((y_true - y_pred)**2)) over all values seen."""

    _direction = "down"

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        yt = to_numpy(y_true).astype(np.float64)
        yp = to_numpy(y_pred).astype(np.float64)
        yt, yp = _squeeze_or_expand(yt, yp)
        error_sq = np.square(yp - yt)
        self._accumulate(error_sq, None if sample_weight is None else to_numpy(sample_weight))

    def result(self):
        total, count = float(self.total.numpy()), float(self.count.numpy())
        return scalar(np.sqrt(total / count) if count else 0.0, self.dtype)


def cosine_similarity(y_true, y_pred, axis=-1):
    return -losses.cosine_similarity(y_true, y_pred, axis=axis)


class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine similarity between labels and predictions."""

    _direction = "up"

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(cosine_similarity, name, dtype=dtype, axis=axis)


class LogCoshError(MeanMetricWrapper):
    _direction = "down"

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(losses.log_cosh, name, dtype=dtype)


class R2Score(Metric):
    """Coefficient of determination: `1 - SS_res / SS_tot`, per output
    then aggregated ("uniform_average", "variance_weighted_average" or None)."""

    _direction = "up"

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        valid = (None, "uniform_average", "variance_weighted_average")
        if class_aggregation not in valid:
            raise ValueError(
                f"Invalid value for argument `class_aggregation`. Expected one of {valid}. Received: class_aggregation={class_aggregation}"
            )
        if num_regressors < 0:
            raise ValueError(f"Invalid value for argument `num_regressors`. Expected a value >= 0. Received: num_regressors={num_regressors}")
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.num_samples = self.add_variable(shape=(), initializer="zeros", name="num_samples")
        self._built = False

    def _build(self, num_classes):
        self.squared_sum = self.add_variable((num_classes,), initializer="zeros", name="squared_sum")
        self.sum = self.add_variable((num_classes,), initializer="zeros", name="sum")
        self.total_mse = self.add_variable((num_classes,), initializer="zeros", name="residual")
        self.count = self.add_variable((num_classes,), initializer="zeros", name="count")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        yt = to_numpy(y_true).astype(np.float64)
        yp = to_numpy(y_pred).astype(np.float64)
        if yt.ndim == 1:
            yt = yt[:, None]
        if yp.ndim == 1:
            yp = yp[:, None]
        if yt.shape != yp.shape:
            raise ValueError(f"R2Score: y_true shape {yt.shape} and y_pred shape {yp.shape} do not match")
        if not self._built:
            self._build(yt.shape[-1])
        if sample_weight is None:
            w = np.ones_like(yt)
        else:
            w = to_numpy(sample_weight).astype(np.float64)
            if w.ndim == 1:
                w = w[:, None]
            w = np.broadcast_to(w, yt.shape)
        self.squared_sum.numpy()[...] += np.sum(w * yt**2, axis=0)
        self.sum.numpy()[...] += np.sum(w * yt, axis=0)
        self.total_mse.numpy()[...] += np.sum(w * (yt - yp) ** 2, axis=0)
        self.count.numpy()[...] += np.sum(w, axis=0)
        self.num_samples.numpy()[...] += yt.shape[0]

    def result(self):
        if not self._built:
            return scalar(0.0, self.dtype)
        count = self.count.numpy().astype(np.float64)
        s = self.sum.numpy().astype(np.float64)
        mean = s / count
        total = self.squared_sum.numpy() - s * mean
        with np.errstate(divide="ignore", invalid="ignore"):
            raw = 1 - self.total_mse.numpy() / total
        raw = np.where(np.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            r2 = np.mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            r2 = np.sum(total * raw) / np.sum(total)
        else:
            r2 = raw
        if self.num_regressors != 0:
            n = float(self.num_samples.numpy())
            p = float(self.num_regressors)
            if p > n - 1:
                r2 = r2
            elif p != n - 1:
                r2 = 1 - (1 - r2) * (n - 1) / (n - p - 1)
        return scalar(r2, self.dtype)

    def reset_state(self):
        self.num_samples.assign(0.0)
        if self._built:
            for v in (self.squared_sum, self.sum, self.total_mse, self.count):
                v.assign(np.zeros(v.shape, dtype=np.float32))

    def get_config(self):
        return {
            **super().get_config(),
            "class_aggregation": self.class_aggregation,
            "num_regressors": self.num_regressors,
        }
