"""RandomZoom: zooms each image in or out by a random amount during training."""

import numpy as np

from lamina.layers.preprocessing.base_image_layer import BaseAffineLayer, parse_symmetric_factor


class RandomZoom(BaseAffineLayer):
    """Scales each image about its centre during training: the output reads
    the input at `zoom` times its own coordinates, `zoom` drawn uniformly from
    `[1 + lower, 1 + upper]` per axis (positive factors zoom out, negative zoom
    in); the identity at inference.

    `height_factor` (and `width_factor`) is a float f giving (-f, f) or a pair
    (lower, upper), in (-1, 1]. `width_factor=None` zooms both axes by the
    same amount (keeps the aspect ratio).
    """

    def __init__(
        self,
        height_factor,
        width_factor=None,
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
            self, height_factor, "height_factor", open_low=True
        )
        self.width_factor = width_factor
        if width_factor is not None:
            self.width_lower, self.width_upper = parse_symmetric_factor(
                self, width_factor, "width_factor", open_low=True
            )

    def _transforms(self, batch, height, width):
        zy = self._uniform((batch,), 1.0 + self.height_lower, 1.0 + self.height_upper)
        if self.width_factor is None:
            zx = zy
        else:
            zx = self._uniform((batch,), 1.0 + self.width_lower, 1.0 + self.width_upper)
        zeros = np.zeros(batch, np.float32)
        # Scale about the centre ((width - 1) / 2, (height - 1) / 2).
        x_off = np.float32((width - 1.0) / 2.0) * (1.0 - zx)
        y_off = np.float32((height - 1.0) / 2.0) * (1.0 - zy)
        return np.stack([zx, zeros, x_off, zeros, zy, y_off, zeros, zeros], axis=1)

    def get_config(self):
        return {
            **super().get_config(),
            "height_factor": self.height_factor,
            "width_factor": self.width_factor,
        }
