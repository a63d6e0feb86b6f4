"""`StackedRNNCells`: several RNN cells run as one cell (`keras.layers.StackedRNNCells`)."""

from lamina import ops
from lamina.layers.layer import Layer
from lamina.layers.rnn.rnn import _call_accepts, deserialize_layer
from lamina.utils import tree


class StackedRNNCells(Layer):
    """Runs `cells` one after the other at each timestep: each cell's output
    is the next cell's input. `RNN([cell_a, cell_b])` wraps its list in one.

    `state_size` is the list of the cells' state sizes; states go in and
    out in that nested structure (a cell with one state gets a tensor).
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        for cell in cells:
            if not callable(getattr(cell, "call", None)):
                raise ValueError(f"All cells must have a `call` method. Received cell without a `call` method: {cell}")
            if getattr(cell, "state_size", None) is None:
                raise ValueError(
                    f"All cells must have a `state_size` attribute. Received cell without a `state_size`: {cell}"
                )
        self.cells = list(cells)

    @property
    def state_size(self):
        return [c.state_size for c in self.cells]

    @property
    def output_size(self):
        last = self.cells[-1]
        if getattr(last, "output_size", None) is not None:
            return last.output_size
        return last.state_size[0] if isinstance(last.state_size, (list, tuple)) else last.state_size

    def get_initial_state(self, batch_size=None):
        states = []
        for cell in self.cells:
            fn = getattr(cell, "get_initial_state", None)
            if fn is not None:
                states.append(fn(batch_size=batch_size))
            elif isinstance(cell.state_size, int):
                states.append(ops.zeros((batch_size, cell.state_size), dtype=self.compute_dtype))
            else:
                states.append([ops.zeros((batch_size, d), dtype=self.compute_dtype) for d in cell.state_size])
        return states

    def call(self, inputs, states, training=False):
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            is_list = isinstance(cell_states, (list, tuple))
            cell_states = list(cell_states) if is_list else [cell_states]
            call_fn = cell.call if (isinstance(cell, Layer) and cell.built) else cell
            kwargs = {"training": training} if _call_accepts(call_fn, "training") else {}
            inputs, cell_states = call_fn(inputs, cell_states, **kwargs)
            cell_states = list(cell_states) if isinstance(cell_states, (list, tuple)) else [cell_states]
            new_states.append(cell_states[0] if len(cell_states) == 1 and not is_list else cell_states)
        return inputs, new_states

    def build(self, input_shape):
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell.build(input_shape)
                cell.built = True
            size = getattr(cell, "output_size", None)
            if size is None:
                size = cell.state_size[0] if isinstance(cell.state_size, (list, tuple)) else cell.state_size
            input_shape = (tree.flatten(input_shape)[0], size)
        self.built = True

    def get_config(self):
        from lamina.saving import serialization_lib

        cells = [serialization_lib.serialize_keras_object(cell) for cell in self.cells]
        return {**super().get_config(), "cells": cells}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cells = [deserialize_layer(c, custom_objects) for c in config.pop("cells")]
        return cls(cells, **config)
