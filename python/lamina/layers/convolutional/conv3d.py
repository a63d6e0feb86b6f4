"""Conv3D / Conv3DTranspose: not available yet (lamina has no 3-D convolution kernel)."""

from lamina.layers.layer import Layer


def _unavailable(name):
    return NotImplementedError(
        f"{name} is not implemented in lamina yet: there is no 3-D convolution kernel "
        "(only 1-D and 2-D). Fold one spatial axis into the batch and use the 2-D layer, "
        "or use a 1-D/2-D model."
    )


class Conv3D(Layer):
    """Placeholder for keras.layers.Conv3D: constructing it raises NotImplementedError."""

    def __init__(self, *args, **kwargs):
        raise _unavailable("Conv3D")


class Conv3DTranspose(Layer):
    """Placeholder for keras.layers.Conv3DTranspose: constructing it raises NotImplementedError."""

    def __init__(self, *args, **kwargs):
        raise _unavailable("Conv3DTranspose")
