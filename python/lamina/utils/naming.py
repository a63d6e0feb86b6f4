"""Unique default names (dense, dense_1, ...), as Keras."""

import collections
import re
import threading

_lock = threading.Lock()
_counts = collections.defaultdict(int)


def to_snake_case(name):
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
    return name


def uniquify(name):
    with _lock:
        n = _counts[name]
        _counts[name] += 1
    return name if n == 0 else f"{name}_{n}"


def auto_name(prefix):
    return uniquify(to_snake_case(prefix))


def reset_names():
    with _lock:
        _counts.clear()


def get_object_name(obj):
    if hasattr(obj, "name") and isinstance(obj.name, str):
        return obj.name
    if hasattr(obj, "__name__"):
        return to_snake_case(obj.__name__)
    if hasattr(obj, "__class__"):
        return to_snake_case(obj.__class__.__name__)
    return to_snake_case(str(obj))
