"""RandomTranslation: shifts each image by a random offset during training."""

import numpy as np

from lamina.layers.preprocessing.base_image_layer import BaseAffineLayer, parse_symmetric_factor


class RandomTranslation(BaseAffineLayer):
    """Shifts each image by `dy = u * height` and `dx = v * width` pixels,
    u and v drawn uniformly from the `height_factor` and `width_factor`
    ranges, during training; the identity at inference.

    A factor f gives (-f, f), a pair gives (lower, upper), all in [-1, 1];
    a positive value shifts down (height) or right (width).
    """

    def __init__(
        self,
        height_factor,
        width_factor,
        fill_mode="reflect",
        interpolation="bilinear",
        seed=None,
        fill_value=0.0,
        data_format=None,
        **kwargs,
    ):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = height_factor
        self.height_lower, self.height_upper = parse_symmetric_factor(
            self, height_factor, "height_factor"
        )
        self.width_factor = width_factor
        self.width_lower, self.width_upper = parse_symmetric_factor(
            self, width_factor, "width_factor"
        )

    def _transforms(self, batch, height, width):
        dy = self._uniform((batch,), self.height_lower, self.height_upper) * np.float32(height)
        dx = self._uniform((batch,), self.width_lower, self.width_upper) * np.float32(width)
        zeros, ones = np.zeros(batch, np.float32), np.ones(batch, np.float32)
        # Output (x, y) reads input (x - dx, y - dy).
        return np.stack([ones, zeros, -dx, zeros, ones, -dy, zeros, zeros], axis=1)

    def get_config(self):
        return {
            **super().get_config(),
            "height_factor": self.height_factor,
            "width_factor": self.width_factor,
        }
