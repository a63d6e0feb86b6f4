"""Cropping3D: crops depth, rows and cols of volumes."""

from lamina.backend.config import standardize_data_format
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer
from lamina.layers.reshaping.zero_padding3d import standardize_3x2


class Cropping3D(Layer):
    """Crops `((front, back), (top, bottom), (left, right))` (or 3 ints, or
    an int) off depth, rows and cols."""

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.cropping = standardize_3x2(cropping, "cropping")
        self.input_spec = InputSpec(ndim=5)
        self.built = True

    def _offset(self):
        return 2 if self.data_format == "channels_first" else 1

    def _too_large(self, shape):
        return ValueError(
            f"Cropping3D '{self.name}': cropping {self.cropping} is too large for inputs of shape {tuple(shape)}"
        )

    def call(self, inputs):
        index = [slice(None)] * 5
        for i, (a, b) in enumerate(self.cropping):
            n = inputs.shape[self._offset() + i]
            if a + b >= n:
                raise self._too_large(inputs.shape)
            index[self._offset() + i] = slice(a, n - b)
        return inputs[tuple(index)]

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for i, (a, b) in enumerate(self.cropping):
            ax = self._offset() + i
            if out[ax] is not None:
                out[ax] -= a + b
                if out[ax] <= 0:
                    raise self._too_large(input_shape)
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping, "data_format": self.data_format}
