"""Sum, Mean and MeanMetricWrapper."""

import numpy as np

from lamina.backend.common import get_keras_mask
from lamina.metrics.metric import Metric, scalar, to_numpy


def _squeeze_or_expand(x1, x2):
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2:
        return x1, x2
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1:
            x2 = np.expand_dims(x2, -1)
        else:
            x1 = np.squeeze(x1, -1)
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1:
            x1 = np.expand_dims(x1, -1)
        else:
            x2 = np.squeeze(x2, -1)
    return x1, x2


def reduce_to_samplewise_values(values, sample_weight, reduce_fn=np.mean, mask=None):
    """Keras's reduction of metric values (and weights) to one value per sample."""
    values = np.asarray(values, dtype=np.float64)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
        if mask is not None:
            mask = np.asarray(mask, dtype=np.float64)
            mask, sample_weight = _squeeze_or_expand(mask, sample_weight)
            sample_weight = sample_weight * mask
        values, sample_weight = _squeeze_or_expand(values, sample_weight)
        weight_ndim = sample_weight.ndim
        if values.ndim > weight_ndim:
            values = reduce_fn(values, axis=tuple(range(weight_ndim, values.ndim)))
        sample_weight = np.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if weight_ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=tuple(range(1, weight_ndim)))
    elif mask is not None:
        return reduce_to_samplewise_values(values, np.ones(np.shape(mask)), reduce_fn, mask)
    if values.ndim > 1:
        values = reduce_fn(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


class Sum(Metric):
    """Accumulates the (weighted) sum of values."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")

    def update_state(self, values, sample_weight=None):
        values, _ = reduce_to_samplewise_values(
            to_numpy(values), None if sample_weight is None else to_numpy(sample_weight), np.sum
        )
        self.total.numpy()[...] += np.sum(values)

    def result(self):
        return scalar(self.total.numpy(), self.dtype)


class Mean(Metric):
    """The (weighted) mean of all values seen: `total / count`.

    `update_state(values, sample_weight=None)`; `result()` is 0 before any update.
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def _accumulate(self, values, sample_weight, mask=None):
        values, sample_weight = reduce_to_samplewise_values(values, sample_weight, np.mean, mask)
        self.total.numpy()[...] += np.sum(values)
        if sample_weight is not None:
            n = np.sum(sample_weight)
        elif values.ndim >= 1:
            n = values.shape[0]
        else:
            n = 1
        self.count.numpy()[...] += n

    def update_state(self, values, sample_weight=None):
        mask = get_keras_mask(values)
        self._accumulate(
            to_numpy(values),
            None if sample_weight is None else to_numpy(sample_weight),
            None if mask is None else to_numpy(mask),
        )

    def result(self):
        total, count = float(self.total.numpy()), float(self.count.numpy())
        return scalar(total / count if count else 0.0, self.dtype)


class MeanMetricWrapper(Mean):
    """Mean of `fn(y_true, y_pred, **kwargs)` over all samples seen."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", "mean_metric_wrapper"), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs
        from lamina import losses

        if any(fn is f for f in losses.ALL_OBJECTS_DICT.values()) or isinstance(fn, losses.Loss):
            self._direction = "down"

    def update_state(self, y_true, y_pred, sample_weight=None):
        mask = get_keras_mask(y_pred)
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        if mask is None:
            mask = get_keras_mask(values)
        self._accumulate(
            to_numpy(values),
            None if sample_weight is None else to_numpy(sample_weight),
            None if mask is None else to_numpy(mask),
        )

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype}
        config.update(self._fn_kwargs)
        if type(self) is MeanMetricWrapper:
            from lamina.saving.serialization_lib import serialize_keras_object

            config["fn"] = serialize_keras_object(self._fn)
        return config

    @classmethod
    def from_config(cls, config):
        if "fn" in config:
            from lamina.saving.serialization_lib import deserialize_keras_object

            config = dict(config)
            config["fn"] = deserialize_keras_object(config["fn"])
        return cls(**config)
