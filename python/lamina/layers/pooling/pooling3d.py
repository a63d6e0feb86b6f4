"""MaxPooling3D / AveragePooling3D: pooling over 3 spatial axes."""

from lamina.layers.pooling.base_pooling import BasePooling


class MaxPooling3D(BasePooling):
    """Max pooling of volumes; `strides` defaults to `pool_size`."""

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, pool_dimensions=3, pool_mode="max", padding=padding,
                         data_format=data_format, name=name, **kwargs)


class AveragePooling3D(BasePooling):
    """Average pooling of volumes; with padding="same" the average is over
    the taps inside the input."""

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, pool_dimensions=3, pool_mode="average", padding=padding,
                         data_format=data_format, name=name, **kwargs)
