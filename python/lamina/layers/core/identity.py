"""Identity: returns its input unchanged."""

from lamina.backend.keras_tensor import KerasTensor
from lamina.layers.layer import Layer
from lamina.utils import tree


class Identity(Layer):
    """A placeholder layer that returns its input (and keeps its mask)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_output_spec(self, inputs):
        return tree.map_structure(lambda x: KerasTensor(x.shape, dtype=x.dtype, sparse=x.sparse), inputs)

    def get_config(self):
        return super().get_config()
