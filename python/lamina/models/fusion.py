"""Graph-level fusions of a functional model's layers.

A BatchNormalization whose output feeds nothing but a plain ReLU (a `ReLU()`
layer with its defaults, or `Activation("relu")`) and is not itself a model
output runs with the ReLU fused into its kernel: one pass each way instead of
the two of batch norm then ReLU (cpp/src/cpu/batch_norm.cpp). The ReLU node is
then skipped, its output being the batch norm's. Results are those of the two
layers run apart (the same float operations); `fusion_plan` finds the pairs
once per graph, `relu_fusable` re-checks the layers on every call, so a layer
changed after the model was built is simply run on its own.
"""

from lamina import activations
from lamina.backend.keras_tensor import KerasTensor
from lamina.utils import tree


def _consumers(nodes):
    """How many node arguments read each KerasTensor (by id)."""
    counts = {}
    for node in nodes:
        for x in tree.flatten((node.call_args, node.call_kwargs)):
            if isinstance(x, KerasTensor):
                counts[id(x)] = counts.get(id(x), 0) + 1
    return counts


def _is_plain_relu(layer):
    from lamina.layers.activations.activation import Activation
    from lamina.layers.activations.relu import ReLU

    if type(layer) is ReLU:
        return layer.max_value is None and layer.negative_slope == 0 and layer.threshold == 0
    return type(layer) is Activation and layer.activation is activations.relu


def fusion_plan(nodes, outputs):
    """{id(batch-norm node): relu node} for the pairs that may fuse."""
    from lamina.layers.normalization.batch_normalization import BatchNormalization

    counts = _consumers(nodes)
    out_ids = {id(t) for t in outputs}
    producer = {}
    for node in nodes:
        if type(node.operation) is BatchNormalization and len(node.outputs) == 1:
            producer[id(node.outputs[0])] = node
    plan = {}
    for node in nodes:
        args = tree.flatten((node.call_args, node.call_kwargs))
        if len(args) != 1 or not isinstance(args[0], KerasTensor):
            continue
        bn = producer.get(id(args[0]))
        if bn is None or counts.get(id(args[0])) != 1 or id(args[0]) in out_ids:
            continue
        if _is_plain_relu(node.operation):
            plan[id(bn)] = node
    return plan


def relu_fusable(bn_layer, relu_layer):
    """Whether the pair still computes exactly batch norm then ReLU, fused."""
    return (
        _is_plain_relu(relu_layer)
        and bn_layer.activity_regularizer is None
        and relu_layer.activity_regularizer is None
        and bn_layer.compute_dtype == relu_layer.compute_dtype
    )
