"""Dot: batched dot product of two inputs."""

import math

from lamina import ops
from lamina.layers.layer import Layer


def batch_dot(x1, x2, axes):
    """Contracts axis `axes[0]` of x1 with `axes[1]` of x2, per sample."""
    a1, a2 = axes
    a1 %= x1.ndim
    a2 %= x2.ndim
    free1 = [i for i in range(1, x1.ndim) if i != a1]
    free2 = [i for i in range(1, x2.ndim) if i != a2]
    b = x1.shape[0]
    k = x1.shape[a1]
    p = math.prod(x1.shape[i] for i in free1)
    q = math.prod(x2.shape[i] for i in free2)
    l = ops.reshape(ops.transpose(x1, [0] + free1 + [a1]), (b, p, k))
    r = ops.reshape(ops.transpose(x2, [0, a2] + free2), (b, k, q))
    out_shape = (b,) + tuple(x1.shape[i] for i in free1) + tuple(x2.shape[i] for i in free2)
    out = ops.reshape(ops.matmul(l, r), out_shape)
    if out.ndim == 1:
        out = ops.expand_dims(out, 1)
    return out


class Dot(Layer):
    """Dot product between samples of two tensors along `axes` (an int or a
    pair); `normalize=True` gives the cosine similarity."""

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axes, int):
            if not isinstance(axes, (list, tuple)) or len(axes) != 2:
                raise ValueError(f"Invalid format for argument `axes`: list of 2 integers expected. Received: axes={axes}")
            if not all(isinstance(a, int) for a in axes):
                raise ValueError(f"Invalid format for argument `axes`: list of 2 integers expected. Received: axes={axes}")
        self.axes = axes
        self.normalize = normalize
        self.supports_masking = True

    def _axes(self, shape1, shape2):
        if isinstance(self.axes, int):
            if self.axes < 0:
                return [self.axes % len(shape1), self.axes % len(shape2)]
            return [self.axes, self.axes]
        return [a % len(s) if a < 0 else a for a, s in zip(self.axes, (shape1, shape2))]

    def build(self, input_shape):
        if not isinstance(input_shape[0], (tuple, list)) or len(input_shape) != 2:
            raise ValueError(f"A `Dot` layer should be called on a list of 2 inputs. Received: input_shape={input_shape}")
        shape1, shape2 = input_shape
        if shape1 is None or shape2 is None:
            return
        a1, a2 = self._axes(shape1, shape2)
        if shape1[a1] is not None and shape2[a2] is not None and shape1[a1] != shape2[a2]:
            raise ValueError(
                f"Incompatible input shapes: axis values {shape1[a1]} (at axis {a1}) != {shape2[a2]} "
                f"(at axis {a2}). Full input shapes: {shape1}, {shape2}"
            )
        self.built = True

    def call(self, inputs):
        if len(inputs) != 2:
            raise ValueError(f"A `Dot` layer should be called on exactly 2 inputs. Received: inputs={inputs}")
        x1, x2 = inputs
        axes = self._axes(x1.shape, x2.shape)
        if self.normalize:
            x1 = ops.normalize(x1, axis=axes[0])
            x2 = ops.normalize(x2, axis=axes[1])
        return batch_dot(x1, x2, axes)

    def compute_output_shape(self, input_shape):
        shape1, shape2 = list(input_shape[0]), list(input_shape[1])
        a1, a2 = self._axes(shape1, shape2)
        shape1.pop(a1)
        shape2.pop(a2)
        shape2.pop(0)
        out = shape1 + shape2
        if len(out) == 1:
            out += [1]
        return tuple(out)

    # Without input masks there is no output mask (symbolic calls skip compute_mask).
    _mask_needs_previous = True

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def dot(inputs, axes=-1, **kwargs):
    return Dot(axes=axes, **kwargs)(inputs)
