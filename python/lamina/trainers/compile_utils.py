"""The loss and metrics given to `compile()`, resolved against the model's
outputs (single or multiple, lists or dicts), as Keras's compile_utils."""

from lamina import _core
from lamina import losses as losses_module
from lamina import metrics as metrics_module
from lamina.utils import tree
from lamina.utils.naming import get_object_name

Tensor = _core.Tensor


def _shape(x):
    return tuple(x.shape) if hasattr(x, "shape") else tuple(getattr(x, "shape", ()))


def is_binary_or_sparse_categorical(y_true, y_pred):
    yt_shape, yp_shape = _shape(y_true), _shape(y_pred)
    yt_rank, yp_rank = len(yt_shape), len(yp_shape)
    yt_last = yt_shape[-1] if yt_shape else None
    yp_last = yp_shape[-1] if yp_shape else None
    is_binary = yp_last == 1
    is_sparse = yt_rank < yp_rank or (yt_last == 1 and yp_last is not None and yp_last > 1)
    return is_binary, is_sparse


def get_metric(identifier, y_true, y_pred):
    if identifier is None:
        return None
    if str(identifier).lower() not in ("accuracy", "acc"):
        metric_obj = metrics_module.get(identifier)
    else:
        is_binary, is_sparse = is_binary_or_sparse_categorical(y_true, y_pred)
        if is_binary:
            metric_obj = metrics_module.BinaryAccuracy(name=str(identifier))
        elif is_sparse:
            metric_obj = metrics_module.SparseCategoricalAccuracy(name=str(identifier))
        else:
            metric_obj = metrics_module.CategoricalAccuracy(name=str(identifier))
    if isinstance(identifier, str):
        metric_name = identifier
    else:
        metric_name = get_object_name(metric_obj)
    if not isinstance(metric_obj, metrics_module.Metric):
        metric_obj = metrics_module.MeanMetricWrapper(metric_obj)
    metric_obj.name = metric_name
    return metric_obj


def get_loss(identifier, y_true, y_pred):
    if identifier is None:
        return None
    if str(identifier).lower() not in ("crossentropy", "ce"):
        loss_obj = losses_module.get(identifier)
    else:
        is_binary, is_sparse = is_binary_or_sparse_categorical(y_true, y_pred)
        if is_binary:
            loss_obj = losses_module.binary_crossentropy
        elif is_sparse:
            loss_obj = losses_module.sparse_categorical_crossentropy
        else:
            loss_obj = losses_module.categorical_crossentropy
    if not isinstance(loss_obj, losses_module.Loss):
        name = identifier if isinstance(identifier, str) else get_object_name(loss_obj)
        loss_obj = losses_module.LossFunctionWrapper(loss_obj, name=name)
    return loss_obj


class MetricsList:
    def __init__(self, metrics, output_name=None):
        self.metrics = metrics
        self.output_name = output_name

    def update_state(self, y_true, y_pred, sample_weight=None):
        for m in self.metrics:
            m.update_state(y_true, y_pred, sample_weight=sample_weight)

    def reset_state(self):
        for m in self.metrics:
            m.reset_state()


def _is_function_like(v):
    return v is None or isinstance(v, str) or callable(v)


class CompileMetrics:
    """The `metrics` / `weighted_metrics` of compile, built on the first batch."""

    def __init__(self, metrics, weighted_metrics, output_names=None):
        if metrics and not isinstance(metrics, (list, tuple, dict)):
            raise ValueError(
                "Expected `metrics` argument to be a list, tuple, or dict. "
                f"Received instead: metrics={metrics} of type {type(metrics)}"
            )
        if weighted_metrics and not isinstance(weighted_metrics, (list, tuple, dict)):
            raise ValueError(
                "Expected `weighted_metrics` argument to be a list, tuple, or dict. "
                f"Received instead: weighted_metrics={weighted_metrics} of type {type(weighted_metrics)}"
            )
        self._user_metrics = metrics
        self._user_weighted_metrics = weighted_metrics
        self.output_names = output_names
        # Fail at compile time on unknown names and on per-output lists of
        # the wrong length (Keras finds these when building, before training).
        for m in tree.flatten([metrics, weighted_metrics]):
            if isinstance(m, str) and m.lower() not in ("accuracy", "acc", "crossentropy", "ce"):
                metrics_module.get(m)
        if output_names and len(output_names) > 1:
            for arg, value in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
                if isinstance(value, (list, tuple)) and value and len(value) != len(output_names):
                    raise ValueError(
                        f"For a model with multiple outputs, when providing the `{arg}` argument as a list, it "
                        f"should have as many entries as the model has outputs. Received:\n{arg}={value}\nof "
                        f"length {len(value)} whereas the model has {len(output_names)} outputs."
                    )
        self.built = False
        self.name = "compile_metrics"
        self._flat_metrics = []
        self._flat_weighted_metrics = []

    @property
    def metrics(self):
        if not self.built:
            return []
        out = []
        for m in self._flat_metrics + self._flat_weighted_metrics:
            if isinstance(m, MetricsList):
                out.extend(m.metrics)
        return out

    @property
    def variables(self):
        out = []
        for m in self.metrics:
            out.extend(m.variables)
        return out

    def _flatten_y(self, y):
        if isinstance(y, dict) and self.output_names:
            return [y[name] for name in self.output_names if name in y]
        return tree.flatten(y)

    def build(self, y_true, y_pred):
        num_outputs = 1
        if self.output_names:
            output_names = self.output_names
        elif isinstance(y_pred, dict):
            output_names = sorted(y_pred.keys())
        elif isinstance(y_pred, (list, tuple)):
            num_outputs = len(y_pred)
            output_names = None
        else:
            output_names = None
        if output_names:
            num_outputs = len(output_names)
        y_pred_f = self._flatten_y(y_pred)
        y_true_f = self._flatten_y(y_true)
        self._flat_metrics = self._build_set(self._user_metrics, num_outputs, output_names, y_true_f, y_pred_f, "metrics")
        self._flat_weighted_metrics = self._build_set(
            self._user_weighted_metrics, num_outputs, output_names, y_true_f, y_pred_f, "weighted_metrics"
        )
        self.built = True

    def _build_set(self, metrics, num_outputs, output_names, y_true, y_pred, arg):
        flat = []
        if isinstance(metrics, dict):
            for name in metrics:
                if not output_names or name not in output_names:
                    raise ValueError(
                        f"In the dict argument `{arg}`, key '{name}' does not correspond to any model output. "
                        f"Received:\n{arg}={metrics}"
                    )
        if num_outputs == 1:
            if not metrics:
                flat.append(None)
            else:
                if isinstance(metrics, dict):
                    metrics = tree.flatten(metrics)
                if not isinstance(metrics, list):
                    metrics = list(metrics)
                if not all(_is_function_like(m) for m in metrics):
                    raise ValueError(
                        f"Expected all entries in the `{arg}` list to be metric objects. Received instead:\n{arg}={metrics}"
                    )
                flat.append(MetricsList([get_metric(m, y_true[0], y_pred[0]) for m in metrics if m is not None]))
        else:
            if isinstance(metrics, (list, tuple)):
                if len(metrics) != len(y_pred):
                    raise ValueError(
                        f"For a model with multiple outputs, when providing the `{arg}` argument as a list, it "
                        f"should have as many entries as the model has outputs. Received:\n{arg}={metrics}\nof "
                        f"length {len(metrics)} whereas the model has {len(y_pred)} outputs."
                    )
                for idx, (mls, yt, yp) in enumerate(zip(metrics, y_true, y_pred)):
                    if not isinstance(mls, list):
                        mls = [mls]
                    name = output_names[idx] if output_names else None
                    flat.append(MetricsList([get_metric(m, yt, yp) for m in mls if m is not None], output_name=name))
            elif isinstance(metrics, dict):
                for name, yt, yp in zip(output_names, y_true, y_pred):
                    if name in metrics:
                        mls = metrics[name] if isinstance(metrics[name], list) else [metrics[name]]
                        flat.append(MetricsList([get_metric(m, yt, yp) for m in mls if m is not None], output_name=name))
                    else:
                        flat.append(None)
            else:
                flat.extend([None] * num_outputs)
        return flat

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            self.build(y_true, y_pred)
        y_true = self._flatten_y(y_true)
        y_pred = self._flatten_y(y_pred)
        for m, yt, yp in zip(self._flat_metrics, y_true, y_pred):
            if m:
                m.update_state(yt, yp)
        if sample_weight is not None:
            sample_weight = self._flatten_y(sample_weight)
            if len(sample_weight) < len(y_true):
                sample_weight = [sample_weight[0] for _ in range(len(y_true))]
        else:
            sample_weight = [None] * len(y_true)
        for m, yt, yp, sw in zip(self._flat_weighted_metrics, y_true, y_pred, sample_weight):
            if m:
                m.update_state(yt, yp, sw)

    def reset_state(self):
        if not self.built:
            return
        for m in self._flat_metrics + self._flat_weighted_metrics:
            if m:
                m.reset_state()

    def result(self):
        if not self.built:
            raise ValueError("Cannot get result() since the metric has not yet been built.")
        results = {}
        counters = {}
        for mls in self._flat_metrics:
            if not mls:
                continue
            for m in mls.metrics:
                name = f"{mls.output_name}_{m.name}" if mls.output_name else m.name
                if name not in counters:
                    results[name] = m.result()
                    counters[name] = 1
                else:
                    idx = counters[name]
                    counters[name] += 1
                    results[f"{name}_{idx}"] = m.result()
        for mls in self._flat_weighted_metrics:
            if not mls:
                continue
            for m in mls.metrics:
                name = f"{mls.output_name}_{m.name}" if mls.output_name else m.name
                if name not in counters:
                    results[name] = m.result()
                    counters[name] = 1
                else:
                    name = f"weighted_{m.name}"
                    if mls.output_name:
                        name = f"{mls.output_name}_{name}"
                    if name not in counters:
                        counters[name] = 1
                    else:
                        idx = counters[name]
                        counters[name] += 1
                        name = f"{name}_{idx}"
                    results[name] = m.result()
        return results


class CompileLoss:
    """The `loss` / `loss_weights` of compile: one loss per output, summed
    with weights; per-output loss means are tracked as "<output>_loss" when
    there are several."""

    def __init__(self, loss, loss_weights=None, reduction="sum_over_batch_size", output_names=None):
        if loss_weights is not None and not isinstance(loss_weights, (list, tuple, dict, float, int)):
            raise ValueError(
                "Expected `loss_weights` argument to be a float (single output case) or a list, tuple, or dict "
                f"(multiple output case). Received instead: loss_weights={loss_weights} of type {type(loss_weights)}"
            )
        for l in tree.flatten(loss):
            if isinstance(l, str) and l.lower() not in ("crossentropy", "ce"):
                losses_module.get(l)
        self._user_loss = loss
        self._user_loss_weights = loss_weights
        self.output_names = output_names
        self.reduction = reduction
        self.built = False
        self.name = "compile_loss"
        self.metrics = []
        self._flat = []

    def _output_names_for(self, y_pred):
        if isinstance(y_pred, dict):
            return list(y_pred.keys())
        if self.output_names and len(self.output_names) == len(tree.flatten(y_pred)):
            return list(self.output_names)
        return [None] * len(tree.flatten(y_pred))

    def build(self, y_true, y_pred):
        loss = self._user_loss
        weights = self._user_loss_weights
        if isinstance(y_pred, dict):
            names = list(y_pred.keys())
            preds = [y_pred[k] for k in names]
        else:
            preds = tree.flatten(y_pred)
            names = self._output_names_for(y_pred)
        n = len(preds)
        # Losses, one per output.
        if isinstance(loss, dict):
            unknown = [k for k in loss if k not in names]
            if unknown:
                raise ValueError(
                    f"Expected keys {names} in loss dict, but found loss.keys()={list(loss.keys())}"
                )
            per_output = [loss.get(name) for name in names]
        elif isinstance(loss, (list, tuple)):
            if len(loss) != n:
                raise ValueError(
                    f"For a model with {n} outputs, the `loss` list must have {n} entries. Received: loss={loss}"
                )
            per_output = list(loss)
        else:
            per_output = [loss] * n
        # Weights.
        if weights is None:
            per_weights = [None] * n
        elif isinstance(weights, dict):
            per_weights = [weights.get(name) for name in names]
        elif isinstance(weights, (list, tuple)):
            if len(weights) != n:
                raise ValueError(
                    f"`loss_weights` must match the number of losses, got {n} losses and {len(weights)} weights."
                )
            per_weights = list(weights)
        else:
            per_weights = [float(weights)] * n
        true_f = self._flatten_true(y_true, names, n)
        self._flat = []
        for i, (l, w) in enumerate(zip(per_output, per_weights)):
            if l is None:
                self._flat.append(None)
                continue
            resolved = get_loss(l, true_f[i] if i < len(true_f) else None, preds[i])
            name = names[i] or resolved.name
            self._flat.append((i, resolved, w, name))
        active = [f for f in self._flat if f is not None]
        if len(active) > 1:
            self.metrics = [metrics_module.Mean(name=f"{f[3]}_loss") for f in active]
        else:
            self.metrics = []
        self._names = names
        self.built = True

    def _flatten_true(self, y_true, names, n):
        if isinstance(y_true, dict):
            missing = [k for k in names if k is not None and k not in y_true]
            if missing and n > 1:
                raise ValueError(
                    f"The targets dict is missing entries for outputs {missing}; it has keys {list(y_true.keys())}"
                )
            return [y_true.get(k) for k in names]
        if n == 1:
            if isinstance(y_true, (list, tuple)) and len(y_true) == 1:
                return [y_true[0]]
            return [y_true]
        flat = tree.flatten(y_true)
        return flat

    def __call__(self, y_true, y_pred, sample_weight=None):
        return self.call(y_true, y_pred, sample_weight)

    def call(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            self.build(y_true, y_pred)
        if isinstance(y_pred, dict):
            preds = [y_pred[k] for k in self._names]
        else:
            preds = tree.flatten(y_pred)
        n = len(preds)
        trues = self._flatten_true(y_true, self._names, n)
        active = [f for f in self._flat if f is not None]
        if len(trues) != len(preds) and len(trues) != len(active):
            raise ValueError(
                f"The model has {n} outputs but {len(trues)} targets were given. Provide one target per output "
                "(a list in output order, or a dict keyed by output name)."
            )
        if len(trues) == len(active) and len(trues) != len(preds):
            it = iter(trues)
            trues = [next(it) if f is not None else None for f in self._flat]
        if sample_weight is not None and isinstance(sample_weight, (list, tuple, dict)):
            sws = [sample_weight[k] for k in self._names] if isinstance(sample_weight, dict) else tree.flatten(sample_weight)
        else:
            sws = [sample_weight] * n
        values = []
        track = self.metrics
        k = 0
        for entry in self._flat:
            if entry is None:
                continue
            i, loss_fn, weight, _ = entry
            yt, yp = trues[i], preds[i]
            if yt is None:
                raise ValueError(f"No target was given for output {self._names[i] or i}")
            value = _named_loss_call(loss_fn, yt, yp, sws[i] if i < len(sws) else None, self._names[i])
            if track:
                track[k].update_state(value, sample_weight=int(yp.shape[0]) if yp.ndim else 1)
            k += 1
            if weight is not None:
                value = value * weight
            values.append(value)
        if not values:
            return None
        total = values[0]
        for v in values[1:]:
            total = total + v
        return total


def _named_loss_call(loss_fn, y_true, y_pred, sample_weight, output_name):
    """`loss_fn(...)`, with errors naming the model output they concern."""
    try:
        return loss_fn(y_true, y_pred, sample_weight)
    except ValueError as e:
        if output_name is None:
            raise
        raise ValueError(
            f"Loss '{getattr(loss_fn, 'name', loss_fn)}' for output '{output_name}' (predictions of shape "
            f"{tuple(y_pred.shape)}, targets of shape {tuple(getattr(y_true, 'shape', ()))}): {e}"
        ) from e
