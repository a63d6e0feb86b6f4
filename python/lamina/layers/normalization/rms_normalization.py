"""RMSNormalization."""

from lamina import ops
from lamina.layers.layer import Layer


class RMSNormalization(Layer):
    """`x * rsqrt(mean(x**2, axis) + epsilon) * scale`, `scale` a learned
    weight (ones at first); epsilon 1e-6."""

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.epsilon = epsilon
        self.supports_masking = True

    def build(self, input_shape):
        if isinstance(self.axis, (list, tuple)):
            self.axis = sorted(self.axis)
            shape = tuple(input_shape[d] for d in self.axis)
        else:
            shape = (input_shape[self.axis],)
            self.axis = [self.axis]
        self.scale = self.add_weight(name="scale", shape=shape, initializer="ones")
        ndim = len(input_shape)
        self._axes = sorted(a % ndim for a in self.axis)
        self._bshape = [input_shape[d] if d in self._axes else 1 for d in range(ndim)]
        self.built = True

    def call(self, x):
        if len(self._axes) == 1:
            return ops.rms_normalization(x, self.scale, axis=self._axes[0], epsilon=self.epsilon)
        rrms = ops.reciprocal(ops.sqrt(ops.mean(ops.square(x), axis=self._axes, keepdims=True) + self.epsilon))
        return x * rrms * ops.reshape(self.scale, self._bshape)

    def compute_output_shape(self, input_shape):
        axes = [self.axis] if isinstance(self.axis, int) else self.axis
        for axis in axes:
            if axis >= len(input_shape) or axis < -len(input_shape):
                raise ValueError(
                    f"Axis {axis} is out of bounds for input shape {input_shape}. Received: axis={self.axis}"
                )
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}
