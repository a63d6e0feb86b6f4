"""Adam, AdamW, Adamax, Nadam."""

import math

import numpy as np

from lamina import _core
from lamina.optimizers.optimizer import Optimizer

_BASE_ARGS = (
    "weight_decay", "clipnorm", "clipvalue", "global_clipnorm", "use_ema", "ema_momentum",
    "ema_overwrite_frequency", "loss_scale_factor", "gradient_accumulation_steps",
)


class Adam(Optimizer):
    """Adam, as Keras computes it:

        m = m + (g - m) * (1 - beta_1)
        v = v + (g**2 - v) * (1 - beta_2)
        alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        w -= alpha * m / (sqrt(v) + epsilon)

    (epsilon added to sqrt(v), bias correction folded into the step size).
    `amsgrad=True` uses the running maximum of v. Defaults: learning_rate
    0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7.
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate, name=name, weight_decay=weight_decay, clipnorm=clipnorm,
            clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps, **kwargs,
        )
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._momentums, self._velocities = self.add_optimizer_variables(variables, ["momentum", "velocity"])
        if self.amsgrad:
            self._velocity_hats = self.add_optimizer_variables(variables, "velocity_hat")

    def _step_hyper(self, learning_rate):
        return [learning_rate, self.beta_1, self.beta_2, self.epsilon, 0.0, self._local_step]

    def _backend_update_step(self, grads, variables, learning_rate):
        fused = getattr(_core, "adam_update", None)
        if fused is None or not self._can_fuse(grads, variables):
            return super()._backend_update_step(grads, variables, learning_rate)
        idx = [self._get_variable_index(v) for v in variables]
        fused(
            list(variables),
            [g.contiguous() if not g.is_contiguous() else g for g in grads],
            [self._momentums[i] for i in idx],
            [self._velocities[i] for i in idx],
            [self._velocity_hats[i] for i in idx] if self.amsgrad else [],
            self._hyper_t,
        )

    def update_step(self, gradient, variable, learning_rate):
        t = self._local_step
        beta_1_power = self.beta_1**t
        beta_2_power = self.beta_2**t
        i = self._get_variable_index(variable)
        m = self._momentums[i]
        v = self._velocities[i]
        alpha = learning_rate * math.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        _core.assign(m, m + (gradient - m) * (1 - self.beta_1))
        _core.assign(v, v + (_core.square(gradient) - v) * (1 - self.beta_2))
        if self.amsgrad:
            v_hat = self._velocity_hats[i]
            _core.assign(v_hat, _core.maximum(v_hat, v))
            v = v_hat
        _core.assign(variable, variable - (m * alpha) / (_core.sqrt(v) + self.epsilon))

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }


class AdamW(Adam):
    """Adam with decoupled weight decay (`w -= w * weight_decay * lr` before
    the Adam step); weight_decay 0.004 by default."""

    def __init__(
        self,
        learning_rate=0.001,
        weight_decay=0.004,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, amsgrad=amsgrad,
            name=name, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
            global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps, **kwargs,
        )
        if self.weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")


class Adamax(Optimizer):
    """Adam with the infinity norm:
    `m += (g - m)(1 - b1); u = max(b2 * u, |g|); w -= lr * m / ((1 - b1**t)(u + eps))`."""

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate, name=name, weight_decay=weight_decay, clipnorm=clipnorm,
            clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps, **kwargs,
        )
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._m, self._u = self.add_optimizer_variables(variables, ["momentum", "norm"])

    def _step_hyper(self, learning_rate):
        return [learning_rate, self.beta_1, self.beta_2, self.epsilon, 1 - self.beta_1**self._local_step]

    def _backend_update_step(self, grads, variables, learning_rate):
        self._fused_update("adamax", grads, variables, [self._m, self._u], learning_rate)

    def update_step(self, gradient, variable, learning_rate):
        t = self._local_step
        beta_1_power = self.beta_1**t
        i = self._get_variable_index(variable)
        m, u = self._m[i], self._u[i]
        _core.assign(m, m + (gradient - m) * (1 - self.beta_1))
        _core.assign(u, _core.maximum(u * self.beta_2, _core.abs(gradient)))
        _core.assign(variable, variable - (m * learning_rate) / ((u + self.epsilon) * (1 - beta_1_power)))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Nadam(Optimizer):
    """Adam with Nesterov momentum (Dozat 2015), Keras's momentum schedule
    `u_t = beta_1 * (1 - 0.5 * 0.96**(t))`."""

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate, name=name, weight_decay=weight_decay, clipnorm=clipnorm,
            clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps, **kwargs,
        )
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._momentums, self._velocities = self.add_optimizer_variables(variables, ["momentum", "velocity"])
        self._u_product = self.add_variable((), initializer="ones", name="u_product")

    def _backend_update_step(self, grads, variables, learning_rate):
        t = self._local_step
        u_t = self.beta_1 * (1.0 - 0.5 * 0.96**t)
        u_t_1 = self.beta_1 * (1.0 - 0.5 * 0.96 ** (t + 1))
        u_product_t = float(self._u_product.numpy()) * u_t
        _core.assign(self._u_product, u_product_t)
        u_product_t = float(self._u_product.numpy())  # as stored (float32), as update_step reads it
        # Its u_product is host state (read back above), so a capture refuses it.
        self._hyper_t = _core.convert_to_tensor(np.asarray([
            learning_rate, self.beta_1, self.beta_2, self.epsilon,
            u_t_1 / (1 - u_product_t * u_t_1), (1 - u_t) / (1 - u_product_t), 1 - self.beta_2**t], np.float64), None, True)
        self._fused_update("nadam", grads, variables, [self._momentums, self._velocities], learning_rate)

    def update_step(self, gradient, variable, learning_rate):
        t = self._local_step
        u_t = self.beta_1 * (1.0 - 0.5 * 0.96**t)
        u_t_1 = self.beta_1 * (1.0 - 0.5 * 0.96 ** (t + 1))
        u_product_t = float(self._u_product.numpy())
        u_product_t_1 = u_product_t * u_t_1
        beta_2_power = self.beta_2**t
        i = self._get_variable_index(variable)
        m, v = self._momentums[i], self._velocities[i]
        _core.assign(m, m + (gradient - m) * (1 - self.beta_1))
        _core.assign(v, v + (_core.square(gradient) - v) * (1 - self.beta_2))
        m_hat = m * (u_t_1 / (1 - u_product_t_1)) + gradient * ((1 - u_t) / (1 - u_product_t))
        v_hat = v / (1 - beta_2_power)
        _core.assign(variable, variable - (m_hat * learning_rate) / (_core.sqrt(v_hat) + self.epsilon))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
