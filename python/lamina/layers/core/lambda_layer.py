"""Lambda: wraps an arbitrary function of tensors as a layer."""

import base64
import inspect
import marshal
import types

from lamina.backend.symbolic import compute_output_spec
from lamina.backend.keras_tensor import KerasTensor
from lamina.layers.layer import Layer
from lamina.utils import tree


def func_dump(func):
    code = marshal.dumps(func.__code__)
    raw = base64.b64encode(code).decode("ascii")
    defaults = func.__defaults__
    closure = tuple(c.cell_contents for c in func.__closure__) if func.__closure__ else None
    return raw, defaults, closure


def func_load(code, defaults=None, closure=None, globs=None):
    if isinstance(code, (tuple, list)):
        code, defaults, closure = code
    raw = base64.b64decode(code.encode("ascii"))
    code = marshal.loads(raw)

    def make_cell(value):
        return (lambda: value).__closure__[0]

    if closure is not None:
        closure = tuple(make_cell(c) for c in closure)
    if globs is None:
        globs = globals()
    return types.FunctionType(code, globs, name=code.co_name, argdefs=defaults, closure=closure)


class Lambda(Layer):
    """Wraps `function(inputs, **arguments)` as a layer.

    Args:
        function: the function; it may accept `mask` and `training`.
        output_shape: the output shape (without batch) or a function of the
            input shape; inferred by running the function when omitted.
        mask: a mask (or function `(inputs, mask) -> mask`).
        arguments: extra keyword arguments for the function.
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        self.arguments = arguments or {}
        self.function = function
        self.mask = mask
        self._output_shape = output_shape
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):  # builtins (e.g. compiled ops) expose no signature
            params = {}
        self._fn_expects_training_arg = "training" in params
        self._fn_expects_mask_arg = "mask" in params
        self.supports_masking = mask is not None
        self.built = True

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_expects_mask_arg:
            kwargs["mask"] = mask
        if self._fn_expects_training_arg:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            flat = tree.map_shape_structure(lambda s: KerasTensor(s), input_shape)
            spec = compute_output_spec(lambda x: self.call(x), flat)
            return tree.map_structure(lambda t: t.shape, spec)
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        shape = tuple(self._output_shape)
        batch = tree.flatten(input_shape)[0] if not isinstance(input_shape, tuple) else input_shape[0]
        return (batch,) + shape

    def compute_output_spec(self, *args, **kwargs):
        if self._output_shape is None:
            return compute_output_spec(lambda x: self.call(x, training=kwargs.get("training")), args[0])
        return super().compute_output_spec(*args, **kwargs)

    def _serialize_function(self, fn):
        if isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>":
            return {"class_name": "__lambda__", "config": {"value": func_dump(fn)}}
        from lamina.saving.serialization_lib import serialize_keras_object

        return serialize_keras_object(fn)

    def get_config(self):
        config = {"function": self._serialize_function(self.function)}
        if self._output_shape is not None:
            config["output_shape"] = (
                self._serialize_function(self._output_shape) if callable(self._output_shape) else self._output_shape
            )
        if self.mask is not None:
            config["mask"] = self._serialize_function(self.mask) if callable(self.mask) else self.mask
        config["arguments"] = self.arguments
        return {**super().get_config(), **config}

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None):
        from lamina.saving.serialization_lib import deserialize_keras_object

        config = dict(config)
        for key in ("function", "output_shape", "mask"):
            v = config.get(key)
            if isinstance(v, dict) and v.get("class_name") == "__lambda__":
                if safe_mode is None:
                    from lamina.backend.config import in_safe_mode

                    safe_mode = in_safe_mode()
                if safe_mode:
                    raise ValueError(
                        "Requested the deserialization of a `Lambda` layer whose `function` is a Python "
                        "lambda. This carries a potential risk of arbitrary code execution and thus it is "
                        "disallowed by default. If you trust the source of the config, pass "
                        "`safe_mode=False` to `from_config`."
                    )
                config[key] = func_load(v["config"]["value"])
            elif isinstance(v, dict):
                config[key] = deserialize_keras_object(v, custom_objects=custom_objects)
        return cls(**config)
