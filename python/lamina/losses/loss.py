"""`Loss` base class and reduction helpers (`keras.losses.Loss`)."""

import numpy as np

from lamina import _core, ops
from lamina.backend.common import get_keras_mask, standardize_dtype

Tensor = _core.Tensor

_REDUCTIONS = (None, "none", "sum", "sum_over_batch_size", "mean", "mean_with_sample_weight")


def standardize_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f"Invalid value for argument `reduction`. Expected one of {_REDUCTIONS}. Received: reduction={reduction}"
        )
    return reduction


def to_tensor(x, dtype=None):
    if isinstance(x, Tensor):
        if dtype is not None and x.dtype != dtype:
            return ops.cast(x, dtype)
        return x
    arr = np.asarray(x)
    if dtype is None:
        dtype = "float32" if arr.dtype.kind == "f" else None
    return _core.convert_to_tensor(arr, dtype, True)


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Makes ranks equal by squeezing (or expanding) a trailing axis of size 1."""
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2:
        return x1, x2
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = ops.expand_dims(x2, -1)
        else:
            x1 = ops.squeeze(x1, -1)
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = ops.expand_dims(x1, -1)
        else:
            x2 = ops.squeeze(x2, -1)
    return x1, x2


def reduce_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    if reduction is None or reduction == "none" or values.ndim == 0 or tuple(values.shape) == (0,):
        return values
    loss = ops.sum(values)
    if reduction in ("sum_over_batch_size", "mean", "mean_with_sample_weight"):
        if reduction == "mean_with_sample_weight" and sample_weight is not None:
            divisor = ops.sum(ops.cast(sample_weight, loss.dtype))
            return ops.where(ops.equal(divisor, 0.0), 0.0 * loss, loss / ops.where(ops.equal(divisor, 0.0), 1.0, divisor))
        divisor = float(max(values.size, 0))
        loss = loss / divisor if divisor else loss * 0.0
    return loss


def apply_mask(sample_weight, mask, dtype, reduction):
    if mask is None:
        return sample_weight
    mask = ops.cast(mask, dtype)
    if reduction in ("mean", "sum_over_batch_size"):
        total = float(np.prod(mask.shape))
        valid = ops.sum(mask)
        mask = mask * (total / (valid + 1e-7))
    if sample_weight is not None:
        sample_weight = ops.cast(sample_weight, dtype)
        mask, sample_weight = squeeze_or_expand_to_same_rank(mask, sample_weight)
        sample_weight = sample_weight * mask
    else:
        sample_weight = mask
    return sample_weight


def reduce_weighted_values(values, sample_weight=None, mask=None, reduction="sum_over_batch_size", dtype=None):
    reduction = standardize_reduction(reduction)
    values = to_tensor(values, dtype)
    if sample_weight is not None:
        sample_weight = to_tensor(sample_weight, values.dtype)
    sample_weight = apply_mask(sample_weight, mask, values.dtype, reduction)
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = values * sample_weight
    return reduce_values(values, sample_weight, reduction)


class Loss:
    """Base class of losses: `loss(y_true, y_pred, sample_weight=None)`.

    Subclasses implement `call(y_true, y_pred)` returning per-sample values;
    `__call__` applies `sample_weight` and the reduction.

    Args:
        name: the loss's name.
        reduction: "sum_over_batch_size" (default), "sum", "mean",
            "mean_with_sample_weight" or "none".
        dtype: computation dtype (default floatx).
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        from lamina.utils.naming import to_snake_case

        self.name = name or to_snake_case(self.__class__.__name__)
        self.reduction = standardize_reduction(reduction)
        self._dtype_name = standardize_dtype(dtype) if dtype is not None else None

    @property
    def dtype(self):
        from lamina.backend.config import floatx

        return self._dtype_name or floatx()

    def __call__(self, y_true, y_pred, sample_weight=None):
        in_mask = get_keras_mask(y_pred)
        y_pred = to_tensor(y_pred, self.dtype if _is_float(y_pred) else None)
        y_true = to_tensor(y_true, self.dtype)
        losses = self.call(y_true, y_pred)
        out_mask = get_keras_mask(losses)
        mask = in_mask if out_mask is None else (out_mask if in_mask is None else ops.logical_and(in_mask, out_mask))
        return reduce_weighted_values(losses, sample_weight=sample_weight, mask=mask, reduction=self.reduction, dtype=self.dtype)

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{self.__class__.__name__} name={self.name}, reduction={self.reduction}>"


def _is_float(x):
    dt = getattr(x, "dtype", None)
    if dt is None:
        return np.asarray(x).dtype.kind == "f"
    return str(dt).startswith("float") or getattr(dt, "kind", "") == "f"
