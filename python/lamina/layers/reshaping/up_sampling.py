"""UpSampling1D / UpSampling2D (nearest or bilinear)."""

import numpy as np

from lamina import ops
from lamina.backend.config import standardize_data_format
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer


def _tuple(value, n, name):
    if isinstance(value, int):
        return (value,) * n
    value = tuple(value)
    if len(value) != n or not all(isinstance(v, int) for v in value):
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. Received: {name}={value}")
    return value


def _bilinear_matrix(n_in, scale):
    """(n_out, n_in) interpolation weights, half-pixel centers."""
    n_out = n_in * scale
    m = np.zeros((n_out, n_in), dtype=np.float32)
    for i in range(n_out):
        src = (i + 0.5) / scale - 0.5
        src = min(max(src, 0.0), n_in - 1)
        lo = int(np.floor(src))
        hi = min(lo + 1, n_in - 1)
        frac = src - lo
        m[i, lo] += 1.0 - frac
        m[i, hi] += frac
    return m


class UpSampling1D(Layer):
    """Repeats each timestep `size` times: `(b, steps, f)` to `(b, steps*size, f)`."""

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self.size = int(size)
        self.input_spec = InputSpec(ndim=3)
        self.built = True

    def call(self, inputs):
        return ops.repeat(inputs, self.size, axis=1)

    def compute_output_shape(self, input_shape):
        steps = input_shape[1] * self.size if input_shape[1] is not None else None
        return (input_shape[0], steps, input_shape[2])

    def get_config(self):
        return {**super().get_config(), "size": self.size}


class UpSampling2D(Layer):
    """Upsamples rows and columns by `size` ("nearest" repeats, "bilinear"
    interpolates with half-pixel centers)."""

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.size = _tuple(size, 2, "size")
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(
                f"lamina's UpSampling2D supports interpolation 'nearest' and 'bilinear'. Received: interpolation={interpolation}"
            )
        self.interpolation = interpolation
        self.input_spec = InputSpec(ndim=4)
        self.built = True

    def _axes(self):
        return (2, 3) if self.data_format == "channels_first" else (1, 2)

    def call(self, inputs):
        ha, wa = self._axes()
        if self.interpolation == "nearest":
            x = ops.repeat(inputs, self.size[0], axis=ha)
            return ops.repeat(x, self.size[1], axis=wa)
        mh = _bilinear_matrix(inputs.shape[ha], self.size[0])
        mw = _bilinear_matrix(inputs.shape[wa], self.size[1])
        if self.data_format == "channels_first":
            x = ops.einsum("nchw,Hh->ncHw", inputs, mh)
            return ops.einsum("ncHw,Ww->ncHW", x, mw)
        x = ops.einsum("nhwc,Hh->nHwc", inputs, mh)
        return ops.einsum("nHwc,Ww->nHWc", x, mw)

    def compute_output_shape(self, input_shape):
        ha, wa = self._axes()
        out = list(input_shape)
        out[ha] = None if out[ha] is None else out[ha] * self.size[0]
        out[wa] = None if out[wa] is None else out[wa] * self.size[1]
        return tuple(out)

    def get_config(self):
        return {
            **super().get_config(),
            "size": self.size,
            "data_format": self.data_format,
            "interpolation": self.interpolation,
        }
