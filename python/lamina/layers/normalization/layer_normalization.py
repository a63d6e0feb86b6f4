"""LayerNormalization (composed of ops for now)."""

from lamina import constraints, initializers, ops, regularizers
from lamina.layers.layer import Layer


class LayerNormalization(Layer):
    """Normalizes each sample over `axis` (default the last):
    `gamma * (x - mean) / sqrt(var + epsilon) + beta`, epsilon 1e-3.

    With `rms_scaling=True` (deprecated in Keras, kept with its formula):
    `gamma * x / sqrt(var(x) + epsilon)`.
    """

    def __init__(
        self,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        rms_scaling=False,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = list(axis)
        elif isinstance(axis, int):
            self.axis = axis
        else:
            raise TypeError(f"Expected an int or a list/tuple of ints for the argument 'axis', but received: {axis}")
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.rms_scaling = rms_scaling
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True
        self.gamma = None
        self.beta = None

    def build(self, input_shape):
        ndim = len(input_shape)
        # As Keras: the axis becomes a sorted list once built.
        self.axis = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        axes = sorted(a % ndim for a in self.axis)
        self._axes = axes
        shape = tuple(input_shape[a] for a in axes)
        if self.scale or self.rms_scaling:
            self.gamma = self.add_weight(
                name="gamma", shape=shape, initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer, constraint=self.gamma_constraint, trainable=True,
            )
        if self.center and not self.rms_scaling:
            self.beta = self.add_weight(
                name="beta", shape=shape, initializer=self.beta_initializer,
                regularizer=self.beta_regularizer, constraint=self.beta_constraint, trainable=True,
            )
        self._broadcast = [1] * ndim
        for a in axes:
            self._broadcast[a] = input_shape[a]
        self._trailing = axes == list(range(ndim - len(axes), ndim))
        self.built = True

    def _b(self, v):
        return v if self._trailing else ops.reshape(v, self._broadcast)

    def call(self, inputs):
        axes = self._axes
        if self.rms_scaling:
            # Keras's (deprecated) rms_scaling divides by sqrt(variance + epsilon).
            variance = ops.var(inputs, axis=axes, keepdims=True)
            out = inputs * ops.reciprocal(ops.sqrt(variance + self.epsilon))
            return out * self._b(self.gamma) if self.gamma is not None else out
        if len(axes) == 1 and inputs.dtype in ("float32", "float64"):
            # Fused kernel over one axis.
            return ops.layer_normalization(inputs, self.gamma, self.beta, axis=axes[0], epsilon=self.epsilon)
        mean = ops.mean(inputs, axis=axes, keepdims=True)
        centered = inputs - mean
        variance = ops.mean(ops.square(centered), axis=axes, keepdims=True)
        out = centered * ops.reciprocal(ops.sqrt(variance + self.epsilon))
        if self.gamma is not None:
            out = out * self._b(self.gamma)
        if self.beta is not None:
            out = out + self._b(self.beta)
        return out

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "rms_scaling": self.rms_scaling,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }
