"""`MonitorCallback`: the base of callbacks that watch one logged quantity
(EarlyStopping, ReduceLROnPlateau, ModelCheckpoint), as Keras's
keras/src/callbacks/monitor_callback.py."""

import warnings

import numpy as np

from lamina.callbacks.callback import Callback


class MonitorCallback(Callback):
    """Watches `monitor` in the logs.

    With mode="auto" the direction comes from the model's metric of that
    name (its `_direction`), or "min" for losses; it is decided when first
    needed, once the metrics are built. `min_delta` is the smallest change
    that counts as an improvement; `baseline` the starting best value.
    """

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(
                f"{self.__class__.__name__} mode '{mode}' is unknown, fallback to auto mode.", stacklevel=3
            )
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _set_monitor_op(self):
        if self.mode == "min":
            self.monitor_op = np.less
        elif self.mode == "max":
            self.monitor_op = np.greater
        else:
            self.monitor_op = metric_direction(self.model, self.monitor)
            if self.monitor_op is None:
                raise ValueError(
                    f"{self.__class__.__name__} callback received monitor={self.monitor}, but lamina isn't able "
                    "to automatically determine whether that metric should be maximized or minimized. Pass "
                    "`mode='max'` in order to monitor based on the highest metric value, or pass `mode='min'` "
                    "in order to use the lowest value."
                )
        if self.monitor_op is np.less:
            self.min_delta *= -1

    def _is_improvement(self, monitor_value, reference_value):
        if reference_value is None:
            return True
        return bool(self.monitor_op(monitor_value - self.min_delta, reference_value))


def metric_direction(model, monitor):
    """np.less or np.greater for `monitor` ("val_" prefix ignored) from the
    model's metrics; losses are minimised; None when unknown."""
    name = monitor[4:] if monitor.startswith("val_") else monitor
    op = np.less if name == "loss" or name.endswith("_loss") else None
    if model is not None and hasattr(model, "metrics"):
        for m in _all_metrics(model):
            if m.name == name and hasattr(m, "_direction"):
                op = np.greater if m._direction == "up" else np.less
    return op


def _all_metrics(model):
    out = []
    for m in model.metrics:
        sub = getattr(m, "metrics", None)
        if isinstance(sub, list):
            out.extend(sub)
        out.append(m)
    return out
