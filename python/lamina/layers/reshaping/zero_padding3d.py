"""ZeroPadding3D: zeros around the depth, rows and cols of volumes."""

from lamina import ops
from lamina.backend.config import standardize_data_format
from lamina.layers.convolutional.conv_utils import standardize_tuple
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer

_ORDINALS = ("1st", "2nd", "3rd")


def standardize_3x2(value, name):
    """An int, 3 ints (symmetric) or 3 pairs as `((a, b), (c, d), (e, f))`, as Keras."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"`{name}` cannot be negative. Received: {name}={value}.")
        return ((value, value),) * 3
    if not hasattr(value, "__len__") or len(value) != 3:
        raise ValueError(
            f"`{name}` should be either an int, a tuple of 3 ints or a tuple of 3 tuples of 2 ints. "
            f"Received: {name}={value}."
        )
    return tuple(standardize_tuple(v, 2, f"{o} entry of {name}", allow_zero=True) for o, v in zip(_ORDINALS, value))


class ZeroPadding3D(Layer):
    """Pads depth, rows and cols with zeros. `padding`: int, 3 ints, or
    `((front, back), (top, bottom), (left, right))`."""

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.padding = standardize_3x2(padding, "padding")
        self.input_spec = InputSpec(ndim=5)
        self.built = True

    def _offset(self):
        return 2 if self.data_format == "channels_first" else 1

    def call(self, inputs):
        pad = [[0, 0] for _ in range(5)]
        for i, p in enumerate(self.padding):
            pad[self._offset() + i] = list(p)
        return ops.pad(inputs, pad)

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for i, (a, b) in enumerate(self.padding):
            ax = self._offset() + i
            if out[ax] is not None:
                out[ax] += a + b
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}
