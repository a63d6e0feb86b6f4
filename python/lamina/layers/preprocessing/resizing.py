"""Resizing and CenterCrop: deterministic image preprocessing (Keras 3 semantics),
active at training and inference alike."""

import numpy as np

from lamina import _core
from lamina.layers.preprocessing.base_image_layer import BaseImageLayer
from lamina.layers.preprocessing.image_transform import center_window, resize_bilinear

_INTERPOLATIONS = ("bilinear", "nearest")


def _positive_size(layer, height, width):
    for arg, v in (("height", height), ("width", width)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{type(layer).__name__} '{layer.name}': `{arg}` must be a positive integer. "
                             f"Received: {arg}={v}")
    return int(height), int(width)


class _SizedImageLayer(BaseImageLayer):
    """Images to a fixed (height, width); subclasses pick the source window."""

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height, self.width = _positive_size(self, height, width)

    def _to_tensor(self, array):
        return _core.convert_to_tensor(np.ascontiguousarray(array), self.compute_dtype, True)

    def _crop(self, x, h_axis, w_axis, window):
        top, left, rows, cols = window
        index = [slice(None)] * x.ndim
        index[h_axis] = slice(top, top + rows)
        index[w_axis] = slice(left, left + cols)
        return x[tuple(index)]

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        h_axis, w_axis = self._hw_axes(len(shape))
        shape[h_axis], shape[w_axis] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        config = {**super().get_config(), "height": self.height, "width": self.width}
        config.pop("seed", None)
        return config


class Resizing(_SizedImageLayer):
    """Resizes images to `(height, width)` ("bilinear" or "nearest"); with
    `crop_to_aspect_ratio` the largest centred window of the target aspect
    ratio is resized, with `pad_to_aspect_ratio` the image is first padded
    (with `fill_value`) to that ratio, so nothing is distorted."""

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, antialias=False,
                 data_format=None, **kwargs):
        super().__init__(height, width, data_format=data_format, **kwargs)
        if interpolation not in _INTERPOLATIONS:
            raise ValueError(f"Resizing '{self.name}': `interpolation` must be one of {_INTERPOLATIONS}. "
                             f"Received: interpolation={interpolation!r}")
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError(f"Resizing '{self.name}': only one of `crop_to_aspect_ratio` and "
                             "`pad_to_aspect_ratio` can be True.")
        if fill_mode != "constant":
            raise ValueError(f"Resizing '{self.name}': only fill_mode='constant' is supported, as Keras. "
                             f"Received: fill_mode={fill_mode!r}")
        if antialias:
            raise NotImplementedError(f"Resizing '{self.name}': antialias=True is not supported yet.")
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.antialias = False

    def call(self, inputs):
        self._check_rank(inputs.shape)
        x = np.asarray(self._cast(inputs).numpy())
        h_axis, w_axis = self._hw_axes(x.ndim)
        in_h, in_w = x.shape[h_axis], x.shape[w_axis]
        if self.crop_to_aspect_ratio:
            x = self._crop(x, h_axis, w_axis, center_window(in_h, in_w, self.height, self.width))
        elif self.pad_to_aspect_ratio:
            x = self._pad(x, h_axis, w_axis, in_h, in_w)
        return self._to_tensor(resize_bilinear(x, self.height, self.width, h_axis, w_axis, self.interpolation))

    def _pad(self, x, h_axis, w_axis, in_h, in_w):
        pad_h = max(in_h, int(float(in_w * self.height) / self.width))
        pad_w = max(in_w, int(float(in_h * self.width) / self.height))
        top, left = int(float(pad_h - in_h) / 2), int(float(pad_w - in_w) / 2)
        widths = [(0, 0)] * x.ndim
        widths[h_axis] = (top, pad_h - in_h - top)
        widths[w_axis] = (left, pad_w - in_w - left)
        return np.pad(x, widths, constant_values=self.fill_value)

    def get_config(self):
        return {**super().get_config(), "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "antialias": self.antialias}


class CenterCrop(_SizedImageLayer):
    """Cuts the central `(height, width)` window; an image smaller than the
    target in either dimension is instead cropped to the target aspect ratio
    and resized (bilinear), as Keras."""

    def call(self, inputs):
        self._check_rank(inputs.shape)
        x = np.asarray(self._cast(inputs).numpy())
        h_axis, w_axis = self._hw_axes(x.ndim)
        in_h, in_w = x.shape[h_axis], x.shape[w_axis]
        dh, dw = in_h - self.height, in_w - self.width
        if dh >= 0 and dw >= 0:
            return self._to_tensor(self._crop(x, h_axis, w_axis, (int(dh / 2), int(dw / 2), self.height, self.width)))
        x = self._crop(x, h_axis, w_axis, center_window(in_h, in_w, self.height, self.width))
        return self._to_tensor(resize_bilinear(x, self.height, self.width, h_axis, w_axis))
