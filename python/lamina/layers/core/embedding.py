"""Embedding: integer indices to dense vectors (a lookup with `ops.take`)."""

import numpy as np

from lamina import constraints, initializers, ops, regularizers
from lamina.backend.keras_tensor import KerasTensor
from lamina.layers.layer import Layer


class Embedding(Layer):
    """Turns indices into dense vectors of size `output_dim`.

    Args:
        input_dim: vocabulary size (largest index + 1).
        output_dim: embedding size.
        embeddings_initializer: default "uniform" (±0.05).
        mask_zero: whether index 0 is padding; a mask is then attached to the
            output for downstream layers (and `input_dim` should count it).
        weights: optional initial embedding matrix (in a list).
    """

    def __init__(
        self,
        input_dim,
        output_dim,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero=False,
        weights=None,
        lora_rank=None,
        lora_alpha=None,
        quantization_config=None,
        **kwargs,
    ):
        if quantization_config is not None:
            raise NotImplementedError("Quantization is not supported by lamina's Embedding yet")
        self.quantization_config = None
        input_length = kwargs.pop("input_length", None)
        super().__init__(**kwargs)
        del input_length
        if not isinstance(input_dim, int) or input_dim <= 0:
            raise ValueError(f"Received an invalid value for `input_dim`, expected a positive integer. Received: input_dim={input_dim}")
        if not isinstance(output_dim, int) or output_dim <= 0:
            raise ValueError(f"Received an invalid value for `output_dim`, expected a positive integer. Received: output_dim={output_dim}")
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = mask_zero
        self.supports_masking = mask_zero
        self.autocast = False
        self._initial_weights = weights

    def build(self, input_shape=None):
        self.embeddings = self.add_weight(
            shape=(self.input_dim, self.output_dim),
            initializer=self.embeddings_initializer,
            name="embeddings",
            regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint,
            trainable=True,
        )
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def call(self, inputs):
        if inputs.dtype not in ("int32", "int64"):
            inputs = ops.cast(inputs, "int32")
        return ops.take(self.embeddings, inputs, axis=0)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return ops.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def compute_output_spec(self, inputs):
        return KerasTensor(self.compute_output_shape(inputs.shape), dtype=self.compute_dtype)

    def get_config(self):
        base_config = super().get_config()
        config = {
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
            "quantization_config": self.quantization_config,
        }
        return {**base_config, **config}


del np
