"""History: records epoch logs (returned by `fit`)."""

from lamina.callbacks.callback import Callback


class History(Callback):
    """`history.history` maps each log name ("loss", "val_accuracy", ...) to
    its per-epoch values; `history.epoch` lists the epoch indices."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.epoch.append(epoch)
        for k, v in logs.items():
            self.history.setdefault(k, []).append(v)
        self.model.history = self
