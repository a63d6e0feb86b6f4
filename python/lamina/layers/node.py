"""`Node`: one call of a layer on symbolic tensors, an edge of a functional graph."""

from lamina.backend.keras_tensor import KerasHistory, KerasTensor
from lamina.utils import tree


class Node:
    """Records `operation(*call_args, **call_kwargs) -> outputs` on KerasTensors.

    Sets `_keras_history` on each output and links the node into
    `operation._inbound_nodes` and the parents' `_outbound_nodes`.
    """

    def __init__(self, operation, call_args=None, call_kwargs=None, outputs=None):
        self.operation = operation
        self.call_args = tuple(call_args or ())
        self.call_kwargs = dict(call_kwargs or {})
        self.outputs = [] if outputs is None else tree.flatten(outputs)
        self.output_structure = outputs
        self.input_tensors = [x for x in tree.flatten((self.call_args, self.call_kwargs)) if isinstance(x, KerasTensor)]
        node_index = len(operation._inbound_nodes)
        for i, t in enumerate(self.outputs):
            if isinstance(t, KerasTensor):
                t._keras_history = KerasHistory(operation, node_index, i)
        operation._inbound_nodes.append(self)
        for kt in self.input_tensors:
            hist = getattr(kt, "_keras_history", None)
            if hist is not None:
                hist.operation._outbound_nodes.append(self)

    @property
    def output_tensors(self):
        return self.outputs

    @property
    def is_input(self):
        return not self.input_tensors

    @property
    def parent_nodes(self):
        parents = []
        for kt in self.input_tensors:
            hist = getattr(kt, "_keras_history", None)
            if hist is not None:
                node = hist.operation._inbound_nodes[hist.node_index]
                if not any(node is p for p in parents):
                    parents.append(node)
        return parents

    def __repr__(self):
        return f"<Node operation={self.operation.name}, id={id(self)}>"
