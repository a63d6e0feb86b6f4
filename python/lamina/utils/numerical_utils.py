"""to_categorical and normalize."""

import numpy as np


def to_categorical(x, num_classes=None):
    """One-hot encodes integer class labels (as `keras.utils.to_categorical`):
    a trailing axis of size 1 is dropped first."""
    from lamina import _core

    if isinstance(x, _core.Tensor):
        x = x.numpy()
    x = np.asarray(x, dtype="int64")
    input_shape = x.shape
    if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
        input_shape = tuple(input_shape[:-1])
    x = x.reshape(-1)
    if num_classes is None:
        num_classes = int(np.max(x)) + 1
    if x.size and (x.min() < 0 or x.max() >= num_classes):
        raise ValueError(f"to_categorical: labels must be in [0, {num_classes}); got values in [{x.min()}, {x.max()}]")
    batch_size = x.shape[0]
    categorical = np.zeros((batch_size, num_classes), dtype="float32")
    categorical[np.arange(batch_size), x] = 1
    return np.reshape(categorical, input_shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """Normalizes an array along `axis` to unit `order`-norm."""
    from lamina import _core, ops

    if isinstance(x, np.ndarray):
        norm = np.atleast_1d(np.linalg.norm(x, order, axis))
        norm[norm == 0] = 1
        axis = axis or -1
        return x / np.expand_dims(norm, axis)
    if isinstance(x, _core.Tensor):
        return ops.normalize(x, axis=axis, order=order)
    return normalize(np.asarray(x), axis, order)
