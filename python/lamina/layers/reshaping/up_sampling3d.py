"""UpSampling3D: nearest-neighbour upsampling of volumes."""

from lamina import ops
from lamina.backend.config import standardize_data_format
from lamina.layers.convolutional.conv_utils import standardize_tuple
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer


class UpSampling3D(Layer):
    """Repeats each voxel `size` times along depth, rows and cols (as Keras,
    nearest only): `(b, d, h, w, c)` to `(b, d*s0, h*s1, w*s2, c)`."""

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.size = standardize_tuple(size, 3, "size")
        self.input_spec = InputSpec(ndim=5)
        self.built = True

    def _axes(self):
        return (2, 3, 4) if self.data_format == "channels_first" else (1, 2, 3)

    def call(self, inputs):
        for axis, s in zip(self._axes(), self.size):
            if s != 1:
                inputs = ops.repeat(inputs, s, axis=axis)
        return inputs

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for axis, s in zip(self._axes(), self.size):
            out[axis] = None if out[axis] is None else out[axis] * s
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format}
