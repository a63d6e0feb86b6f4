"""Normalization: feature-wise standardization learned with `adapt()`."""

import numpy as np

from lamina import _core, ops
from lamina.backend.config import epsilon
from lamina.layers.layer import Layer


class Normalization(Layer):
    """Maps inputs to `(x - mean) / sqrt(var)` per feature along `axis`.

    Provide `mean` and `variance`, or call `adapt(data)` to compute them from
    data (NumPy arrays, tensors, or an iterable of batches). `invert=True`
    applies the inverse transform.
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, int):
            axis = (axis,)
        else:
            axis = tuple(axis)
        self.axis = axis
        if (mean is not None) != (variance is not None):
            raise ValueError(
                "When setting values directly, both `mean` and `variance` must be set. "
                f"Received: mean={mean} and variance={variance}"
            )
        self.input_mean = mean
        self.input_variance = variance
        self.invert = invert
        self.supports_masking = True
        self._build_input_shape = None
        self.mean = None

    def build(self, input_shape):
        if input_shape is None:
            return
        ndim = len(input_shape)
        self._build_input_shape = tuple(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(
                "All `axis` values must be in the range [-ndim, ndim). "
                f"Received inputs with ndim={ndim}, while axis={self.axis}"
            )
        self._keep_axis = tuple(sorted(a % ndim for a in self.axis))
        self._reduce_axis = tuple(i for i in range(ndim) if i not in self._keep_axis)
        self._mean_and_var_shape = tuple(input_shape[d] for d in self._keep_axis)
        self._broadcast_shape = [input_shape[d] if d in self._keep_axis else 1 for d in range(ndim)]
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(
                name="mean", shape=self._mean_and_var_shape, initializer="zeros", trainable=False
            )
            self.adapt_variance = self.add_weight(
                name="variance", shape=self._mean_and_var_shape, initializer="ones", trainable=False
            )
            self.count = self.add_weight(name="count", shape=(), dtype="int32", initializer="zeros", trainable=False)
            self.built = True
            self.finalize_state()
        else:
            mean = np.broadcast_to(np.asarray(self.input_mean, dtype=np.float32), self._mean_and_var_shape)
            variance = np.broadcast_to(np.asarray(self.input_variance, dtype=np.float32), self._mean_and_var_shape)
            self.mean = _core.convert_to_tensor(np.ascontiguousarray(mean.reshape(self._broadcast_shape)), self.compute_dtype, True)
            self.variance = _core.convert_to_tensor(
                np.ascontiguousarray(variance.reshape(self._broadcast_shape)), self.compute_dtype, True
            )
            self.built = True

    def adapt(self, data, batch_size=None, steps=None):
        """Computes the mean and variance of `data` along the kept axes."""
        if isinstance(data, _core.Tensor):
            data = data.numpy()
        if isinstance(data, np.ndarray) or isinstance(data, (list, tuple)) and not hasattr(data, "__next__"):
            arrays = [np.asarray(data, dtype=np.float64)]
        else:
            arrays = []
            for i, batch in enumerate(data):
                if steps is not None and i >= steps:
                    break
                if isinstance(batch, tuple):
                    batch = batch[0]
                arrays.append(np.asarray(batch.numpy() if isinstance(batch, _core.Tensor) else batch, dtype=np.float64))
        if not arrays:
            raise ValueError("Normalization.adapt: no data")
        shape = arrays[0].shape
        if not self.built:
            self.build((None,) + tuple(shape[1:]))
        elif self._build_input_shape is not None and len(shape) != len(self._build_input_shape):
            raise ValueError(
                f"Normalization '{self.name}': adapt data of shape {shape} does not match the built input rank "
                f"{len(self._build_input_shape)}"
            )
        if self.input_mean is not None:
            raise ValueError("Cannot `adapt` a Normalization layer that is initialized with static `mean` and `variance`.")
        total = 0
        mean = None
        m2 = None
        for a in arrays:
            n = int(np.prod([a.shape[i] for i in self._reduce_axis])) if self._reduce_axis else 1
            b_mean = a.mean(axis=self._reduce_axis) if self._reduce_axis else a
            b_var = a.var(axis=self._reduce_axis) if self._reduce_axis else np.zeros_like(a)
            if mean is None:
                mean, m2, total = b_mean, b_var * n, n
            else:
                delta = b_mean - mean
                new_total = total + n
                mean = mean + delta * n / new_total
                m2 = m2 + b_var * n + delta**2 * total * n / new_total
                total = new_total
        variance = m2 / max(total, 1)
        self.adapt_mean.assign(np.asarray(mean, dtype=np.float32).reshape(self._mean_and_var_shape))
        self.adapt_variance.assign(np.asarray(variance, dtype=np.float32).reshape(self._mean_and_var_shape))
        self.count.assign(np.asarray(total, dtype=np.int32))
        self.finalize_state()

    def finalize_state(self):
        if self.input_mean is not None or not self.built:
            return
        self.mean = ops.reshape(self.adapt_mean, self._broadcast_shape)
        self.variance = ops.reshape(self.adapt_variance, self._broadcast_shape)

    def call(self, inputs):
        if self.mean is None:
            raise ValueError(f"Normalization '{self.name}' has no mean/variance: call `adapt(data)` first.")
        if inputs.dtype not in ("float32", "float64"):
            inputs = ops.cast(inputs, self.compute_dtype)
        if self.input_mean is None:
            self.finalize_state()
        if self.invert:
            return self.mean + inputs * ops.maximum(ops.sqrt(self.variance), epsilon())
        return (inputs - self.mean) / ops.maximum(ops.sqrt(self.variance), epsilon())

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        def plain(v):
            if v is None:
                return None
            return np.asarray(v).tolist()

        return {
            **super().get_config(),
            "axis": self.axis,
            "invert": self.invert,
            "mean": plain(self.input_mean),
            "variance": plain(self.input_variance),
        }
