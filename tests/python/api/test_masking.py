"""Masks through models: `Embedding(mask_zero=True)` and `Masking` masks reach
the layers after them in Sequential and functional models (symbolic
`_keras_mask` on KerasTensors, as Keras, and the values in eager runs), so
padded steps change nothing."""

import os
import warnings

import numpy as np
import pytest

import lamina

TOKENS = np.array([[1, 2, 3, 0, 0, 0], [4, 5, 6, 7, 8, 9], [3, 0, 0, 0, 0, 0], [7, 7, 2, 1, 0, 0]])


def _keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        import keras

        keras.layers  # noqa: B018
        return keras
    except Exception as e:  # not installed, or no usable backend
        pytest.skip(f"Keras is not installed here ({type(e).__name__}: {e})")


def sequential(m):
    return m.Sequential([m.Input((6,), dtype="int32"), m.layers.Embedding(10, 4, mask_zero=True),
                         m.layers.LSTM(5), m.layers.Dense(2)])


def functional(m):
    i = m.Input((6,), dtype="int32")
    e = m.layers.Embedding(10, 4, mask_zero=True)(i)
    h = m.layers.LSTM(5, return_sequences=True)(e)
    h = m.layers.GRU(3, return_sequences=True)(h)
    a = m.layers.MultiHeadAttention(2, 2)(h, h)
    p = m.layers.GlobalAveragePooling1D()(m.layers.Dense(4)(a))
    return m.Model(i, m.layers.Dense(2)(p))


def _set_random_weights(*models):
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(w.shape).astype("float32") * 0.5 for w in models[0].get_weights()]
    for model in models:
        model.set_weights(weights)


def _eager(model, x):
    """The model's layers called one by one on real tensors (masks ride on the tensors)."""
    if isinstance(model, lamina.Sequential):
        for layer in model.layers:
            x = layer(x)
        return x
    emb, lstm, gru, mha, dense, gap, head = model.layers[1:]
    h = gru(lstm(emb(x)))
    return head(gap(dense(mha(h, h))))


@pytest.mark.parametrize("build", [sequential, functional])
def test_padding_does_not_change_outputs(build):
    model = build(lamina)
    _set_random_weights(model)
    out = model(TOKENS).numpy()
    np.testing.assert_allclose(model.predict(TOKENS, verbose=0), out, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(_eager(model, lamina.tensor(TOKENS)).numpy(), out, rtol=1e-6, atol=1e-6)
    # Padding is masked: changing the padding token's embedding row changes nothing.
    emb = model.layers[0] if isinstance(model, lamina.Sequential) else model.layers[1]
    table = emb.get_weights()[0]
    table[0] = 123.0
    emb.set_weights([table])
    np.testing.assert_allclose(model(TOKENS).numpy(), out, rtol=1e-6, atol=1e-6)


def test_symbolic_masks_follow_the_graph():
    i = lamina.Input((6,), dtype="int32")
    e = lamina.layers.Embedding(10, 4, mask_zero=True)(i)
    seq = lamina.layers.LSTM(3, return_sequences=True)(e)
    last = lamina.layers.LSTM(3)(seq)
    masked = lamina.layers.Masking(0.0)(lamina.Input((5, 3)))
    assert tuple(e._keras_mask.shape) == (None, 6) and e._keras_mask.dtype == "bool"
    assert tuple(seq._keras_mask.shape) == (None, 6)
    assert tuple(lamina.layers.Dense(2)(seq)._keras_mask.shape) == (None, 6)
    assert getattr(last, "_keras_mask", None) is None
    assert getattr(lamina.layers.GlobalAveragePooling1D()(seq), "_keras_mask", None) is None
    assert tuple(masked._keras_mask.shape) == (None, 5)
    assert getattr(i, "_keras_mask", None) is None


# After Embedding(10, 4, mask_zero=True) on Input((6,), int32).
SYMBOLIC = {
    "lstm_seq": lambda m, e: m.layers.LSTM(3, return_sequences=True)(e),
    "lstm_last": lambda m, e: m.layers.LSTM(3)(e),
    "lstm_state": lambda m, e: m.layers.LSTM(3, return_sequences=True, return_state=True)(e),
    "gru_seq": lambda m, e: m.layers.GRU(3, return_sequences=True)(e),
    "bidirectional": lambda m, e: m.layers.Bidirectional(m.layers.LSTM(2, return_sequences=True))(e),
    "time_distributed": lambda m, e: m.layers.TimeDistributed(m.layers.Dense(2))(e),
    "dense": lambda m, e: m.layers.Dense(3)(e),
    "dropout": lambda m, e: m.layers.Dropout(0.1)(e),
    "layer_norm": lambda m, e: m.layers.LayerNormalization()(e),
    "global_pool": lambda m, e: m.layers.GlobalAveragePooling1D()(e),
    "flatten": lambda m, e: m.layers.Flatten()(e),
    "conv1d": lambda m, e: m.layers.Conv1D(2, 3, padding="same")(e),
    "mha": lambda m, e: m.layers.MultiHeadAttention(2, 2)(e, e),
    "attention": lambda m, e: m.layers.Attention()([e, e]),
    "concat_time": lambda m, e: m.layers.Concatenate(axis=1)([e, e]),
    "add": lambda m, e: m.layers.Add()([e, e]),
    "lambda": lambda m, e: m.layers.Lambda(lambda t: t * 2)(e),
    "masking": lambda m, e: m.layers.Masking()(e),
    "zero_padding": lambda m, e: m.layers.ZeroPadding1D(1)(e),
}


def _mask_shapes(x):
    return [None if getattr(t, "_keras_mask", None) is None else tuple(t._keras_mask.shape)
            for t in (x if isinstance(x, (list, tuple)) else [x])]


@pytest.mark.parametrize("case", sorted(SYMBOLIC))
def test_symbolic_masks_match_keras(case):
    keras = _keras()
    shapes = {}
    for mod in (keras, lamina):
        i = mod.Input((6,), dtype="int32")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Keras warns when a layer drops a mask
            shapes[mod.__name__] = _mask_shapes(SYMBOLIC[case](mod, mod.layers.Embedding(10, 4, mask_zero=True)(i)))
    assert shapes["lamina"] == shapes["keras"]


@pytest.mark.parametrize("build", [sequential, functional])
def test_masked_models_match_keras(build):
    keras = _keras()
    km, lm = build(keras), build(lamina)
    _set_random_weights(km, lm)
    expected = keras.ops.convert_to_numpy(km(TOKENS))
    np.testing.assert_allclose(lm(TOKENS).numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(lm.predict(TOKENS, verbose=0), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_eager(lm, lamina.tensor(TOKENS)).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_masked_sequence_loss_matches_keras():
    """A mask on the model's output weights the loss and metrics (as Keras)."""
    keras = _keras()
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, TOKENS.shape)

    def build(m):
        i = m.Input((6,), dtype="int32")
        h = m.layers.GRU(4, return_sequences=True)(m.layers.Embedding(10, 4, mask_zero=True)(i))
        return m.Model(i, m.layers.Dense(3, activation="softmax")(h))

    km, lm = build(keras), build(lamina)
    _set_random_weights(km, lm)
    hist = {}
    for name, model in (("k", km), ("l", lm)):
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        hist[name] = model.fit(TOKENS, y, epochs=2, batch_size=2, shuffle=False, verbose=0).history
    for key in hist["k"]:
        np.testing.assert_allclose(hist["l"][key], hist["k"][key], rtol=1e-5, atol=1e-6)


def _masking_guide_model(K):
    """The custom layers of Keras's "Understanding masking & padding" guide."""
    ops, L = K.ops, K.layers

    class TemporalSplit(L.Layer):
        def call(self, inputs):
            return ops.split(inputs, 2, axis=1)

        def compute_mask(self, inputs, mask=None):
            return None if mask is None else ops.split(mask, 2, axis=1)

    class CustomEmbedding(L.Layer):
        def __init__(self, input_dim, output_dim, mask_zero=False, **kwargs):
            super().__init__(**kwargs)
            self.input_dim, self.output_dim, self.mask_zero = input_dim, output_dim, mask_zero

        def build(self, input_shape):
            self.embeddings = self.add_weight(shape=(self.input_dim, self.output_dim), initializer="random_normal")

        def call(self, inputs):
            return ops.take(self.embeddings, ops.cast(inputs, "int32"), axis=0)

        def compute_mask(self, inputs, mask=None):
            return ops.not_equal(inputs, 0) if self.mask_zero else None

    class TemporalSoftmax(L.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def call(self, inputs, mask=None):
            assert mask is not None  # the mask must reach call, symbolic calls included
            keep = ops.expand_dims(ops.cast(mask, "float32"), -1)
            exp = ops.exp(inputs) * keep
            return exp / ops.sum(exp * keep, axis=-1, keepdims=True)

    inputs = K.Input(shape=(6,), dtype="int32")
    first, second = TemporalSplit()(CustomEmbedding(10, 4, mask_zero=True)(inputs))
    x = L.Dense(2)(L.Activation("relu")(L.Dense(3)(first)))
    return K.Model(inputs, [TemporalSoftmax()(x), second])


def test_custom_layers_receive_masks_in_symbolic_calls():
    model = _masking_guide_model(lamina)
    probs, rest = model(TOKENS)
    probs, keep = probs.numpy(), TOKENS[:, :3] != 0
    np.testing.assert_allclose(probs[keep].sum(-1), 1.0, rtol=1e-5)
    assert np.isnan(probs[~keep]).all()  # fully masked steps: 0 / 0, as in Keras
    assert tuple(rest.shape) == (4, 3, 4)


def test_custom_masking_layers_match_keras():
    keras = _keras()
    km, lm = _masking_guide_model(keras), _masking_guide_model(lamina)
    _set_random_weights(km, lm)
    for k, l in zip(km(TOKENS), lm(TOKENS)):
        np.testing.assert_allclose(l.numpy(), keras.ops.convert_to_numpy(k), rtol=1e-5, atol=1e-6)
