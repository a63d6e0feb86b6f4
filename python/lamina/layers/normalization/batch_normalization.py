"""BatchNormalization."""

from lamina import constraints, initializers, ops, regularizers
from lamina.autograd import no_grad
from lamina.backend.symbolic import in_symbolic_scope
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer


class BatchNormalization(Layer):
    """Normalizes with batch statistics in training and moving averages at
    inference.

    During `fit` (training=True and the layer trainable) it uses the batch's
    mean and (biased) variance over all axes but `axis`, and updates
    `moving_mean = moving_mean * momentum + mean * (1 - momentum)` (same for the
    variance). Otherwise (inference, or `trainable=False`) it uses the moving
    statistics, as Keras: freezing a BatchNormalization layer puts it in
    inference mode.

    Weights: gamma, beta (trainable), moving_mean, moving_variance.
    """

    def __init__(
        self,
        axis=-1,
        momentum=0.99,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        synchronized=False,
        renorm=False,
        renorm_clipping=None,
        renorm_momentum=0.99,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if renorm:
            raise NotImplementedError("BatchNormalization(renorm=True) is not supported by lamina yet")
        self.renorm = renorm
        self.renorm_clipping = renorm_clipping
        self.renorm_momentum = renorm_momentum
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = center
        self.scale = scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.synchronized = synchronized
        self.supports_masking = True
        self.gamma = None
        self.beta = None

    def build(self, input_shape):
        shape = (input_shape[self.axis],)
        if shape[0] is None:
            raise ValueError(
                f"BatchNormalization '{self.name}': axis {self.axis} of the input must be defined, got shape {tuple(input_shape)}"
            )
        if self.scale:
            self.gamma = self.add_weight(
                shape=shape, name="gamma", initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer, constraint=self.gamma_constraint, trainable=True,
            )
        if self.center:
            self.beta = self.add_weight(
                shape=shape, name="beta", initializer=self.beta_initializer,
                regularizer=self.beta_regularizer, constraint=self.beta_constraint, trainable=True,
            )
        self.moving_mean = self.add_weight(
            shape=shape, name="moving_mean", initializer=self.moving_mean_initializer, trainable=False
        )
        self.moving_variance = self.add_weight(
            shape=shape, name="moving_variance", initializer=self.moving_variance_initializer, trainable=False
        )
        self.input_spec = InputSpec(ndim=len(input_shape), axes={self.axis: input_shape[self.axis]})
        ndim = len(input_shape)
        ax = self.axis % ndim
        self._reduction_axes = [i for i in range(ndim) if i != ax]
        self._broadcast_shape = [1] * ndim
        self._broadcast_shape[ax] = input_shape[ax]
        self._channels_last = ax == ndim - 1
        self.built = True

    def _bcast(self, v):
        return v if self._channels_last else ops.reshape(v, self._broadcast_shape)

    def _moments(self, inputs, mask):
        if mask is None:
            mean = ops.mean(inputs, axis=self._reduction_axes, keepdims=True)
            variance = ops.mean(ops.square(inputs - mean), axis=self._reduction_axes, keepdims=True)
            return mean, variance
        m = ops.cast(mask, inputs.dtype)
        while m.ndim < inputs.ndim:
            m = ops.expand_dims(m, -1)
        m = ops.broadcast_to(m, tuple(inputs.shape))
        total = ops.maximum(ops.sum(m, axis=self._reduction_axes, keepdims=True), 1e-12)
        mean = ops.sum(inputs * m, axis=self._reduction_axes, keepdims=True) / total
        variance = ops.sum(ops.square(inputs - mean) * m, axis=self._reduction_axes, keepdims=True) / total
        return mean, variance

    def call(self, inputs, training=None, mask=None):
        # A functional model sets _fuse_relu while calling this layer when its
        # output feeds only a plain ReLU, which is then skipped (models/fusion.py).
        relu = self.__dict__.get("_fuse_relu", False)
        if training and self.trainable and mask is None:
            # Fused: normalise with the batch statistics, which carry no gradient
            # of their own (the kernel's backward accounts for them).
            outputs, mean, variance = ops.batch_norm_train(
                inputs, self.gamma, self.beta, axis=self.axis, epsilon=self.epsilon, relu=relu
            )
            if not in_symbolic_scope():
                with no_grad():
                    self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
                    self.moving_variance.assign(
                        self.moving_variance * self.momentum + variance * (1.0 - self.momentum)
                    )
            return outputs
        if training and self.trainable:
            mean, variance = self._moments(inputs, mask)
            if not in_symbolic_scope():
                with no_grad():
                    m = ops.reshape(mean, (-1,))
                    v = ops.reshape(variance, (-1,))
                    self.moving_mean.assign(self.moving_mean * self.momentum + m * (1.0 - self.momentum))
                    self.moving_variance.assign(
                        self.moving_variance * self.momentum + v * (1.0 - self.momentum)
                    )
        else:
            mean = self._bcast(self.moving_mean)
            variance = self._bcast(self.moving_variance)
        inv = ops.reciprocal(ops.sqrt(variance + self.epsilon))
        if self.gamma is not None:
            inv = inv * self._bcast(self.gamma)
        res = -mean * inv
        if self.beta is not None:
            res = res + self._bcast(self.beta)
        outputs = inputs * inv + res
        return ops.relu(outputs) if relu else outputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
            "synchronized": self.synchronized,
            "renorm": self.renorm,
            "renorm_clipping": self.renorm_clipping,
            "renorm_momentum": self.renorm_momentum,
        }
