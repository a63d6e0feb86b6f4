"""`BasePooling`: max / average pooling over 1, 2 or 3 spatial axes."""

from lamina import ops
from lamina.backend.config import standardize_data_format
from lamina.layers.convolutional import conv_utils
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer


class BasePooling(Layer):
    """Pooling with windows of `pool_size`, stepping by `strides` (default
    `pool_size`), "valid" or "same" padding. Average pooling with "same"
    padding averages the taps inside the input only (as Keras)."""

    def __init__(
        self,
        pool_size,
        strides,
        pool_dimensions,
        pool_mode="max",
        padding="valid",
        data_format=None,
        name=None,
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self.pool_size = conv_utils.standardize_tuple(pool_size, pool_dimensions, "pool_size")
        strides = pool_size if strides is None else strides
        self.strides = conv_utils.standardize_tuple(strides, pool_dimensions, "strides")
        self.pool_mode = pool_mode
        self.padding = conv_utils.standardize_padding(padding)
        if not isinstance(self.padding, str):
            raise ValueError(f"{self.__class__.__name__}: `padding` must be 'valid' or 'same', got {padding!r}")
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=pool_dimensions + 2)
        self._pool_dimensions = pool_dimensions
        self.built = True

    def call(self, inputs):
        fn = ops.max_pool if self.pool_mode == "max" else ops.average_pool
        return fn(inputs, pool_size=self.pool_size, strides=self.strides, padding=self.padding,
                  data_format=self.data_format)

    def compute_output_shape(self, input_shape):
        return conv_utils.compute_pooling_output_shape(
            self, input_shape, self.pool_size, self.strides, self.padding, self.data_format
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "pool_size": self.pool_size,
                "padding": self.padding,
                "strides": self.strides,
                "data_format": self.data_format,
            }
        )
        return config
