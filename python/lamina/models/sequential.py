"""Sequential: a linear stack of layers."""

import copy

from lamina.backend.common import get_keras_mask, standardize_shape
from lamina.backend.keras_tensor import KerasTensor
from lamina.layers.core.input_layer import InputLayer
from lamina.layers.layer import Layer, _call_signature
from lamina.models.functional import Functional
from lamina.models.model import Model


class Sequential(Model):
    """A plain stack of layers, each with one input and one output.

    `Sequential([lamina.Input((784,)), layers.Dense(10)])` is built at once;
    without an input it is built on its first call (or `fit`). `layers`
    excludes the input layer.
    """

    def __new__(cls, *args, **kwargs):
        return Layer.__new__(cls, *args, **kwargs)

    def __init__(self, layers=None, trainable=True, name=None):
        Model.__init__(self, trainable=trainable, name=name)
        self._functional = None
        self._layers = []
        if layers:
            for layer in layers:
                self.add(layer, rebuild=False)
            self._maybe_rebuild()

    def add(self, layer, rebuild=True):
        """Adds a layer (or an `Input(...)` tensor) on top of the stack."""
        if isinstance(layer, KerasTensor) and hasattr(layer, "_keras_history"):
            origin = layer._keras_history.operation
            if isinstance(origin, InputLayer):
                layer = origin
        if not isinstance(layer, Layer):
            raise ValueError(
                "Only instances of `lamina.layers.Layer` can be added to a Sequential model. "
                f"Received: {layer} (of type {type(layer)})"
            )
        if not self._is_layer_name_unique(layer):
            raise ValueError(
                "All layers added to a Sequential model should have unique names. Name "
                f"'{layer.name}' is already the name of a layer in this model. Update the `name` argument "
                "to pass a unique name."
            )
        if isinstance(layer, InputLayer) and self._layers and isinstance(self._layers[0], InputLayer):
            raise ValueError(
                f"Sequential model '{self.name}' has already been configured to use input shape "
                f"{self._layers[0].batch_shape}. You cannot add a different Input layer to it."
            )
        if isinstance(layer, InputLayer) and self._layers:
            raise ValueError(
                f"Sequential model '{self.name}': an Input layer can only be the first layer "
                f"(it already has {len(self._layers)} layers)."
            )
        if not self._layers and getattr(layer, "_input_shape_arg", None) is not None and not isinstance(layer, InputLayer):
            self._layers.append(InputLayer(shape=layer._input_shape_arg, batch_size=getattr(layer, "_input_batch_size", None)))
        self._layers.append(layer)
        if rebuild:
            self._maybe_rebuild()
        else:
            self.built = False
            self._functional = None
            self.predict_function = None  # a captured program runs the old stack

    def pop(self, rebuild=True):
        """Removes and returns the last layer."""
        if not self.layers:
            raise TypeError("There are no layers in the model.")
        layer = self._layers.pop()
        self.built = False
        self._functional = None
        self.predict_function = None
        if rebuild:
            self._maybe_rebuild()
        return layer

    def _maybe_rebuild(self):
        self.built = False
        self._functional = None
        self.predict_function = None
        if self._layers and isinstance(self._layers[0], InputLayer) and len(self._layers) > 1:
            self.build(self._layers[0].batch_shape)
        elif self._layers and isinstance(self._layers[0], InputLayer):
            self.built = False

    def _lock_state(self):
        pass

    def build(self, input_shape=None):
        """Creates the input layer (if missing) and the weights of every layer."""
        try:
            input_shape = standardize_shape(input_shape)
        except Exception:
            return
        if not self._layers:
            raise ValueError(
                f"Sequential model {self.name} cannot be built because it has no layers. "
                "Call `model.add(layer)`."
            )
        if isinstance(self._layers[0], InputLayer):
            if tuple(self._layers[0].batch_shape[1:]) != tuple(input_shape[1:]):
                raise ValueError(
                    f"Sequential model '{self.name}' has already been configured to use input shape "
                    f"{self._layers[0].batch_shape}. You cannot build it with input_shape {input_shape}"
                )
        else:
            dtype = getattr(self, "_input_dtype_hint", None) or self._layers[0].compute_dtype
            input_shape = (None,) + tuple(input_shape[1:])
            self._layers = [InputLayer(batch_shape=input_shape, dtype=dtype)] + self._layers
        inputs = self._layers[0].output
        x = inputs
        for layer in self._layers[1:]:
            try:
                x = layer(x)
            except NotImplementedError:
                return
            except TypeError as e:
                sig = _call_signature(type(layer))
                if len(sig["positional"]) > 1:
                    raise ValueError(
                        "Layers added to a Sequential model can only have a single positional argument, the "
                        f"input tensor. Layer {layer.__class__.__name__} has multiple positional arguments: "
                        f"{sig['positional']}"
                    ) from e
                raise
        # As Keras, the inner functional model takes an automatic "functional" name.
        self._functional = Functional(inputs=inputs, outputs=x)
        self._functional._error_owner = (type(self).__name__, self.name)
        self.built = True

    def __call__(self, *args, **kwargs):
        if not self.built and args and not isinstance(args[0], KerasTensor):
            x = args[0]
            if hasattr(x, "dtype") and str(x.dtype).startswith("int"):
                self._input_dtype_hint = str(x.dtype) if str(x.dtype) in ("int32", "int64") else "int32"
        return super().__call__(*args, **kwargs)

    def call(self, inputs, training=None, mask=None):
        if self._functional is not None:
            return self._functional.call(inputs, training=training, mask=mask)
        for layer in self.layers:
            kwargs = {}
            sig = _call_signature(type(layer))
            if sig["mask"] and mask is not None:
                kwargs["mask"] = mask
            if sig["training"] and training is not None:
                kwargs["training"] = training
            outputs = layer(inputs, **kwargs)
            inputs = outputs
            mask = get_keras_mask(outputs) if not isinstance(outputs, (list, tuple)) else None
        return inputs

    def compute_output_spec(self, inputs, training=None, mask=None):
        if self._functional is not None:
            return self._functional.compute_output_spec(inputs, training=training, mask=mask)
        x = inputs
        for layer in self.layers:
            x = layer.compute_output_spec(x, training=training) if _call_signature(type(layer))["training"] else layer.compute_output_spec(x)
        return x

    def compute_output_shape(self, input_shape):
        if self._functional is not None:
            return self._functional.compute_output_shape(input_shape)
        shape = input_shape
        for layer in self.layers:
            shape = layer.compute_output_shape(shape)
        return shape

    @property
    def layers(self):
        layers = self._layers
        if layers and isinstance(layers[0], InputLayer):
            return layers[1:]
        return layers[:]

    @layers.setter
    def layers(self, _):
        raise AttributeError("`Model.layers` attribute is reserved and should not be used. Please use another name.")

    def _sublayers(self):
        return list(self._layers)

    @property
    def input_shape(self):
        if self._functional is not None:
            return self._functional.input_shape
        raise AttributeError(f"Sequential model '{self.name}' has no defined input shape yet.")

    @property
    def output_shape(self):
        if self._functional is not None:
            return self._functional.output_shape
        raise AttributeError(f"Sequential model '{self.name}' has no defined output shape yet.")

    @property
    def inputs(self):
        if self._functional is not None:
            return self._functional.inputs
        raise AttributeError(f"Sequential model '{self.name}' has no defined inputs yet.")

    @property
    def outputs(self):
        if self._functional is not None:
            return self._functional.outputs
        raise AttributeError(f"Sequential model '{self.name}' has no defined outputs yet.")

    @property
    def input(self):
        if self._functional is not None:
            return self._functional.input
        raise AttributeError(f"Sequential model '{self.name}' has no defined input yet.")

    @property
    def output(self):
        if self._functional is not None:
            return self._functional.output
        raise AttributeError(f"Sequential model '{self.name}' has no defined output yet.")

    @property
    def input_dtype(self):
        layers = self._layers
        if layers and isinstance(layers[0], InputLayer):
            return layers[0].dtype
        return super().input_dtype

    @property
    def output_names(self):
        if self._layers:
            return [self._layers[-1].name]
        return None

    def _is_layer_name_unique(self, layer):
        for ref in self._layers:
            if layer.name == ref.name and ref is not layer:
                return False
        return True

    def get_config(self):
        from lamina.saving.serialization_lib import serialize_keras_object

        layer_configs = [serialize_keras_object(layer) for layer in self._layers]
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype_policy.name}
        config["layers"] = copy.deepcopy(layer_configs)
        if self._functional is not None:
            config["build_input_shape"] = self._layers[0].batch_shape
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from lamina.saving.serialization_lib import deserialize_keras_object

        if "name" in config:
            name = config["name"]
            build_input_shape = config.get("build_input_shape")
            layer_configs = config["layers"]
        else:
            name = None
            build_input_shape = None
            layer_configs = config
        model = cls(name=name, trainable=config.get("trainable", True) if isinstance(config, dict) else True)
        for layer_config in layer_configs:
            layer = deserialize_keras_object(layer_config, custom_objects=custom_objects)
            model.add(layer)
        if not model._functional and build_input_shape and isinstance(build_input_shape, (tuple, list)):
            model.build(tuple(build_input_shape))
        return model
