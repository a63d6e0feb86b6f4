"""RandomFlip and RandomContrast: image augmentation active only in training."""

from lamina import ops
from lamina import random as lrandom
from lamina.layers.preprocessing.base_image_layer import BaseImageLayer, parse_factor

HORIZONTAL = "horizontal"
VERTICAL = "vertical"
HORIZONTAL_AND_VERTICAL = "horizontal_and_vertical"


class RandomFlip(BaseImageLayer):
    """Flips each image with probability 0.5 during training (`mode`:
    "horizontal" (left-right), "vertical" (top-bottom) or
    "horizontal_and_vertical"); the identity at inference. As Keras, one coin
    per image decides both flips in "horizontal_and_vertical" mode."""

    def __init__(self, mode=HORIZONTAL_AND_VERTICAL, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if mode not in (HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL):
            raise ValueError(
                f"RandomFlip '{self.name}': unknown `mode` {mode!r}. Expected one of "
                f"{(HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL)}."
            )
        self.mode = mode

    def call(self, inputs, training=True):
        self._check_rank(inputs.shape)
        x = self._cast(inputs)
        if not self._active(training):
            return x
        coin_shape = (x.shape[0], 1, 1, 1) if x.ndim == 4 else (1, 1, 1)
        flips = ops.less_equal(lrandom.uniform(coin_shape, 0.0, 1.0, x.dtype, self.generator), 0.5)
        h_axis, w_axis = self._hw_axes(x.ndim)
        if self.mode in (HORIZONTAL, HORIZONTAL_AND_VERTICAL):
            x = ops.where(flips, ops.flip(x, axis=w_axis), x)
        if self.mode in (VERTICAL, HORIZONTAL_AND_VERTICAL):
            x = ops.where(flips, ops.flip(x, axis=h_axis), x)
        return x

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


class RandomContrast(BaseImageLayer):
    """Adjusts each image's contrast by a random factor in
    [1 - lower, 1 + upper] during training: `(x - mean) * factor + mean`
    (mean per image and channel), clipped to `value_range`; the identity at
    inference.

    As Keras, a number f gives (lower, upper) = (0, f); a pair is sorted; all
    in [0, 1].
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        # As Keras, `data_format` comes through **kwargs.
        super().__init__(seed=seed, **kwargs)
        self.factor = parse_factor(self, factor, (0, 1))
        self.value_range = tuple(value_range)

    def call(self, inputs, training=True):
        self._check_rank(inputs.shape)
        if not self._active(training):
            # Keras leaves the input (and its dtype) untouched at inference.
            return inputs
        x = self._cast(inputs)
        unbatched = x.ndim == 3
        if unbatched:
            x = ops.expand_dims(x, 0)
        low, high = 1.0 - self.factor[0], 1.0 + self.factor[1]
        factor = lrandom.uniform((x.shape[0], 1, 1, 1), low, high, x.dtype, self.generator)
        axes = (2, 3) if self.data_format == "channels_first" else (1, 2)
        mean = ops.mean(x, axis=axes, keepdims=True)
        lo, hi = (float(v) for v in self.value_range)
        out = ops.clip((x - mean) * factor + mean, lo, hi)
        return ops.squeeze(out, 0) if unbatched else out

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}
