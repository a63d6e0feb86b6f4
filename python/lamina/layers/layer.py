"""`Layer`: the base class of every layer and model (`keras.layers.Layer`).

A layer owns weights (created lazily in `build(input_shape)` on the first
call), computes `call(inputs, training=None)`, and can be called on real
tensors or on symbolic `KerasTensor`s (to build functional models).
"""

import functools
import inspect
import threading

import numpy as np

from lamina import _core
from lamina import constraints as constraints_module
from lamina import initializers as initializers_module
from lamina import regularizers as regularizers_module
from lamina.backend.common import get_keras_mask, set_keras_mask, standardize_dtype
from lamina.backend.keras_tensor import KerasTensor
from lamina.backend.symbolic import compute_output_spec as _run_for_spec
from lamina.backend.variables import Variable
from lamina.layers.input_spec import InputSpec, assert_input_compatibility  # noqa: F401
from lamina.layers.node import Node
from lamina.utils import naming, tree

Tensor = _core.Tensor
_ctx = threading.local()
# Set when any layer adds a loss, so outer calls only walk the layer tree to
# clear losses when there is something to clear.
_LOSS_STATE = {"pending": False}
_scope = threading.local()


def current_path():
    """The current name scope ("outer/inner"), as `keras.backend` tracks it."""
    stack = getattr(_scope, "stack", None)
    return "/".join(name for name, _ in stack) if stack else ""


class _NameScope:
    """Enters `layer`'s name scope (not again when it is already the innermost)."""

    __slots__ = ("layer", "pushed")

    def __init__(self, layer):
        self.layer = layer
        self.pushed = False

    def __enter__(self):
        stack = getattr(_scope, "stack", None)
        if stack is None:
            stack = _scope.stack = []
        if not stack or stack[-1][1] is not self.layer:
            stack.append((self.layer.name, self.layer))
            self.pushed = True
        return self

    def __exit__(self, *exc):
        if self.pushed:
            _scope.stack.pop()
        return False


def _wrap_build(obj):
    """Instance-level `build` that runs in the layer's name scope and records
    the layer's path (as Keras's build wrapper)."""
    original = obj.build

    @functools.wraps(original)
    def build(*args, **kwargs):
        with _NameScope(obj):
            object.__setattr__(obj, "_path", current_path())
            result = original(*args, **kwargs)
        # Record the build arguments (for get_build_config), as Keras.
        try:
            shapes = dict(inspect.signature(original).bind(*args, **kwargs).arguments)
        except TypeError:
            shapes = None
        object.__setattr__(obj, "_build_shapes_dict", shapes)
        object.__setattr__(obj, "built", True)
        return result

    object.__setattr__(obj, "build", build)


class CallContext:
    """State shared by the nested layer calls of one outer call."""

    def __init__(self, entry_layer):
        self.entry_layer = entry_layer
        self.training = None


def _current_context():
    return getattr(_ctx, "ctx", None)


class DTypePolicy:
    """The (variable, compute) dtype of a layer; lamina uses one dtype for both."""

    def __init__(self, name="float32"):
        self.name = standardize_dtype(name)

    @property
    def compute_dtype(self):
        return self.name

    @property
    def variable_dtype(self):
        return self.name

    def __repr__(self):
        return f'<DTypePolicy "{self.name}">'


def _default(method):
    method._is_default = True
    return method


def _is_default(method):
    return getattr(method, "_is_default", False)


_SIG_CACHE = {}


def _call_signature(cls):
    info = _SIG_CACHE.get(cls)
    if info is None:
        sig = inspect.signature(cls.call)
        params = list(sig.parameters.values())[1:]
        names = [p.name for p in params]
        has_var_kw = any(p.kind == p.VAR_KEYWORD for p in params)
        training_default = sig.parameters["training"].default if "training" in sig.parameters else None
        if training_default is inspect.Parameter.empty:
            training_default = None
        positional = [
            p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        info = {
            "names": names,
            "positional": positional,
            "training": "training" in names or has_var_kw,
            "training_explicit": "training" in names,
            "mask": "mask" in names,
            "training_default": training_default,
            "var_kw": has_var_kw,
        }
        _SIG_CACHE[cls] = info
    return info


_TRACKED_SKIP = frozenset(
    {
        "_inbound_nodes",
        "_outbound_nodes",
        "_functional",
        "_losses",
        "_auto_config",
        "_build_shapes_dict",
        "_input_spec",
        "optimizer",
        "_compile_loss",
        "_compile_metrics",
        "_loss_tracker",
        "history",
        "_callbacks",
        "_metrics_cache",
        "_tw_cache",
    }
)


class Layer:
    """Base class of layers.

    Subclasses implement `call(inputs, training=None)` and usually
    `build(input_shape)` (create weights with `add_weight`), plus
    `compute_output_shape(input_shape)` and `get_config()`.

    Args:
        trainable: whether the layer's weights are updated by training.
        dtype: the dtype of weights and computations ("float32" default).
        name: the layer's name (unique default from the class name).
        activity_regularizer: a penalty on the layer's outputs.
    """

    def __new__(cls, *args, **kwargs):
        obj = super().__new__(cls)
        # Capture the constructor arguments, for automatic get_config().
        try:
            bound = inspect.signature(cls.__init__).bind(None, *args, **kwargs)
            config = {}
            for k, v in list(bound.arguments.items())[1:]:
                p = inspect.signature(cls.__init__).parameters[k]
                if p.kind == p.VAR_KEYWORD:
                    config.update(v)
                elif p.kind == p.VAR_POSITIONAL:
                    config[k] = list(v)
                else:
                    config[k] = v
            object.__setattr__(obj, "_auto_config", config)
        except Exception:
            object.__setattr__(obj, "_auto_config", None)
        if cls.build is not Layer.build:
            _wrap_build(obj)
        return obj

    def __init__(
        self,
        *,
        activity_regularizer=None,
        trainable=True,
        dtype=None,
        autocast=True,
        name=None,
        **kwargs,
    ):
        input_shape = kwargs.pop("input_shape", None)
        input_dim = kwargs.pop("input_dim", None)
        batch_input_shape = kwargs.pop("batch_input_shape", None)
        batch_size = kwargs.pop("batch_size", None)
        input_dtype = kwargs.pop("input_dtype", None)
        kwargs.pop("input_length", None)
        if kwargs:
            raise ValueError(
                f"Unrecognized keyword arguments passed to {self.__class__.__name__}: {kwargs}"
            )
        if name is not None and (not isinstance(name, str) or "/" in name):
            raise ValueError(
                "Argument `name` must be a string and cannot contain character `/`. "
                f"Received: name={name} (of type {type(name)})"
            )
        self._input_shape_arg = None
        if batch_input_shape is not None:
            self._input_shape_arg = tuple(batch_input_shape)[1:]
            batch_size = tuple(batch_input_shape)[0]
        elif input_shape is not None:
            self._input_shape_arg = tuple(input_shape)
        elif input_dim is not None:
            self._input_shape_arg = (input_dim,)
        self._input_batch_size = batch_size
        self._input_dtype_arg = input_dtype
        self.name = name or naming.auto_name(self.__class__.__name__)
        self._dtype_policy = DTypePolicy(dtype if dtype is not None else _floatx())
        self.autocast = autocast
        self._trainable = bool(trainable)
        self.built = False
        self._called = False
        self._trainable_variables = []
        self._non_trainable_variables = []
        self._losses = []
        self._inbound_nodes = []
        self._outbound_nodes = []
        self._input_spec = None
        self._build_shapes_dict = None
        self.supports_masking = not _is_default(type(self).compute_mask) if not hasattr(
            self, "supports_masking"
        ) else self.supports_masking
        self.activity_regularizer = regularizers_module.get(activity_regularizer)
        self._allow_non_tensor_positional_args = False
        self._convert_input_args = True
        self._path = self.name

    # ---- attribute tracking -------------------------------------------------
    def __setattr__(self, name, value):
        if isinstance(value, Variable) and name not in _TRACKED_SKIP:
            d = self.__dict__
            own = d.get("_trainable_variables")
            if own is not None and not _contains(own, value) and not _contains(
                d.get("_non_trainable_variables", ()), value
            ):
                (own if value.trainable else d["_non_trainable_variables"]).append(value)
        object.__setattr__(self, name, value)

    def _sublayers(self):
        """Direct sublayers, in attribute order (lists and dicts looked into)."""
        out = []
        seen = set()
        for k, v in self.__dict__.items():
            if k in _TRACKED_SKIP:
                continue
            if isinstance(v, Layer):
                if id(v) not in seen and v is not self:
                    seen.add(id(v))
                    out.append(v)
            elif isinstance(v, (list, tuple)):
                for x in v:
                    if isinstance(x, Layer) and id(x) not in seen and x is not self:
                        seen.add(id(x))
                        out.append(x)
            elif isinstance(v, dict):
                for x in v.values():
                    if isinstance(x, Layer) and id(x) not in seen and x is not self:
                        seen.add(id(x))
                        out.append(x)
        return out

    def _flatten_layers(self, include_self=True, recursive=True):
        out = [self] if include_self else []
        seen = {id(self)}
        stack = list(self._sublayers())
        queue = []
        for layer in stack:
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            queue.append(layer)
        if not recursive:
            return out + queue
        result = list(out)

        def visit(layer):
            result.append(layer)
            for sub in layer._sublayers():
                if id(sub) not in seen:
                    seen.add(id(sub))
                    visit(sub)

        for layer in queue:
            visit(layer)
        return result

    # ---- properties ---------------------------------------------------------
    @property
    def path(self):
        return self._path

    @property
    def dtype_policy(self):
        return self._dtype_policy

    @dtype_policy.setter
    def dtype_policy(self, value):
        self._dtype_policy = value if isinstance(value, DTypePolicy) else DTypePolicy(value)

    @property
    def dtype(self):
        return self._dtype_policy.variable_dtype

    @property
    def compute_dtype(self):
        return self._dtype_policy.compute_dtype

    @property
    def variable_dtype(self):
        return self._dtype_policy.variable_dtype

    @property
    def input_dtype(self):
        return self.compute_dtype

    @property
    def input_spec(self):
        return self._input_spec

    @input_spec.setter
    def input_spec(self, value):
        self._input_spec = value

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        value = bool(value)
        self._trainable = value
        for v in self._trainable_variables:
            v.trainable = value
        for layer in self._sublayers():
            layer.trainable = value

    def _own_variables(self):
        return self._trainable_variables + self._non_trainable_variables

    @property
    def weights(self):
        """All weights: this layer's (trainable ones first), then its sublayers'."""
        weights = []
        seen = set()
        for w in self._own_variables():
            if id(w) not in seen:
                seen.add(id(w))
                weights.append(w)
        for layer in self._sublayers():
            for w in layer.weights:
                if id(w) not in seen:
                    seen.add(id(w))
                    weights.append(w)
        return weights

    @property
    def variables(self):
        return self.weights

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return [v for v in self.weights if v.trainable]

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return [v for v in self.weights if not v.trainable]

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def metrics(self):
        from lamina.metrics.metric import Metric

        out = [v for v in self.__dict__.values() if isinstance(v, Metric)]
        for layer in self._sublayers():
            out.extend(layer.metrics)
        return out

    @property
    def metrics_variables(self):
        out = []
        for m in self.metrics:
            out.extend(m.variables)
        return out

    # ---- weights ------------------------------------------------------------
    def add_weight(
        self,
        shape=None,
        initializer=None,
        dtype=None,
        trainable=True,
        autocast=True,
        regularizer=None,
        constraint=None,
        aggregation="none",
        overwrite_with_gradient=False,
        name=None,
    ):
        """Creates a weight variable owned by this layer.

        Args:
            shape: the weight's shape (default scalar).
            initializer: initializer or its name (default "glorot_uniform" for
                floats, "zeros" otherwise).
            dtype: default the layer's dtype.
            trainable: whether training updates it.
            regularizer: penalty added to `layer.losses`.
            constraint: projection applied after each optimizer update.
            name: the variable's name.
        """
        if isinstance(shape, str):
            raise ValueError(
                f"`name` must be passed as a keyword argument. Received: add_weight('{shape}', ...). "
                f"Use: add_weight(shape=..., name='{shape}')."
            )
        shape = () if shape is None else tuple(shape)
        if any(d is None for d in shape):
            raise ValueError(
                f"Layer '{self.name}': cannot create weight '{name}' with an unknown dimension: shape={shape}"
            )
        dtype = standardize_dtype(dtype) if dtype is not None else self.variable_dtype
        if initializer is None:
            initializer = "glorot_uniform" if "float" in dtype else "zeros"
        initializer = initializers_module.get(initializer)
        variable = Variable(initializer=initializer, shape=shape, dtype=dtype, trainable=trainable, name=name)
        with _NameScope(self):
            variable._path = f"{current_path()}/{variable.name}"
        variable.regularizer = regularizers_module.get(regularizer)
        variable.constraint = constraints_module.get(constraint)
        variable.overwrite_with_gradient = overwrite_with_gradient
        self._track_variable(variable)
        return variable

    add_variable = add_weight

    def _track_variable(self, variable):
        if _contains(self._trainable_variables, variable) or _contains(self._non_trainable_variables, variable):
            return
        if variable.trainable:
            self._trainable_variables.append(variable)
        else:
            self._non_trainable_variables.append(variable)
        if not self.trainable:
            variable.trainable = False

    def get_weights(self):
        """The values of `layer.weights`, as NumPy arrays (copies)."""
        return [np.array(v.numpy()) for v in self.weights]

    def set_weights(self, weights):
        """Sets `layer.weights` from NumPy arrays, in the order of `get_weights()`."""
        layer_weights = self.weights
        if len(layer_weights) != len(weights):
            raise ValueError(
                f"You called `set_weights(weights)` on layer '{self.name}' with a weight list of "
                f"length {len(weights)}, but the layer was expecting {len(layer_weights)} weights."
            )
        for variable, value in zip(layer_weights, weights):
            value_shape = tuple(np.shape(value))
            if tuple(variable.shape) != value_shape:
                raise ValueError(
                    f"Layer {self.name} weight shape {tuple(variable.shape)} is not compatible with "
                    f"provided weight shape {value_shape}."
                )
            variable.assign(np.asarray(value))

    def count_params(self):
        """The number of scalars in the layer's weights."""
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on layer '{self.name}', but the layer isn't built. "
                "You can build it manually via: `layer.build(input_shape)`."
            )
        return int(sum(int(np.prod(v.shape)) for v in self.weights))

    # ---- losses -------------------------------------------------------------
    def add_loss(self, loss):
        """Adds a loss (a scalar tensor or float) to `layer.losses`; cleared at
        the start of each outer call."""
        for x in tree.flatten(loss):
            if isinstance(x, KerasTensor):
                continue
            self._losses.append(x)
            _LOSS_STATE["pending"] = True

    def _get_own_losses(self):
        return list(self._losses)

    def _clear_losses(self):
        self._losses.clear()
        for layer in self._sublayers():
            layer._clear_losses()

    @property
    def losses(self):
        """Losses from `add_loss` in the last call, plus weight regularization
        penalties (recomputed from the current weights)."""
        losses = self._get_own_losses()
        for layer in self._flatten_layers(include_self=False):
            losses.extend(layer._get_own_losses())
        for v in self.trainable_weights:
            if v.regularizer is not None:
                losses.append(v.regularizer(v))
        return losses

    # ---- building -----------------------------------------------------------
    @_default
    def build(self, input_shape):
        self.built = True

    def build_from_config(self, config):
        if config:
            if "input_shape" in config:
                self.build(config["input_shape"])
            elif "shapes_dict" in config:
                self.build(**config["shapes_dict"])
            self.built = True

    def get_build_config(self):
        if self._build_shapes_dict is not None:
            if len(self._build_shapes_dict) == 1:
                return {"input_shape": tuple(self._build_shapes_dict.values())[0]}
            return {"shapes_dict": self._build_shapes_dict}
        return None

    def _maybe_build(self, args, kwargs):
        if self.built:
            return
        shapes, bound = _shapes_dict(type(self), args, kwargs)
        first = next(iter(shapes.values()), None)
        if not _is_default(type(self).build):
            # As Keras: a one-argument build gets the first tensor argument's
            # shape; a build(query_shape, value_shape, ...) gets them by name.
            self.build(**_shapes_for_target(self.build, shapes, bound, type(self).__name__))
        else:
            self._build_shapes_dict = {"input_shape": first}
            with _NameScope(self):
                self._path = current_path()
        self.built = True

    def _assert_input_compatibility(self, first):
        if self._input_spec is not None:
            assert_input_compatibility(self._input_spec, first, self.name, self.__class__.__name__)

    # ---- calling ------------------------------------------------------------
    def call(self, *args, **kwargs):
        raise NotImplementedError(f"Layer {self.__class__.__name__} does not have a `call()` method implemented.")

    def _convert_arg(self, x):
        if isinstance(x, Tensor):
            if self.autocast and x.dtype in ("float32", "float64") and x.dtype != self.compute_dtype:
                mask = get_keras_mask(x)
                x = _core.cast(x, self.compute_dtype)
                if mask is not None:
                    x = set_keras_mask(x, mask)
            return x
        if isinstance(x, np.ndarray) or (hasattr(x, "__array__") and not isinstance(x, KerasTensor)):
            arr = np.asarray(x)
            if arr.dtype.kind == "f" and self.autocast:
                return _core.convert_to_tensor(arr, self.compute_dtype, True)
            if arr.dtype.kind in "OUS":
                return x
            return _core.convert_to_tensor(arr, None, True)
        return x

    def __call__(self, *args, **kwargs):
        self._called = True
        sig = _call_signature(type(self))
        # 1. Arrays to tensors (floats to the layer's dtype).
        if self._convert_input_args:
            if len(args) == 1 and not kwargs and isinstance(args[0], Tensor):
                a0 = args[0]
                if self.autocast and a0.dtype != self.compute_dtype and a0.dtype in ("float32", "float64"):
                    args = (self._convert_arg(a0),)
            else:
                args = tree.map_structure(self._convert_arg, args) if args else args
                kwargs = {
                    k: (v if k in ("training", "mask") else tree.map_structure(self._convert_arg, v))
                    for k, v in kwargs.items()
                }
        if args:
            first = args[0]
        elif sig["positional"] and sig["positional"][0] in kwargs:
            first = kwargs[sig["positional"][0]]
        else:
            first = None
        symbolic = _any_keras_tensor(args, kwargs)
        # The node records the call as written (no injected training/mask).
        original_kwargs = dict(kwargs) if symbolic else None
        # 2. Input checks, 3. build.
        if first is not None:
            self._assert_input_compatibility(first)
        if not self.built:
            self._maybe_build(args, kwargs)
            if first is not None:
                self._assert_input_compatibility(first)
        # 4. Training flag: explicit, else from the outer call, else the signature default.
        ctx = _current_context()
        entry = ctx is None
        if entry:
            ctx = CallContext(self)
            _ctx.ctx = ctx
            if not symbolic and _LOSS_STATE["pending"]:
                self._clear_losses()
        prev_training = ctx.training
        try:
            training = kwargs.get("training", None)
            if training is None:
                training = ctx.training
                if training is None:
                    training = sig["training_default"]
            ctx.training = training
            if sig["training"]:
                if training is not None:
                    kwargs["training"] = training
                elif "training" in kwargs and kwargs["training"] is None and not sig["training_explicit"]:
                    kwargs.pop("training")
            elif "training" in kwargs:
                kwargs.pop("training")
            # 5. Mask from the first input.
            previous_mask = None
            if first is not None and symbolic:
                previous_mask = kwargs.get("mask") if sig["mask"] else None
                if previous_mask is None:
                    previous_mask = tree.map_structure(get_keras_mask, first) if isinstance(first, (list, tuple)) else get_keras_mask(first)
                    # As Keras: a layer whose call takes `mask` gets the symbolic mask too.
                    if sig["mask"] and any(m is not None for m in tree.flatten(previous_mask)):
                        kwargs["mask"] = previous_mask
            if first is not None and not symbolic:
                previous_mask = tree.map_structure(get_keras_mask, first) if isinstance(first, (list, tuple)) else get_keras_mask(first)
                if sig["mask"] and kwargs.get("mask") is None:
                    has_mask = any(m is not None for m in tree.flatten(previous_mask)) if isinstance(previous_mask, (list, tuple)) else previous_mask is not None
                    if has_mask:
                        kwargs["mask"] = previous_mask
                elif sig["mask"] and kwargs.get("mask") is not None:
                    previous_mask = kwargs["mask"]
            # 6. Call.
            if symbolic:
                with _NameScope(self):
                    outputs = self.compute_output_spec(*args, **kwargs)
                outputs = _fresh_outputs(outputs, args, kwargs)
                if self.supports_masking:
                    outputs = self._set_symbolic_mask(first, previous_mask, outputs)
            else:
                with _NameScope(self):
                    outputs = self.call(*args, **kwargs)
                if self.activity_regularizer is not None:
                    for out in tree.flatten(outputs):
                        if isinstance(out, Tensor):
                            loss = self.activity_regularizer(out)
                            if out.ndim > 0 and out.shape[0] > 0:
                                loss = loss / float(out.shape[0])
                            self.add_loss(loss)
                if self.supports_masking:
                    outputs = self._set_mask_metadata(args, kwargs, outputs, previous_mask)
        finally:
            ctx.training = prev_training
            if entry:
                _ctx.ctx = None
        self.built = True
        # 7. Record a node for symbolic calls.
        if symbolic:
            Node(self, args, original_kwargs, outputs)
        return outputs

    def _set_mask_metadata(self, args, kwargs, outputs, previous_mask):
        if previous_mask is None and _is_default(type(self).compute_mask):
            return outputs
        inputs = args[0] if args else None
        try:
            mask = self.compute_mask(inputs, previous_mask)
        except TypeError:
            mask = None
        if mask is None:
            return outputs
        if isinstance(outputs, Tensor):
            return set_keras_mask(outputs, mask)
        flat = tree.flatten(outputs)
        masks = tree.flatten(mask) if isinstance(mask, (list, tuple)) else [mask] * len(flat)
        if len(masks) != len(flat):
            return outputs
        return tree.pack_sequence_as(outputs, [set_keras_mask(o, m) if isinstance(o, Tensor) else o for o, m in zip(flat, masks)])

    def _set_symbolic_mask(self, inputs, previous_mask, outputs):
        """Symbolic outputs carry `_keras_mask` KerasTensors, as in Keras (found
        by running `compute_mask` on zeros); eager calls compute the values."""
        if not any(m is not None for m in tree.flatten(previous_mask)):
            previous_mask = None
        if previous_mask is None and (_is_default(type(self).compute_mask) or getattr(self, "_mask_needs_previous", False)):
            return outputs
        try:
            mask = _run_for_spec(self.compute_mask, inputs, previous_mask)
        except Exception:
            return outputs  # masks are metadata: a layer that cannot say drops it
        if mask is None:
            return outputs
        flat = tree.flatten(outputs)
        masks = tree.flatten(mask) if isinstance(mask, (list, tuple)) else [mask] * len(flat)
        if len(masks) == len(flat):
            for out, m in zip(flat, masks):
                if isinstance(out, KerasTensor) and isinstance(m, KerasTensor):
                    out._keras_mask = m
        return outputs

    @_default
    def compute_mask(self, inputs, previous_mask):
        return previous_mask

    @_default
    def compute_output_shape(self, *args, **kwargs):
        raise NotImplementedError(
            f"Layer {self.__class__.__name__} should implement `def compute_output_shape(self, input_shape)`."
        )

    def compute_output_spec(self, *args, **kwargs):
        """Symbolic outputs for symbolic inputs: from `compute_output_shape`
        when the layer defines it, else by running `call` on small zeros."""
        if not _is_default(type(self).compute_output_shape):
            shapes, bound = _shapes_dict(type(self), args, kwargs)
            target = _shapes_for_target(self.compute_output_shape, shapes, bound, type(self).__name__)
            output_shape = self.compute_output_shape(**target)
            dtype = self.compute_dtype
            return tree.map_shape_structure(lambda s: KerasTensor(s, dtype=dtype), output_shape)
        if isinstance(kwargs.get("mask"), (KerasTensor, list, tuple)):
            return _run_for_spec(_with_true_masks(self.call, kwargs["mask"]), *args, **kwargs)
        return _run_for_spec(self.call, *args, **kwargs)

    def symbolic_call(self, *args, **kwargs):
        return self.compute_output_spec(*args, **kwargs)

    # ---- graph helpers ------------------------------------------------------
    def _get_node_attribute(self, attr, node_index=None):
        if not self._inbound_nodes:
            raise AttributeError(
                f"The layer {self.name} has never been called and thus has no defined {attr}."
            )
        if node_index is None:
            if len(self._inbound_nodes) > 1:
                raise AttributeError(
                    f"The layer {self.name} has multiple inbound nodes, hence the notion of \"layer {attr}\" "
                    f"is ill-defined. Use `get_{attr}_at(node_index)` instead."
                )
            node_index = 0
        node = self._inbound_nodes[node_index]
        if attr == "input":
            values = node.input_tensors
        else:
            values = node.outputs
        return values[0] if len(values) == 1 else values

    @property
    def input(self):
        return self._get_node_attribute("input")

    @property
    def output(self):
        return self._get_node_attribute("output")

    def get_input_at(self, node_index):
        return self._get_node_attribute("input", node_index)

    def get_output_at(self, node_index):
        return self._get_node_attribute("output", node_index)

    # ---- config -------------------------------------------------------------
    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype_policy.name}
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers_module.serialize(self.activity_regularizer)
        if type(self).get_config is Layer.get_config and self._auto_config is not None:
            auto = dict(self._auto_config)
            params = inspect.signature(type(self).__init__).parameters
            has_kwargs = any(p.kind == p.VAR_KEYWORD for p in params.values())
            if not has_kwargs:
                for k in ("name", "trainable", "dtype"):
                    if k not in params:
                        config.pop(k, None)
            for k, v in auto.items():
                if k in ("name", "trainable", "dtype"):
                    continue
                if not _is_serializable_value(v):
                    raise NotImplementedError(
                        f"Layer {self.__class__.__name__} was created by passing non-serializable "
                        f"argument values in `__init__()` ({k}={v!r}), and therefore the layer must "
                        "override `get_config()` in order to be serializable."
                    )
                config[k] = v
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = standardize_dtype(config["dtype"])
        try:
            return cls(**config)
        except Exception as e:
            raise TypeError(
                f"Error when deserializing class '{cls.__name__}' using config={config}.\n\nException encountered: {e}"
            ) from e

    def __repr__(self):
        return f"<{self.__class__.__name__} name={self.name}, built={self.built}>"

    __str__ = __repr__

    # ---- misc Keras API ---------------------------------------------------
    def _post_build(self):
        pass

    def add_metric(self, *args, **kwargs):
        raise NotImplementedError(
            "Layer `add_metric()` method is deprecated. Add your metric in `Model.compile(metrics=[...])`."
        )

    def stateless_call(self, *args, **kwargs):
        raise NotImplementedError("stateless_call is not supported by lamina")

    def _default_seed_generator(self, seed):
        from lamina.utils.rng_utils import make_seed_generator

        return make_seed_generator(seed)


def _floatx():
    from lamina.backend.config import floatx

    return floatx()


def _contains(seq, x):
    return any(v is x for v in seq)


def _is_tensorish(x):
    return isinstance(x, (Tensor, KerasTensor, np.ndarray))


def _shape_of(x):
    if isinstance(x, (Tensor, KerasTensor)):
        return tuple(x.shape)
    if isinstance(x, np.ndarray):
        return x.shape
    if isinstance(x, dict):
        return {k: _shape_of(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_shape_of(v) for v in x]
    if x is None:
        return None
    return tuple(np.shape(x))


# Call arguments that never hold input shapes (as Keras's get_shapes_dict).
_NOT_SHAPES = ("mask", "kwargs", "args")


def _is_tensor_arg(v):
    if isinstance(v, (Tensor, KerasTensor)):
        return True
    if isinstance(v, (list, tuple, dict)) and len(v) > 0:
        flat = tree.flatten(v)
        return all(x is None or isinstance(x, (Tensor, KerasTensor)) for x in flat) and any(
            x is not None for x in flat
        )
    return False


def _bind_call(cls, args, kwargs):
    """`call`'s arguments by name (defaults applied), or None if they do not bind."""
    sig = inspect.signature(cls.call)
    params = sig.parameters
    has_var_kw = any(p.kind == p.VAR_KEYWORD for p in params.values())
    kwargs = {k: v for k, v in kwargs.items() if k in params or has_var_kw}
    try:
        bound = sig.bind(None, *args, **kwargs)
    except TypeError:
        return None
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    arguments.pop(next(iter(params)), None)  # self
    return arguments


def _shapes_dict(cls, args, kwargs):
    """{"<arg>_shape": shape} for each tensor argument of `call`, in signature
    order (masks excluded), and the bound arguments."""
    bound = _bind_call(cls, args, kwargs)
    if bound is None:
        # Fall back to the first positional argument.
        first = args[0] if args else next(iter(kwargs.values()), None)
        return {"input_shape": _shape_of(first)}, None
    shapes = {}
    for k, v in bound.items():
        if k in _NOT_SHAPES or not _is_tensor_arg(v):
            continue
        shapes[f"{k}_shape"] = _shape_of(v)
    return shapes, bound


def _shapes_for_target(target_fn, shapes, bound, class_name):
    """Aligns `shapes` with the parameters of `build`/`compute_output_shape`
    (Keras's update_shapes_dict_for_target_fn): one parameter gets the first
    shape; several must each be `<call arg>_shape`."""
    params = inspect.signature(target_fn).parameters
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.KEYWORD_ONLY)
    expected = [name for name, p in params.items() if p.kind in kinds]
    if len(expected) == 1:
        return {expected[0]: next(iter(shapes.values()), None)}
    method = target_fn.__name__
    out = {}
    for name in expected:
        preamble = (
            f"For a `{method}()` method with more than one argument, all arguments should have a "
            f"`_shape` suffix and match an argument from `call()`. E.g. `{method}(self, foo_shape, bar_shape)` "
        )
        if not name.endswith("_shape"):
            raise ValueError(
                f"{preamble} For layer '{class_name}', Received `{method}()` argument `{name}`, "
                "which does not end in `_shape`."
            )
        if bound is not None and name[: -len("_shape")] not in bound:
            raise ValueError(
                f"{preamble} For layer '{class_name}', received `{method}()` argument `{name}`, but "
                f"`call()` does not have argument `{name[: -len('_shape')]}`."
            )
        if name in shapes:
            out[name] = shapes[name]
    return out


def _with_true_masks(call, symbolic_mask):
    """`call` for a run on zeros in which the symbolic masks (zeros there)
    keep every step, so that masked calls see data as in a real run."""
    symbolic = [isinstance(m, KerasTensor) for m in tree.flatten(symbolic_mask)]

    def run(*args, **kwargs):
        flat = tree.flatten(kwargs["mask"])
        flat = [_core.logical_not(m) if s and isinstance(m, Tensor) else m for m, s in zip(flat, symbolic)]
        kwargs["mask"] = tree.pack_sequence_as(kwargs["mask"], flat)
        return call(*args, **kwargs)

    return run


def _any_keras_tensor(args, kwargs):
    for x in args:
        if isinstance(x, KerasTensor):
            return True
        if isinstance(x, (list, tuple, dict)) and any(isinstance(v, KerasTensor) for v in tree.flatten(x)):
            return True
    for x in kwargs.values():
        if isinstance(x, KerasTensor):
            return True
        if isinstance(x, (list, tuple, dict)) and any(isinstance(v, KerasTensor) for v in tree.flatten(x)):
            return True
    return False


def _fresh_outputs(outputs, args, kwargs):
    ins = {id(x) for x in tree.flatten((args, kwargs)) if isinstance(x, KerasTensor)}

    def fresh(x):
        if isinstance(x, KerasTensor) and id(x) in ins:
            return KerasTensor(x.shape, x.dtype, sparse=x.sparse)
        return x

    return tree.map_structure(fresh, outputs)


def _is_serializable_value(v):
    if v is None or isinstance(v, (bool, int, float, str)):
        return True
    if isinstance(v, (list, tuple)):
        return all(_is_serializable_value(x) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, str) and _is_serializable_value(x) for k, x in v.items())
    return hasattr(v, "get_config")


# Re-exported helpers
is_default = _is_default
default = _default
