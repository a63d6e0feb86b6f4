"""TimeDistributed: applies a layer to every timestep of `(batch, time, ...)` inputs."""

import copy

from lamina import ops
from lamina.backend.keras_tensor import KerasTensor
from lamina.backend.symbolic import compute_output_spec as run_for_spec
from lamina.layers.layer import Layer
from lamina.layers.rnn.rnn import _call_accepts, deserialize_layer, nest_path


class TimeDistributed(Layer):
    """Applies `layer` to every temporal slice of an input.

    The inputs `(batch, time, ...)` are folded to `(batch * time, ...)`, run
    through `layer` once, and unfolded, so the wrapped layer's weights are
    shared across timesteps (`TimeDistributed(Dense(8))` on
    `(32, 10, 16)` gives `(32, 10, 8)` with one (16, 8) kernel). A mask
    `(batch, time)` is passed on (folded) to layers that take one and kept
    on the output.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                "Please initialize `TimeDistributed` layer with a `keras.layers.Layer` instance. "
                f"Received: {layer}"
            )
        super().__init__(**kwargs)
        self.layer = layer
        nest_path(layer, self.path)
        self.supports_masking = True

    def _child_input_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) < 3:
            raise ValueError(
                f"TimeDistributed '{self.name}' requires inputs of rank >= 3 (batch, time, ...), "
                f"got shape {input_shape}"
            )
        return (input_shape[0],) + input_shape[2:]

    def build(self, input_shape):
        child = self._child_input_shape(input_shape)
        if not self.layer.built:
            self.layer.build(child)
            self.layer.built = True
        self.built = True

    def compute_output_shape(self, input_shape):
        child_output = self.layer.compute_output_shape(self._child_input_shape(input_shape))
        return (input_shape[0], input_shape[1]) + tuple(child_output[1:])

    def compute_output_spec(self, inputs, training=None, mask=None):
        try:
            return KerasTensor(self.compute_output_shape(inputs.shape), dtype=self.compute_dtype)
        except NotImplementedError:
            # The wrapped layer has no compute_output_shape: run it on zeros.
            return run_for_spec(self.call, inputs)

    def call(self, inputs, training=None, mask=None):
        shape = tuple(inputs.shape)
        if len(shape) < 3:
            raise ValueError(
                f"TimeDistributed '{self.name}' requires inputs of rank >= 3 (batch, time, ...), got shape {shape}"
            )
        batch, timesteps = shape[0], shape[1]
        if mask is not None and tuple(mask.shape)[:2] != (batch, timesteps):
            raise ValueError(
                f"TimeDistributed '{self.name}': the mask has shape {tuple(mask.shape)}, but its first two "
                f"dimensions must be (batch, timesteps) = {(batch, timesteps)}"
            )
        flat = ops.reshape(inputs, (batch * timesteps,) + shape[2:])
        kwargs = {}
        if training is not None and _call_accepts(self.layer.call, "training"):
            kwargs["training"] = training
        if mask is not None and _call_accepts(self.layer.call, "mask"):
            kwargs["mask"] = ops.reshape(mask, (batch * timesteps,) + tuple(mask.shape)[2:])
        out = self.layer.call(flat, **kwargs)
        return ops.reshape(out, (batch, timesteps) + tuple(out.shape)[1:])

    def get_config(self):
        from lamina.saving import serialization_lib

        return {**super().get_config(), "layer": serialization_lib.serialize_keras_object(self.layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = copy.deepcopy(config)
        config["layer"] = deserialize_layer(config["layer"], custom_objects)
        return cls(**config)
