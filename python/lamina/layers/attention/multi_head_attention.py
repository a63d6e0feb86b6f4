"""MultiHeadAttention (Vaswani et al., 2017), with Keras's weight layout."""

import math

import numpy as np

from lamina import constraints, initializers, ops, regularizers
from lamina import random as lrandom
from lamina.backend.common import get_keras_mask
from lamina.backend.keras_tensor import KerasTensor
from lamina.layers.layer import Layer
from lamina.layers.rnn.rnn import nest_path
from lamina.utils import naming
from lamina.utils.rng_utils import make_seed_generator


def _clone_initializer(initializer):
    if hasattr(initializer, "get_config") and hasattr(type(initializer), "from_config"):
        return type(initializer).from_config(initializer.get_config())
    return initializer


class _HeadProjection(Layer):
    """The projections of MultiHeadAttention (Keras builds them as
    EinsumDense): a `kernel` of shape `(in_dims..., out_dims...)` contracting
    the last `len(in_dims)` input axes, and an optional `bias` of shape
    `out_dims`."""

    def __init__(self, in_dims, out_dims, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.in_dims, self.out_dims = tuple(in_dims), tuple(out_dims)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def build(self, input_shape=None):
        self.kernel = self.add_weight(
            name="kernel",
            shape=self.in_dims + self.out_dims,
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=self.out_dims,
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None
        self.built = True

    def call(self, inputs):
        n_in = len(self.in_dims)
        shape = tuple(inputs.shape)
        if shape[len(shape) - n_in:] != self.in_dims:
            raise ValueError(
                f"MultiHeadAttention projection '{self.path}' was built for inputs ending in {self.in_dims}, "
                f"got shape {shape}"
            )
        lead = shape[: len(shape) - n_in]
        k_in = int(np.prod(self.in_dims))
        k_out = int(np.prod(self.out_dims))
        x = ops.reshape(inputs, (-1, k_in))
        y = ops.matmul(x, ops.reshape(self.kernel, (k_in, k_out)))
        y = ops.reshape(y, lead + self.out_dims)
        if self.bias is not None:
            y = ops.add(y, self.bias)
        return y

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)[: len(input_shape) - len(self.in_dims)] + self.out_dims

    def get_config(self):
        config = {
            "in_dims": self.in_dims,
            "out_dims": self.out_dims,
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }
        return {**super().get_config(), **config}


class MultiHeadAttention(Layer):
    """Multi-head attention: `num_heads` scaled dot-product attentions of
    projected queries, keys and values, concatenated and projected back.

    Weights (Keras's names, shapes and order, via sublayers `query`, `key`,
    `value`, `attention_output`): `query/kernel` (query_dim, num_heads,
    key_dim), `query/bias` (num_heads, key_dim), the same for `key`;
    `value/kernel` (value_dim_in, num_heads, value_dim), `value/bias`
    (num_heads, value_dim); `attention_output/kernel` (num_heads, value_dim,
    out_dim), `attention_output/bias` (out_dim,), where out_dim is the
    query's last dimension unless `output_shape` is given.
    `MultiHeadAttention(num_heads=4, key_dim=32)` on dim 128 has 66,048
    parameters.

    Args:
        num_heads: number of heads.
        key_dim: size of each head for query and key.
        value_dim: size of each head for value (default key_dim).
        dropout: dropout rate on the attention weights while training.
        use_bias: whether the projections have biases.
        output_shape: the output's trailing shape (int or tuple; default the query's last dim).
        attention_axes: only the default (None: attend over every axis
            between batch and features) is supported.
        sliding_window: if set, each query position attends only to key
            positions less than `sliding_window` away (a symmetric band;
            with `use_causal_mask`, a causal window).
        use_gate: gate the attention output by `sigmoid(query @ gate/kernel
            + gate/bias)` (weights `gate/kernel` (dim, num_heads, value_dim),
            `gate/bias` (num_heads, value_dim)) before the output projection.
        kernel_initializer, bias_initializer, regularizers, constraints: for all projections.

    Call arguments: `query` (B, T, dim), `value` (B, S, dim), `key` (default
    value), `attention_mask` boolean (B, T, S) (True = attend), broadcast
    over heads and combined with the Keras masks of query/value/key,
    `return_attention_scores` (also return (B, num_heads, T, S)),
    `training`, `use_causal_mask`. Inputs of rank > 3 attend over all their
    middle axes jointly (Keras's default `attention_axes`).
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_shape=None,
        attention_axes=None,
        sliding_window=None,
        flash_attention=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        use_gate=False,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.supports_masking = True
        if sliding_window is not None and (
            not isinstance(sliding_window, int) or isinstance(sliding_window, bool) or sliding_window <= 0
        ):
            raise ValueError(
                f"`sliding_window` must be `None` or a positive integer. Received: sliding_window={sliding_window}"
            )
        self._sliding_window = sliding_window
        self._use_gate = bool(use_gate)
        for label, v in (("num_heads", num_heads), ("key_dim", key_dim)):
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"MultiHeadAttention: `{label}` must be a positive integer, got {v!r}")
        if value_dim is not None and (not isinstance(value_dim, int) or value_dim <= 0):
            raise ValueError(f"MultiHeadAttention: `value_dim` must be a positive integer or None, got {value_dim!r}")
        self._num_heads = num_heads
        self._key_dim = key_dim
        self._value_dim = value_dim if value_dim else key_dim
        self._dropout = dropout
        self._use_bias = use_bias
        if output_shape:
            if isinstance(output_shape, int):
                output_shape = (output_shape,)
            try:
                output_shape = tuple(int(d) for d in output_shape)
            except (TypeError, ValueError):
                raise ValueError(
                    f"Invalid `output_shape`: {output_shape}. When specified, the `output_shape` should be of "
                    "type tuple, list, or int."
                ) from None
        self._output_shape = output_shape or None
        self._flash_attention = flash_attention
        self._kernel_initializer = initializers.get(kernel_initializer)
        self._bias_initializer = initializers.get(bias_initializer)
        self._kernel_regularizer = regularizers.get(kernel_regularizer)
        self._bias_regularizer = regularizers.get(bias_regularizer)
        self._activity_regularizer = regularizers.get(activity_regularizer)
        self._kernel_constraint = constraints.get(kernel_constraint)
        self._bias_constraint = constraints.get(bias_constraint)
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        elif attention_axes is not None and not isinstance(attention_axes, (list, tuple)):
            raise ValueError(f"`attention_axes` must be an int, list, or tuple.Received: attention_axes={attention_axes}")
        self._attention_axes = None if attention_axes is None else tuple(attention_axes)
        self.seed = seed
        self.seed_generator = make_seed_generator(seed)
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(self._key_dim))
        if flash_attention and dropout > 0.0:
            raise ValueError(
                "Dropout is not supported when flash attention is enabled. Please set dropout to 0.0 to use "
                "flash attention."
            )

    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)
    query_dense = property(lambda self: self._query_dense)
    key_dense = property(lambda self: self._key_dense)
    value_dense = property(lambda self: self._value_dense)
    output_dense = property(lambda self: self._output_dense)
    sliding_window = property(lambda self: self._sliding_window)
    use_gate = property(lambda self: self._use_gate)

    def _check_attention_axes(self, rank):
        if self._attention_axes is None:
            return
        default = tuple(range(1, rank - 1))
        given = tuple(a % rank if a < 0 else a for a in self._attention_axes)
        # Keras counts axes of the projected (batch, ..., heads, dim) tensors for negative values.
        given_proj = tuple(a if a >= 0 else rank + a for a in self._attention_axes)
        if given != default and given_proj != default:
            raise NotImplementedError(
                f"MultiHeadAttention '{self.name}': attention_axes={self._attention_axes} is not supported by "
                f"lamina; only the default (attend over axes {default} of rank-{rank} inputs, "
                "attention_axes=None) is implemented."
            )

    def _sublayer(self, name, in_dims, out_dims):
        layer = _HeadProjection(
            in_dims,
            out_dims,
            use_bias=self._use_bias,
            # Fresh copies, so that seeded initializers do not repeat values across projections.
            kernel_initializer=_clone_initializer(self._kernel_initializer),
            bias_initializer=_clone_initializer(self._bias_initializer),
            kernel_regularizer=self._kernel_regularizer,
            bias_regularizer=self._bias_regularizer,
            kernel_constraint=self._kernel_constraint,
            bias_constraint=self._bias_constraint,
            name=name,
            dtype=self.dtype_policy.name,
            activity_regularizer=self._activity_regularizer,
        )
        nest_path(layer, self.path)
        layer.build()
        return layer

    def build(self, query_shape, value_shape, key_shape=None):
        query_shape = tuple(query_shape)
        value_shape = tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(
                "All dimensions of `value` and `key`, except the last one, must be equal. "
                f"Received: value_shape={value_shape} and key_shape={key_shape}"
            )
        if len(query_shape) < 3 or len(value_shape) != len(query_shape):
            raise ValueError(
                f"MultiHeadAttention '{self.name}': query and value must have the same rank >= 3 "
                f"(batch, ..., dim); got query_shape={query_shape}, value_shape={value_shape}"
            )
        for label, s in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if s[-1] is None:
                raise ValueError(f"MultiHeadAttention '{self.name}': the last dimension of {label} must be defined, got {s}")
        self._check_attention_axes(len(query_shape))
        n, dk, dv = self._num_heads, self._key_dim, self._value_dim
        self._query_dense = self._sublayer("query", (query_shape[-1],), (n, dk))
        self._key_dense = self._sublayer("key", (key_shape[-1],), (n, dk))
        if self._use_gate:
            self._gate_dense = self._sublayer("gate", (query_shape[-1],), (n, dv))
        self._value_dense = self._sublayer("value", (value_shape[-1],), (n, dv))
        out = self._output_shape if self._output_shape else (query_shape[-1],)
        self._output_dense = self._sublayer("attention_output", (n, dv), tuple(out))
        # Keras builds an unnamed Softmax and Dropout here; take their automatic
        # names too, so that layers created afterwards are numbered as in Keras.
        naming.auto_name("Softmax")
        naming.auto_name("Dropout")
        self.built = True

    # ---- masks -------------------------------------------------------------------
    def _compute_attention_mask(self, query, value, query_mask=None, value_mask=None, key_mask=None,
                                attention_mask=None, use_causal_mask=False, t=None, s=None):
        auto_mask = None
        b = query.shape[0]
        if query_mask is not None:
            auto_mask = ops.reshape(ops.cast(query_mask, "bool"), (b, t, 1))
        if value_mask is not None:
            m = ops.reshape(ops.cast(value_mask, "bool"), (b, 1, s))
            auto_mask = m if auto_mask is None else ops.logical_and(auto_mask, m)
        if key_mask is not None:
            m = ops.reshape(ops.cast(key_mask, "bool"), (b, 1, s))
            auto_mask = m if auto_mask is None else ops.logical_and(auto_mask, m)
        if use_causal_mask:
            m = ops.convert_to_tensor(np.tril(np.ones((t, s), dtype=bool))[None])
            auto_mask = m if auto_mask is None else ops.logical_and(auto_mask, m)
        if self._sliding_window is not None:
            band = np.abs(np.arange(t)[:, None] - np.arange(s)[None, :]) < self._sliding_window
            m = ops.convert_to_tensor(band[None])
            auto_mask = m if auto_mask is None else ops.logical_and(auto_mask, m)
        if attention_mask is not None:
            attention_mask = ops.convert_to_tensor(attention_mask)
            am_shape = tuple(attention_mask.shape)
            q_mid, v_mid = tuple(query.shape)[1:-1], tuple(value.shape)[1:-1]
            k = len(q_mid) + len(v_mid)
            tail = am_shape[-k:] if len(am_shape) >= k else None
            ok = tail is not None and len(am_shape) <= k + 1 and all(
                a in (e, 1) for a, e in zip(tail, q_mid + v_mid)
            ) and (len(am_shape) == k or am_shape[0] in (b, 1))
            if ok and k > 2 and tail != q_mid + v_mid:
                ok = False  # ranks > 3: the mask must name every position
            if not ok:
                raise ValueError(
                    f"MultiHeadAttention '{self.name}': attention_mask has shape {am_shape}, expected "
                    f"(batch, T, S) = {(b,) + q_mid + v_mid} (broadcastable) for query {tuple(query.shape)} "
                    f"and value {tuple(value.shape)}"
                )
            if k > 2:
                attention_mask = ops.reshape(attention_mask, am_shape[: len(am_shape) - k] + (t, s))
            if attention_mask.dtype != "bool":
                attention_mask = ops.cast(attention_mask, "bool")
            if attention_mask.ndim == 2:
                attention_mask = ops.expand_dims(attention_mask, 0)
        if auto_mask is not None:
            attention_mask = auto_mask if attention_mask is None else ops.logical_and(attention_mask, auto_mask)
        return attention_mask

    # ---- attention -----------------------------------------------------------------
    def _compute_attention(self, query, key, value, attention_mask=None, training=None,
                           return_attention_scores=False):
        """query (B, T, N, Dk), key (B, S, N, Dk), value (B, S, N, Dv);
        attention_mask broadcastable to (B, T, S). Returns (B, T, N, Dv) and
        the (B, N, T, S) weights (None on the fused path)."""
        dropping = bool(training) and self._dropout > 0.0
        mask4 = None if attention_mask is None else ops.expand_dims(attention_mask, 1)
        if not return_attention_scores and self._value_dim == self._key_dim:
            out = ops.dot_product_attention(
                query,
                key,
                value,
                mask=mask4,
                scale=self._inverse_sqrt_key_dim,
                dropout_rate=self._dropout if dropping else 0.0,
                seed=self.seed_generator if dropping else None,
            )
            return out, None
        q = ops.transpose(ops.multiply(query, self._inverse_sqrt_key_dim), (0, 2, 1, 3))  # B N T D
        k = ops.transpose(key, (0, 2, 3, 1))  # B N D S
        scores = ops.matmul(q, k)  # B N T S
        if mask4 is not None:
            scores = ops.where(mask4, scores, -1e9)
        scores = ops.softmax(scores, axis=-1)
        if mask4 is not None:
            # Fully masked rows give zeros (as Keras's Softmax layer).
            scores = ops.multiply(scores, ops.cast(mask4, scores.dtype))
        weights = lrandom.dropout(scores, self._dropout, seed=self.seed_generator) if dropping else scores
        out = ops.matmul(weights, ops.transpose(value, (0, 2, 1, 3)))  # B N T Dv
        return ops.transpose(out, (0, 2, 1, 3)), scores

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
             return_attention_scores=False, training=None, use_causal_mask=False):
        key_is_value = key is None or key is value
        if key is None:
            key = value
        for label, x in (("query", query), ("value", value), ("key", key)):
            if x.ndim < 3:
                raise ValueError(
                    f"MultiHeadAttention '{self.name}': {label} must have rank >= 3 (batch, ..., dim), "
                    f"got shape {tuple(x.shape)}"
                )
        if query_mask is None:
            query_mask = get_keras_mask(query)
        if value_mask is None:
            value_mask = get_keras_mask(value)
        if key_mask is None and not key_is_value:
            key_mask = get_keras_mask(key)
        qs, vs = tuple(query.shape), tuple(value.shape)
        b = qs[0]
        t = int(np.prod(qs[1:-1]))
        s = int(np.prod(vs[1:-1]))
        attention_mask = self._compute_attention_mask(
            query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask, t, s
        )
        gate = ops.sigmoid(self._gate_dense(query)) if self._use_gate else None  # (B, ..., N, Dv)
        q = self._query_dense(query)  # (B, ..., N, Dk)
        k = self._key_dense(key)
        v = self._value_dense(value)
        n = self._num_heads
        q = ops.reshape(q, (b, t, n, self._key_dim))
        k = ops.reshape(k, (b, s, n, self._key_dim))
        v = ops.reshape(v, (b, s, n, self._value_dim))
        out, scores = self._compute_attention(q, k, v, attention_mask, training, return_attention_scores)
        out = ops.reshape(out, qs[:-1] + (n, self._value_dim))
        if gate is not None:
            out = ops.multiply(out, gate)
        out = self._output_dense(out)
        if return_attention_scores:
            return out, ops.reshape(scores, (b, n) + qs[1:-1] + vs[1:-1])
        return out

    # ---- shapes and config -------------------------------------------------------------
    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        query_shape = tuple(query_shape)
        value_shape = query_shape if value_shape is None else tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(
                "All dimensions of `value` and `key`, except the last one, must be equal. "
                f"Received: value_shape={value_shape} and key_shape={key_shape}"
            )
        if self._output_shape:
            return query_shape[:-1] + tuple(self._output_shape)
        return query_shape

    def compute_output_spec(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
                            attention_mask=None, return_attention_scores=False, training=None,
                            use_causal_mask=False):
        key_shape = None if key is None else key.shape
        out = KerasTensor(self.compute_output_shape(query.shape, value.shape, key_shape), dtype=self.compute_dtype)
        if return_attention_scores:
            qs, vs = tuple(query.shape), tuple(value.shape)
            return out, KerasTensor((qs[0], self._num_heads) + qs[1:-1] + vs[1:-1], dtype=self.compute_dtype)
        return out

    def get_config(self):
        base_config = super().get_config()
        config = {
            "num_heads": self._num_heads,
            "key_dim": self._key_dim,
            "value_dim": self._value_dim,
            "dropout": self._dropout,
            "use_bias": self._use_bias,
            "output_shape": self._output_shape,
            "attention_axes": self._attention_axes,
            "sliding_window": self._sliding_window,
            "use_gate": self._use_gate,
            "kernel_initializer": initializers.serialize(self._kernel_initializer),
            "bias_initializer": initializers.serialize(self._bias_initializer),
            "kernel_regularizer": regularizers.serialize(self._kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self._bias_regularizer),
            "activity_regularizer": regularizers.serialize(self._activity_regularizer),
            "kernel_constraint": constraints.serialize(self._kernel_constraint),
            "bias_constraint": constraints.serialize(self._bias_constraint),
            "seed": self.seed,
        }
        return {**base_config, **config}
