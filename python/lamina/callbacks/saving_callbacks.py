"""ModelCheckpoint and BackupAndRestore (as keras/src/callbacks/model_checkpoint.py
and backup_and_restore.py)."""

import os
import shutil
import warnings

import numpy as np

from lamina.callbacks.callback import Callback
from lamina.callbacks.monitor_callback import MonitorCallback


def _model_extensions():
    from lamina.saving import saving_lib  # imported late: saving imports the callbacks' models

    return saving_lib.MODEL_EXTENSIONS


class ModelCheckpoint(MonitorCallback):
    """Saves the model (or its weights) during training.

    Args:
        filepath: a template formatted with `epoch` (1-based), `batch` and the
            epoch's logs, e.g. "ckpt-{epoch:02d}-{val_loss:.3f}.lamina".
            Must end in ".lamina", or ".weights.npz" with
            `save_weights_only=True`. Files are written atomically.
        monitor: the log to watch for `save_best_only`.
        verbose: 1 prints a line per save.
        save_best_only: only save when `monitor` improves (with a fixed
            filepath, the best model is the one kept).
        save_weights_only: save weights only (`model.save_weights`).
        mode: "auto", "min" or "max".
        save_freq: "epoch", or an int: save every that many batches.
        initial_value_threshold: the starting "best" value.
    """

    def __init__(
        self,
        filepath,
        monitor="val_loss",
        verbose=0,
        save_best_only=False,
        save_weights_only=False,
        mode="auto",
        save_freq="epoch",
        initial_value_threshold=None,
    ):
        super().__init__(monitor, mode, initial_value_threshold)
        self.verbose = verbose
        self.filepath = os.fspath(filepath)
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0
        if save_freq != "epoch" and not (isinstance(save_freq, int) and not isinstance(save_freq, bool) and save_freq > 0):
            raise ValueError(
                f"Unrecognized save_freq: {save_freq}. Expected save_freq are 'epoch' or integer values"
            )
        if save_weights_only:
            if not self.filepath.endswith(".weights.npz"):
                raise ValueError(
                    "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath provided must end "
                    f"in `.weights.npz` (lamina weights format). Received: filepath={self.filepath}"
                )
        elif not self.filepath.endswith(_model_extensions()):
            raise ValueError(
                "The filepath provided must end in `.lamina` (lamina model format). Received: "
                f"filepath={self.filepath}"
            )

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._last_batch_seen = batch
        self._batches_seen_since_last_saving += 1
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            self._save_model(epoch=self._current_epoch, batch=batch, logs=logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save_model(epoch=epoch, batch=None, logs=logs)

    def _get_file_path(self, epoch, batch, logs):
        logs = dict(logs or {})
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as e:
            raise KeyError(
                f'Failed to format this callback filepath: "{self.filepath}". Reason: {e} is not in the logs '
                f"(available: epoch, batch, {sorted(logs)})."
            ) from e

    def _save(self, filepath):
        dirname = os.path.dirname(filepath)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)

    def _save_model(self, epoch, batch, logs):
        logs = logs or {}
        filepath = self._get_file_path(epoch, batch, logs)
        if self.monitor_op is None:
            # Keras sets it at the first epoch end, too late for best-only saves
            # every few batches; the model's metrics are built by now.
            self._set_monitor_op()
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                # As Keras: without the monitored value (e.g. `val_loss` in batch
                # logs) there is no "best" to compare, and losing a checkpoint is
                # worse than writing one too many.
                warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=2)
                self._save(filepath)
                return
            if isinstance(current, np.ndarray) or np.isscalar(current):
                current = float(np.asarray(current))
            best = "None" if self.best is None else f"{self.best:.5f}"
            if self._is_improvement(current, self.best):
                if self.verbose > 0:
                    print(
                        f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to {current:.5f}, "
                        f"saving model to {filepath}"
                    )
                self.best = current
                self._save(filepath)
            elif self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}")
        else:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            self._save(filepath)


class BackupAndRestore(Callback):
    """Backs up the training state so that an interrupted `fit` resumes.

    At the end of each epoch (or every `save_freq` batches) the model's
    weights, optimizer state, random-stream states and position (epoch,
    batch) are written atomically to `backup_dir`. When `fit` starts and a
    backup exists, it is restored and training continues from the epoch (and
    batch) where the backup was taken; with the same data, the resumed run
    follows the uninterrupted one. The backup is deleted when training ends
    normally (unless `delete_checkpoint=False`).

    Args:
        backup_dir: folder for the backup.
        save_freq: "epoch", an int (every that many batches) or False.
        delete_checkpoint: delete the backup at the end of a completed `fit`.
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True, double_checkpoint=False):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = delete_checkpoint
        self.double_checkpoint = double_checkpoint
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0
        self._state_path = os.path.join(self.backup_dir, "latest.lamina-state")
        self._prev_state_path = os.path.join(self.backup_dir, "prev.lamina-state")
        if save_freq != "epoch" and save_freq is not False and not (
            isinstance(save_freq, int) and not isinstance(save_freq, bool) and save_freq > 0
        ):
            raise ValueError(
                f"Invalid value for argument `save_freq`. Received: save_freq={save_freq}. "
                "Expected either 'epoch' or an integer value."
            )

    def on_train_begin(self, logs=None):
        from lamina.saving import saving_lib

        if not self.model.built:
            raise ValueError(
                "To use the BackupAndRestore callback, you model must be built before you call `fit()`. "
                f"Model {self.model} is unbuilt. You can build it beforehand by calling it on a batch of data."
            )
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_weights)
        path = self._state_path
        if not os.path.exists(path) and self.double_checkpoint and os.path.exists(self._prev_state_path):
            path = self._prev_state_path
        if os.path.exists(path):
            try:
                meta = saving_lib.load_training_state(self.model, path)
            except ValueError:
                if not (self.double_checkpoint and os.path.exists(self._prev_state_path)):
                    raise
                meta = saving_lib.load_training_state(self.model, self._prev_state_path)
            self._current_epoch = int(meta.get("epoch", 0))
            self._last_batch_seen = int(meta.get("batch", 0))
            self.model._initial_epoch = self._current_epoch
            self.model._initial_step = self._last_batch_seen

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save_model()

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch" or self.save_freq is False:
            return
        self._last_batch_seen = batch + 1
        self._batches_seen_since_last_saving += 1
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            self._save_model()

    def _save_model(self):
        from lamina.saving import saving_lib

        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._state_path):
            shutil.copyfile(self._state_path, self._prev_state_path)
        saving_lib.save_training_state(
            self.model, self._state_path, {"epoch": self._current_epoch, "batch": self._last_batch_seen}
        )

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir, ignore_errors=True)
