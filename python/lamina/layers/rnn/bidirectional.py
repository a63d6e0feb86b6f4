"""Bidirectional: runs a recurrent layer forwards and a copy backwards, and merges them."""

import copy

from lamina import ops
from lamina.layers.layer import Layer
from lamina.layers.rnn.rnn import deserialize_layer, nest_path

_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _removeprefix(name, prefix):
    return name[len(prefix):] if name.startswith(prefix) else name


def _clone(layer, **overrides):
    config = layer.get_config()
    config.update(overrides)
    clone = type(layer).from_config(config)
    # Keras copies through serialize/deserialize, which builds a built layer again.
    build_config = layer.get_build_config() if layer.built else None
    if build_config:
        clone.build_from_config(build_config)
    return clone


def _call_has(layer, name):
    import inspect

    try:
        params = inspect.signature(layer.call).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind == p.VAR_KEYWORD for p in params.values())


class Bidirectional(Layer):
    """Bidirectional wrapper for RNNs.

    The wrapped layer is re-created from its config twice: `forward_<name>`
    and `backward_<name>` (with `go_backwards` flipped), unless
    `backward_layer` is given. Weights: the forward layer's, then the
    backward layer's (as Keras). With `return_sequences`, the backward
    outputs are reversed back to input order before merging, and masked
    timesteps output zeros.

    Args:
        layer: an RNN layer (LSTM, GRU, SimpleRNN, RNN).
        merge_mode: "concat" (default), "sum", "mul", "ave", or None (a list
            of both outputs).
        backward_layer: optional layer for the backward direction (must have
            the opposite `go_backwards` and the same `return_sequences`,
            `return_state`, `stateful`).

    Call arguments: as the wrapped layer; an `initial_state` list is split
    in halves (forward states, then backward states).
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                f"Please initialize `Bidirectional` layer with a `keras.layers.Layer` instance. Received: {layer}"
            )
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(f"`backward_layer` need to be a `keras.layers.Layer` instance. Received: {backward_layer}")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(
                f"Invalid merge mode. Received: {merge_mode}. Merge mode should be one of "
                '{"sum", "mul", "ave", "concat", None}'
            )
        super().__init__(**kwargs)
        # Fresh copies from the config: no state is carried over from `layer`.
        self.forward_layer = _clone(layer, name="forward_" + _removeprefix(layer.name, "forward_"))
        if backward_layer is None:
            self.backward_layer = _clone(
                layer, name="backward_" + _removeprefix(layer.name, "backward_"), go_backwards=not layer.go_backwards
            )
        else:
            self.backward_layer = backward_layer
        self._verify_layer_config()
        for sub in (self.forward_layer, self.backward_layer):
            # Masked timesteps output zeros when returning sequences (as Keras).
            if getattr(sub, "zero_output_for_mask", None) is not None:
                sub.zero_output_for_mask = sub.return_sequences
            nest_path(sub, self.path)
        self.merge_mode = merge_mode
        self._initial_weights = weights
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True
        self.input_spec = layer.input_spec

    def _verify_layer_config(self):
        if self.forward_layer.go_backwards == self.backward_layer.go_backwards:
            raise ValueError(
                "Forward layer and backward layer should have different `go_backwards` value. Received: "
                f"forward_layer.go_backwards {self.forward_layer.go_backwards}, "
                f"backward_layer.go_backwards={self.backward_layer.go_backwards}"
            )
        for a in ("stateful", "return_sequences", "return_state"):
            fv, bv = getattr(self.forward_layer, a), getattr(self.backward_layer, a)
            if fv != bv:
                raise ValueError(
                    f'Forward layer and backward layer are expected to have the same value for attribute "{a}", '
                    f'got "{fv}" for forward layer and "{bv}" for backward layer'
                )

    def build(self, sequences_shape, initial_state_shape=None):
        if not self.forward_layer.built:
            self.forward_layer.build(sequences_shape)
            self.forward_layer.built = True
        if not self.backward_layer.built:
            self.backward_layer.build(sequences_shape)
            self.backward_layer.built = True
        self.built = True
        if self._initial_weights:
            n = len(self._initial_weights)
            self.forward_layer.set_weights(self._initial_weights[: n // 2])
            self.backward_layer.set_weights(self._initial_weights[n // 2:])
            self._initial_weights = None

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        output_shape = self.forward_layer.compute_output_shape(sequences_shape)
        if self.return_state:
            output_shape, state_shape = output_shape[0], tuple(output_shape[1:])
        if self.merge_mode == "concat":
            output_shape = list(output_shape)
            output_shape[-1] = None if output_shape[-1] is None else output_shape[-1] * 2
            output_shape = tuple(output_shape)
        elif self.merge_mode is None:
            output_shape = [output_shape, output_shape]
        if self.return_state:
            if self.merge_mode is None:
                return tuple(output_shape) + state_shape + state_shape
            return (output_shape,) + state_shape + state_shape
        return output_shape if self.merge_mode is not None else tuple(output_shape)

    def call(self, sequences, initial_state=None, mask=None, training=None):
        kwargs = {}
        if _call_has(self.forward_layer, "training"):
            kwargs["training"] = training
        if _call_has(self.forward_layer, "mask") and mask is not None:
            kwargs["mask"] = mask
        if initial_state is not None:
            if not isinstance(initial_state, (list, tuple)) or len(initial_state) % 2:
                raise ValueError(
                    f"Bidirectional '{self.name}': `initial_state` must be a list of an even number of tensors "
                    "(forward states, then backward states)"
                )
            half = len(initial_state) // 2
            forward_state, backward_state = list(initial_state[:half]), list(initial_state[half:])
        else:
            forward_state = backward_state = None
        y = self.forward_layer(sequences, initial_state=forward_state, **kwargs)
        y_rev = self.backward_layer(sequences, initial_state=backward_state, **kwargs)
        if self.return_state:
            states = tuple(y[1:]) + tuple(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = ops.flip(y_rev, axis=1)
        if self.merge_mode == "concat":
            output = ops.concatenate([y, y_rev], axis=-1)
        elif self.merge_mode == "sum":
            output = y + y_rev
        elif self.merge_mode == "ave":
            output = (y + y_rev) / 2
        elif self.merge_mode == "mul":
            output = y * y_rev
        else:
            output = (y, y_rev)
        if self.return_state:
            if self.merge_mode is None:
                return output + states
            return (output,) + states
        return output

    def compute_mask(self, _, mask):
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        if self.return_sequences:
            output_mask = (mask, mask) if not self.merge_mode else mask
        else:
            output_mask = (None, None) if not self.merge_mode else None
        if self.return_state and self.states is not None:
            state_mask = tuple(None for _ in self.states)
            if isinstance(output_mask, tuple):
                return output_mask + state_mask
            return (output_mask,) + state_mask
        return output_mask

    def reset_states(self):
        self.reset_state()

    def reset_state(self):
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        self.forward_layer.reset_state()
        self.backward_layer.reset_state()

    @property
    def states(self):
        f = getattr(self.forward_layer, "states", None)
        b = getattr(self.backward_layer, "states", None)
        if f and b:
            return tuple(f) + tuple(b)
        return None

    def get_config(self):
        from lamina.saving import serialization_lib

        config = {
            "merge_mode": self.merge_mode,
            "layer": serialization_lib.serialize_keras_object(self.forward_layer),
            "backward_layer": serialization_lib.serialize_keras_object(self.backward_layer),
        }
        return {**super().get_config(), **config}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = copy.deepcopy(config)
        config["layer"] = deserialize_layer(config["layer"], custom_objects)
        backward = config.pop("backward_layer", None)
        if backward is not None:
            config["backward_layer"] = deserialize_layer(backward, custom_objects)
        return cls(**config)
