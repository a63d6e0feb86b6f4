"""MaxPooling3D / AveragePooling3D: not available yet (lamina has no 3-D window kernel)."""

from lamina.layers.layer import Layer


def _unavailable(name):
    return NotImplementedError(
        f"{name} is not implemented in lamina yet: pooling windows are 1-D and 2-D only "
        "(GlobalMaxPooling3D / GlobalAveragePooling3D do work)."
    )


class MaxPooling3D(Layer):
    """Placeholder for keras.layers.MaxPooling3D: constructing it raises NotImplementedError."""

    def __init__(self, *args, **kwargs):
        raise _unavailable("MaxPooling3D")


class AveragePooling3D(Layer):
    """Placeholder for keras.layers.AveragePooling3D: constructing it raises NotImplementedError."""

    def __init__(self, *args, **kwargs):
        raise _unavailable("AveragePooling3D")
