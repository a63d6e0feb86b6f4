"""Concatenate."""

from lamina import ops
from lamina.layers.layer import Layer


class Concatenate(Layer):
    """Concatenates a list of inputs along `axis` (all other dims must match)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.supports_masking = True

    def build(self, input_shape):
        if len(input_shape) < 1 or not isinstance(input_shape[0], (tuple, list)):
            raise ValueError(
                "A `Concatenate` layer should be called on a list of at least 1 input. "
                f"Received: input_shape={input_shape}"
            )
        self._check(input_shape)
        self.built = True

    def _check(self, input_shape):
        if all(s is None for s in input_shape):
            return
        ranks = {len(s) for s in input_shape}
        if len(ranks) != 1:
            raise ValueError(
                f"Concatenate '{self.name}': all inputs must have the same rank. Received: input_shape={input_shape}"
            )
        rank = ranks.pop()
        ax = self.axis % rank
        for i in range(rank):
            if i == ax:
                continue
            dims = {s[i] for s in input_shape} - {None}
            if len(dims) > 1:
                raise ValueError(
                    "A `Concatenate` layer requires inputs with matching shapes except for the concatenation axis. "
                    f"Received: input_shape={input_shape}"
                )

    def call(self, inputs):
        return ops.concatenate(list(inputs), axis=self.axis)

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        out = list(input_shape[0])
        ax = self.axis % len(out)
        for s in input_shape[1:]:
            if out[ax] is None or s[ax] is None:
                out[ax] = None
            else:
                out[ax] += s[ax]
        for i in range(len(out)):
            if i != ax and out[i] is None:
                known = [s[i] for s in input_shape if s[i] is not None]
                out[i] = known[0] if known else None
        return tuple(out)

    # Without input masks there is no output mask (symbolic calls skip compute_mask).
    _mask_needs_previous = True

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        if all(m is None for m in mask):
            return None
        masks = []
        for x, m in zip(inputs, mask):
            if m is None:
                masks.append(ops.ones(tuple(x.shape[: x.ndim - 1]) if x.ndim > 1 else tuple(x.shape), dtype="bool"))
            else:
                masks.append(ops.cast(m, "bool"))
        ax = self.axis % inputs[0].ndim
        if ax == inputs[0].ndim - 1:
            out = masks[0]
            for m in masks[1:]:
                out = ops.logical_and(out, m)
            return out
        return ops.concatenate(masks, axis=ax)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def concatenate(inputs, axis=-1, **kwargs):
    return Concatenate(axis=axis, **kwargs)(inputs)
