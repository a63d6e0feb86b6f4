"""Object <-> config dicts, as `keras.saving.serialize_keras_object` /
`deserialize_keras_object`, plus the custom object registry."""

import inspect
import threading
import types

import numpy as np

GLOBAL_CUSTOM_OBJECTS = {}
GLOBAL_CUSTOM_NAMES = {}
_scope = threading.local()


class CustomObjectScope:
    """`with CustomObjectScope({"MyLayer": MyLayer}):` makes the names resolvable."""

    def __init__(self, custom_objects):
        self.custom_objects = dict(custom_objects or {})

    def __enter__(self):
        stack = getattr(_scope, "stack", None)
        if stack is None:
            stack = _scope.stack = []
        stack.append(self.custom_objects)
        return self

    def __exit__(self, *exc):
        _scope.stack.pop()
        return False


custom_object_scope = CustomObjectScope


class DeserializationError(ValueError, TypeError):
    """A config could not be turned back into objects (unknown class, bad
    arguments, wrong types). A ValueError for loading code that catches
    ValueError, and a TypeError as Keras raises for unknown classes."""


def get_custom_objects():
    return GLOBAL_CUSTOM_OBJECTS


def register_keras_serializable(package="Custom", name=None):
    """Decorator registering a class or function under "package>name"."""

    def decorator(arg):
        class_name = name if name is not None else arg.__name__
        registered_name = package + ">" + class_name
        if inspect.isclass(arg) and not hasattr(arg, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method.")
        GLOBAL_CUSTOM_OBJECTS[registered_name] = arg
        GLOBAL_CUSTOM_NAMES[arg] = registered_name
        return arg

    return decorator


register_serializable = register_keras_serializable


def get_registered_name(obj):
    if obj in GLOBAL_CUSTOM_NAMES:
        return GLOBAL_CUSTOM_NAMES[obj]
    return obj.__name__


def get_registered_object(name, custom_objects=None, module_objects=None):
    for objects in reversed(getattr(_scope, "stack", None) or []):
        if name in objects:
            return objects[name]
    if name in GLOBAL_CUSTOM_OBJECTS:
        return GLOBAL_CUSTOM_OBJECTS[name]
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if module_objects and name in module_objects:
        return module_objects[name]
    return None


def _module_of(obj):
    mod = getattr(obj, "__module__", "") or ""
    if mod.startswith("lamina."):
        # Public module path, e.g. lamina.src-free "keras.layers" naming.
        parts = mod.split(".")
        if len(parts) > 1 and parts[1] in _PUBLIC_MODULES:
            return "keras." + parts[1]
    return mod


def serialize_keras_object(obj):
    if obj is None or isinstance(obj, (str, bool, int, float)):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return {"class_name": "__numpy__", "config": {"value": obj.tolist(), "dtype": obj.dtype.name}}
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(v) for v in obj] if isinstance(obj, list) else tuple(
            serialize_keras_object(v) for v in obj
        )
    if isinstance(obj, dict):
        return {k: serialize_keras_object(v) for k, v in obj.items()}
    if isinstance(obj, types.FunctionType) or inspect.isbuiltin(obj):
        name = getattr(obj, "__name__", str(obj))
        if name == "<lambda>":
            raise ValueError("Lambda functions cannot be serialized by name; pass a named function.")
        registered = GLOBAL_CUSTOM_NAMES.get(obj, name)
        return {"module": _module_of(obj), "class_name": "function", "config": registered, "registered_name": registered}
    if hasattr(obj, "get_config"):
        config = obj.get_config()
        out = {
            "module": _module_of(type(obj)),
            "class_name": type(obj).__name__,
            "config": serialize_keras_object(config),
            "registered_name": GLOBAL_CUSTOM_NAMES.get(type(obj)),
        }
        build_config = getattr(obj, "get_build_config", None)
        if build_config is not None:
            bc = build_config()
            if bc:
                out["build_config"] = bc
        return out
    if isinstance(obj, type):
        return {"module": _module_of(obj), "class_name": obj.__name__, "registered_name": GLOBAL_CUSTOM_NAMES.get(obj)}
    raise TypeError(f"Cannot serialize object {obj!r} of type {type(obj)}")


def _all_lamina_objects():
    from lamina import (
        activations, callbacks, constraints, initializers, layers, losses, metrics, models,
        optimizers, regularizers,
    )

    objects = {}
    for mod in (activations, constraints, initializers, regularizers, losses, metrics, optimizers, callbacks, layers, models):
        for k in dir(mod):
            if not k.startswith("_"):
                objects.setdefault(k, getattr(mod, k))
    from lamina.models.functional import Functional

    objects["Functional"] = Functional
    from lamina.layers.core.symbolic_op import SymbolicOp

    objects["SymbolicOp"] = SymbolicOp
    return objects


_PUBLIC_MODULES = (
    "layers", "models", "optimizers", "losses", "metrics", "initializers",
    "regularizers", "constraints", "activations", "callbacks",
)


def _objects_of_module(module, objects):
    """The names of the public module a config names first (keras.layers'
    Identity is a layer, keras.initializers' an initializer), then all."""
    if not isinstance(module, str) or not module.startswith("keras."):
        return objects
    part = module.split(".")[1] if module.count(".") >= 1 else ""
    if part not in _PUBLIC_MODULES:
        return objects
    import importlib

    mod = importlib.import_module("lamina." + part)
    return {**objects, **{k: getattr(mod, k) for k in dir(mod) if not k.startswith("_")}}


def deserialize_keras_object(config, custom_objects=None, module_objects=None, safe_mode=True, **kwargs):
    if config is None or isinstance(config, (bool, int, float)):
        return config
    if isinstance(config, (list, tuple)):
        return type(config)(deserialize_keras_object(c, custom_objects, module_objects) for c in config)
    objects = dict(module_objects) if module_objects else _all_lamina_objects()
    if isinstance(config, str):
        obj = get_registered_object(config, custom_objects, objects)
        if obj is None:
            raise DeserializationError(f"Could not interpret serialized object: {config!r}")
        return obj
    if not isinstance(config, dict):
        raise DeserializationError(f"Could not parse config: {config!r:.200}")
    if "class_name" not in config:
        return {k: deserialize_keras_object(v, custom_objects, module_objects) for k, v in config.items()}
    class_name = config["class_name"]
    inner = config.get("config")
    if class_name in ("__tuple__", "__numpy__", "function"):
        return _deserialize_special(class_name, inner, custom_objects, module_objects, objects)
    registered = config.get("registered_name") or class_name
    if not isinstance(class_name, str) or not isinstance(registered, str):
        raise DeserializationError(f"Invalid class_name {class_name!r} (registered name {registered!r}) in config.")
    cls = get_registered_object(registered, custom_objects, _objects_of_module(config.get("module"), objects))
    if cls is None:
        cls = get_registered_object(class_name, custom_objects, objects)
    if cls is None:
        raise DeserializationError(_unknown_class_message(class_name, registered, custom_objects))
    if not hasattr(cls, "from_config"):
        raise DeserializationError(f"Unable to reconstruct an instance of '{class_name}': no from_config method")
    with CustomObjectScope(custom_objects or {}):
        try:
            obj = cls.from_config(inner if inner is not None else {})
            build_config = config.get("build_config")
            if build_config and hasattr(obj, "build_from_config") and not getattr(obj, "built", True):
                obj.build_from_config(build_config)
        except DeserializationError as e:
            # The innermost object that failed names itself; the layers around
            # it say where it sits.
            if isinstance(inner, dict) and isinstance(inner.get("name"), str) and e.args:
                e.args = (f"{e.args[0]} [in {class_name}{_name_of(inner)}]",) + e.args[1:]
            raise
        except Exception as e:  # noqa: BLE001 - any failure of a config is reported as one error type
            raise DeserializationError(
                f"{class_name}{_name_of(inner)} could not be deserialized from its config "
                f"({type(e).__name__}: {clip_message(str(e))})."
            ) from e
    return obj


def _deserialize_special(class_name, inner, custom_objects, module_objects, objects):
    if class_name == "function":
        fn = get_registered_object(inner, custom_objects, objects) if isinstance(inner, str) else None
        if fn is None:
            raise DeserializationError(f"Unknown function: {inner!r:.200}. Pass it in `custom_objects`.")
        return fn
    try:
        if class_name == "__tuple__":
            return tuple(deserialize_keras_object(v, custom_objects, module_objects) for v in inner["value"])
        dtype = np.dtype(inner["dtype"])
        if dtype.hasobject:  # object arrays are how pickles sneak in
            raise ValueError("object arrays are not allowed")
        return np.array(inner["value"], dtype=dtype)
    except DeserializationError:
        raise
    except Exception as e:  # noqa: BLE001
        raise DeserializationError(f"Invalid {class_name} config {inner!r:.200} ({type(e).__name__}: {e}).") from e


def clip_message(text, limit=700):
    """`text` cut in the middle when long: configs quoted in messages can be
    huge, and the cause is usually at the end."""
    if len(text) <= limit:
        return text
    return text[: limit // 3] + " ... " + text[-(limit - limit // 3):]


def _name_of(inner):
    name = inner.get("name") if isinstance(inner, dict) else None
    return f" '{name}'" if isinstance(name, str) else ""


def _unknown_class_message(class_name, registered, custom_objects):
    known = sorted(GLOBAL_CUSTOM_OBJECTS) + sorted(
        k for objs in (getattr(_scope, "stack", None) or []) for k in objs
    ) + sorted(custom_objects or {})
    return (
        f"Could not locate class '{class_name}' (registered name {registered!r}). Make sure custom classes "
        "are decorated with `@lamina.saving.register_serializable(package, name)` or passed in "
        f"`custom_objects`. Registered custom objects: {known if known else 'none'}."
    )
