"""AveragePooling1D: average pooling over 1 spatial axis."""

from lamina.layers.pooling.base_pooling import BasePooling


class AveragePooling1D(BasePooling):
    """Average pooling of `(batch, steps, features)`; `strides` defaults to `pool_size`."""

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(
            pool_size,
            strides,
            pool_dimensions=1,
            pool_mode="average",
            padding=padding,
            data_format=data_format,
            name=name,
            **kwargs,
        )
