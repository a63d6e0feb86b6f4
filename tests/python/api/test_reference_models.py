"""Reference architectures: parameter counts (total, trainable,
non-trainable), output shapes and the text of `summary()`.

The expected counts are Keras's published numbers (keras.io examples and
guides); they are the expected values of a real count here. Where Keras is
installed, the same builders run with `keras` in place of `lamina` and the
summaries must be the same text."""

import os

import numpy as np
import pytest

import lamina


def mlp(m):
    L = m.layers
    return m.Sequential([m.Input((784,)), L.Dense(512, activation="relu"), L.Dropout(0.2),
                         L.Dense(512, activation="relu"), L.Dropout(0.2), L.Dense(10, activation="softmax")])


def mnist_convnet(m):
    # keras.io/examples/vision/mnist_convnet
    L = m.layers
    return m.Sequential([
        m.Input(shape=(28, 28, 1)),
        L.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        L.MaxPooling2D(pool_size=(2, 2)),
        L.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        L.MaxPooling2D(pool_size=(2, 2)),
        L.Flatten(),
        L.Dropout(0.5),
        L.Dense(10, activation="softmax"),
    ])


def resnet20(m):
    # ResNet-20 v1 for CIFAR-10 (the Keras cifar10_resnet example).
    L = m.layers

    def block(x, filters, kernel_size=3, strides=1, activation="relu", batch_norm=True):
        x = L.Conv2D(filters, kernel_size, strides=strides, padding="same", kernel_initializer="he_normal",
                     kernel_regularizer=m.regularizers.L2(1e-4))(x)
        if batch_norm:
            x = L.BatchNormalization()(x)
        return L.Activation(activation)(x) if activation else x

    inputs = m.Input(shape=(32, 32, 3))
    x = block(inputs, 16)
    filters = 16
    for stack in range(3):
        for res_block in range(3):
            strides = 2 if stack > 0 and res_block == 0 else 1
            y = block(x, filters, strides=strides)
            y = block(y, filters, activation=None)
            if strides == 2:
                x = block(x, filters, kernel_size=1, strides=strides, activation=None, batch_norm=False)
            x = L.Activation("relu")(L.add([x, y]))
        filters *= 2
    x = L.Flatten()(L.AveragePooling2D(pool_size=8)(x))
    outputs = L.Dense(10, activation="softmax", kernel_initializer="he_normal")(x)
    return m.Model(inputs, outputs)


def lstm_classifier(m):
    # keras.io/examples/nlp/bidirectional_lstm_imdb
    L = m.layers
    inputs = m.Input(shape=(None,), dtype="int32")
    x = L.Embedding(20000, 128)(inputs)
    x = L.Bidirectional(L.LSTM(64, return_sequences=True))(x)
    x = L.Bidirectional(L.LSTM(64))(x)
    return m.Model(inputs, L.Dense(1, activation="sigmoid")(x))


def gru_classifier(m):
    # keras.io/guides/working_with_rnns (GRU + SimpleRNN model)
    L = m.layers
    return m.Sequential([m.Input((None,), dtype="int32"), L.Embedding(input_dim=1000, output_dim=64),
                         L.GRU(256, return_sequences=True), L.SimpleRNN(128), L.Dense(10)])


def transformer_classifier(m):
    # keras.io/examples/nlp/text_classification_with_transformer: maxlen 200,
    # vocabulary 20000, embed_dim 32, 2 heads, ff_dim 32; its two custom layers.
    L = m.layers

    class TransformerBlock(L.Layer):
        def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
            super().__init__()
            self.att = L.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.ffn = m.Sequential([L.Dense(ff_dim, activation="relu"), L.Dense(embed_dim)])
            self.layernorm1 = L.LayerNormalization(epsilon=1e-6)
            self.layernorm2 = L.LayerNormalization(epsilon=1e-6)
            self.dropout1 = L.Dropout(rate)
            self.dropout2 = L.Dropout(rate)

        def call(self, inputs):
            attn_output = self.dropout1(self.att(inputs, inputs))
            out1 = self.layernorm1(inputs + attn_output)
            return self.layernorm2(out1 + self.dropout2(self.ffn(out1)))

    class TokenAndPositionEmbedding(L.Layer):
        def __init__(self, maxlen, vocab_size, embed_dim):
            super().__init__()
            self.token_emb = L.Embedding(input_dim=vocab_size, output_dim=embed_dim)
            self.pos_emb = L.Embedding(input_dim=maxlen, output_dim=embed_dim)

        def call(self, x):
            positions = m.ops.arange(start=0, stop=m.ops.shape(x)[-1], step=1)
            return self.token_emb(x) + self.pos_emb(positions)

    inputs = m.Input(shape=(200,))
    x = TokenAndPositionEmbedding(200, 20000, 32)(inputs)
    x = TransformerBlock(32, 2, 32)(x)
    x = L.Dropout(0.1)(L.GlobalAveragePooling1D()(x))
    x = L.Dropout(0.1)(L.Dense(20, activation="relu")(x))
    return m.Model(inputs=inputs, outputs=L.Dense(2, activation="softmax")(x))


def frozen_transfer(m):
    # A frozen convolutional base (BatchNorm included) under a trainable head.
    L = m.layers
    base = m.Sequential([m.Input((32, 32, 3)), L.Conv2D(16, 3, activation="relu"), L.BatchNormalization(),
                         L.MaxPooling2D(), L.Conv2D(32, 3, activation="relu"), L.GlobalAveragePooling2D()],
                        name="base")
    base.trainable = False
    inputs = m.Input((32, 32, 3))
    x = base(inputs, training=False)
    x = L.Dropout(0.2)(x)
    return m.Model(inputs, L.Dense(5)(x))


# name: (builder, total, trainable, non-trainable, output shape)
REFERENCE = {
    "mlp": (mlp, 669_706, 669_706, 0, (None, 10)),
    "mnist_convnet": (mnist_convnet, 34_826, 34_826, 0, (None, 10)),
    "resnet20": (resnet20, 274_442, 273_066, 1_376, (None, 10)),
    "lstm_classifier": (lstm_classifier, 2_757_761, 2_757_761, 0, (None, 1)),
    "gru_classifier": (gru_classifier, 361_866, 361_866, 0, (None, 10)),
    "transformer_classifier": (transformer_classifier, 657_758, 657_758, 0, (None, 2)),
    # Base: conv 448 + batch norm 64 (32 moving statistics) + conv 4,640; head 165.
    "frozen_transfer": (frozen_transfer, 5_317, 165, 5_152, (None, 5)),
}


def _count(weights):
    return int(sum(np.prod(w.shape) for w in weights))


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_reference_counts_and_shapes(name):
    build, total, trainable, non_trainable, out_shape = REFERENCE[name]
    model = build(lamina)
    assert model.count_params() == total
    assert _count(model.trainable_weights) == trainable
    assert _count(model.non_trainable_weights) == non_trainable
    assert tuple(model.output_shape) == out_shape
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert f"Total params: {total:,}" in text
    assert f"Trainable params: {trainable:,}" in text
    assert f"Non-trainable params: {non_trainable:,}" in text


def test_reference_models_run():
    x = np.random.default_rng(0).integers(1, 1000, (2, 7))
    assert tuple(gru_classifier(lamina)(x).shape) == (2, 10)
    assert tuple(lstm_classifier(lamina)(x).shape) == (2, 1)
    assert tuple(resnet20(lamina)(np.zeros((2, 32, 32, 3), "float32")).shape) == (2, 10)


def test_frozen_base_in_summary():
    lines = []
    frozen_transfer(lamina).summary(print_fn=lines.append)
    base_row = next(line for line in lines if "base (Sequential)" in line)
    assert "5,152" in base_row  # a frozen layer still lists its parameters
    assert any("Non-trainable params: 5,152" in line for line in lines)


def _keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        import keras

        keras.layers  # noqa: B018
        return keras
    except Exception as e:  # not installed, or no usable backend
        pytest.skip(f"Keras is not installed here ({type(e).__name__}: {e})")


def _summary(m, build, **kwargs):
    m.backend.clear_session()
    lines = []
    build(m).summary(print_fn=lines.append, **kwargs)
    return "\n".join(lines).strip()


def test_cells_wrap_like_rich():
    # Keras's summary is a rich table: cells break only between words and a
    # word too long for its column is cut with "…" (not folded).
    from lamina.utils import summary_utils

    assert summary_utils._wrap("batch_normalization_1 (BatchNormalization)", 19) == [
        "batch_normalizatio…", "(BatchNormalizatio…"]
    assert summary_utils._wrap("dense (Dense)", 19) == ["dense (Dense)"]
    assert summary_utils._wrap("conv2d_1 (Conv2D) extra", 12) == ["conv2d_1", "(Conv2D)", "extra"]


@pytest.mark.parametrize("nested", [False, True], ids=["plain", "nested"])
@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_reference_summaries_match_keras(name, nested, monkeypatch):
    keras = _keras()
    monkeypatch.setattr("shutil.get_terminal_size", lambda *a, **k: os.terminal_size((80, 24)))
    kwargs = dict(expand_nested=True, show_trainable=True) if nested else {}
    build = REFERENCE[name][0]
    assert _summary(lamina, build, **kwargs) == _summary(keras, build, **kwargs)
