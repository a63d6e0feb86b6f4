"""How Dense and convolution layers end: `activation(x + bias)`.

With a bias along the last axis and a linear or ReLU activation on a float32
or float64 tensor this is one fused pass each way (`_core.bias_act`,
cpp/src/cpu/bias_act.cpp); other cases take the separate ops, with the same
results.
"""

from lamina import _core, activations, ops

_FUSED_DTYPES = ("float32", "float64")


def layer_epilogue(x, bias, activation):
    relu = activation is activations.relu
    if (
        bias is not None
        and (relu or activation is activations.linear)
        and isinstance(x, _core.Tensor)
        and str(x.dtype) in _FUSED_DTYPES
        and len(bias.shape) == 1
    ):
        return _core.bias_act(x, bias, relu)
    if bias is not None:
        x = ops.add(x, bias)
    if activation is not activations.linear:
        x = activation(x)
    return x
