"""`RNN`: runs a recurrent cell over the time axis of `(batch, time, features)`.

LSTM, GRU and SimpleRNN cells with Keras's default activations run as one
fused op (`lamina.ops.rnn`); any other cell, activation, or recurrent dropout
while training runs step by step over lamina ops (same results, slower).
"""

import inspect

from lamina import ops
from lamina.backend.symbolic import in_symbolic_scope
from lamina.backend.variables import Variable
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer
from lamina.layers.rnn.dropout_rnn_cell import DropoutRNNCell
from lamina.utils import tree


def nest_path(child, parent_path):
    """Gives `child` (and its sublayers and weights) the path
    `parent_path/child.name`, as Keras names the weights of nested layers."""
    child._path = f"{parent_path}/{child.name}"
    for v in child._own_variables():
        v._path = f"{child._path}/{v.name}"
    for sub in child._sublayers():
        nest_path(sub, child._path)


def layer_objects():
    """The classes of `lamina.layers` by name (to deserialize wrapped layers)."""
    from lamina import layers

    return {k: v for k, v in vars(layers).items() if isinstance(v, type)}


def deserialize_layer(config, custom_objects=None):
    from lamina.saving import serialization_lib

    if not isinstance(config, dict):
        return config
    return serialization_lib.deserialize_keras_object(
        config, custom_objects=custom_objects, module_objects=layer_objects()
    )


def _call_accepts(fn, name):
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind == p.VAR_KEYWORD for p in params.values())


def _where(mask, a, b):
    return ops.where(mask, a, b)


class RNN(Layer):
    """Base class of recurrent layers (`keras.layers.RNN`).

    Args:
        cell: an RNN cell: a layer with `call(inputs, states)` returning
            `(output, new_states)` and a `state_size` (int or list of ints).
        return_sequences: return the whole output sequence (default: the last output).
        return_state: also return the final states: `(output, *states)`.
        go_backwards: process the sequence in reverse and return the reversed sequence.
        stateful: keep the final states of a batch as the initial states of
            the next call (batch size must stay fixed); `reset_state()` zeroes them.
        unroll: accepted for compatibility (the loop is always eager).
        zero_output_for_mask: masked timesteps output zeros instead of the
            previous output (only with return_sequences).

    Call arguments: `sequences` (batch, time, features), `initial_state`
    (a tensor or list of tensors, one per state), `mask` (batch, time)
    booleans (from Embedding(mask_zero=True) or Masking automatically),
    `training`.
    """

    def __init__(
        self,
        cell,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        **kwargs,
    ):
        if isinstance(cell, (list, tuple)):
            from lamina.layers.rnn.stacked_rnn_cells import StackedRNNCells

            cell = StackedRNNCells(cell)
        if not callable(getattr(cell, "call", None)):
            raise ValueError(f"Argument `cell` should have a `call` method. Received: cell={cell}")
        if getattr(cell, "state_size", None) is None:
            raise ValueError(
                "The RNN cell should have a `state_size` attribute (single integer or list of integers, "
                f"one integer per RNN state). Received: cell={cell}"
            )
        super().__init__(**kwargs)
        self.zero_output_for_mask = zero_output_for_mask
        self.cell = cell
        if isinstance(cell, Layer):
            nest_path(cell, self.path)
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.unroll = unroll
        self.supports_masking = True
        self.input_spec = None
        self.states = None
        state_size = cell.state_size
        # Nested sizes (stacked cells): the loop runs on the flat list of
        # states and the cell sees (and return_state gives) the nesting.
        self._state_structure = None
        if isinstance(state_size, (list, tuple)) and any(isinstance(s, (list, tuple)) for s in state_size):
            self._state_structure = [list(s) if isinstance(s, (list, tuple)) else s for s in state_size]
            state_size = tree.flatten(self._state_structure)
        if isinstance(state_size, int):
            self.state_size = [state_size]
            self.single_state = True
        elif isinstance(state_size, (list, tuple)) and all(isinstance(s, int) for s in state_size):
            self.state_size = list(state_size)
            self.single_state = False
        else:
            raise ValueError(
                "state_size must be an integer, or a list/tuple of integers (one for each state tensor). "
                f"Received: state_size={state_size}"
            )

    # ---- shapes and masks ----------------------------------------------------
    def _output_size(self):
        output_size = getattr(self.cell, "output_size", None)
        return self.state_size[0] if output_size is None else output_size

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        sequences_shape = tuple(sequences_shape)
        if len(sequences_shape) != 3:
            raise ValueError(
                f"{self.__class__.__name__} '{self.name}' expects inputs of rank 3 (batch, timesteps, features), "
                f"got shape {sequences_shape}"
            )
        batch_size, length = sequences_shape[0], sequences_shape[1]
        output_size = self._output_size()
        if self.return_sequences:
            output_shape = (batch_size, length, output_size)
        else:
            output_shape = (batch_size, output_size)
        if self.return_state:
            return (output_shape,) + tuple(self._nest([(batch_size, s) for s in self.state_size]))
        return output_shape

    def _nest(self, flat_states):
        """Flat per-state values in the cell's state structure (unchanged for flat cells)."""
        if self._state_structure is None:
            return list(flat_states)
        return tree.pack_sequence_as(self._state_structure, list(flat_states))

    def compute_mask(self, _, mask):
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None for _ in self._nest(self.state_size)]
        return output_mask

    # ---- building and states -----------------------------------------------
    def build(self, sequences_shape, initial_state_shape=None):
        sequences_shape = tuple(sequences_shape)
        if len(sequences_shape) != 3:
            raise ValueError(
                f"{self.__class__.__name__} '{self.name}' expects inputs of rank 3 (batch, timesteps, features), "
                f"got shape {sequences_shape}"
            )
        if sequences_shape[-1] is None:
            raise ValueError(
                f"{self.__class__.__name__} '{self.name}': the feature dimension of the inputs must be defined, "
                f"got shape {sequences_shape}"
            )
        self.input_spec = InputSpec(ndim=3, axes={-1: sequences_shape[-1]})
        step_input_shape = (sequences_shape[0],) + sequences_shape[2:]
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell.build(step_input_shape)
            self.cell.built = True
        if self.stateful:
            if self.states is not None:
                self.reset_state()
            else:
                if sequences_shape[0] is None:
                    raise ValueError(
                        "When using `stateful=True` in a RNN, the batch size must be static. "
                        f"Found dynamic batch size: sequence.shape={sequences_shape}"
                    )
                self._create_state_variables(sequences_shape[0])
        self.built = True

    def _create_state_variables(self, batch_size):
        # A plain list: the states are not weights (as Keras, they stay out of `layer.weights`).
        self.states = [
            Variable(s, trainable=False, dtype=self.variable_dtype, name="rnn_state")
            for s in self.get_initial_state(batch_size)
        ]

    def get_initial_state(self, batch_size):
        fn = getattr(self.cell, "get_initial_state", None)
        if fn is not None:
            init = fn(batch_size=batch_size)
            return tree.flatten(init) if isinstance(init, (list, tuple)) else [init]
        return [ops.zeros((batch_size, d), dtype=self.compute_dtype) for d in self.state_size]

    def reset_states(self, states=None):
        """Alias of `reset_state`."""
        self.reset_state(states)

    def reset_state(self, states=None):
        """Zeroes the kept states of a stateful layer (or sets them to `states`)."""
        if self.states is None:
            if self.stateful:
                return
            raise AttributeError(f"Layer '{self.name}' is not stateful: it keeps no states to reset.")
        if states is None:
            for v in self.states:
                v.assign(ops.zeros_like(v))
            return
        if not isinstance(states, (list, tuple)):
            states = [states]
        if len(states) != len(self.states):
            raise ValueError(
                f"Layer '{self.name}' expects {len(self.states)} states, but it received {len(states)} state values."
            )
        for v, value in zip(self.states, states):
            v.assign(value)

    # ---- running -------------------------------------------------------------
    def _check_initial_state(self, initial_state, batch_size):
        if not isinstance(initial_state, (list, tuple)):
            initial_state = [initial_state]
        initial_state = tree.flatten(initial_state)
        initial_state = [ops.convert_to_tensor(s) for s in initial_state]
        if len(initial_state) != len(self.state_size):
            raise ValueError(
                f"{self.__class__.__name__} '{self.name}' expects {len(self.state_size)} initial state(s) "
                f"of shapes {[(batch_size, s) for s in self.state_size]}, received {len(initial_state)}: "
                f"{[tuple(s.shape) for s in initial_state]}"
            )
        out = []
        for s, size in zip(initial_state, self.state_size):
            if tuple(s.shape) != (batch_size, size):
                raise ValueError(
                    f"{self.__class__.__name__} '{self.name}': an initial state has shape {tuple(s.shape)}, "
                    f"expected {(batch_size, size)}"
                )
            if s.dtype != self.compute_dtype:
                s = ops.cast(s, self.compute_dtype)
            out.append(s)
        return out

    def _prepare_mask(self, mask, batch_size, timesteps):
        if isinstance(mask, (list, tuple)):
            mask = tree.flatten(mask)[0] if mask else None
        if mask is None:
            return None
        mask = ops.convert_to_tensor(mask)
        if tuple(mask.shape) != (batch_size, timesteps):
            raise ValueError(
                f"{self.__class__.__name__} '{self.name}': the mask has shape {tuple(mask.shape)}, expected "
                f"(batch, timesteps) = {(batch_size, timesteps)}"
            )
        if mask.dtype != "bool":
            mask = ops.cast(mask, "bool")
        return mask

    def call(self, sequences, initial_state=None, mask=None, training=False):
        sequences = ops.convert_to_tensor(sequences)
        if sequences.ndim != 3:
            raise ValueError(
                f"{self.__class__.__name__} '{self.name}' expects inputs of rank 3 (batch, timesteps, features), "
                f"got shape {tuple(sequences.shape)}"
            )
        batch_size, timesteps = sequences.shape[0], sequences.shape[1]
        if timesteps == 0:
            raise ValueError(f"{self.__class__.__name__} '{self.name}': the inputs have no timesteps: {sequences.shape}")
        mask = self._prepare_mask(mask, batch_size, timesteps)
        if initial_state is None:
            if self.stateful:
                if self.states is None:
                    self._create_state_variables(batch_size)
                if tuple(self.states[0].shape)[0] != batch_size:
                    raise ValueError(
                        f"Stateful {self.__class__.__name__} '{self.name}' keeps states for a batch of "
                        f"{self.states[0].shape[0]} but was called on a batch of {batch_size}; stateful layers "
                        "need a fixed batch size."
                    )
                # Copies: the kept states are overwritten after the call while
                # autograd may still hold the initial values.
                initial_state = [ops.copy(s) for s in self.states]
            else:
                initial_state = self.get_initial_state(batch_size)
        initial_state = self._check_initial_state(initial_state, batch_size)

        outputs, last_output, states = self.inner_loop(sequences, initial_state, mask, training)

        if isinstance(self.cell, DropoutRNNCell):
            self.cell.reset_dropout_mask()
            self.cell.reset_recurrent_dropout_mask()
        if self.stateful and not in_symbolic_scope():
            for v, s in zip(self.states, states):
                v.assign(s.detach() if hasattr(s, "detach") else s)
        output = outputs if self.return_sequences else last_output
        if self.return_state:
            return (output, *self._nest(states))
        return output

    def inner_loop(self, sequences, initial_state, mask, training=False):
        """Returns (outputs (batch, time, units) in processing order or None,
        last output, final states)."""
        fused = None
        spec = getattr(self.cell, "_fused_rnn_spec", None)
        if spec is not None:
            fused = spec(training)
        if fused is not None:
            return self._fused_loop(fused, sequences, initial_state, mask, training)
        return self._step_loop(sequences, initial_state, mask, training)

    def _processing_order_mask(self, mask):
        return ops.flip(mask, 1) if self.go_backwards else mask

    def _fused_loop(self, fused, sequences, initial_state, mask, training):
        kind, kernel, recurrent_kernel, bias, recurrent_bias, reset_after = fused
        cell = self.cell
        if training and 0.0 < cell.dropout < 1.0:
            dp_mask = cell.get_dropout_mask(sequences[:, 0, :])
            sequences = ops.multiply(sequences, ops.expand_dims(dp_mask, 1))
        init = initial_state if kind == "lstm" else initial_state[0]
        seq, h, c = ops.rnn(
            kind,
            sequences,
            kernel,
            recurrent_kernel,
            bias,
            recurrent_bias,
            init,
            mask,
            go_backwards=self.go_backwards,
            reset_after=reset_after,
        )
        if mask is not None and self.zero_output_for_mask:
            keep = ops.expand_dims(self._processing_order_mask(mask), -1)
            seq = _where(keep, seq, ops.zeros_like(seq))
        last_output = h if mask is None else seq[:, -1]
        states = [h, c] if kind == "lstm" else [h]
        return seq, last_output, states

    def _step_loop(self, sequences, initial_state, mask, training):
        cell = self.cell
        call_fn = cell.call if (isinstance(cell, Layer) and cell.built) else cell
        kwargs = {"training": training} if _call_accepts(call_fn, "training") else {}
        timesteps = sequences.shape[1]
        if isinstance(cell, DropoutRNNCell):
            # Drawn once for the whole sequence (the cell caches them).
            if training and 0.0 < cell.dropout < 1.0:
                cell.get_dropout_mask(sequences[:, 0, :])
            if training and 0.0 < cell.recurrent_dropout < 1.0:
                cell.get_recurrent_dropout_mask(initial_state[0])
        states = list(initial_state)
        outputs = []
        prev_output = None
        for step in range(timesteps):
            t = timesteps - 1 - step if self.go_backwards else step
            cell_states = states if self._state_structure is None else self._nest(states)
            output, new_states = call_fn(sequences[:, t, :], cell_states, **kwargs)
            new_states = tree.flatten(new_states) if isinstance(new_states, (list, tuple)) else [new_states]
            if mask is not None:
                keep = ops.expand_dims(mask[:, t], -1)
                if self.zero_output_for_mask or prev_output is None:
                    fill = ops.zeros_like(output)
                else:
                    fill = prev_output
                output = _where(keep, output, fill)
                new_states = [_where(keep, n, o) for n, o in zip(new_states, states)]
            prev_output = output
            states = new_states
            outputs.append(output)
        seq = ops.stack(outputs, axis=1) if self.return_sequences else None
        return seq, outputs[-1], states

    # ---- config ----------------------------------------------------------------
    def get_config(self):
        from lamina.saving import serialization_lib

        config = {
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
        }
        config["cell"] = serialization_lib.serialize_keras_object(self.cell)
        base_config = super().get_config()
        return {**base_config, **config}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cell = deserialize_layer(config.pop("cell"), custom_objects)
        return cls(cell, **config)
