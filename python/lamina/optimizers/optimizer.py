"""`Optimizer` base class (`keras.optimizers.Optimizer`).

Updates happen in place under `lamina.no_grad()`. Order of one step, as
Keras: drop missing gradients, clip (clipnorm / clipvalue / global_clipnorm),
apply decoupled weight decay (`w -= w * weight_decay * lr`), run each
variable's `update_step`, apply variable constraints, then increment
`iterations`.
"""

import math
import re
import warnings

import numpy as np

from lamina import _core
from lamina.autograd import no_grad
from lamina.backend.variables import Variable
from lamina.optimizers.schedules.learning_rate_schedule import LearningRateSchedule
from lamina.optimizers.schedules import learning_rate_schedule as lr_schedules
from lamina.trainers import compiled_function

Tensor = _core.Tensor


def _as_float(x):
    if isinstance(x, Tensor):
        return float(np.asarray(x.numpy()))
    return float(x)


class Optimizer:
    """Base class of optimizers.

    Args:
        learning_rate: a float, a `LearningRateSchedule`, or a callable
            returning a float.
        weight_decay: decoupled weight decay factor (applied before the step).
        clipnorm: clip each gradient to this L2 norm.
        clipvalue: clip each gradient elementwise to [-clipvalue, clipvalue].
        global_clipnorm: clip all gradients jointly to this global norm.
        use_ema: keep an exponential moving average of the weights, written
            into the model at the end of `fit`.
        ema_momentum, ema_overwrite_frequency: EMA settings.
        loss_scale_factor: the loss is multiplied by it and gradients divided.
        gradient_accumulation_steps: apply the averaged gradients every N steps.
        name: the optimizer's name.
    """

    def __init__(
        self,
        learning_rate,
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
        if kwargs.pop("decay", None) is not None:
            raise ValueError("Argument `decay` is no longer supported. Use a learning rate schedule instead.")
        if "lr" in kwargs:
            raise ValueError("Argument `lr` is no longer supported. Use `learning_rate` instead.")
        kwargs.pop("jit_compile", None)
        kwargs.pop("is_legacy_optimizer", None)
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        if name is None:
            from lamina.utils.naming import auto_name

            name = auto_name(self.__class__.__name__)
        self.name = name
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.global_clipnorm = global_clipnorm
        self.clipvalue = clipvalue
        self.use_ema = use_ema
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        if gradient_accumulation_steps is not None and gradient_accumulation_steps < 2:
            raise ValueError(
                "`gradient_accumulation_steps` must be an integer >= 2. "
                f"Received: gradient_accumulation_steps={gradient_accumulation_steps}"
            )
        if use_ema:
            if ema_momentum > 1 or ema_momentum < 0:
                raise ValueError(f"`ema_momentum` must be in the range [0, 1]. Received: ema_momentum={ema_momentum}")
            if ema_overwrite_frequency and (not isinstance(ema_overwrite_frequency, int) or ema_overwrite_frequency < 1):
                raise ValueError(
                    "`ema_overwrite_frequency` must be an integer >= 1 or None. "
                    f"Received: ema_overwrite_frequency={ema_overwrite_frequency}"
                )
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        if self.clipnorm is not None and self.global_clipnorm is not None:
            raise ValueError(
                "Only one of `clipnorm` and `global_clipnorm` can be set. Received: "
                f"clipnorm={self.clipnorm}, global_clipnorm={self.global_clipnorm}"
            )
        self.built = False
        self._variables = []
        self._trainable_variables = []
        self._var_index = {}
        self._iterations = Variable(np.asarray(0, dtype=np.int32), name="iteration", trainable=False)
        self._iterations._path = f"{self.name}/iteration"
        self._variables.append(self._iterations)
        if isinstance(learning_rate, LearningRateSchedule):
            self._learning_rate = learning_rate
        elif callable(learning_rate):
            self._learning_rate = learning_rate
        else:
            if not isinstance(learning_rate, (float, int, np.floating, np.integer, Tensor)):
                raise ValueError(
                    "Argument `learning_rate` should be float, or an instance of LearningRateSchedule, "
                    f"or a callable (that takes in the current iteration value and returns the corresponding "
                    f"learning rate value). Received instead: learning_rate={learning_rate}"
                )
            self._learning_rate = Variable(
                np.asarray(_as_float(learning_rate), dtype=np.float32), name="learning_rate", trainable=False
            )
            self._learning_rate._path = f"{self.name}/learning_rate"
            self._variables.append(self._learning_rate)
        self._exclude_ids = set()
        self._exclude_names = None
        self._accumulated = None
        self._ema = None
        # Host values of the current step, as tensors the update reads when it
        # runs (so a captured training step replays with each step's values):
        # the weight-decay factor and the fused update's hyper-parameters
        # (_step_hyper).
        self._decay_t = _core.convert_to_tensor(np.zeros((), np.float32), None, True)
        self._hyper_t = None

    # ---- state --------------------------------------------------------------
    @property
    def iterations(self):
        if self.gradient_accumulation_steps:
            # As Keras: the number of updates, not of calls.
            return _core.convert_to_tensor(np.asarray(self._step_count(), dtype=np.int32), None, True)
        return self._iterations

    @property
    def variables(self):
        return list(self._variables)

    def build(self, variables):
        """Creates the optimizer state for `variables` (subclasses add slots)."""
        self._trainable_variables = list(variables)
        self._var_index = {id(v): i for i, v in enumerate(self._trainable_variables)}
        if self.use_ema:
            self._ema = [self.add_variable_from_reference(v, "average") for v in self._trainable_variables]
            for e, v in zip(self._ema, self._trainable_variables):
                e.assign(v)
        if self.gradient_accumulation_steps:
            self._accumulated = [self.add_variable_from_reference(v, "gradient_accumulator") for v in self._trainable_variables]
        self.built = True

    def _get_variable_index(self, variable):
        return self._var_index[id(variable)]

    def add_variable(self, shape, initializer="zeros", dtype=None, aggregation="none", name=None):
        from lamina import initializers

        init = initializers.get(initializer)
        v = Variable(init, shape=tuple(shape), dtype=dtype or "float32", trainable=False, name=name)
        v._path = f"{self.name}/{v.name}"
        self._variables.append(v)
        return v

    def add_variable_from_reference(self, reference_variable, name=None, initializer="zeros"):
        """A zero-initialized slot shaped like `reference_variable`, named
        "<variable path>_<name>" as Keras."""
        path = getattr(reference_variable, "path", None) or getattr(reference_variable, "name", "variable")
        full = f"{path.replace('/', '_')}_{name}" if name else path.replace("/", "_")
        return self.add_variable(tuple(reference_variable.shape), initializer, dtype=reference_variable.dtype, name=full)

    def add_optimizer_variables(self, trainable_variables, name, initializer="zeros"):
        """Slots for each variable; with a list of names, they are interleaved
        per variable (as Keras) and a tuple of lists is returned."""
        names = [name] if isinstance(name, str) else list(name)
        inits = [initializer] * len(names) if isinstance(initializer, str) or not isinstance(initializer, (list, tuple)) else list(initializer)
        out = tuple([] for _ in names)
        for v in trainable_variables:
            for i, (n, init) in enumerate(zip(names, inits)):
                out[i].append(self.add_variable_from_reference(v, n, init))
        return out[0] if isinstance(name, str) else out

    # ---- learning rate ----------------------------------------------------
    def _get_current_learning_rate(self):
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            return _as_float(lr(self._step_count()))
        if isinstance(lr, Variable):
            return float(lr.numpy())
        if callable(lr):
            return _as_float(lr())
        return float(lr)

    @property
    def learning_rate(self):
        """The learning rate: the variable itself for a float rate (so
        `optimizer.learning_rate.assign(1e-4)` works, as Keras), else the
        schedule's current value."""
        if isinstance(self._learning_rate, Variable):
            return self._learning_rate
        return _core.convert_to_tensor(np.asarray(self._get_current_learning_rate(), dtype=np.float32), None, True)

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(value, LearningRateSchedule) or (callable(value) and not isinstance(value, Tensor)):
            self._learning_rate = value
            return
        if isinstance(self._learning_rate, LearningRateSchedule) or not isinstance(self._learning_rate, Variable):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object as its `learning_rate` "
                "constructor argument, hence its learning rate is not settable. If you need the learning "
                "rate to be settable, you should instantiate the optimizer with a float `learning_rate` argument."
            )
        self._learning_rate.assign(np.asarray(_as_float(value), dtype=np.float32))

    # legacy alias
    lr = learning_rate

    # ---- weight decay -----------------------------------------------------
    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Variables (or name substrings/regexes) not to decay."""
        if self.built:
            raise ValueError("`exclude_from_weight_decay()` can only be configured before the optimizer is built.")
        for v in var_list or []:
            self._exclude_ids.add(id(v))
        if var_names:
            self._exclude_names = [re.compile(n) for n in var_names]

    def _use_weight_decay(self, variable):
        if id(variable) in self._exclude_ids:
            return False
        if self._exclude_names:
            path = getattr(variable, "path", "") or ""
            if any(p.search(path) for p in self._exclude_names):
                return False
        return True

    def _apply_weight_decay(self, variables):
        if not self.weight_decay:
            return
        for v in variables:
            if self._use_weight_decay(v):
                _core.assign(v, v - v * self._decay_t)

    # ---- clipping ---------------------------------------------------------
    def _clip_gradients(self, grads):
        if self.clipnorm and self.clipnorm > 0:
            out = []
            for g in grads:
                l2sum = float(_core.sum(g * g).item())
                if l2sum > 0:
                    norm = math.sqrt(l2sum)
                    g = g * (self.clipnorm / max(norm, self.clipnorm))
                out.append(g)
            return out
        if self.global_clipnorm and self.global_clipnorm > 0:
            total = math.sqrt(sum(float(_core.sum(g * g).item()) for g in grads))
            scale = self.global_clipnorm * min(1.0 / total if total > 0 else math.inf, 1.0 / self.global_clipnorm)
            if math.isfinite(scale):
                return [g * scale for g in grads]
            return grads
        if self.clipvalue and self.clipvalue > 0:
            v = float(self.clipvalue)
            return [_core.clip(g, -v, v) for g in grads]
        return grads

    # ---- applying ---------------------------------------------------------
    def scale_loss(self, loss):
        if self.loss_scale_factor is not None:
            return loss * self.loss_scale_factor
        return loss

    def apply_gradients(self, grads_and_vars):
        """Applies `(gradient, variable)` pairs; returns `iterations`."""
        grads_and_vars = list(grads_and_vars)
        if not grads_and_vars:
            return self._iterations
        grads, variables = zip(*grads_and_vars)
        self.apply(list(grads), list(variables))
        return self._iterations

    def apply(self, grads, trainable_variables=None):
        """One optimization step: `grads` for `trainable_variables` (default:
        the variables the optimizer was built with)."""
        if trainable_variables is None:
            if not self.built:
                raise ValueError("When passing `grads` without `variables`, the optimizer must already be built on a list of variables.")
            trainable_variables = self._trainable_variables
        trainable_variables = list(trainable_variables)
        grads = list(grads)
        if len(grads) != len(trainable_variables):
            raise ValueError(
                f"Got {len(grads)} gradients for {len(trainable_variables)} variables; they must correspond 1:1."
            )
        if not self.built:
            self.build(trainable_variables)
        pairs = [(g, v) for g, v in zip(grads, trainable_variables) if g is not None]
        if len(pairs) < len(grads):
            missing = [v.path if hasattr(v, "path") else str(v) for g, v in zip(grads, trainable_variables) if g is None]
            warnings.warn(
                f"Gradients do not exist for variables {missing} when minimizing the loss. "
                "If using `model.compile()`, did you forget to provide a `loss` argument?",
                stacklevel=2,
            )
        if not pairs:
            return
        for _, v in pairs:
            if id(v) not in self._var_index:
                raise KeyError(
                    f"The optimizer cannot recognize variable {getattr(v, 'path', v)}. This usually means you "
                    "are trying to call the optimizer to update different parts of the model separately. Please "
                    "call `optimizer.build(variables)` with the full list of trainable variables before the "
                    "training loop or use legacy optimizer."
                )
        grads = [g for g, _ in pairs]
        variables = [v for _, v in pairs]
        with no_grad():
            if self.loss_scale_factor is not None:
                grads = [g / self.loss_scale_factor for g in grads]
            if self.gradient_accumulation_steps:
                self._accumulate_or_update(grads, variables)
            else:
                self._update(grads, variables)
            if self.use_ema:
                self._update_ema(variables)
            # A kernel, not a host write: a captured step counts its replays.
            _core.assign(self._iterations, self._iterations + 1)
            # As Keras: constraints after the step (the EMA follows the raw weights).
            for v in variables:
                if getattr(v, "constraint", None) is not None:
                    _core.assign(v, v.constraint(v))

    def _update(self, grads, variables):
        grads = self._clip_gradients(grads)
        with compiled_function.host_side():
            lr = self._write_step_values()
        compiled_function.before_replay(self._write_step_values)
        self._apply_weight_decay(variables)
        self._backend_update_step(grads, variables, lr)

    def _step_hyper(self, learning_rate):
        """The fused update's hyper-parameters for this step (a list of
        floats), or None for an optimizer without one."""
        return None

    def _write_step_values(self):
        """Writes this step's weight-decay factor and fused hyper-parameters
        (the learning rate among them) into the tensors the update reads;
        returns the rate. Run before every replay of a captured step, as in
        the eager step."""
        lr = self._get_current_learning_rate()
        if self.weight_decay:
            self._decay_t.numpy()[()] = float(self.weight_decay) * lr
        hyper = self._step_hyper(lr)
        if hyper is not None:
            if self._hyper_t is None or self._hyper_t.shape[0] != len(hyper):
                self._hyper_t = _core.convert_to_tensor(np.zeros(len(hyper), np.float64), None, True)
            self._hyper_t.numpy()[:] = hyper
        return lr

    def _accumulate_or_update(self, grads, variables):
        """Every `gradient_accumulation_steps`-th call applies the mean of the
        accumulated gradients; the other calls only accumulate."""
        n = self.gradient_accumulation_steps
        accs = [self._accumulated[self._get_variable_index(v)] for v in variables]
        if (int(self._iterations.numpy()) + 1) % n != 0:
            for a, g in zip(accs, grads):
                _core.assign(a, a + g)
            return
        self._update([(g + a) / float(n) for g, a in zip(grads, accs)], variables)
        for a in accs:
            _core.assign(a, 0.0)

    def _backend_update_step(self, grads, variables, learning_rate):
        # update_step takes the rate as a host float: a replay would reuse it.
        _core.capture_taint("its optimizer updates each variable with host values (update_step)")
        for g, v in zip(grads, variables):
            self.update_step(g, v, learning_rate)

    @staticmethod
    def _can_fuse(grads, variables):
        """The fused C++ updates take CPU variables with gradients of their own
        dtype and shape (the CUDA build has no fused update kernels yet)."""
        return all(
            g.dtype == v.dtype and tuple(g.shape) == tuple(v.shape) and v.device == "cpu"
            for g, v in zip(grads, variables)
        )

    def _fused_update(self, kind, grads, variables, slots, learning_rate):
        """All parameters in one C++ call (`_core.optimizer_update`, formulas in
        cpp/include/lamina/kernels/optim.h). `slots` lists this optimizer's slot
        variables by kind (an empty list for a slot its options leave out).
        A gradient whose dtype or shape differs from its variable (or a core
        without the fused kernel) takes the per-variable `update_step` path."""
        if getattr(_core, "optimizer_update", None) is None or not self._can_fuse(grads, variables):
            return Optimizer._backend_update_step(self, grads, variables, learning_rate)
        idx = [self._get_variable_index(v) for v in variables]
        _core.optimizer_update(
            kind, list(variables), [g if g.is_contiguous() else g.contiguous() for g in grads],
            [[s[i] for i in idx] if s else [] for s in slots], self._hyper_t,
        )

    def update_step(self, gradient, variable, learning_rate):
        raise NotImplementedError

    # ---- EMA --------------------------------------------------------------
    def _update_ema(self, variables):
        _core.capture_taint("its optimizer keeps an EMA (its first step and overwrites are host decisions)")
        # As Keras: the first step copies the weights (momentum 0), and the
        # weights take the EMA values every `ema_overwrite_frequency` steps.
        step = self._step_count()
        m = self.ema_momentum if step != 0 else 0.0
        for v in variables:
            e = self._ema[self._get_variable_index(v)]
            _core.assign(e, e * m + v * (1.0 - m))
        if self.ema_overwrite_frequency and (step + 1) % self.ema_overwrite_frequency == 0:
            self._overwrite_with_ema()

    def _overwrite_with_ema(self):
        with no_grad():
            for v, e in zip(self._trainable_variables, self._ema):
                _core.assign(v, e)

    def finalize_variable_values(self, var_list):
        """Called at the end of `fit`: writes the EMA weights into the model."""
        if self.use_ema and self._ema is not None:
            self._overwrite_with_ema()

    # ---- helpers for subclasses ---------------------------------------------
    def assign(self, variable, value):
        _core.assign(variable, value)

    def assign_add(self, variable, value):
        _core.assign(variable, variable + value)

    def assign_sub(self, variable, value):
        _core.assign(variable, variable - value)

    def _step_count(self):
        """Completed updates (Keras's `iterations`): calls, or with gradient
        accumulation, calls // gradient_accumulation_steps."""
        calls = int(self._iterations.numpy())
        return calls // self.gradient_accumulation_steps if self.gradient_accumulation_steps else calls

    @property
    def _local_step(self):
        return self._step_count() + 1

    # ---- config -----------------------------------------------------------
    def get_config(self):
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            lr_config = lr_schedules.serialize(lr)
        elif isinstance(lr, Variable):
            lr_config = float(lr.numpy())
        else:
            lr_config = lr
        return {
            "name": self.name,
            "learning_rate": lr_config,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = lr_schedules.deserialize(config["learning_rate"], custom_objects)
        return cls(**config)

    def __repr__(self):
        return f"<{self.__class__.__name__} name={self.name}>"
