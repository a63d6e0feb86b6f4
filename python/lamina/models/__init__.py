"""Models (`keras.models`)."""

from lamina.models.functional import Functional
from lamina.models.model import Model, model_from_json
from lamina.models.sequential import Sequential


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model saved with `model.save("x.lamina")`."""
    from lamina.saving.saving_lib import load_model as _load

    return _load(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)


def clone_model(model, input_tensors=None, clone_function=None):
    """A new model with the same architecture and fresh weights."""
    from lamina.saving.serialization_lib import deserialize_keras_object, serialize_keras_object

    if input_tensors is not None or clone_function is not None:
        raise NotImplementedError("clone_model: `input_tensors` and `clone_function` are not supported yet")
    config = serialize_keras_object(model)
    config.pop("build_config", None)
    return deserialize_keras_object(config)


__all__ = ["Functional", "Model", "Sequential", "clone_model", "load_model", "model_from_json"]
