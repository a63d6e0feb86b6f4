"""Optimizers (`keras.optimizers`)."""

import inspect

from lamina.optimizers import schedules
from lamina.optimizers.adam import Adam, Adamax, AdamW, Nadam
from lamina.optimizers.optimizer import Optimizer
from lamina.optimizers.others import Adadelta, Adagrad, Lion, RMSprop
from lamina.optimizers.sgd import SGD

ALL_OBJECTS = {Optimizer, Adam, SGD, RMSprop, Adadelta, AdamW, Adagrad, Adamax, Nadam, Lion}
ALL_OBJECTS_DICT = {cls.__name__.lower(): cls for cls in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({cls.__name__: cls for cls in ALL_OBJECTS})


def serialize(optimizer):
    from lamina.saving.serialization_lib import serialize_keras_object

    return serialize_keras_object(optimizer)


def deserialize(config, custom_objects=None):
    from lamina.saving.serialization_lib import deserialize_keras_object

    if isinstance(config, dict) and isinstance(config.get("class_name"), str):
        name = config["class_name"]
        if name.lower() in ALL_OBJECTS_DICT:
            config = dict(config)
            config["class_name"] = ALL_OBJECTS_DICT[name.lower()].__name__
    return deserialize_keras_object(config, custom_objects=custom_objects, module_objects=ALL_OBJECTS_DICT)


def get(identifier):
    """An optimizer from a name ("adam", "sgd", ...), a config, a class or an instance."""
    if identifier is None:
        return None
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = ALL_OBJECTS_DICT.get(identifier.lower())
        if cls is None or cls is Optimizer:
            raise ValueError(
                f"Could not interpret optimizer identifier: {identifier!r}. Known optimizers: "
                + ", ".join(sorted(k for k in ALL_OBJECTS_DICT if k.islower() and k != "optimizer"))
            )
        return cls()
    if inspect.isclass(identifier) and issubclass(identifier, Optimizer):
        return identifier()
    raise ValueError(f"Could not interpret optimizer identifier: {identifier}")
