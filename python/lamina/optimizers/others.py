"""RMSprop, Adagrad, Adadelta, Lion."""

from lamina import _core
from lamina.optimizers.optimizer import Optimizer


def _base_kwargs(**kw):
    return kw


class RMSprop(Optimizer):
    """RMSprop: `v = rho * v + (1 - rho) * g**2; w -= lr * g / sqrt(v + eps)`
    (centered: subtract the squared mean gradient; momentum optional).
    Defaults: learning_rate 0.001, rho 0.9, momentum 0.0, epsilon 1e-7."""

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.9,
        momentum=0.0,
        epsilon=1e-7,
        centered=False,
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
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._velocities = self.add_optimizer_variables(variables, "velocity")
        self._momentums = self.add_optimizer_variables(variables, "momentum") if self.momentum > 0 else []
        self._average_gradients = self.add_optimizer_variables(variables, "average_gradient") if self.centered else []

    def _step_hyper(self, learning_rate):
        return [learning_rate, self.rho, self.epsilon, self.momentum, 1.0 if self.centered else 0.0]

    def _backend_update_step(self, grads, variables, learning_rate):
        slots = [self._velocities, self._momentums, self._average_gradients]
        self._fused_update("rmsprop", grads, variables, slots, learning_rate)

    def update_step(self, gradient, variable, learning_rate):
        i = self._get_variable_index(variable)
        velocity = self._velocities[i]
        rho = self.rho
        _core.assign(velocity, velocity * rho + _core.square(gradient) * (1 - rho))
        if self.centered:
            avg = self._average_gradients[i]
            _core.assign(avg, avg * rho + gradient * (1 - rho))
            denominator = velocity - _core.square(avg) + self.epsilon
        else:
            denominator = velocity + self.epsilon
        increment = (gradient * learning_rate) / _core.sqrt(denominator)
        if self.momentum > 0:
            mom = self._momentums[i]
            _core.assign(mom, mom * self.momentum + increment)
            _core.assign(variable, variable - mom)
        else:
            _core.assign(variable, variable - increment)

    def get_config(self):
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }


class Adagrad(Optimizer):
    """Adagrad: `acc += g**2; w -= lr * g / sqrt(acc + eps)`; accumulators
    start at `initial_accumulator_value` (0.1)."""

    def __init__(
        self,
        learning_rate=0.001,
        initial_accumulator_value=0.1,
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
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        from lamina.initializers import Constant

        self._accumulators = self.add_optimizer_variables(
            variables, "accumulator", initializer=Constant(self.initial_accumulator_value)
        )

    def _step_hyper(self, learning_rate):
        return [learning_rate, self.epsilon]

    def _backend_update_step(self, grads, variables, learning_rate):
        self._fused_update("adagrad", grads, variables, [self._accumulators], learning_rate)

    def update_step(self, gradient, variable, learning_rate):
        acc = self._accumulators[self._get_variable_index(variable)]
        _core.assign(acc, acc + _core.square(gradient))
        _core.assign(variable, variable - (gradient * learning_rate) / _core.sqrt(acc + self.epsilon))

    def get_config(self):
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }


class Adadelta(Optimizer):
    """Adadelta (Zeiler 2012) with Keras's defaults: learning_rate 0.001,
    rho 0.95, epsilon 1e-7."""

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.95,
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
        self.rho = rho
        self.epsilon = epsilon

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._accumulated_grads, self._accumulated_delta_vars = self.add_optimizer_variables(
            variables, ["accumulated_grad", "accumulated_delta_var"]
        )

    def _step_hyper(self, learning_rate):
        return [learning_rate, self.rho, self.epsilon]

    def _backend_update_step(self, grads, variables, learning_rate):
        slots = [self._accumulated_grads, self._accumulated_delta_vars]
        self._fused_update("adadelta", grads, variables, slots, learning_rate)

    def update_step(self, gradient, variable, learning_rate):
        i = self._get_variable_index(variable)
        acc_g = self._accumulated_grads[i]
        acc_d = self._accumulated_delta_vars[i]
        rho = self.rho

        def rms(x):
            return _core.sqrt(x + self.epsilon)

        _core.assign(acc_g, acc_g * rho + _core.square(gradient) * (1 - rho))
        delta = -(rms(acc_d) * gradient) / rms(acc_g)
        _core.assign(acc_d, acc_d * rho + _core.square(delta) * (1 - rho))
        _core.assign(variable, variable + delta * learning_rate)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class Lion(Optimizer):
    """Lion: `w -= lr * sign(b1 * m + (1 - b1) * g); m = b2 * m + (1 - b2) * g`.
    Defaults: learning_rate 0.001, beta_1 0.9, beta_2 0.99."""

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.99,
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
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError(f"Argument for `beta_1` must be in range (0, 1]. Received: beta_1={beta_1}.")

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._momentums = self.add_optimizer_variables(variables, "momentum")

    def _step_hyper(self, learning_rate):
        return [learning_rate, self.beta_1, self.beta_2]

    def _backend_update_step(self, grads, variables, learning_rate):
        self._fused_update("lion", grads, variables, [self._momentums], learning_rate)

    def update_step(self, gradient, variable, learning_rate):
        m = self._momentums[self._get_variable_index(variable)]
        _core.assign(variable, variable - _core.sign(m * self.beta_1 + gradient * (1.0 - self.beta_1)) * learning_rate)
        _core.assign(m, m * self.beta_2 + gradient * (1.0 - self.beta_2))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}
