"""AdditiveAttention: Bahdanau-style attention, `scores = sum(scale * tanh(query + key))`."""

from lamina import ops
from lamina.layers.attention.attention import Attention


class AdditiveAttention(Attention):
    """Additive (Bahdanau-style) attention over `[query, value, key]`.

    `scores[b, i, j] = sum_d scale[d] * tanh(query[b, i, d] + key[b, j, d])`
    with a learned `scale` of shape `(dim,)` (glorot_uniform) when
    `use_scale=True` (the default); then as `Attention`.
    """

    def __init__(self, use_scale=True, dropout=0.0, seed=None, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, seed=seed, **kwargs)

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        dim = tuple(input_shape[0])[-1]
        self.scale = None
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=[dim], initializer="glorot_uniform", trainable=True)
        self.built = True

    def _calculate_scores(self, query, key):
        q = ops.expand_dims(query, -2)
        k = ops.expand_dims(key, -3)
        t = ops.tanh(q + k)
        if self.scale is not None:
            t = t * self.scale
        return ops.sum(t, axis=-1)

    def get_config(self):
        base_config = super().get_config()
        del base_config["score_mode"]
        return base_config
