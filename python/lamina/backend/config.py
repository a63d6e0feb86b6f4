"""Global Keras-style settings: float type, fuzz factor, image data format."""

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"


def floatx():
    """The default float type, as a string (`"float32"`)."""
    return _FLOATX


def set_floatx(value):
    global _FLOATX
    accepted = {"float32", "float64"}
    if value not in accepted:
        raise ValueError(f"Unknown `floatx` value: {value}. Expected one of {sorted(accepted)}")
    _FLOATX = str(value)


def epsilon():
    """The fuzz factor used in numeric expressions (1e-7)."""
    return _EPSILON


def set_epsilon(value):
    global _EPSILON
    _EPSILON = float(value)


def image_data_format():
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format):
    global _IMAGE_DATA_FORMAT
    data_format = str(data_format).lower()
    if data_format not in {"channels_first", "channels_last"}:
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format}"
        )
    _IMAGE_DATA_FORMAT = data_format


def standardize_data_format(data_format):
    if data_format is None:
        return image_data_format()
    data_format = str(data_format).lower()
    if data_format not in {"channels_first", "channels_last"}:
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format}"
        )
    return data_format


def backend():
    """The name of the backend: always `"lamina"`."""
    return "lamina"


_SAFE_MODE = {"value": True}
_INTERACTIVE_LOGGING = {"value": True}
_DTYPE_POLICY = {"value": "float32"}


def enable_unsafe_deserialization():
    """Allows deserializing Python lambdas (Lambda layers) by default."""
    _SAFE_MODE["value"] = False


def in_safe_mode():
    return _SAFE_MODE["value"]


def enable_interactive_logging():
    _INTERACTIVE_LOGGING["value"] = True


def disable_interactive_logging():
    _INTERACTIVE_LOGGING["value"] = False


def is_interactive_logging_enabled():
    return _INTERACTIVE_LOGGING["value"]


def set_dtype_policy(policy):
    """Sets the default dtype policy. lamina computes in float32 or float64;
    mixed policies ("mixed_float16", "mixed_bfloat16") run in float32 with a
    warning."""
    import warnings

    name = policy if isinstance(policy, str) else getattr(policy, "name", str(policy))
    if name.startswith("mixed_") or name in ("float16", "bfloat16"):
        warnings.warn(f"lamina has no half-precision compute yet: dtype policy {name!r} runs in float32.")
        name = "float32"
    if name not in ("float32", "float64"):
        raise ValueError(f"Invalid dtype policy: {policy!r}")
    _DTYPE_POLICY["value"] = name
    set_floatx(name)


def dtype_policy():
    from lamina.layers.layer import DTypePolicy

    return DTypePolicy(_DTYPE_POLICY["value"])
