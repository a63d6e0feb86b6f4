"""SGD with optional momentum and Nesterov momentum."""

from lamina import _core
from lamina.optimizers.optimizer import Optimizer


class SGD(Optimizer):
    """Gradient descent (with momentum).

    Plain: `w -= lr * g`. With momentum:
    `v = momentum * v - lr * g; w += v`; Nesterov: `w += momentum * v - lr * g`.
    Defaults: learning_rate 0.01, momentum 0.0, nesterov False.
    """

    def __init__(
        self,
        learning_rate=0.01,
        momentum=0.0,
        nesterov=False,
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
        if not isinstance(momentum, (float, int)) or momentum < 0 or momentum > 1:
            raise ValueError("`momentum` must be a float between [0, 1].")
        self.momentum = momentum
        self.nesterov = nesterov

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums = []
        if self.momentum != 0:
            self.momentums = self.add_optimizer_variables(variables, "momentum")

    def _step_hyper(self, learning_rate):
        return [learning_rate, self.momentum, 0.0]

    def _backend_update_step(self, grads, variables, learning_rate):
        fused = getattr(_core, "sgd_update", None)
        if fused is None or not self._can_fuse(grads, variables):
            return super()._backend_update_step(grads, variables, learning_rate)
        slots = [self.momentums[self._get_variable_index(v)] for v in variables] if self.momentum != 0 else []
        fused(
            list(variables),
            [g.contiguous() if not g.is_contiguous() else g for g in grads],
            slots, bool(self.nesterov), self._hyper_t,
        )

    def update_step(self, gradient, variable, learning_rate):
        lr = learning_rate
        if self.momentum != 0:
            m = self.momentums[self._get_variable_index(variable)]
            _core.assign(m, m * self.momentum - gradient * lr)
            if self.nesterov:
                _core.assign(variable, variable + (m * self.momentum - gradient * lr))
            else:
                _core.assign(variable, variable + m)
        else:
            _core.assign(variable, variable - gradient * lr)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
