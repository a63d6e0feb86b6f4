"""TensorBoard: scalar logs as TensorBoard event files (needs the `tensorboard`
package for its event writer)."""

import os
import time

from lamina.callbacks.callback import Callback


def _event_writer_classes():
    try:
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError as e:
        raise ImportError(
            "lamina.callbacks.TensorBoard writes event files with the `tensorboard` package, which is not "
            f"installed ({e}). Install it with `pip install tensorboard`."
        ) from e
    return EventFileWriter, event_pb2, summary_pb2


class TensorBoard(Callback):
    """Writes the epoch logs (and, with `update_freq` an int or "batch", the
    batch logs) as TensorBoard scalars, as Keras: `log_dir/train` and
    `log_dir/validation`, tags "epoch_<metric>" (validation metrics without
    their "val_" prefix), plus "epoch_learning_rate".

    Only scalars are written; `histogram_freq`, `write_images`,
    `embeddings_freq` and `profile_batch` are accepted and ignored.
    """

    def __init__(
        self,
        log_dir="logs",
        histogram_freq=0,
        write_graph=True,
        write_images=False,
        write_steps_per_second=False,
        update_freq="epoch",
        profile_batch=0,
        embeddings_freq=0,
        embeddings_metadata=None,
    ):
        super().__init__()
        self._writer_cls, self._event_pb2, self._summary_pb2 = _event_writer_classes()
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self._writers = {}
        self._global_train_batch = 0
        self._epoch_start = None

    def _writer(self, name):
        w = self._writers.get(name)
        if w is None:
            path = os.path.join(self.log_dir, name)
            os.makedirs(path, exist_ok=True)
            w = self._writers[name] = self._writer_cls(path)
        return w

    def _scalar(self, writer_name, tag, value, step):
        try:
            value = float(value)
        except (TypeError, ValueError):
            return
        summary = self._summary_pb2.Summary(value=[self._summary_pb2.Summary.Value(tag=tag, simple_value=value)])
        event = self._event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary)
        self._writer(writer_name).add_event(event)

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.time()

    def on_train_batch_end(self, batch, logs=None):
        self._global_train_batch += 1
        if isinstance(self.update_freq, int) and self._global_train_batch % self.update_freq == 0:
            for k, v in (logs or {}).items():
                self._scalar("train", f"batch_{k}", v, self._global_train_batch)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        opt = getattr(self.model, "optimizer", None)
        if opt is not None and "learning_rate" not in logs:
            try:
                logs["learning_rate"] = float(opt.learning_rate.numpy())
            except Exception:  # noqa: BLE001
                pass
        for k, v in logs.items():
            if k.startswith("val_"):
                self._scalar("validation", f"epoch_{k[4:]}", v, epoch)
            else:
                self._scalar("train", f"epoch_{k}", v, epoch)
        if self.write_steps_per_second and self._epoch_start is not None:
            steps = (self.params or {}).get("steps") or 0
            dt = time.time() - self._epoch_start
            if steps and dt > 0:
                self._scalar("train", "epoch_steps_per_second", steps / dt, epoch)
        for w in self._writers.values():
            w.flush()

    def on_test_end(self, logs=None):
        for w in self._writers.values():
            w.flush()

    def on_train_end(self, logs=None):
        for w in self._writers.values():
            w.close()
        self._writers = {}
