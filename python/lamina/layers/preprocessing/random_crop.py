"""RandomCrop: a random window of the target size in training, the largest
centred window of the target aspect ratio resized to it otherwise."""

import numpy as np

from lamina import _core
from lamina.backend.symbolic import in_symbolic_scope
from lamina.layers.preprocessing.base_image_layer import BaseImageLayer
from lamina.layers.preprocessing.image_transform import center_window, resize_bilinear
from lamina.utils.rng_utils import make_default_seed


class RandomCrop(BaseImageLayer):
    """Crops images to `(height, width)`.

    In training, when the input is larger than the target in both dimensions,
    one random window (the same for the whole batch, as Keras) is cut out;
    otherwise Keras's fallback (a target-sized window at the corner of the
    centred one below, resized) is used. At inference, the largest centred
    window with the target aspect ratio is cut out and resized (bilinear) to
    the target size, as Keras documents (Keras 3.15's code returns the input
    unchanged there, against its own `compute_output_shape`).
    """

    def __init__(self, height, width, seed=None, data_format=None, name=None, **kwargs):
        # Keras fixes a seed at construction, so the config reproduces the crops.
        seed = seed if seed is not None else make_default_seed()
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        for arg, v in (("height", height), ("width", width)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                raise ValueError(
                    f"RandomCrop '{self.name}': `{arg}` must be a positive integer. "
                    f"Received: {arg}={v}"
                )
        self.height = int(height)
        self.width = int(width)

    def _window(self, in_h, in_w, training):
        """(top, left, rows, cols) of the window to cut out (numpy slicing clips
        it to the image)."""
        if training and not in_symbolic_scope() and in_h > self.height and in_w > self.width:
            # Keras draws floats in [0, n + 1) and truncates: uniform over 0..n.
            top = int(self._uniform((), 0.0, float(in_h - self.height + 1)))
            left = int(self._uniform((), 0.0, float(in_w - self.width + 1)))
            return top, left, self.height, self.width
        # The largest centred window with the target aspect ratio.
        top, left, crop_h, crop_w = center_window(in_h, in_w, self.height, self.width)
        if training:
            # Keras 3.15's training code cuts a target-sized window at that
            # corner instead (then resizes what the image holds of it): kept,
            # so training outputs match Keras.
            return top, left, self.height, self.width
        return top, left, crop_h, crop_w

    def call(self, inputs, training=True):
        self._check_rank(inputs.shape)
        x = self._cast(inputs)
        h_axis, w_axis = self._hw_axes(x.ndim)
        in_h, in_w = x.shape[h_axis], x.shape[w_axis]
        top, left, crop_h, crop_w = self._window(in_h, in_w, training)
        index = [slice(None)] * x.ndim
        index[h_axis] = slice(top, top + crop_h)
        index[w_axis] = slice(left, left + crop_w)
        out = np.asarray(x.numpy())[tuple(index)]
        out = resize_bilinear(out, self.height, self.width, h_axis, w_axis)
        return _core.convert_to_tensor(np.ascontiguousarray(out), self.compute_dtype, True)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        h_axis, w_axis = self._hw_axes(len(shape))
        shape[h_axis], shape[w_axis] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}
