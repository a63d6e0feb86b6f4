"""Activation functions (`keras.activations`), by name or as callables."""

import math

from lamina import ops

_convert = ops.convert_to_tensor


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """max(x, 0), with an optional slope below `threshold` and a cap."""
    x = _convert(x)
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return ops.relu(x)
    if negative_slope != 0.0:
        if max_value is None and threshold == 0:
            return ops.leaky_relu(x, negative_slope)
        negative_part = ops.relu(threshold - x) if threshold != 0 else ops.relu(-x)
    clip_max = max_value is not None
    if threshold != 0:
        x = x * ops.cast(ops.greater(x, threshold), x.dtype)
    elif max_value == 6:
        x = ops.relu6(x)
        clip_max = False
    else:
        x = ops.relu(x)
    if clip_max:
        x = ops.clip(x, 0.0, float(max_value))
    if negative_slope != 0.0:
        x = x - negative_slope * negative_part
    return x


def leaky_relu(x, negative_slope=0.2):
    return ops.leaky_relu(_convert(x), negative_slope)


def relu6(x):
    return ops.relu6(_convert(x))


def elu(x, alpha=1.0):
    return ops.elu(_convert(x), alpha)


def selu(x):
    return ops.selu(_convert(x))


def celu(x, alpha=1.0):
    x = _convert(x)
    return ops.maximum(x, 0.0) + alpha * ops.expm1(ops.minimum(x, 0.0) / alpha)


def softplus(x):
    return ops.softplus(_convert(x))


def softsign(x):
    return ops.softsign(x)


def soft_shrink(x, threshold=0.5):
    x = _convert(x)
    return ops.where(x > threshold, x - threshold, ops.where(x < -threshold, x + threshold, 0.0 * x))


def hard_shrink(x, threshold=0.5):
    x = _convert(x)
    return ops.where(ops.abs(x) > threshold, x, 0.0 * x)


def sparse_plus(x):
    x = _convert(x)
    return ops.where(x <= -1.0, 0.0 * x, ops.where(x >= 1.0, x, 0.25 * ops.square(x + 1.0)))


def silu(x):
    return ops.silu(_convert(x))


swish = silu


def squareplus(x, b=4):
    x = _convert(x)
    return (x + ops.sqrt(ops.square(x) + b)) / 2.0


def gelu(x, approximate=False):
    return ops.gelu(_convert(x), approximate)


def glu(x, axis=-1):
    a, b = ops.split(_convert(x), 2, axis=axis)
    return a * ops.sigmoid(b)


def tanh(x):
    return ops.tanh(_convert(x))


def tanh_shrink(x):
    x = _convert(x)
    return x - ops.tanh(x)


def sigmoid(x):
    return ops.sigmoid(_convert(x))


def exponential(x):
    return ops.exp(_convert(x))


def hard_sigmoid(x):
    """relu6(x + 3) / 6, as Keras 3."""
    return ops.hard_sigmoid(x)


def hard_silu(x):
    x = _convert(x)
    return x * ops.hard_sigmoid(x)


hard_swish = hard_silu


def hard_tanh(x):
    return ops.clip(_convert(x), -1.0, 1.0)


def linear(x):
    return x


def mish(x):
    x = _convert(x)
    return x * ops.tanh(ops.softplus(x))


def log_sigmoid(x):
    return ops.log_sigmoid(x)


def softmax(x, axis=-1):
    x = _convert(x)
    if isinstance(axis, int) and x.ndim == 0:
        raise ValueError("Cannot apply softmax to a tensor that is 0-D")
    if not isinstance(axis, int):
        axes = [a % x.ndim for a in axis]
        return ops.exp(x - ops.logsumexp(x, axis=axes, keepdims=True))
    return ops.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    x = _convert(x)
    if not isinstance(axis, int):
        return x - ops.logsumexp(x, axis=list(axis), keepdims=True)
    return ops.log_softmax(x, axis=axis)


def threshold(x, threshold, default_value):
    x = _convert(x)
    return ops.where(x > threshold, x, ops.full_like(x, default_value))


ALL_OBJECTS = [
    relu, leaky_relu, relu6, softmax, celu, elu, selu, softplus, softsign, squareplus, soft_shrink,
    sparse_plus, silu, gelu, glu, tanh, tanh_shrink, sigmoid, exponential, hard_sigmoid, hard_silu,
    hard_tanh, hard_shrink, linear, mish, log_softmax, log_sigmoid, threshold,
]
ALL_OBJECTS_DICT = {fn.__name__: fn for fn in ALL_OBJECTS}
ALL_OBJECTS_DICT["swish"] = silu
ALL_OBJECTS_DICT["hard_swish"] = hard_silu


def serialize(activation):
    """The name of a built-in activation, or a config for a custom one."""
    if activation is None:
        return "linear"
    name = getattr(activation, "__name__", None)
    if name in ALL_OBJECTS_DICT and ALL_OBJECTS_DICT[name] is activation:
        return name
    from lamina.saving.serialization_lib import serialize_keras_object

    return serialize_keras_object(activation)


def deserialize(config, custom_objects=None):
    from lamina.saving.serialization_lib import deserialize_keras_object

    return deserialize_keras_object(config, custom_objects=custom_objects, module_objects=ALL_OBJECTS_DICT)


def get(identifier):
    """An activation function from a name, a config, or a callable (None: linear)."""
    if identifier is None:
        return linear
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        fn = ALL_OBJECTS_DICT.get(identifier)
        if fn is None:
            from lamina.saving.serialization_lib import get_registered_object

            fn = get_registered_object(identifier)
        if fn is None:
            raise ValueError(
                f"Could not interpret activation function identifier: {identifier!r}. "
                f"Known activations: {sorted(ALL_OBJECTS_DICT)}"
            )
        return fn
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation function identifier: {identifier}")


del math
