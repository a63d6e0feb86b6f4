"""UnitNormalization."""

from lamina import ops
from lamina.layers.layer import Layer


class UnitNormalization(Layer):
    """Scales each sample to unit L2 norm along `axis`: `x / sqrt(max(sum(x**2), 1e-12))`."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = list(axis)
        elif isinstance(axis, int):
            self.axis = axis
        else:
            raise TypeError(f"Invalid value for `axis` argument: expected an int or a list/tuple of ints. Received: axis={axis}")
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        square_sum = ops.sum(ops.square(inputs), axis=self.axis, keepdims=True)
        return inputs * ops.reciprocal(ops.sqrt(ops.maximum(square_sum, 1e-12)))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
