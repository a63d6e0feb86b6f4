"""Attention: dot-product (Luong-style) attention over `[query, value, key]`."""

import numpy as np

from lamina import ops
from lamina import random as lrandom
from lamina.backend.keras_tensor import KerasTensor
from lamina.layers.layer import Layer
from lamina.utils.rng_utils import make_seed_generator


def causal_mask(tq, tv):
    """(1, Tq, Tv) booleans, True where key index <= query index."""
    return ops.convert_to_tensor(np.tril(np.ones((tq, tv), dtype=bool))[None])


class Attention(Layer):
    """Dot-product attention layer, a.k.a. Luong-style attention.

    Called on `[query, value]` or `[query, value, key]` (key defaults to
    value) of shapes `(batch, Tq, dim)`, `(batch, Tv, dim)`:
    `scores = query @ key^T` (times `scale` with `use_scale`), or with
    `score_mode="concat"`, `concat_score_weight * sum(tanh(query + key))`;
    `output = softmax(scores) @ value`, shape `(batch, Tq, value_dim)`.

    Args:
        use_scale: learn a scalar `scale` weight (initialized to 1).
        score_mode: "dot" or "concat".
        dropout: dropout rate on the attention weights while training.
        seed: seed of the dropout stream.

    Call arguments: `inputs` list, `mask` list `[query_mask, value_mask]`
    (filled from the inputs' Keras masks), `training`,
    `return_attention_scores` (also return the `(batch, Tq, Tv)` weights),
    `use_causal_mask`.
    """

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.use_scale = use_scale
        self.score_mode = score_mode
        self.dropout = dropout
        self.seed = seed
        if self.dropout > 0:
            self.seed_generator = make_seed_generator(seed)
        if self.score_mode not in ("dot", "concat"):
            raise ValueError(
                "Invalid value for argument score_mode. Expected one of {'dot', 'concat'}. "
                f"Received: score_mode={score_mode}"
            )
        self.supports_masking = True
        self.scale = None
        self.concat_score_weight = None

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(), initializer="ones", trainable=True)
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(
                name="concat_score_weight", shape=(), initializer="ones", trainable=True
            )
        self.built = True

    def _calculate_scores(self, query, key):
        if self.score_mode == "dot":
            scores = ops.matmul(query, ops.transpose(key, (0, 2, 1)))
            if self.scale is not None:
                scores = scores * self.scale
            return scores
        q = ops.expand_dims(query, -2)
        k = ops.expand_dims(key, -3)
        if self.scale is not None:
            return self.concat_score_weight * ops.sum(ops.tanh(self.scale * (q + k)), axis=-1)
        return self.concat_score_weight * ops.sum(ops.tanh(q + k), axis=-1)

    def _apply_scores(self, scores, value, scores_mask=None, training=False):
        if scores_mask is not None:
            padding = ops.cast(ops.logical_not(scores_mask), scores.dtype)
            scores = scores - 1.0e9 * padding
        weights = ops.softmax(scores, axis=-1)
        if training and self.dropout > 0:
            weights = lrandom.dropout(weights, self.dropout, seed=self.seed_generator)
        return ops.matmul(weights, value), weights

    def _calculate_score_mask(self, scores, v_mask, use_causal_mask):
        if use_causal_mask:
            cm = causal_mask(scores.shape[-2], scores.shape[-1])
            if v_mask is not None:
                return ops.logical_and(ops.expand_dims(v_mask, -2), cm)
            return cm
        if v_mask is not None:
            return ops.expand_dims(v_mask, -2)
        return None

    def call(self, inputs, mask=None, training=False, return_attention_scores=False, use_causal_mask=False):
        self._validate_inputs(inputs, mask)
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        self._check_shapes(q, v, k)
        q_mask = mask[0] if mask else None
        v_mask = mask[1] if mask else None
        if v_mask is not None:
            v_mask = ops.cast(v_mask, "bool")
        scores = self._calculate_scores(q, k)
        scores_mask = self._calculate_score_mask(scores, v_mask, use_causal_mask)
        result, attention_scores = self._apply_scores(scores, v, scores_mask, training)
        if q_mask is not None:
            result = result * ops.cast(ops.expand_dims(q_mask, -1), result.dtype)
        if return_attention_scores:
            return result, attention_scores
        return result

    def _check_shapes(self, q, v, k):
        name = f"{self.__class__.__name__} '{self.name}'"
        for label, x in (("query", q), ("value", v), ("key", k)):
            if len(x.shape) != 3:
                raise ValueError(f"{name}: {label} must have rank 3 (batch, steps, dim), got shape {tuple(x.shape)}")
        if tuple(k.shape)[:2] != tuple(v.shape)[:2]:
            raise ValueError(
                f"{name}: key shape {tuple(k.shape)} and value shape {tuple(v.shape)} must agree on (batch, Tv)"
            )
        if q.shape[-1] != k.shape[-1]:
            raise ValueError(
                f"{name}: query dim {q.shape[-1]} must equal key dim {k.shape[-1]} "
                f"(query {tuple(q.shape)}, key {tuple(k.shape)})"
            )

    # Without input masks there is no output mask (symbolic calls skip compute_mask).
    _mask_needs_previous = True

    def compute_mask(self, inputs, mask=None):
        if mask is None or not isinstance(mask, (list, tuple)) or mask[0] is None:
            return None
        return ops.convert_to_tensor(mask[0])

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape[0])[:-1], tuple(input_shape[1])[-1])

    def compute_output_spec(self, inputs, mask=None, training=False, return_attention_scores=False,
                            use_causal_mask=False):
        self._validate_inputs(inputs, mask)
        shapes = [tuple(x.shape) for x in inputs]
        out = KerasTensor(self.compute_output_shape(shapes), dtype=self.compute_dtype)
        if return_attention_scores:
            q, v = shapes[0], shapes[1]
            return out, KerasTensor((q[0], q[1], v[1]), dtype=self.compute_dtype)
        return out

    def _validate_inputs(self, inputs, mask=None):
        class_name = self.__class__.__name__
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                f"{class_name} layer must be called on a list of inputs, namely [query, value] or "
                f"[query, value, key]. Received: inputs={inputs}."
            )
        if len(inputs) < 2 or len(inputs) > 3:
            raise ValueError(
                f"{class_name} layer accepts inputs list of length 2 or 3, namely [query, value] or "
                f"[query, value, key]. Received length: {len(inputs)}."
            )
        if mask is not None:
            if not isinstance(mask, (list, tuple)):
                raise ValueError(
                    f"{class_name} layer mask must be a list, namely [query_mask, value_mask]. Received: mask={mask}."
                )
            if len(mask) < 2 or len(mask) > 3:
                raise ValueError(f"{class_name} layer accepts mask list of length 2 or 3. Received: mask={mask}.")

    def get_config(self):
        base_config = super().get_config()
        config = {"use_scale": self.use_scale, "score_mode": self.score_mode, "dropout": self.dropout, "seed": self.seed}
        return {**base_config, **config}
