"""ZeroPadding1D / ZeroPadding2D."""

from lamina import ops
from lamina.backend.config import standardize_data_format
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer


def _pair(value, name):
    if isinstance(value, int):
        return (value, value)
    value = tuple(value)
    if len(value) != 2 or not all(isinstance(v, int) for v in value):
        raise ValueError(f"`{name}` should be an int or a tuple of 2 ints. Received: {name}={value}")
    return value


class ZeroPadding1D(Layer):
    """Pads the time axis with zeros: `padding` int or `(left, right)`."""

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.padding = _pair(padding, "padding")
        self.input_spec = InputSpec(ndim=3)
        self.built = True

    def call(self, inputs):
        pad = [[0, 0], list(self.padding), [0, 0]]
        if self.data_format == "channels_first":
            pad = [[0, 0], [0, 0], list(self.padding)]
        return ops.pad(inputs, pad)

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        ax = 2 if self.data_format == "channels_first" else 1
        if out[ax] is not None:
            out[ax] += self.padding[0] + self.padding[1]
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


class ZeroPadding2D(Layer):
    """Pads rows and columns with zeros. `padding`: int, `(sym_h, sym_w)`, or
    `((top, bottom), (left, right))`."""

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        if isinstance(padding, int):
            self.padding = ((padding, padding), (padding, padding))
        elif hasattr(padding, "__len__") and len(padding) == 2:
            self.padding = tuple(_pair(p, "padding") for p in padding)
        else:
            raise ValueError(
                "`padding` should be either an int, a tuple of 2 ints (symmetric_height_crop, symmetric_width_crop), "
                f"or a tuple of 2 tuples of 2 ints. Received: padding={padding}."
            )
        self.input_spec = InputSpec(ndim=4)
        self.built = True

    def call(self, inputs):
        (t, b), (l, r) = self.padding
        if self.data_format == "channels_first":
            pad = [[0, 0], [0, 0], [t, b], [l, r]]
        else:
            pad = [[0, 0], [t, b], [l, r], [0, 0]]
        return ops.pad(inputs, pad)

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        axes = (2, 3) if self.data_format == "channels_first" else (1, 2)
        for ax, (a, b) in zip(axes, self.padding):
            if out[ax] is not None:
                out[ax] += a + b
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}
