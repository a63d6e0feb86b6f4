"""Masking: marks timesteps whose features all equal `mask_value` as padding."""

from lamina import ops
from lamina.backend.common import set_keras_mask
from lamina.layers.layer import Layer


class Masking(Layer):
    """Zeroes timesteps equal to `mask_value` everywhere and attaches a mask
    (shape `(batch, timesteps)`) for downstream layers."""

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.supports_masking = True
        self.built = True

    def compute_mask(self, inputs, mask=None):
        return ops.any(ops.not_equal(inputs, self.mask_value), axis=-1)

    def call(self, inputs):
        boolean_mask = ops.any(ops.not_equal(inputs, self.mask_value), axis=-1, keepdims=True)
        outputs = inputs * ops.cast(boolean_mask, inputs.dtype)
        return set_keras_mask(outputs, ops.squeeze(boolean_mask, axis=-1))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
