"""`DropoutRNNCell`: the dropout masks of a recurrent cell, drawn once per
sequence and reused at every timestep (as Keras)."""

from lamina import ops
from lamina import random as lrandom


class DropoutRNNCell:
    """Mixin for cells with `dropout`, `recurrent_dropout` and `seed_generator`.

    With `dropout_mask_count` set (cells that use per-gate masks when
    `recurrent_dropout` is on), the getters return a list of that many
    independent masks.
    """

    def _create_dropout_mask(self, step_input, rate):
        count = getattr(self, "dropout_mask_count", None)
        ones = ops.ones_like(step_input)
        if count is None:
            return lrandom.dropout(ones, rate, seed=self.seed_generator)
        return [lrandom.dropout(ones, rate, seed=self.seed_generator) for _ in range(count)]

    def get_dropout_mask(self, step_input):
        if getattr(self, "_dropout_mask", None) is None and self.dropout > 0:
            self._dropout_mask = self._create_dropout_mask(step_input, self.dropout)
        return getattr(self, "_dropout_mask", None)

    def get_recurrent_dropout_mask(self, step_input):
        if getattr(self, "_recurrent_dropout_mask", None) is None and self.recurrent_dropout > 0:
            self._recurrent_dropout_mask = self._create_dropout_mask(step_input, self.recurrent_dropout)
        return getattr(self, "_recurrent_dropout_mask", None)

    def reset_dropout_mask(self):
        """Forgets the cached input mask (the RNN layer calls it after each sequence)."""
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self):
        self._recurrent_dropout_mask = None


def check_rate(name, value):
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ValueError(f"`{name}` must be a float between 0 and 1. Received: {name}={value!r}")
    return min(1.0, max(0.0, float(value)))
