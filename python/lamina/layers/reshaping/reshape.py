"""Reshape: gives each sample a new shape."""

import math

from lamina import ops
from lamina.layers.layer import Layer


class Reshape(Layer):
    """Reshapes each sample to `target_shape` (batch axis kept; one entry may be -1)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        target_shape = tuple(target_shape)
        if target_shape.count(-1) > 1:
            raise ValueError(
                "The `target_shape` argument must not contain more than one `-1` value. "
                f"Received: target_shape={target_shape}"
            )
        self.target_shape = target_shape
        self.built = True

    def _resolve(self, input_shape):
        sample = tuple(input_shape[1:])
        out = list(self.target_shape)
        if -1 in out:
            known = math.prod(d for d in out if d != -1)
            if any(d is None for d in sample):
                out[out.index(-1)] = None
            else:
                total = math.prod(sample)
                if known == 0 or total % known:
                    raise ValueError(
                        f"Reshape '{self.name}': the total size of the new array must be unchanged, "
                        f"input_shape = {sample}, output_shape = {self.target_shape}"
                    )
                out[out.index(-1)] = total // known
        elif not any(d is None for d in sample) and math.prod(sample) != math.prod(out):
            raise ValueError(
                f"Reshape '{self.name}': the total size of the new array must be unchanged, "
                f"input_shape = {sample}, output_shape = {self.target_shape}"
            )
        return tuple(out)

    def call(self, inputs):
        target = self._resolve(inputs.shape)
        return ops.reshape(inputs, (inputs.shape[0],) + target)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self._resolve(input_shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}
