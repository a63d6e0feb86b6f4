"""Wrapper: base class of layers that wrap another layer."""

from lamina.layers.layer import Layer


class Wrapper(Layer):
    """Holds `layer` (tracked as a sublayer) and serializes it in its config.

    Subclasses implement `call`, usually delegating to `self.layer`.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Layer {layer} supplied to Wrapper isn't a supported layer type. Please ensure wrapped layer is a valid Keras layer.")
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape=None):
        if not self.layer.built:
            self.layer.build(input_shape)
        self.built = True

    def get_config(self):
        from lamina.saving.serialization_lib import serialize_keras_object

        return {**super().get_config(), "layer": serialize_keras_object(self.layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from lamina.saving.serialization_lib import deserialize_keras_object

        config = dict(config)
        config["layer"] = deserialize_keras_object(config["layer"], custom_objects=custom_objects)
        return cls(**config)
