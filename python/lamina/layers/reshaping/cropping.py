"""Cropping1D / Cropping2D."""

from lamina.backend.config import standardize_data_format
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer
from lamina.layers.reshaping.zero_padding import _pair


class Cropping1D(Layer):
    """Crops `(start, end)` steps off the time axis."""

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = _pair(cropping, "cropping")
        self.input_spec = InputSpec(ndim=3)
        self.built = True

    def call(self, inputs):
        n = inputs.shape[1]
        a, b = self.cropping
        if a + b >= n:
            raise ValueError(
                f"Cropping1D '{self.name}': cropping {self.cropping} is too large for inputs of shape {tuple(inputs.shape)}"
            )
        return inputs[:, a : n - b, :]

    def compute_output_shape(self, input_shape):
        n = input_shape[1]
        if n is not None:
            n = n - self.cropping[0] - self.cropping[1]
            if n <= 0:
                raise ValueError(
                    f"Cropping1D '{self.name}': cropping {self.cropping} is too large for input shape {tuple(input_shape)}"
                )
        return (input_shape[0], n, input_shape[2])

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping}


class Cropping2D(Layer):
    """Crops rows and columns: `((top, bottom), (left, right))`, `(sym_h, sym_w)` or int."""

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        if isinstance(cropping, int):
            self.cropping = ((cropping, cropping), (cropping, cropping))
        elif hasattr(cropping, "__len__") and len(cropping) == 2:
            self.cropping = tuple(_pair(c, "cropping") for c in cropping)
        else:
            raise ValueError(
                "`cropping` should be either an int, a tuple of 2 ints (symmetric_height_crop, symmetric_width_crop), "
                f"or a tuple of 2 tuples of 2 ints. Received: cropping={cropping}."
            )
        self.input_spec = InputSpec(ndim=4)
        self.built = True

    def call(self, inputs):
        (t, b), (l, r) = self.cropping
        if self.data_format == "channels_first":
            h, w = inputs.shape[2], inputs.shape[3]
            return inputs[:, :, t : h - b, l : w - r]
        h, w = inputs.shape[1], inputs.shape[2]
        if t + b >= h or l + r >= w:
            raise ValueError(
                f"Cropping2D '{self.name}': cropping {self.cropping} is too large for inputs of shape {tuple(inputs.shape)}"
            )
        return inputs[:, t : h - b, l : w - r, :]

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        axes = (2, 3) if self.data_format == "channels_first" else (1, 2)
        for ax, (a, b) in zip(axes, self.cropping):
            if out[ax] is not None:
                out[ax] -= a + b
                if out[ax] <= 0:
                    raise ValueError(
                        f"Cropping2D '{self.name}': cropping {self.cropping} is too large for input shape {tuple(input_shape)}"
                    )
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping, "data_format": self.data_format}
