"""Merge: base class of the elementwise merging layers."""

from lamina import ops
from lamina.layers.layer import Layer


def _broadcast_dims(a, b, who):
    if a is None or b is None:
        return None
    if a == 1:
        return b
    if b == 1:
        return a
    if a != b:
        raise ValueError(f"{who}: inputs have incompatible shapes. Received dimensions {a} and {b}")
    return a


class Merge(Layer):
    """Merges a list of tensors of (broadcast-)compatible shapes."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def _merge_function(self, inputs):
        raise NotImplementedError

    def _compute_elemwise_op_output_shape(self, shape1, shape2):
        if shape1 is None or shape2 is None:
            return None
        shape1, shape2 = tuple(shape1), tuple(shape2)
        if len(shape1) < len(shape2):
            return self._compute_elemwise_op_output_shape(shape2, shape1)
        if not shape2:
            return shape1
        who = f"{self.__class__.__name__} '{self.name}'"
        lead = list(shape1[: -len(shape2)])
        tail = [_broadcast_dims(a, b, who) for a, b in zip(shape1[-len(shape2):], shape2)]
        return tuple(lead + tail)

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or not input_shape or not isinstance(input_shape[0], (list, tuple)):
            raise ValueError(
                f"A merge layer ({self.__class__.__name__} '{self.name}') should be called on a list of inputs. "
                f"Received: input_shape={input_shape} (not a list of shapes)"
            )
        if len(input_shape) < 1:
            raise ValueError(
                f"A merge layer should be called on a list of at least 1 input. Got {len(input_shape)} inputs. "
                f"Full input_shape received: {input_shape}"
            )
        batch_sizes = {s[0] for s in input_shape if s} - {None}
        if len(batch_sizes) > 1:
            raise ValueError(
                f"{self.__class__.__name__} '{self.name}': cannot merge tensors with different batch sizes. "
                f"Received tensors with shapes {input_shape}"
            )
        output_shape = tuple(input_shape[0][1:])
        for shape in input_shape[1:]:
            output_shape = self._compute_elemwise_op_output_shape(output_shape, tuple(shape[1:]))
        self.built = True

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                f"A merge layer ({self.__class__.__name__} '{self.name}') should be called on a list of inputs. "
                f"Received: inputs={inputs} (not a list of tensors)"
            )
        ranks = [x.ndim for x in inputs]
        if len(set(ranks)) > 1:
            max_rank = max(ranks)
            inputs = [
                ops.reshape(x, tuple(x.shape) + (1,) * (max_rank - x.ndim)) if x.ndim < max_rank else x
                for x in inputs
            ]
        return self._merge_function(list(inputs))

    def compute_output_shape(self, input_shape):
        batch_sizes = {s[0] for s in input_shape if s} - {None}
        batch = batch_sizes.pop() if len(batch_sizes) == 1 else None
        output_shape = tuple(input_shape[0][1:])
        for shape in input_shape[1:]:
            output_shape = self._compute_elemwise_op_output_shape(output_shape, tuple(shape[1:]))
        return (batch,) + tuple(output_shape)

    # Without input masks there is no output mask (symbolic calls skip compute_mask).
    _mask_needs_previous = True

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        if not isinstance(mask, (tuple, list)):
            raise ValueError(f"`mask` should be a list. Received: mask={mask}")
        if not isinstance(inputs, (tuple, list)):
            raise ValueError(f"`inputs` should be a list. Received: inputs={inputs}")
        if len(mask) != len(inputs):
            raise ValueError(
                "The lists `inputs` and `mask` should have the same length. "
                f"Received: inputs={inputs} of length {len(inputs)}, and mask={mask} of length {len(mask)}"
            )
        masks = [m for m in mask if m is not None]
        if not masks:
            return None
        out = masks[0]
        for m in masks[1:]:
            out = ops.logical_and(out, m)
        return out

    def get_config(self):
        return super().get_config()
