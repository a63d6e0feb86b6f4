"""`InputSpec`: the rank, dims and dtype a layer accepts, checked on every call."""

from lamina.utils import tree


class InputSpec:
    """Constraints on a layer input (`keras.InputSpec`).

    Args:
        dtype: expected dtype.
        shape: expected shape (None for any size).
        ndim, max_ndim, min_ndim: expected rank bounds.
        axes: dict of {axis: size}.
        allow_last_axis_squeeze: accept a trailing axis of size 1 more or less.
        name: the input's name (for messages).
        optional: whether the input may be None.
    """

    def __init__(
        self,
        dtype=None,
        shape=None,
        ndim=None,
        max_ndim=None,
        min_ndim=None,
        axes=None,
        allow_last_axis_squeeze=False,
        name=None,
        optional=False,
    ):
        self.dtype = dtype
        if shape is not None:
            self.shape = tuple(shape)
            self.ndim = len(shape)
        else:
            self.shape = None
            self.ndim = ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.name = name
        self.optional = optional
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        try:
            axes = axes or {}
            self.axes = {int(k): v for k, v in axes.items()}
        except (ValueError, TypeError):
            raise TypeError(f"Argument `axes` must be a dict with integer keys. Received: axes={axes}")
        if self.axes and (self.ndim is not None or self.max_ndim is not None):
            max_dim = (self.ndim if self.ndim else self.max_ndim) - 1
            max_axis = max(self.axes)
            if max_axis > max_dim:
                raise ValueError(
                    f"Axis {max_axis} is greater than the maximum allowed value: {max_dim}"
                )

    def __repr__(self):
        spec = [
            f"dtype={self.dtype}" if self.dtype else "",
            f"shape={self.shape}" if self.shape else "",
            f"ndim={self.ndim}" if self.ndim else "",
            f"max_ndim={self.max_ndim}" if self.max_ndim else "",
            f"min_ndim={self.min_ndim}" if self.min_ndim else "",
            f"axes={self.axes}" if self.axes else "",
        ]
        return f"InputSpec({', '.join(x for x in spec if x)})"

    def get_config(self):
        return {
            "dtype": self.dtype,
            "shape": self.shape,
            "ndim": self.ndim,
            "max_ndim": self.max_ndim,
            "min_ndim": self.min_ndim,
            "axes": self.axes,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _fmt(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + (",)" if len(shape) == 1 else ")")


def assert_input_compatibility(input_spec, inputs, layer_name, class_name="Layer"):
    """Raises a ValueError naming the layer when `inputs` breaks `input_spec`."""
    if not input_spec:
        return
    specs = tree.flatten(input_spec) if isinstance(input_spec, (list, tuple)) else [input_spec]
    flat = tree.flatten(inputs)
    if len(specs) != len(flat):
        if len(specs) == 1 and len(flat) > 1:
            pass
        raise ValueError(
            f"{class_name} '{layer_name}' expects {len(specs)} input(s), but it received "
            f"{len(flat)} input tensors."
        )
    who = f"{class_name} '{layer_name}'"
    for idx, (spec, x) in enumerate(zip(specs, flat)):
        if spec is None:
            continue
        if x is None:
            if spec.optional:
                continue
            raise ValueError(f"{who}: input {idx} is None, but the layer requires a tensor.")
        if not hasattr(x, "shape"):
            raise ValueError(f"{who}: inputs should be tensors; got {type(x).__name__}: {x!r}")
        shape = tuple(x.shape)
        where = f" (input {idx})" if len(specs) > 1 else ""
        ndim = len(shape)
        if spec.ndim is not None and not spec.allow_last_axis_squeeze and ndim != spec.ndim:
            raise ValueError(
                f"{who}: expected input{where} with ndim={spec.ndim}, got shape {_fmt(shape)} (ndim={ndim})"
            )
        if spec.max_ndim is not None and ndim > spec.max_ndim:
            raise ValueError(
                f"{who}: expected input{where} with at most {spec.max_ndim} dimensions, got shape {_fmt(shape)}"
            )
        if spec.min_ndim is not None and ndim < spec.min_ndim:
            raise ValueError(
                f"{who}: expected input{where} with at least {spec.min_ndim} dimensions, got shape {_fmt(shape)}"
            )
        if spec.dtype is not None and str(x.dtype) != spec.dtype:
            raise ValueError(f"{who}: expected input{where} with dtype {spec.dtype}, got {x.dtype}")
        for axis, value in spec.axes.items():
            if value is None:
                continue
            if axis >= ndim or axis < -ndim:
                raise ValueError(f"{who}: expected input{where} with an axis {axis} of size {value}, got shape {_fmt(shape)}")
            if shape[axis] not in (value, None):
                if axis == -1 or axis == ndim - 1:
                    raise ValueError(
                        f"{who}: expected input{where} with last dimension {value}, got shape {_fmt(shape)}"
                    )
                raise ValueError(
                    f"{who}: expected input{where} with dimension {value} at axis {axis}, got shape {_fmt(shape)}"
                )
        if spec.shape is not None:
            s = spec.shape
            if spec.allow_last_axis_squeeze:
                if shape and shape[-1] == 1:
                    shape = shape[:-1]
                if s and s[-1] == 1:
                    s = s[:-1]
            ok = len(s) == len(shape) and all(a is None or b is None or a == b for a, b in zip(s, shape))
            if not ok:
                raise ValueError(
                    f"{who}: expected input{where} with shape {_fmt(spec.shape)}, got shape {_fmt(tuple(x.shape))}"
                )
