"""Rescaling: `inputs * scale + offset`."""

import numpy as np

from lamina import ops
from lamina.layers.layer import Layer


class Rescaling(Layer):
    """Multiplies by `scale` and adds `offset` (scalars or per-channel lists),
    e.g. `Rescaling(1/255)` maps pixels to [0, 1]."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        if inputs.dtype not in ("float32", "float64"):
            inputs = ops.cast(inputs, self.compute_dtype)
        scale = self.scale if np.ndim(self.scale) == 0 else np.asarray(self.scale, dtype=inputs.dtype)
        offset = self.offset if np.ndim(self.offset) == 0 else np.asarray(self.offset, dtype=inputs.dtype)
        return inputs * scale + offset

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        scale = self.scale.tolist() if isinstance(self.scale, np.ndarray) else self.scale
        offset = self.offset.tolist() if isinstance(self.offset, np.ndarray) else self.offset
        return {**super().get_config(), "scale": scale, "offset": offset}
