"""`Trainer`: compile / fit / evaluate / predict and the *_on_batch methods,
mixed into `Model` (Keras's trainer, eager like its torch backend)."""

import math
import warnings

import numpy as np

from lamina import _core
from lamina import metrics as metrics_module
from lamina import optimizers as optimizers_module
from lamina.autograd import GradientTape, no_grad
from lamina.callbacks.callback_list import CallbackList
from lamina.trainers.compile_utils import CompileLoss, CompileMetrics
from lamina.trainers.compiled_function import CompiledFunction
from lamina.trainers.data_adapters import (
    EpochIterator,
    to_tensors,
    train_validation_split,
    unpack_x_y_sample_weight,
)
from lamina.utils import tree
from lamina.utils.rng_utils import numpy_generator

Tensor = _core.Tensor


def _to_python(value):
    if isinstance(value, Tensor):
        if value.size == 1:
            return float(value.numpy().reshape(()))
        return np.array(value.numpy())
    if isinstance(value, np.ndarray):
        if value.size == 1:
            return float(value.reshape(()))
        return value
    if isinstance(value, (np.floating, np.integer)):
        return float(value)
    return value


def pythonify_logs(logs):
    """Logs as Python floats, nested dicts flattened, keys sorted (as Keras)."""
    result = {}
    for key, value in sorted((logs or {}).items()):
        if isinstance(value, dict):
            result.update(pythonify_logs(value))
        else:
            result[key] = _to_python(value)
    return result


def _batch_size_of(x):
    for leaf in tree.flatten(x):
        if leaf is not None and hasattr(leaf, "shape") and len(leaf.shape):
            return int(leaf.shape[0])
    return 1


class _EpochSeededRNG:
    """A NumPy Generator stand-in whose draws for epoch `e` come from
    `default_rng([seed, e])`: each epoch's shuffle depends only on the run
    seed and the epoch number."""

    def __init__(self, seed, epoch=0):
        self._seed = int(seed)
        self.set_epoch(epoch)

    def set_epoch(self, epoch):
        self._rng = np.random.default_rng([self._seed, int(epoch)])

    def __getattr__(self, name):
        return getattr(self._rng, name)


class Trainer:
    def __init__(self):
        self._run_eagerly = False
        self._jit_compile = True  # "auto": predict is captured (trainers/compiled_function.py)
        self.compiled = False
        self.loss = None
        self.steps_per_execution = 1
        self._initial_epoch = None
        self._initial_step = None
        self._compile_loss = None
        self._compile_metrics = None
        self._loss_tracker = None
        self.optimizer = None
        self.stop_training = False
        self.stop_evaluating = False
        self.stop_predicting = False
        self.train_function = None
        self.test_function = None
        self.predict_function = None
        self._tw_cache = None
        self._nan_warned = False
        self._fit_shuffle_seed = None

    # ---- compile ------------------------------------------------------------
    def compile(
        self,
        optimizer="rmsprop",
        loss=None,
        loss_weights=None,
        metrics=None,
        weighted_metrics=None,
        run_eagerly=False,
        steps_per_execution=1,
        jit_compile="auto",
        auto_scale_loss=True,
    ):
        """Configures the model for training.

        Args:
            optimizer: name ("adam", "sgd", "rmsprop", ...) or optimizer instance.
            loss: name, function, `Loss` instance, or a list/dict per output.
            loss_weights: weights of the per-output losses (list, dict, float).
            metrics: list of names/functions/`Metric`s ("accuracy" picks
                binary / categorical / sparse categorical accuracy from the
                shapes), or a list/dict per output.
            weighted_metrics: metrics weighted by `sample_weight`/`class_weight`.
            run_eagerly: run every step eagerly (no captured programs).
            steps_per_execution: accepted for Keras compatibility.
            jit_compile: "auto" (default) or True: `fit`, `evaluate` and
                `predict` capture their step once per input signature as a
                kernel program and replay it (trainers/compiled_function.py),
                running eagerly where a step cannot be replayed; False:
                always eager.
        """
        self.optimizer = optimizers_module.get(optimizer)
        output_names = getattr(self, "output_names", None)
        if loss is not None:
            self._compile_loss = CompileLoss(loss, loss_weights, output_names=output_names)
        else:
            self._compile_loss = None
        self.loss = loss
        if metrics is not None or weighted_metrics is not None:
            self._compile_metrics = CompileMetrics(metrics, weighted_metrics, output_names=output_names)
        else:
            self._compile_metrics = None
        self._jit_compile = jit_compile is not False and not run_eagerly
        self._run_eagerly = run_eagerly
        self.steps_per_execution = steps_per_execution
        self.stop_training = False
        self.compiled = True
        self._loss_tracker = metrics_module.Mean(name="loss")
        self.train_function = None
        self.test_function = None
        self.predict_function = None
        self._reset_step_caches()
        self._compile_config = {
            "optimizer": optimizer,
            "loss": loss,
            "loss_weights": loss_weights,
            "metrics": metrics,
            "weighted_metrics": weighted_metrics,
            "run_eagerly": run_eagerly,
            "steps_per_execution": steps_per_execution,
            "jit_compile": jit_compile,
        }

    @property
    def jit_compile(self):
        return self._jit_compile

    @jit_compile.setter
    def jit_compile(self, value):
        self._jit_compile = bool(value)

    @property
    def run_eagerly(self):
        return self._run_eagerly

    @run_eagerly.setter
    def run_eagerly(self, value):
        self._run_eagerly = value

    def get_compile_config(self):
        if self.compiled and hasattr(self, "_compile_config"):
            from lamina.saving.serialization_lib import serialize_keras_object

            return serialize_keras_object(self._compile_config)
        return None

    def compile_from_config(self, config):
        from lamina.saving.serialization_lib import deserialize_keras_object

        def revive(c):
            # Names ("adam", "mse", "accuracy") stay names; serialized objects are rebuilt.
            if isinstance(c, dict):
                if "class_name" in c:
                    return deserialize_keras_object(c)
                return {k: revive(v) for k, v in c.items()}
            if isinstance(c, (list, tuple)):
                return type(c)(revive(v) for v in c)
            return c

        config = {k: revive(v) for k, v in dict(config).items()}
        self.compile(**config)

    def _assert_compile_called(self, method_name=None):
        if not self.compiled:
            msg = "You must call `compile()` before "
            msg += "using the model." if method_name is None else f"calling `{method_name}()`."
            raise ValueError(msg)

    # ---- metrics ------------------------------------------------------------
    @property
    def metrics(self):
        out = []
        if self.compiled:
            if self._loss_tracker is not None:
                out.append(self._loss_tracker)
            if self._compile_metrics is not None:
                out.append(self._compile_metrics)
            if self._compile_loss is not None:
                out.extend(self._compile_loss.metrics)
        from lamina.metrics.metric import Metric

        out.extend(v for k, v in self.__dict__.items() if isinstance(v, Metric) and v is not self._loss_tracker)
        for layer in self._flatten_layers(include_self=False):
            if isinstance(layer, Trainer):
                continue
            out.extend(v for v in layer.__dict__.values() if isinstance(v, Metric))
        return out

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    def reset_metrics(self):
        for m in self.metrics:
            m.reset_state()

    def _metrics_for_step(self):
        cache = self.__dict__.get("_metrics_cache")
        if cache is None:
            cache = self.metrics
            object.__setattr__(self, "_metrics_cache", cache)
        return cache

    def _reset_step_caches(self):
        object.__setattr__(self, "_metrics_cache", None)
        object.__setattr__(self, "_tw_cache", None)
        object.__setattr__(self, "_has_extra_losses", None)

    def get_metrics_result(self):
        """The model's metric values as a dict (compile metrics flattened in)."""
        out = {}
        for metric in self._metrics_for_step():
            if isinstance(metric, CompileMetrics):
                if metric.built:
                    out.update(metric.result())
                continue
            result = metric.result()
            if isinstance(result, dict):
                out.update(result)
            else:
                out[metric.name] = result
        return out

    # ---- loss ---------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The total loss: compiled loss(es) plus `model.losses`
        (regularization penalties and `add_loss` terms)."""
        losses = []
        if self._compile_loss is not None:
            loss = self._compile_loss(y, y_pred, sample_weight)
            if loss is not None:
                losses.append(loss)
        has_extra = self.__dict__.get("_has_extra_losses")
        extras = self.losses if has_extra is None or has_extra else []
        if has_extra is None:
            # As Keras: decided once (per compile/fit) whether to collect model.losses.
            object.__setattr__(self, "_has_extra_losses", bool(extras))
        for extra in extras:
            if not isinstance(extra, Tensor):
                extra = _core.convert_to_tensor(np.asarray(extra, dtype=np.float32), None, True)
            elif extra.dtype not in ("float32", "float64"):
                extra = _core.cast(extra, "float32")
            losses.append(_core.sum(extra))
        if not losses:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        total = losses[0]
        for l in losses[1:]:
            total = total + l
        return total

    def _compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        has_training = self.__dict__.get("_compute_loss_has_training")
        if has_training is None:
            import inspect

            has_training = "training" in inspect.signature(self.compute_loss).parameters
            object.__setattr__(self, "_compute_loss_has_training", has_training)
        if has_training:
            return self.compute_loss(x, y, y_pred, sample_weight, training=training)
        return self.compute_loss(x, y, y_pred, sample_weight)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Updates the compiled metrics and returns all metric results."""
        if self._compile_metrics is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    # ---- steps --------------------------------------------------------------
    def _trainable_weights_for_step(self):
        if self._tw_cache is None:
            self._tw_cache = self.trainable_weights
        return self._tw_cache

    def train_step(self, data):
        """One training step on a batch: forward, loss, gradients, update.
        Returns a dict of metric results. Override for custom training."""
        loss, y_pred = self._train_forward_backward(data)
        return self._update_step_metrics(data, loss, y_pred)

    def test_step(self, data):
        """One evaluation step: forward and loss, metrics updated."""
        loss, y_pred = self._test_forward(data)
        return self._update_step_metrics(data, loss, y_pred)

    def _train_forward_backward(self, data):
        """Forward, loss, gradients and the optimizer update: the part of the
        default `train_step` a compiled step captures (metrics update on the
        host, from its loss and predictions)."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self._compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
        scaled = self.optimizer.scale_loss(loss) if self.optimizer is not None else loss
        trainable = self._trainable_weights_for_step()
        if trainable:
            grads = tape.gradient(scaled, trainable)
            self.optimizer.apply(grads, trainable)
        else:
            warnings.warn("The model does not have any trainable weights.", stacklevel=3)
        return loss, y_pred

    def _test_forward(self, data):
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self._compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=False)
        return loss, y_pred

    def _update_step_metrics(self, data, loss, y_pred):
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        self._loss_tracker.update_state(loss, sample_weight=_batch_size_of(x))
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def predict_step(self, data):
        """One prediction step: the model's outputs for a batch."""
        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def _compiled(self, step_fn, step_name, core_fn):
        """The step function `fit`/`evaluate` call. With `jit_compile`, the
        default step's forward/backward part (`core_fn`) is captured and
        replayed, its metrics updated on the host after; a custom step is
        captured whole, where it can be replayed (trainers/compiled_function.py)."""
        if not self._jit_compile or self._run_eagerly:
            return step_fn
        if getattr(type(self), step_name) is not getattr(Trainer, step_name):
            return CompiledFunction(step_fn)
        core = CompiledFunction(core_fn)

        def compiled_step(data):
            loss, y_pred = core(data)
            return self._update_step_metrics(data, loss, y_pred)

        compiled_step.compiled = core
        return compiled_step

    def make_train_function(self, force=False):
        if self.train_function is not None and not force:
            return self.train_function

        def train_step(data):
            return self.train_step(data)

        self.train_function = self._compiled(train_step, "train_step", self._train_forward_backward)
        return self.train_function

    def _make_train_function_for_trainable(self):
        # A captured step updates the weights that were trainable when it was
        # recorded: freezing or unfreezing layers since then makes a new one.
        key = tuple(id(w) for w in self._trainable_weights_for_step())
        if self.__dict__.get("_train_function_key") != key:
            self.train_function = None
            object.__setattr__(self, "_train_function_key", key)
        return self.make_train_function()

    def make_test_function(self, force=False):
        if self.test_function is not None and not force:
            return self.test_function

        def test_step(data):
            with no_grad():
                return self.test_step(data)

        def test_forward(data):
            with no_grad():
                return self._test_forward(data)

        self.test_function = self._compiled(test_step, "test_step", test_forward)
        return self.test_function

    def make_predict_function(self, force=False):
        if self.predict_function is not None and not force:
            return self.predict_function

        def predict_function(data):
            with no_grad():
                return self.predict_step(to_tensors(data))

        if self._jit_compile and not self._run_eagerly:
            predict_function = CompiledFunction(predict_function)
        self.predict_function = predict_function
        return predict_function

    # ---- building -----------------------------------------------------------
    def _symbolic_build(self, data_batch):
        """Builds the model (by running it once in inference mode on the first
        batch) so that weights exist before training starts."""
        if self._has_no_call():
            # A model that only wraps others for a custom train_step (Keras's VAE
            # and GAN examples) has nothing to run: as Keras on TensorFlow, build
            # nothing here; its optimizer builds on the first apply_gradients.
            self._tw_cache = None
            return
        unbuilt = not self.built or any(not l.built for l in self._flatten_layers())
        if unbuilt:
            x, _, _ = unpack_x_y_sample_weight(data_batch)
            with no_grad():
                self(x, training=False)
        self._tw_cache = None
        if self.optimizer is not None and not self.optimizer.built:
            self.optimizer.build(self.trainable_weights)

    def _has_no_call(self):
        from lamina.models.model import Model

        return isinstance(self, Model) and getattr(type(self), "call", None) is Model.call

    def _check_nan(self, logs, epoch, step):
        loss = logs.get("loss")
        if loss is None or self._nan_warned:
            return
        if isinstance(loss, float) and not math.isfinite(loss):
            self._nan_warned = True
            where = f"epoch {epoch + 1}, batch {step}" if epoch is not None else f"batch {step}"
            warnings.warn(
                f"The loss became {loss} at {where}. Training goes on (as Keras) but the weights are now "
                "probably NaN. Common causes: a learning rate too high, NaN/inf in the inputs or targets, "
                "log of zero in a custom loss, or labels outside the expected range. Pass "
                "callbacks=[lamina.callbacks.TerminateOnNaN()] to stop at the first invalid loss.",
                RuntimeWarning,
                stacklevel=3,
            )

    # ---- fit ----------------------------------------------------------------
    def fit(
        self,
        x=None,
        y=None,
        batch_size=None,
        epochs=1,
        verbose="auto",
        callbacks=None,
        validation_split=0.0,
        validation_data=None,
        shuffle=True,
        class_weight=None,
        sample_weight=None,
        initial_epoch=0,
        steps_per_epoch=None,
        validation_steps=None,
        validation_batch_size=None,
        validation_freq=1,
    ):
        """Trains the model for `epochs` epochs; returns a `History`.

        `x`/`y`: NumPy arrays or tensors (lists/dicts for several inputs or
        outputs), or `x` a Python generator / iterable / `PyDataset` yielding
        `(x, y)` or `(x, y, sample_weight)`. `batch_size` defaults to 32; the
        last batch may be smaller. Shuffling uses a NumPy Generator seeded from
        lamina's global seed. `validation_split` holds out the last fraction of
        the arrays (before shuffling).
        """
        self._assert_compile_called("fit")
        if verbose == "auto":
            verbose = 1
        self._nan_warned = False
        if validation_split and validation_data is None:
            (x, y, sample_weight), validation_data = train_validation_split((x, y, sample_weight), validation_split)
        if validation_data is not None:
            val_x, val_y, val_sample_weight = unpack_x_y_sample_weight(validation_data)
        initial_epoch = self._initial_epoch or initial_epoch
        # Shuffling: epoch e of a fit run uses a generator seeded from (run seed, e),
        # the run seed drawn from lamina's global stream at the start of a run and
        # kept (and saved with the model), so a run resumed at `initial_epoch` > 0
        # shuffles exactly as the uninterrupted run would have.
        if initial_epoch == 0 or getattr(self, "_fit_shuffle_seed", None) is None:
            self._fit_shuffle_seed = numpy_generator().integers(0, 2**62)
        self._fit_shuffle_seed = int(self._fit_shuffle_seed)
        rng = _EpochSeededRNG(self._fit_shuffle_seed, initial_epoch)
        iterator = EpochIterator(
            x, y, sample_weight, batch_size=batch_size, steps_per_epoch=steps_per_epoch,
            shuffle=shuffle, class_weight=class_weight, rng=rng,
        )
        self._symbolic_build(iterator.peek())
        self._reset_step_caches()
        if not isinstance(callbacks, CallbackList):
            callbacks = CallbackList(
                callbacks, add_history=True, add_progbar=verbose != 0, verbose=verbose,
                epochs=epochs, steps=iterator.num_batches, model=self,
            )
        self._fit_has_validation = validation_data is not None
        # With TerminateOnNaN attached the user already handles invalid losses: no warning.
        self._nan_warned = any(type(c).__name__ == "TerminateOnNaN" for c in callbacks.callbacks)
        self.stop_training = False
        self._make_train_function_for_trainable()
        callbacks.on_train_begin()
        if self._initial_epoch is not None or self._initial_step:
            # A callback (BackupAndRestore) restored a run: continue it where it stopped.
            initial_epoch = self._initial_epoch or initial_epoch
            if self._fit_shuffle_seed is None:
                self._fit_shuffle_seed = int(numpy_generator().integers(0, 2**62))
            rng._seed = int(self._fit_shuffle_seed)
            rng.set_epoch(initial_epoch)
            iterator.reset()
        initial_step = self._initial_step or 0
        training_logs = {}
        self._eval_iterator = None
        epoch = initial_epoch
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            rng.set_epoch(epoch)
            callbacks.on_epoch_begin(epoch)
            logs = {}
            for step, data in iterator:
                if initial_step:
                    if step < initial_step:
                        continue  # done before the interruption (restored from a backup)
                    initial_step = 0
                callbacks.on_train_batch_begin(step)
                logs = pythonify_logs(self.train_function(data))
                self._check_nan(logs, epoch, step)
                callbacks.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            if iterator._insufficient_data:
                self.stop_training = True
            epoch_logs = dict(self._get_metrics_result_or_logs(logs))
            if validation_data is not None and self._should_eval(epoch, validation_freq):
                val_logs = self.evaluate(
                    x=val_x, y=val_y, sample_weight=val_sample_weight,
                    batch_size=validation_batch_size or batch_size, steps=validation_steps,
                    callbacks=callbacks, return_dict=True, _use_cached_eval_dataset=True, verbose=0,
                )
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callbacks.on_epoch_end(epoch, epoch_logs)
            training_logs = epoch_logs
            if self.stop_training:
                break
        if self.optimizer is not None and epochs > 0:
            self.optimizer.finalize_variable_values(self.trainable_weights)
        self._eval_iterator = None
        self._initial_epoch = None
        self._initial_step = None
        callbacks.on_train_end(logs=training_logs)
        self._reset_step_caches()
        return self.history

    def _get_metrics_result_or_logs(self, logs):
        """The metric results, or the last step's logs when a custom step
        returned other keys (as Keras)."""
        metric_logs = pythonify_logs(self.get_metrics_result())
        if isinstance(logs, dict) and set(logs.keys()) == set(metric_logs.keys()):
            return metric_logs
        return logs

    def _should_eval(self, epoch, validation_freq):
        epoch = epoch + 1
        if isinstance(validation_freq, int):
            return epoch % validation_freq == 0
        if isinstance(validation_freq, (list, tuple)):
            return epoch in validation_freq
        raise ValueError(
            "Expected `validation_freq` to be a list or int. "
            f"Received: validation_freq={validation_freq} of the type {type(validation_freq)}."
        )

    # ---- evaluate -----------------------------------------------------------
    def evaluate(
        self,
        x=None,
        y=None,
        batch_size=None,
        verbose="auto",
        sample_weight=None,
        steps=None,
        callbacks=None,
        return_dict=False,
        **kwargs,
    ):
        """Returns the loss and metrics on the data: a scalar (loss only), a
        list `[loss, metric...]`, or a dict with `return_dict=True`."""
        self._assert_compile_called("evaluate")
        use_cached = kwargs.pop("_use_cached_eval_dataset", False)
        if kwargs:
            raise ValueError(f"Arguments not recognized: {kwargs}")
        if verbose == "auto":
            verbose = 1
        if use_cached and getattr(self, "_eval_iterator", None) is not None:
            iterator = self._eval_iterator
        else:
            iterator = EpochIterator(x, y, sample_weight, batch_size=batch_size, steps_per_epoch=steps, shuffle=False)
            if use_cached:
                self._eval_iterator = iterator
        self._symbolic_build(iterator.peek())
        if not isinstance(callbacks, CallbackList):
            callbacks = CallbackList(
                callbacks, add_history=False, add_progbar=verbose != 0, verbose=verbose,
                epochs=1, steps=iterator.num_batches, model=self,
            )
        self.make_test_function()
        self.stop_evaluating = False
        callbacks.on_test_begin()
        logs = {}
        self.reset_metrics()
        for step, data in iterator:
            callbacks.on_test_batch_begin(step)
            logs = pythonify_logs(self.test_function(data))
            callbacks.on_test_batch_end(step, logs)
            if self.stop_evaluating:
                break
        logs = self._get_metrics_result_or_logs(logs)
        callbacks.on_test_end(logs)
        if return_dict:
            return logs
        return self._flatten_metrics_in_order(logs)

    def _flatten_metrics_in_order(self, logs):
        names = []
        for metric in self.metrics:
            if isinstance(metric, CompileMetrics):
                names += [m.name for m in metric.metrics]
            else:
                names.append(metric.name)
        results = [logs[n] for n in names if n in logs]
        results += [logs[k] for k in sorted(logs) if k not in names]
        if len(results) == 1:
            return results[0]
        return results

    # ---- predict ------------------------------------------------------------
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for `x` as NumPy arrays (batched; generators
        and PyDatasets may yield `x` or `(x, y)`)."""
        if verbose == "auto":
            verbose = 1
        iterator = EpochIterator(x, batch_size=batch_size, steps_per_epoch=steps, shuffle=False)
        if not isinstance(callbacks, CallbackList):
            callbacks = CallbackList(
                callbacks, add_history=True, add_progbar=verbose != 0, verbose=verbose,
                epochs=1, steps=iterator.num_batches, model=self,
            )
        self.make_predict_function()
        self.stop_predicting = False
        callbacks.on_predict_begin()
        outputs = []
        for step, data in iterator:
            callbacks.on_predict_batch_begin(step)
            batch_outputs = self.predict_function(data)
            outputs.append(tree.map_structure(lambda t: np.array(t.numpy()) if isinstance(t, Tensor) else np.asarray(t), batch_outputs))
            callbacks.on_predict_batch_end(step, {"outputs": batch_outputs})
            if self.stop_predicting:
                break
        callbacks.on_predict_end()
        if not outputs:
            raise ValueError("`predict` got no batches from its input (empty data, or an exhausted generator).")
        return tree.map_structure(lambda *parts: np.concatenate(parts, axis=0), *outputs)

    # ---- *_on_batch -----------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """Runs one gradient update on a single batch; returns its logs
        (the metrics are reset first, as in Keras 3)."""
        self._assert_compile_called("train_on_batch")
        if class_weight is not None:
            if sample_weight is not None:
                raise ValueError(
                    "Arguments `sample_weight` and `class_weight` cannot be specified at the same time. "
                    f"Received: sample_weight={sample_weight}, class_weight={class_weight}"
                )
            from lamina.trainers.data_adapters import class_weight_to_sample_weights

            yy = y.numpy() if isinstance(y, Tensor) else np.asarray(y)
            sample_weight = class_weight_to_sample_weights(yy, class_weight)
        data = to_tensors((x, y, sample_weight))
        self._symbolic_build(data)
        self._make_train_function_for_trainable()
        self.reset_metrics()
        logs = pythonify_logs(self.train_function(data))
        self._reset_step_caches()
        if return_dict:
            return logs
        return self._flatten_metrics_in_order(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Evaluates one batch; returns its logs."""
        self._assert_compile_called("test_on_batch")
        data = to_tensors((x, y, sample_weight))
        self._symbolic_build(data)
        self.make_test_function()
        self.reset_metrics()
        logs = pythonify_logs(self.test_function(data))
        if return_dict:
            return logs
        return self._flatten_metrics_in_order(logs)

    def predict_on_batch(self, x):
        """The model's outputs for one batch, as NumPy arrays."""
        self.make_predict_function()
        # Arrays go in as they are: a captured program copies them straight
        # into its input buffers; the eager step converts them itself.
        out = self.predict_function((x,))
        return tree.map_structure(lambda t: np.array(t.numpy()) if isinstance(t, Tensor) else t, out)
