"""Loss functions and classes (`keras.losses`), with Keras's formulas."""

import math

import numpy as np

from lamina import _core, ops
from lamina.backend.config import epsilon
from lamina.losses.loss import Loss, squeeze_or_expand_to_same_rank, to_tensor


def _pair(y_true, y_pred):
    y_pred = to_tensor(y_pred)
    y_true = to_tensor(y_true, y_pred.dtype)
    return y_true, y_pred


def _check_broadcast(name, y_true, y_pred):
    a, b = tuple(y_true.shape), tuple(y_pred.shape)
    for d1, d2 in zip(reversed(a), reversed(b)):
        if d1 != d2 and d1 != 1 and d2 != 1:
            raise ValueError(
                f"{name}: y_true and y_pred have incompatible shapes: y_true.shape={a}, y_pred.shape={b}"
            )


# ---- regression -------------------------------------------------------------
def mean_squared_error(y_true, y_pred):
    """mean((y_true - y_pred)**2, axis=-1)."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    _check_broadcast("mean_squared_error", y_true, y_pred)
    return ops.mean(ops.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """mean(|y_true - y_pred|, axis=-1)."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    _check_broadcast("mean_absolute_error", y_true, y_pred)
    return ops.mean(ops.abs(y_true - y_pred), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """100 * mean(|(y_true - y_pred) / max(|y_true|, epsilon)|, axis=-1)."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    _check_broadcast("mean_absolute_percentage_error", y_true, y_pred)
    diff = ops.abs((y_true - y_pred) / ops.maximum(ops.abs(y_true), epsilon()))
    return 100.0 * ops.mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))**2, axis=-1)."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    _check_broadcast("mean_squared_logarithmic_error", y_true, y_pred)
    first_log = ops.log(ops.maximum(y_pred, epsilon()) + 1.0)
    second_log = ops.log(ops.maximum(y_true, epsilon()) + 1.0)
    return ops.mean(ops.square(first_log - second_log), axis=-1)


def huber(y_true, y_pred, delta=1.0):
    """Quadratic for |error| <= delta, linear beyond (mean over the last axis)."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    _check_broadcast("huber_loss", y_true, y_pred)
    delta = float(delta)
    error = y_pred - y_true
    abs_error = ops.abs(error)
    return ops.mean(
        ops.where(abs_error <= delta, 0.5 * ops.square(error), delta * abs_error - 0.5 * delta * delta),
        axis=-1,
    )


def log_cosh(y_true, y_pred):
    """mean(log(cosh(y_pred - y_true)), axis=-1), computed stably."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    _check_broadcast("log_cosh", y_true, y_pred)
    x = y_pred - y_true
    return ops.mean(x + ops.softplus(x * -2.0) - math.log(2.0), axis=-1)


def poisson(y_true, y_pred):
    """mean(y_pred - y_true * log(y_pred + epsilon), axis=-1)."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return ops.mean(y_pred - y_true * ops.log(y_pred + epsilon()), axis=-1)


def kl_divergence(y_true, y_pred):
    """sum(y_true * log(y_true / y_pred), axis=-1), both clipped to [eps, 1]."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    y_true = ops.clip(y_true, epsilon(), 1.0)
    y_pred = ops.clip(y_pred, epsilon(), 1.0)
    return ops.sum(y_true * ops.log(y_true / y_pred), axis=-1)


def _l2_normalize(x, axis):
    square_sum = ops.sum(ops.square(x), axis=axis, keepdims=True)
    return x / ops.maximum(ops.sqrt(square_sum), epsilon())


def cosine_similarity(y_true, y_pred, axis=-1):
    """-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    y_pred = _l2_normalize(y_pred, axis)
    y_true = _l2_normalize(y_true, axis)
    return -ops.sum(y_true * y_pred, axis=axis)


def _to_hinge_labels(y_true):
    arr = y_true.numpy()
    if np.all((arr == 0) | (arr == 1)):
        return 2.0 * y_true - 1.0
    return y_true


def hinge(y_true, y_pred):
    """mean(max(1 - y_true * y_pred, 0), axis=-1); 0/1 labels become -1/1."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    y_true = _to_hinge_labels(y_true)
    return ops.mean(ops.maximum(1.0 - y_true * y_pred, 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
    """mean(max(1 - y_true * y_pred, 0)**2, axis=-1); 0/1 labels become -1/1."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    y_true = _to_hinge_labels(y_true)
    return ops.mean(ops.square(ops.maximum(1.0 - y_true * y_pred, 0.0)), axis=-1)


def categorical_hinge(y_true, y_pred):
    """max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)."""
    y_true, y_pred = _pair(y_true, y_pred)
    pos = ops.sum(y_true * y_pred, axis=-1)
    neg = ops.max((1.0 - y_true) * y_pred, axis=-1)
    return ops.maximum(neg - pos + 1.0, 0.0)


# ---- probabilistic ----------------------------------------------------------
def _bce_elementwise(target, output, from_logits):
    if from_logits:
        # Fused, stable: max(x, 0) - x * z + log(1 + exp(-|x|))
        return _core.sigmoid_binary_cross_entropy(output, target)
    output = ops.clip(output, epsilon(), 1.0 - epsilon())
    return -(target * ops.log(output) + (1.0 - target) * ops.log(1.0 - output))


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """mean over `axis` of -(y log p + (1-y) log(1-p)); probabilities are
    clipped to [eps, 1-eps] (or computed stably from logits)."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={tuple(y_true.shape)}, output.shape={tuple(y_pred.shape)}"
        )
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return ops.mean(_bce_elementwise(y_true, y_pred, from_logits), axis=axis)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """-sum(y_true * log(p), axis) with p = y_pred / sum(y_pred) clipped to
    [eps, 1-eps], or log_softmax(y_pred) from logits."""
    y_true, y_pred = _pair(y_true, y_pred)
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={tuple(y_true.shape)}, output.shape={tuple(y_pred.shape)}"
            + (
                ". For integer class labels use sparse_categorical_crossentropy."
                if y_true.ndim == y_pred.ndim - 1 or (y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1)
                else ""
            )
        )
    if label_smoothing:
        num_classes = y_pred.shape[-1]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    if from_logits:
        if axis in (-1, y_pred.ndim - 1):
            return _core.softmax_cross_entropy(y_pred, y_true)
        log_prob = ops.log_softmax(y_pred, axis=axis)
    else:
        output = y_pred / ops.sum(y_pred, axis=axis, keepdims=True)
        output = ops.clip(output, epsilon(), 1.0 - epsilon())
        log_prob = ops.log(output)
    return -ops.sum(y_true * log_prob, axis=axis)


def _sparse_target(y_true, y_pred):
    """The labels without a trailing axis of 1, checked against `y_pred`'s shape."""
    target = y_true
    if target.ndim == y_pred.ndim and target.shape[-1] == 1:
        target = ops.squeeze(target, -1)
    if tuple(target.shape) != tuple(y_pred.shape[:-1]):
        raise ValueError(
            "Arguments `target` and `output` must have the same shape up until the last dimension: "
            f"target.shape={tuple(y_true.shape)}, output.shape={tuple(y_pred.shape)}"
            + (". Sparse labels are class indices; for one-hot labels use categorical_crossentropy."
               if tuple(y_true.shape) == tuple(y_pred.shape) else "")
        )
    return target


def _sparse_labels(y_true, y_pred, ignore_class=None):
    labels = _sparse_target(y_true, y_pred).numpy()
    if labels.dtype.kind == "f":
        if not np.all(np.isfinite(labels)) or np.any(labels != np.round(labels)):
            raise ValueError(
                "sparse_categorical_crossentropy expects integer class labels; got non-integer values "
                f"such as {labels[np.isfinite(labels) & (labels != np.round(labels))][:3].tolist() or labels[~np.isfinite(labels)][:3].tolist()}"
            )
    labels = labels.astype(np.int64)
    n = y_pred.shape[-1]
    valid = labels != ignore_class if ignore_class is not None else np.ones(labels.shape, dtype=bool)
    bad = valid & ((labels < 0) | (labels >= n))
    if np.any(bad):
        raise ValueError(
            f"sparse_categorical_crossentropy: labels must be in [0, {n}) for an output with {n} classes; "
            f"got label {int(labels[bad].flat[0])} (min label {int(labels[valid].min())}, max label "
            f"{int(labels[valid].max())})"
        )
    if ignore_class is not None:
        labels = np.where(valid, labels, 0)
    return labels, valid


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Categorical crossentropy with integer labels (`y_true` of shape
    `y_pred.shape[:-1]`, or with a trailing 1). Labels outside
    `[0, num_classes)` raise a ValueError."""
    y_pred = to_tensor(y_pred)
    y_true = to_tensor(y_true)
    if ignore_class is not None or y_true.dtype == "bool":
        return _sparse_xent_host_labels(y_true, y_pred, from_logits, ignore_class, axis)
    # The labels are checked in C++ (a recorded step in a captured training
    # step), not read into Python.
    target = _sparse_target(y_true, y_pred)
    if from_logits and axis in (-1, y_pred.ndim - 1):
        return _core.sparse_softmax_cross_entropy(y_pred, target)
    labels = _core.checked_class_labels(target, y_pred.shape[-1])
    picked = ops.take_along_axis(_class_log_probs(y_pred, from_logits, axis), ops.expand_dims(labels, -1), axis=-1)
    return -ops.squeeze(picked, -1)


def _class_log_probs(y_pred, from_logits, axis):
    if from_logits:
        return ops.log_softmax(y_pred, axis=axis)
    output = y_pred / ops.sum(y_pred, axis=axis, keepdims=True)
    output = ops.clip(output, epsilon(), 1.0 - epsilon())
    return ops.log(output)


def _sparse_xent_host_labels(y_true, y_pred, from_logits, ignore_class, axis):
    """With `ignore_class`: labels read on the host, ignored ones masked."""
    labels, valid = _sparse_labels(y_true, y_pred, ignore_class)
    idx = np.expand_dims(labels, -1)
    picked = ops.take_along_axis(_class_log_probs(y_pred, from_logits, axis), idx, axis=-1)
    loss = -ops.squeeze(picked, -1)
    if ignore_class is not None:
        from lamina.backend.common import set_keras_mask

        valid_t = ops.convert_to_tensor(valid)
        loss = loss * ops.cast(valid_t, loss.dtype)
        loss = set_keras_mask(loss, valid_t)
    return loss


def binary_focal_crossentropy(
    y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1
):
    """Focal loss: `(1 - p_t)**gamma * bce`, optionally weighted by alpha."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = ops.sigmoid(y_pred)
    bce = _bce_elementwise(y_true, y_pred, False)
    p_t = y_true * y_pred + (1.0 - y_true) * (1.0 - y_pred)
    focal = ops.power(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        weight = y_true * alpha + (1.0 - y_true) * (1.0 - alpha)
        focal = weight * focal
    return ops.mean(focal, axis=axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1):
    """Focal version of categorical crossentropy."""
    y_true, y_pred = _pair(y_true, y_pred)
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={tuple(y_true.shape)}, output.shape={tuple(y_pred.shape)}"
        )
    if label_smoothing:
        num_classes = y_pred.shape[-1]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    if from_logits:
        y_pred = ops.softmax(y_pred, axis=axis)
    output = y_pred / ops.sum(y_pred, axis=axis, keepdims=True)
    output = ops.clip(output, epsilon(), 1.0 - epsilon())
    cce = -y_true * ops.log(output)
    modulating = ops.power(1.0 - output, gamma)
    weighting = modulating * alpha
    return ops.sum(weighting * cce, axis=axis)


# ---- wrappers -----------------------------------------------------------------
class LossFunctionWrapper(Loss):
    """A `Loss` calling `fn(y_true, y_pred, **kwargs)`."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        if "fn" in config:
            from lamina.saving.serialization_lib import deserialize_keras_object

            config = dict(config)
            config["fn"] = deserialize_keras_object(config["fn"])
        return cls(**config)


def _make(cls_name, fn, default_name, doc, extra=()):
    """Builds a LossFunctionWrapper subclass with Keras's signature."""
    return None


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squared errors: `mean((y_true - y_pred)**2)`."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of absolute errors."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """100 * mean(|(y_true - y_pred) / y_true|)."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """mean((log(y_pred + 1) - log(y_true + 1))**2)."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)


class Huber(LossFunctionWrapper):
    """Huber loss with threshold `delta` (1.0)."""

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(huber, name=name, reduction=reduction, dtype=dtype, delta=delta)


class LogCosh(LossFunctionWrapper):
    """mean(log(cosh(y_pred - y_true)))."""

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(log_cosh, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)


class Poisson(LossFunctionWrapper):
    """mean(y_pred - y_true * log(y_pred))."""

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(poisson, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence `sum(y_true * log(y_true / y_pred))`."""

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along `axis`."""

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None):
        super().__init__(cosine_similarity, name=name, reduction=reduction, dtype=dtype, axis=axis)


class Hinge(LossFunctionWrapper):
    """mean(max(1 - y_true * y_pred, 0)), labels -1/1 (or 0/1)."""

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(hinge, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)


class SquaredHinge(LossFunctionWrapper):
    """mean(max(1 - y_true * y_pred, 0)**2)."""

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)


class CategoricalHinge(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)


class BinaryCrossentropy(LossFunctionWrapper):
    """Crossentropy for binary (0/1) labels against probabilities (or logits
    with `from_logits=True`); `label_smoothing` squeezes labels toward 0.5."""

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="binary_crossentropy",
        dtype=None,
    ):
        super().__init__(
            binary_crossentropy, name=name, reduction=reduction, dtype=dtype,
            from_logits=from_logits, label_smoothing=label_smoothing, axis=axis,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Focal crossentropy for binary labels: down-weights easy examples by
    `(1 - p_t)**gamma`."""

    def __init__(
        self,
        apply_class_balancing=False,
        alpha=0.25,
        gamma=2.0,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="binary_focal_crossentropy",
        dtype=None,
    ):
        super().__init__(
            binary_focal_crossentropy, name=name, reduction=reduction, dtype=dtype,
            apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
            from_logits=from_logits, label_smoothing=label_smoothing, axis=axis,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis
        self.apply_class_balancing = apply_class_balancing
        self.alpha = alpha
        self.gamma = gamma


class CategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy for one-hot labels against class probabilities (or logits)."""

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="categorical_crossentropy",
        dtype=None,
    ):
        super().__init__(
            categorical_crossentropy, name=name, reduction=reduction, dtype=dtype,
            from_logits=from_logits, label_smoothing=label_smoothing, axis=axis,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    def __init__(
        self,
        alpha=0.25,
        gamma=2.0,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="categorical_focal_crossentropy",
        dtype=None,
    ):
        super().__init__(
            categorical_focal_crossentropy, name=name, reduction=reduction, dtype=dtype,
            alpha=alpha, gamma=gamma, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis,
        )


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy for integer labels against class probabilities (or logits).
    `ignore_class` excludes a label value (e.g. padding) from the loss."""

    def __init__(
        self,
        from_logits=False,
        ignore_class=None,
        reduction="sum_over_batch_size",
        name="sparse_categorical_crossentropy",
        dtype=None,
    ):
        super().__init__(
            sparse_categorical_crossentropy, name=name, reduction=reduction, dtype=dtype,
            from_logits=from_logits, ignore_class=ignore_class,
        )
        self.from_logits = from_logits
        self.ignore_class = ignore_class


# Short aliases, as keras.losses.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
huber_loss = huber

del _make
