"""Functional models: a graph of layer calls recorded on symbolic inputs."""

import copy
import inspect
import warnings

from lamina import _core
from lamina.backend.common import standardize_dtype
from lamina.backend.keras_tensor import KerasTensor
from lamina.layers.core.input_layer import Input, InputLayer
from lamina.layers.layer import Layer
from lamina.models.fusion import fusion_plan, relu_fusable
from lamina.models.model import Model
from lamina.trainers.trainer import Trainer
from lamina.utils import tree

Tensor = _core.Tensor


def _fmt(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + (",)" if len(shape) == 1 else ")")


class Functional(Model):
    """A model defined by `Model(inputs, outputs)` over symbolic tensors.

    `inputs`/`outputs` may be a tensor, a list, or a dict. Layers may be
    shared (called several times); models can be nested as layers.
    """

    def __init__(self, inputs, outputs, name=None, **kwargs):
        Trainer.__init__(self)
        trainable = kwargs.pop("trainable", True)
        kwargs.pop("dtype", None)
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments passed to Functional: {kwargs}")
        if isinstance(inputs, tuple):
            inputs = list(inputs)
        if isinstance(outputs, tuple):
            outputs = list(outputs)
        if isinstance(inputs, list) and len(inputs) == 1 and not isinstance(inputs[0], (list, dict)):
            pass
        flat_inputs = tree.flatten(inputs)
        flat_outputs = tree.flatten(outputs)
        for x in flat_inputs:
            if not isinstance(x, KerasTensor):
                raise ValueError(
                    "All `inputs` values must be KerasTensors (from `lamina.Input`). Received: "
                    f"inputs={inputs} including invalid value {x} of type {type(x)}"
                )
        for x in flat_outputs:
            if not isinstance(x, KerasTensor):
                raise ValueError(
                    "All `outputs` values must be KerasTensors (the result of calling layers on `lamina.Input` "
                    f"tensors). Received: outputs={outputs} including invalid value {x} of type {type(x)}"
                )
        Layer.__init__(self, name=name or _default_name(self), trainable=trainable)
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        self._inputs = flat_inputs
        self._outputs = flat_outputs
        self._build_graph()
        self.built = True
        self._convert_input_args = True

    # ---- graph ----------------------------------------------------------------
    def _build_graph(self):
        input_ids = {id(t): i for i, t in enumerate(self._inputs)}
        order = []
        visited = set()
        # Iterative post-order DFS from the outputs.
        for out in self._outputs:
            stack = [(out, False)]
            while stack:
                tensor, expanded = stack.pop()
                if id(tensor) in input_ids:
                    continue
                hist = getattr(tensor, "_keras_history", None)
                if hist is None:
                    raise ValueError(
                        f"Output tensor {tensor} was not produced by a layer call; it cannot be part of a model."
                    )
                node = hist.operation._inbound_nodes[hist.node_index]
                if expanded:
                    if id(node) not in visited:
                        visited.add(id(node))
                        order.append(node)
                    continue
                if id(node) in visited:
                    continue
                if node.is_input:
                    raise ValueError(
                        f"Graph disconnected: cannot find parent for tensor {tensor} produced by "
                        f"'{hist.operation.name}', which is not among the model's inputs "
                        f"{[t.name for t in self._inputs]}. Pass it in `inputs`."
                    )
                stack.append((tensor, True))
                for parent in reversed(node.input_tensors):
                    if id(parent) not in input_ids:
                        ph = parent._keras_history
                        pnode = ph.operation._inbound_nodes[ph.node_index]
                        if id(pnode) not in visited:
                            stack.append((parent, False))
        self._nodes = order
        self._operations = self._keras_operation_order(input_ids)
        # Names must be unique within a model.
        names = {}
        for op in self._operations:
            if op.name in names and names[op.name] is not op:
                raise ValueError(
                    f'The name "{op.name}" is used 2 times in the model. All operation names should be unique.'
                )
            names[op.name] = op
        self._input_layers = [t._keras_history.operation if hasattr(t, "_keras_history") else None for t in self._inputs]

    def _keras_operation_order(self, input_ids):
        """Operations ordered as Keras's map_graph: by depth (distance to the
        outputs, deepest first), ties by first visit in a depth-first walk
        from the outputs. This fixes the order of `layers` and `weights`."""
        op_index, ops_by_id = {}, {}
        finished, nodes_in_order = set(), []
        for out in self._outputs:
            stack = [(out, False)]
            while stack:
                tensor, done = stack.pop()
                op, node_index, _ = tensor._keras_history
                node = op._inbound_nodes[node_index]
                if done:
                    if id(node) not in finished:
                        finished.add(id(node))
                        nodes_in_order.append(node)
                    continue
                if id(node) in finished:
                    continue
                if id(op) not in op_index:
                    op_index[id(op)] = len(op_index)
                    ops_by_id[id(op)] = op
                stack.append((tensor, True))
                if not node.is_input and id(tensor) not in input_ids:
                    for t in reversed(node.input_tensors):
                        stack.append((t, False))
        node_depth, op_depth = {}, {}
        for node in reversed(nodes_in_order):
            depth = node_depth.setdefault(id(node), 0)
            depth = max(depth, op_depth.get(id(node.operation), 0))
            op_depth[id(node.operation)] = depth
            node_depth[id(node)] = depth
            for parent in node.parent_nodes:
                node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
        for t in self._inputs:
            op = t._keras_history.operation
            if id(op) not in op_depth:
                op_depth[id(op)] = 0
                op_index[id(op)] = -1
                ops_by_id[id(op)] = op
        return [
            ops_by_id[i]
            for i in sorted(op_depth, key=lambda i: (-op_depth[i], op_index[i]))
        ]

    def _visible_operations(self):
        """What summary() lists: every operation, symbolic ops included (as Keras)."""
        return list(self._operations)

    def _sublayers(self):
        return [op for op in self._operations]

    @property
    def layers(self):
        return [op for op in self._operations if isinstance(op, Layer) and not getattr(op, "_is_symbolic_op", False)]

    @layers.setter
    def layers(self, _):
        raise AttributeError("`Model.layers` attribute is reserved and should not be used. Please use another name.")

    @property
    def inputs(self):
        return list(self._inputs)

    @property
    def outputs(self):
        return list(self._outputs)

    @property
    def input(self):
        return self._inputs_struct

    @property
    def output(self):
        return self._outputs_struct

    @property
    def input_shape(self):
        shapes = tree.map_structure(lambda t: t.shape, self._inputs_struct)
        return shapes

    @property
    def output_shape(self):
        return tree.map_structure(lambda t: t.shape, self._outputs_struct)

    @property
    def input_names(self):
        return [t._keras_history.operation.name for t in self._inputs]

    @property
    def output_names(self):
        if isinstance(self._outputs_struct, dict):
            return list(self._outputs_struct.keys())
        return [t._keras_history.operation.name for t in self._outputs]

    # ---- calling -----------------------------------------------------------
    def _standardize_inputs(self, inputs):
        struct = self._inputs_struct
        n = len(self._inputs)
        if isinstance(inputs, dict):
            if isinstance(struct, dict):
                missing = [k for k in struct if k not in inputs]
                if missing:
                    raise ValueError(
                        f"{self._owner()}: missing input(s) {missing}; expected keys {list(struct.keys())}, "
                        f"got {list(inputs.keys())}"
                    )
                flat = tree.flatten({k: inputs[k] for k in struct})
            else:
                names = [t.name for t in self._inputs]
                layer_names = self.input_names
                flat = []
                for nm, lnm in zip(names, layer_names):
                    if nm in inputs:
                        flat.append(inputs[nm])
                    elif lnm in inputs:
                        flat.append(inputs[lnm])
                    else:
                        raise ValueError(
                            f"{self._owner()}: no value for input '{lnm}' in the dict with keys {list(inputs.keys())}"
                        )
        elif isinstance(inputs, (list, tuple)):
            flat = tree.flatten(inputs)
            if len(flat) != n:
                raise ValueError(
                    f"{self._owner()} expects {n} input(s), but it received {len(flat)} input tensors. "
                    f"Inputs received: {[tuple(getattr(x, 'shape', ())) for x in flat]}"
                )
        else:
            if n != 1:
                raise ValueError(
                    f"{self._owner()} expects {n} inputs, but it received 1 input tensor of shape "
                    f"{tuple(getattr(inputs, 'shape', ()))}. Pass a list (or dict) of {n} arrays."
                )
            flat = [inputs]
        out = []
        for ref, x in zip(self._inputs, flat):
            if x is None:
                out.append(None)
                continue
            if not isinstance(x, (Tensor, KerasTensor)):
                import numpy as np

                arr = np.asarray(x)
                x = _core.convert_to_tensor(arr, ref.dtype if arr.dtype.kind == "f" or ref.dtype.startswith("int") else None, True)
            if isinstance(x, Tensor) and x.dtype != ref.dtype:
                x = _core.cast(x, ref.dtype)
            x = self._adjust_input_rank(ref, x)
            out.append(x)
        return out

    def _owner(self):
        owner = getattr(self, "_error_owner", None)
        if owner is not None:
            return f"{owner[0]} '{owner[1]}'"
        return f"{type(self).__name__ if type(self) is not Functional else 'Model'} '{self.name}'"

    def _adjust_input_rank(self, ref, x):
        ref_shape = ref.shape
        shape = tuple(x.shape)
        name = ref._keras_history.operation.name if hasattr(ref, "_keras_history") else ref.name
        if len(shape) != len(ref_shape):
            if len(shape) == len(ref_shape) + 1 and shape[-1] == 1:
                from lamina import ops

                x = ops.squeeze(x, -1) if isinstance(x, Tensor) else x
            elif len(shape) == len(ref_shape) - 1 and ref_shape[-1] == 1:
                from lamina import ops

                x = ops.expand_dims(x, -1) if isinstance(x, Tensor) else x
            else:
                raise ValueError(
                    f"{self._owner()}: expected input '{name}' with shape {_fmt(ref_shape)}, "
                    f"got shape {_fmt(shape)} (rank {len(shape)} instead of {len(ref_shape)})"
                )
            shape = tuple(x.shape)
        for d_ref, d in zip(ref_shape, shape):
            if d_ref is not None and d is not None and d_ref != d:
                raise ValueError(
                    f"{self._owner()}: expected input '{name}' with shape {_fmt(ref_shape)}, got shape {_fmt(shape)}"
                )
        return x

    def _fusions(self):
        plan = self.__dict__.get("_fusion_plan")
        if plan is None or plan[0] is not self._nodes:
            plan = (self._nodes, fusion_plan(self._nodes, self._outputs))
            object.__setattr__(self, "_fusion_plan", plan)
        return plan[1]

    def _run_through_graph(self, flat_inputs, fn, fuse=False):
        values = {}
        fusions = self._fusions() if fuse else {}
        fused = {}  # id(skipped relu node) -> the batch norm's output tensor
        for ref, x in zip(self._inputs, flat_inputs):
            values[id(ref)] = x

        def lookup(x):
            if isinstance(x, KerasTensor):
                try:
                    return values[id(x)]
                except KeyError:
                    raise ValueError(f"Model '{self.name}': no value computed for {x}") from None
            return x

        for node in self._nodes:
            if id(node) in fused:
                values[id(node.outputs[0])] = fused.pop(id(node))
                continue
            args = tree.map_structure(lookup, node.call_args) if node.call_args else ()
            kwargs = {k: tree.map_structure(lookup, v) for k, v in node.call_kwargs.items()}
            relu = fusions.get(id(node))
            if relu is not None and relu_fusable(node.operation, relu.operation):
                outputs = _call_with_relu(node.operation, args, kwargs)
                fused[id(relu)] = outputs
            else:
                outputs = fn(node.operation)(*args, **kwargs)
            flat = tree.flatten(outputs)
            if len(flat) != len(node.outputs):
                raise ValueError(
                    f"Layer '{node.operation.name}' returned {len(flat)} outputs when called in model "
                    f"'{self.name}', but {len(node.outputs)} when the model was built."
                )
            for kt, v in zip(node.outputs, flat):
                values[id(kt)] = v
        return tree.pack_sequence_as(self._outputs_struct, [values[id(t)] for t in self._outputs])

    def call(self, inputs, training=None, mask=None):
        flat = self._standardize_inputs(inputs)
        if mask is not None:
            from lamina.backend.common import set_keras_mask

            masks = tree.flatten(mask) if isinstance(mask, (list, tuple, dict)) else [mask]
            flat = [set_keras_mask(x, m) if m is not None else x for x, m in zip(flat, masks)]
        return self._run_through_graph(flat, lambda op: op, fuse=True)

    def compute_output_spec(self, inputs, training=None, mask=None):
        flat = self._standardize_inputs(inputs)
        return self._run_through_graph(flat, lambda op: op.compute_output_spec)

    def compute_output_shape(self, input_shape):
        if _is_shape(input_shape):
            kts = [KerasTensor(input_shape, self._inputs[0].dtype)]
        else:
            kts = [KerasTensor(s, r.dtype) for s, r in zip(_flat_shapes(input_shape), self._inputs)]
        out = self._run_through_graph(kts, lambda op: op.compute_output_spec)
        return tree.map_structure(lambda t: t.shape, out)

    def build(self, input_shape=None):
        self.built = True

    # ---- config ------------------------------------------------------------
    def get_config(self):
        if type(self).get_config is not Functional.get_config and getattr(type(self), "_functional_mixin_of", None) is None:
            return super().get_config()
        return functional_get_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return functional_from_config(cls, config, custom_objects)


def _call_with_relu(layer, args, kwargs):
    """Calls a BatchNormalization with the ReLU after it fused (models/fusion.py)."""
    object.__setattr__(layer, "_fuse_relu", True)
    try:
        return layer(*args, **kwargs)
    finally:
        object.__setattr__(layer, "_fuse_relu", False)


def _is_shape(s):
    return isinstance(s, (tuple, list)) and all(d is None or isinstance(d, int) for d in s)


def _flat_shapes(structure):
    if _is_shape(structure):
        return [tuple(structure)]
    if isinstance(structure, dict):
        out = []
        for k in sorted(structure):
            out.extend(_flat_shapes(structure[k]))
        return out
    out = []
    for s in structure:
        out.extend(_flat_shapes(s))
    return out


def _default_name(model):
    from lamina.utils.naming import auto_name

    base = getattr(type(model), "_functional_mixin_of", None)
    if base is not None:
        return auto_name(base.__name__)
    if type(model) is Functional:
        return auto_name("functional")
    return auto_name(type(model).__name__)


# ---- serialization -----------------------------------------------------------------
def _node_key(layer, node_index):
    return f"{layer.name}_ib-{node_index}"


def functional_get_config(model):
    from lamina.saving.serialization_lib import serialize_keras_object

    model_nodes = {id(n) for n in model._nodes}
    for t in model._inputs:
        h = t._keras_history
        model_nodes.add(id(h.operation._inbound_nodes[h.node_index]))
    # Re-index nodes per layer, counting only the nodes in this model.
    node_index_map = {}
    for op in model._operations:
        k = 0
        for i, node in enumerate(op._inbound_nodes):
            if id(node) in model_nodes:
                node_index_map[(id(op), i)] = k
                k += 1

    def tensor_config(kt):
        h = kt._keras_history
        return {
            "class_name": "__keras_tensor__",
            "config": {
                "shape": kt.shape,
                "dtype": kt.dtype,
                "keras_history": [h.operation.name, node_index_map.get((id(h.operation), h.node_index), 0), h.tensor_index],
            },
        }

    def serialize_arg(x):
        if isinstance(x, KerasTensor):
            return tensor_config(x)
        return x

    layer_configs = []
    for op in model._operations:
        cfg = serialize_keras_object(op)
        cfg["name"] = op.name
        inbound = []
        for i, node in enumerate(op._inbound_nodes):
            if id(node) not in model_nodes or node.is_input:
                continue
            args = tree.map_structure(serialize_arg, list(node.call_args))
            kwargs = {k: tree.map_structure(serialize_arg, v) for k, v in node.call_kwargs.items()}
            inbound.append({"args": args, "kwargs": kwargs})
        cfg["inbound_nodes"] = inbound
        layer_configs.append(cfg)

    def io_list(struct):
        def entry(kt):
            h = kt._keras_history
            return [h.operation.name, node_index_map.get((id(h.operation), h.node_index), 0), h.tensor_index]

        if isinstance(struct, dict):
            return {k: entry(v) for k, v in struct.items()}
        if isinstance(struct, list):
            return [entry(v) for v in struct]
        return [entry(struct)]

    return {
        "name": model.name,
        "trainable": model.trainable,
        "layers": layer_configs,
        "input_layers": io_list(model._inputs_struct),
        "output_layers": io_list(model._outputs_struct),
        "_single_input": not isinstance(model._inputs_struct, (list, dict)),
        "_single_output": not isinstance(model._outputs_struct, (list, dict)),
    }


def functional_from_config(cls, config, custom_objects=None):
    from lamina.saving.serialization_lib import deserialize_keras_object

    created = {}
    pending = {}
    for layer_data in config["layers"]:
        name = layer_data.get("name") or layer_data["config"]["name"]
        data = {k: v for k, v in layer_data.items() if k not in ("inbound_nodes", "name")}
        layer = deserialize_keras_object(data, custom_objects=custom_objects)
        created[name] = layer
        pending[name] = list(layer_data.get("inbound_nodes", []))
    outputs_of = {}
    for name, layer in created.items():
        if isinstance(layer, InputLayer):
            outputs_of[(name, 0)] = [layer.output]

    def resolve(x):
        if isinstance(x, dict) and x.get("class_name") == "__keras_tensor__":
            lname, nidx, tidx = x["config"]["keras_history"]
            return outputs_of[(lname, nidx)][tidx]
        return x

    def ready(x):
        if isinstance(x, dict) and x.get("class_name") == "__keras_tensor__":
            lname, nidx, _ = x["config"]["keras_history"]
            return (lname, nidx) in outputs_of
        if isinstance(x, dict):
            return all(ready(v) for v in x.values())
        if isinstance(x, (list, tuple)):
            return all(ready(v) for v in x)
        return True

    done_count = {name: (1 if isinstance(created[name], InputLayer) else 0) for name in created}
    progress = True
    while progress and any(pending.values()):
        progress = False
        for name in list(created):
            nodes = pending[name]
            while nodes and ready(nodes[0]):
                node = nodes.pop(0)
                args = _map_config(resolve, node.get("args", []))
                kwargs = {k: _map_config(resolve, v) for k, v in node.get("kwargs", {}).items()}
                out = created[name](*args, **kwargs)
                outputs_of[(name, done_count[name])] = tree.flatten(out)
                done_count[name] += 1
                progress = True
    if any(pending.values()):
        raise ValueError(f"Could not rebuild the functional model: unresolved nodes {[k for k, v in pending.items() if v]}")

    def io(struct, single):
        def get(entry):
            lname, nidx, tidx = entry
            return outputs_of[(lname, nidx)][tidx]

        if isinstance(struct, dict):
            return {k: get(v) for k, v in struct.items()}
        items = [get(e) for e in struct]
        if single and len(items) == 1:
            return items[0]
        return items

    inputs = io(config["input_layers"], config.get("_single_input", len(config["input_layers"]) == 1))
    outputs = io(config["output_layers"], config.get("_single_output", len(config["output_layers"]) == 1))
    target = cls if cls is not Model else Functional
    return target(inputs=inputs, outputs=outputs, name=config.get("name"), trainable=config.get("trainable", True))


def _map_config(fn, x):
    if isinstance(x, dict) and x.get("class_name") == "__keras_tensor__":
        return fn(x)
    if isinstance(x, dict):
        return {k: _map_config(fn, v) for k, v in x.items()}
    if isinstance(x, list):
        return [_map_config(fn, v) for v in x]
    if isinstance(x, tuple):
        return tuple(_map_config(fn, v) for v in x)
    return fn(x)


del copy, inspect, warnings, standardize_dtype, Input
