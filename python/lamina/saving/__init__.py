"""Serialization helpers and model files (`lamina.saving`, as `keras.saving`)."""

from lamina.saving.serialization_lib import (  # noqa: F401
    CustomObjectScope,
    DeserializationError,
    custom_object_scope,
    deserialize_keras_object,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
    register_serializable,
    serialize_keras_object,
)
from lamina.saving.saving_lib import (  # noqa: F401
    ModelLoadError,
    UnsafeLoadError,
    load_model,
    load_weights,
    save_model,
    save_weights,
)
