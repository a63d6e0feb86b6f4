"""Flatten: collapses all but the batch axis."""

import math

from lamina import ops
from lamina.backend.config import standardize_data_format
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer


class Flatten(Layer):
    """Flattens each sample: `(batch, d1, d2, ...)` to `(batch, d1*d2*...)`."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(min_ndim=1)
        self._channels_first = self.data_format == "channels_first"
        self.built = True

    def call(self, inputs):
        rank = inputs.ndim
        if self._channels_first and rank > 2:
            inputs = ops.transpose(inputs, (0, *range(2, rank), 1))
        return ops.reshape(inputs, (inputs.shape[0], -1) if rank > 1 else (inputs.shape[0], 1))

    def compute_output_shape(self, input_shape):
        non_batch = tuple(input_shape[1:])
        if len(non_batch) == 0:
            return (input_shape[0], 1)
        if any(d is None for d in non_batch):
            return (input_shape[0], None)
        return (input_shape[0], math.prod(non_batch))

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}
