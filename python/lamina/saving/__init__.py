"""Serialization helpers (`lamina.saving`). Model files come later."""

from lamina.saving.serialization_lib import (  # noqa: F401
    CustomObjectScope,
    custom_object_scope,
    deserialize_keras_object,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
    serialize_keras_object,
)
