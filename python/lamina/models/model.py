"""`Model`: a `Layer` with training (`Trainer`) and model utilities.

`Model(inputs, outputs)` makes a functional model; subclasses implement
`call()` (subclassed models).
"""

import inspect
import json
import warnings

from lamina.backend.keras_tensor import KerasTensor
from lamina.backend.symbolic import compute_output_spec
from lamina.layers.layer import Layer, _default, _is_default
from lamina.trainers.trainer import Trainer
from lamina.utils import summary_utils, tree


def _functional_init_arguments(args, kwargs):
    return (
        (len(args) == 2)
        or (len(args) == 1 and "outputs" in kwargs)
        or ("inputs" in kwargs and "outputs" in kwargs)
    )


def _symbolic(x):
    from lamina.backend.keras_tensor import KerasTensor

    if isinstance(x, (list, tuple)):
        return bool(x) and all(_symbolic(v) for v in x)
    if isinstance(x, dict):
        return bool(x) and all(_symbolic(v) for v in x.values())
    return isinstance(x, KerasTensor)


_FUNCTIONAL_SUBCLASSES = {}


def _functional_subclass(cls):
    """`cls` mixed with Functional, for `class M(Model)` built as `M(inputs, outputs)`."""
    from lamina.models.functional import Functional

    if issubclass(cls, Functional):
        return cls
    sub = _FUNCTIONAL_SUBCLASSES.get(cls)
    if sub is None:
        sub = type(cls.__name__, (cls, Functional), {"__module__": cls.__module__, "_functional_mixin_of": cls})
        _FUNCTIONAL_SUBCLASSES[cls] = sub
    return sub


class Model(Trainer, Layer):
    """A model: layers plus training (`compile`, `fit`, `evaluate`, `predict`).

    Three ways, as Keras:
        model = lamina.Model(inputs, outputs)          # functional
        model = lamina.Sequential([...])               # sequential
        class MyModel(lamina.Model):                   # subclassed
            def __init__(self): super().__init__(); self.dense = layers.Dense(10)
            def call(self, x): return self.dense(x)
    """

    def __new__(cls, *args, **kwargs):
        if _functional_init_arguments(args, kwargs):
            from lamina.models.functional import Functional

            if cls is Model:
                return Functional.__new__(Functional, *args, **kwargs)
            if not _symbolic(args[0] if args else kwargs.get("inputs")):
                # A subclass taking two ordinary arguments (VAE(encoder,
                # decoder)) is a subclassed model, as in Keras.
                return Layer.__new__(cls, *args, **kwargs)
            target = _functional_subclass(cls)
            return Layer.__new__(target, *args, **kwargs)
        return Layer.__new__(cls, *args, **kwargs)

    def __init__(self, *args, **kwargs):
        Trainer.__init__(self)
        from lamina.models.functional import Functional

        if _functional_init_arguments(args, kwargs) and isinstance(self, Functional):
            Functional.__init__(self, *args, **kwargs)
            return
        if args:
            raise TypeError(f"Model.__init__ takes keyword arguments only (got positional {args}).")
        Layer.__init__(self, **kwargs)

    def call(self, *args, **kwargs):
        raise NotImplementedError(f"Model {self.__class__.__name__} does not have a `call()` method implemented.")

    @property
    def layers(self):
        """Direct sublayers, in order of assignment."""
        return list(self._flatten_layers(include_self=False, recursive=False))

    @layers.setter
    def layers(self, _):
        raise AttributeError(
            "`Model.layers` attribute is reserved and should not be used. Please use another name."
        )

    def get_layer(self, name=None, index=None):
        """A layer by `name` or by `index` (in `model.layers`)."""
        if index is not None and name is not None:
            raise ValueError(
                f"Provide only a layer name or a layer index. Received: index={index}, name={name}."
            )
        if index is not None:
            if len(self.layers) <= index:
                raise ValueError(
                    f"Was asked to retrieve layer at index {index} but model only has {len(self.layers)} layers."
                )
            return self.layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            raise ValueError(
                f"No such layer: {name}. Existing layers are: {list(layer.name for layer in self.layers)}."
            )
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False, layer_range=None):
        """Prints a table of layers, output shapes and parameter counts."""
        summary_utils.print_summary(
            self, line_length=line_length, positions=positions, print_fn=print_fn,
            expand_nested=expand_nested, show_trainable=show_trainable, layer_range=layer_range,
        )

    @_default
    def build(self, input_shape):
        """Builds a subclassed model by running `call` on placeholder inputs."""
        if not self._build_by_run(input_shape):
            Layer.build(self, input_shape)
        self._build_shapes_dict = {"input_shape": input_shape}
        self.built = True

    def _build_by_run(self, input_shape):
        try:
            inputs = tree.map_shape_structure(lambda s: KerasTensor(s), input_shape)
        except Exception:
            return False
        try:
            compute_output_spec(lambda x: self.call(x), inputs)
            return True
        except Exception as e:
            warnings.warn(f"Model '{self.name}' could not be built by running call() on {input_shape}: {e}")
            return False

    def build_from_config(self, config):
        if not config:
            return
        if "input_shape" in config:
            if _is_default(type(self).build):
                self._build_by_run(config["input_shape"])
            else:
                self.build(config["input_shape"])
            self._build_shapes_dict = config
        self.built = True

    def get_config(self):
        """For subclassed models: the constructor arguments, when they are all
        basic Python values; override `get_config` otherwise."""
        base = {"name": self.name, "trainable": self.trainable}
        if type(self).get_config is not Model.get_config:
            return base
        auto = self._auto_config
        if auto is None:
            raise NotImplementedError(
                f"Model {self.__class__.__name__} does not implement `get_config()`."
            )
        from lamina.layers.layer import _is_serializable_value

        params = inspect.signature(type(self).__init__).parameters
        config = dict(base)
        for k, v in auto.items():
            if not _is_serializable_value(v):
                raise NotImplementedError(
                    f"Model {self.__class__.__name__} was created with a non-serializable argument {k}={v!r}; "
                    "it must override `get_config()` to be serializable."
                )
            config[k] = v
        if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
            for k in ("name", "trainable"):
                if k not in params:
                    config.pop(k, None)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from lamina.models.functional import Functional, functional_from_config

        if "layers" in config and "input_layers" in config and "output_layers" in config:
            if cls is Model or issubclass(cls, Functional):
                return functional_from_config(cls if cls is not Model else Functional, config, custom_objects)
        try:
            return cls(**config)
        except TypeError as e:
            raise TypeError(
                f"Unable to revive model from config. When overriding the `get_config()` method, make sure that "
                f"the returned config contains all items used as arguments in the constructor to {cls}, which is "
                f"the default behavior. You can override this default behavior by defining a `from_config(cls, "
                f"config)` class method to specify how to create an instance of {cls.__name__} from its config.\n\n"
                f"Received config={config}\n\nError encountered during deserialization: {e}"
            ) from e

    def to_json(self, **kwargs):
        """The model's serialized config as a JSON string."""
        from lamina.saving.serialization_lib import serialize_keras_object

        def default(o):
            if isinstance(o, tuple):
                return list(o)
            raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")

        return json.dumps(_tuples_to_lists(serialize_keras_object(self)), default=default, **kwargs)

    def get_weights(self):
        return Layer.get_weights(self)

    def set_weights(self, weights):
        Layer.set_weights(self, weights)

    def save(self, filepath, overwrite=True, zipped=None, **kwargs):
        """Saves the model (architecture, weights, optimizer state, compile
        settings) to a `.lamina` archive; see `lamina.saving.save_model`."""
        from lamina.saving import saving_lib

        saving_lib.save_model(self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath, overwrite=True):
        """Saves the weights to a `.weights.npz` file (atomically)."""
        from lamina.saving import saving_lib

        saving_lib.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        """Loads weights from a `.weights.npz` (or `.lamina`) file."""
        from lamina.saving import saving_lib

        saving_lib.load_weights(self, filepath, skip_mismatch=skip_mismatch)


def _tuples_to_lists(x):
    if isinstance(x, dict):
        return {k: _tuples_to_lists(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_tuples_to_lists(v) for v in x]
    return x


def model_from_json(json_string, custom_objects=None):
    """A model from `model.to_json()` output."""
    from lamina.saving.serialization_lib import deserialize_keras_object

    return deserialize_keras_object(json.loads(json_string), custom_objects=custom_objects)
