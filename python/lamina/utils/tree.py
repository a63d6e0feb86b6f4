"""Nested structures (lists, tuples, dicts) as `keras.tree`: dict keys are
visited in sorted order, `None` is a leaf."""

import collections


def is_nested(x):
    return isinstance(x, (list, tuple, dict))


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(x, "_fields")


def _sorted_keys(d):
    try:
        return sorted(d.keys())
    except TypeError:
        return list(d.keys())


def flatten(structure):
    out = []
    _flatten(structure, out)
    return out


def _flatten(x, out):
    if isinstance(x, dict):
        for k in _sorted_keys(x):
            _flatten(x[k], out)
    elif isinstance(x, (list, tuple)):
        for v in x:
            _flatten(v, out)
    else:
        out.append(x)


def _rebuild(template, values):
    if _is_namedtuple(template):
        return type(template)(*values)
    if isinstance(template, tuple):
        return tuple(values)
    return list(values)


def map_structure(fn, *structures):
    first = structures[0]
    if isinstance(first, dict):
        keys = _sorted_keys(first)
        mapped = {k: map_structure(fn, *(s[k] for s in structures)) for k in keys}
        if isinstance(first, collections.OrderedDict):
            return collections.OrderedDict((k, mapped[k]) for k in first)
        return type(first)((k, mapped[k]) for k in first) if type(first) is not dict else {k: mapped[k] for k in first}
    if isinstance(first, (list, tuple)):
        for s in structures[1:]:
            if not isinstance(s, (list, tuple)) or len(s) != len(first):
                raise ValueError(f"The two structures don't have the same nested structure: {first} vs {s}")
        return _rebuild(first, [map_structure(fn, *vals) for vals in zip(*structures)])
    return fn(*structures)


def pack_sequence_as(structure, flat_sequence):
    flat_sequence = list(flat_sequence)
    it = iter(flat_sequence)
    n = len(flatten(structure))
    if n != len(flat_sequence):
        raise ValueError(
            f"The target structure has {n} leaves but the flat sequence has {len(flat_sequence)} items"
        )

    def build(s):
        if isinstance(s, dict):
            vals = {k: build(s[k]) for k in _sorted_keys(s)}
            return type(s)((k, vals[k]) for k in s) if type(s) is not dict else {k: vals[k] for k in s}
        if isinstance(s, (list, tuple)):
            return _rebuild(s, [build(v) for v in s])
        return next(it)

    return build(structure)


def assert_same_structure(a, b):
    def shape_of(x):
        if isinstance(x, dict):
            return ("dict", tuple((k, shape_of(x[k])) for k in _sorted_keys(x)))
        if isinstance(x, (list, tuple)):
            return ("seq", tuple(shape_of(v) for v in x))
        return "*"

    if shape_of(a) != shape_of(b):
        raise ValueError(f"The two structures don't have the same nested structure: {a} vs {b}")


def _is_shape(x):
    return isinstance(x, (tuple, list)) and all(
        v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in x
    )


def map_shape_structure(fn, structure):
    """Maps over a structure whose leaves are shape tuples."""
    if _is_shape(structure):
        return fn(tuple(structure))
    if isinstance(structure, dict):
        return {k: map_shape_structure(fn, v) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(map_shape_structure(fn, v) for v in structure) if not _is_namedtuple(structure) else type(structure)(*(map_shape_structure(fn, v) for v in structure))
    return fn(structure)


def traverse(fn, structure):
    return map_structure(fn, structure)
