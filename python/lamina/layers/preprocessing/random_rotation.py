"""RandomRotation: rotates each image by a random angle during training."""

import numpy as np

from lamina.layers.preprocessing.base_image_layer import BaseAffineLayer, parse_factor
from lamina.layers.preprocessing.image_transform import compute_affine_matrix


class RandomRotation(BaseAffineLayer):
    """Rotates each image about its centre by a random angle drawn uniformly
    from `[lower * 360, upper * 360]` degrees during training (positive is
    counter-clockwise); the identity at inference.

    `factor` is a fraction of a full turn: a float f gives (-f, f), a pair
    gives (lower, upper). Empty space is filled per `fill_mode` ("reflect",
    "wrap", "constant" with `fill_value`, or "nearest"); `interpolation` is
    "bilinear" or "nearest".
    """

    def __init__(
        self,
        factor,
        fill_mode="reflect",
        interpolation="bilinear",
        seed=None,
        fill_value=0.0,
        data_format=None,
        **kwargs,
    ):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        # Keras treats a falsy factor (0, None) as no rotation.
        self.factor = parse_factor(self, factor or 0.0, (-1, 1))

    def _transforms(self, batch, height, width):
        angle = self._uniform((batch,), self.factor[0] * 360.0, self.factor[1] * 360.0)
        zeros, ones = np.zeros(batch, np.float32), np.ones(batch, np.float32)
        return compute_affine_matrix(angle, zeros, zeros, ones, zeros, zeros, height, width)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}
