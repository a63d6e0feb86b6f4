"""Layer-for-layer parity with Keras itself, where Keras is installed (it is
not a dependency: these tests skip otherwise). Each pair of layers gets the
same random weights through `set_weights` (so the layouts must agree), then
outputs, weight names, weight paths and config keys are compared."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
try:
    import keras

    # Without Keras installed, `keras` can resolve to this tests folder (a namespace package).
    keras.layers  # noqa: B018
except Exception as e:  # not installed, or no usable backend
    pytest.skip(f"Keras is not installed here ({type(e).__name__}: {e})", allow_module_level=True)

from lamina import layers as L  # noqa: E402

RNG = np.random.default_rng(0)
X4 = RNG.standard_normal((2, 9, 8, 3)).astype(np.float32)
X3 = RNG.standard_normal((2, 9, 3)).astype(np.float32)
X5 = RNG.standard_normal((2, 5, 6, 4, 3)).astype(np.float32)
Q = RNG.standard_normal((2, 5, 8)).astype(np.float32)
V = RNG.standard_normal((2, 7, 6)).astype(np.float32)
AM = RNG.random((2, 5, 7)) < 0.7
AM[..., 0] = True


def _flat(out):
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in _flat(o)]  # nested for stacked cells' states
    return [out]


def check(make, inputs, call_kwargs=None, rtol=1e-5, atol=1e-5):
    call_kwargs = call_kwargs or {}
    kl, ll = make(keras.layers), make(L)
    kl(*inputs, **call_kwargs)
    ll(*inputs, **call_kwargs)
    assert [tuple(w.shape) for w in kl.weights] == [tuple(w.shape) for w in ll.weights]
    # Same paths below the layer's own (auto-numbered) name.
    assert [w.path.split("/", 1)[-1] for w in kl.weights] == [w.path.split("/", 1)[-1] for w in ll.weights]
    assert all(w.path.startswith(ll.name) for w in ll.weights)
    weights = [RNG.standard_normal(tuple(w.shape)).astype(np.float32) * 0.3 for w in kl.weights]
    kl.set_weights(weights)
    ll.set_weights(weights)
    ko, lo = _flat(kl(*inputs, **call_kwargs)), _flat(ll(*inputs, **call_kwargs))
    assert len(ko) == len(lo)
    for a, b in zip(ko, lo):
        np.testing.assert_allclose(np.asarray(b.numpy()), keras.ops.convert_to_numpy(a), rtol=rtol, atol=atol)
    assert set(kl.get_config()) <= set(ll.get_config())


LAYER_CASES = {
    "conv2d": (lambda m: m.Conv2D(4, 3, strides=2, padding="same"), X4),
    "conv2d_groups": (lambda m: m.Conv2D(6, 2, groups=3, dilation_rate=2), X4),
    "conv1d_causal": (lambda m: m.Conv1D(4, 3, padding="causal", dilation_rate=2), X3),
    "conv2d_transpose": (lambda m: m.Conv2DTranspose(4, 3, strides=2, padding="same"), X4),
    "conv2d_transpose_op": (lambda m: m.Conv2DTranspose(4, 3, strides=2, output_padding=1), X4),
    "conv1d_transpose": (lambda m: m.Conv1DTranspose(4, 4, strides=3), X3),
    "depthwise2d": (lambda m: m.DepthwiseConv2D(3, depth_multiplier=2, padding="same"), X4),
    "separable2d": (lambda m: m.SeparableConv2D(5, 3, depth_multiplier=2), X4),
    "separable1d": (lambda m: m.SeparableConv1D(5, 3, strides=2, padding="same"), X3),
    "maxpool2d": (lambda m: m.MaxPooling2D(3, strides=2, padding="same"), X4),
    "conv3d": (lambda m: m.Conv3D(4, 3, padding="same", strides=(2, 1, 2)), X5),
    "conv3d_groups_dilated": (lambda m: m.Conv3D(6, 2, groups=3, dilation_rate=(2, 1, 1)), X5),
    "conv3d_channels_first": (lambda m: m.Conv3D(2, 2, data_format="channels_first"), X5),
    "conv3d_transpose": (lambda m: m.Conv3DTranspose(2, 2, strides=(2, 1, 2), output_padding=(1, 0, 1)), X5),
    "maxpool3d_same": (lambda m: m.MaxPooling3D((2, 3, 2), strides=(1, 2, 2), padding="same"), X5),
    "avgpool3d": (lambda m: m.AveragePooling3D(2, strides=1), X5),
    "avgpool1d": (lambda m: m.AveragePooling1D(2), X3),
    "lstm": (lambda m: m.LSTM(5, return_sequences=True, return_state=True), X3),
    "lstm_back": (lambda m: m.LSTM(5, go_backwards=True, return_sequences=True), X3),
    "lstm_relu": (lambda m: m.LSTM(5, activation="relu", recurrent_activation="hard_sigmoid"), X3),
    "gru": (lambda m: m.GRU(5, return_state=True), X3),
    "gru_reset_before": (lambda m: m.GRU(5, reset_after=False, return_sequences=True), X3),
    "simple_rnn": (lambda m: m.SimpleRNN(5, return_sequences=True, activation="relu"), X3),
    "bidirectional": (lambda m: m.Bidirectional(m.LSTM(4, return_sequences=True)), X3),
    "bidirectional_state": (lambda m: m.Bidirectional(m.GRU(4, return_state=True), merge_mode="sum"), X3),
    "time_distributed": (lambda m: m.TimeDistributed(m.Dense(3)), X3),
    "stacked_cells": (lambda m: m.RNN([m.SimpleRNNCell(3), m.GRUCell(4)], return_sequences=True), X3),
    "stacked_lstm_cells_state": (lambda m: m.RNN(m.StackedRNNCells([m.LSTMCell(3), m.LSTMCell(2)], name="stack"),
                                                 go_backwards=True, return_state=True), X3),
}


@pytest.mark.parametrize("case", sorted(LAYER_CASES))
def test_layer_parity(case):
    make, x = LAYER_CASES[case]
    check(make, (x,))


@pytest.mark.parametrize("make", [
    lambda m: m.LSTM(4, return_sequences=True),
    lambda m: m.GRU(4),
    lambda m: m.Bidirectional(m.LSTM(3, return_sequences=True)),
])
def test_masked_recurrent_parity(make):
    tokens = np.array([[1, 2, 3, 0, 0], [4, 5, 6, 7, 8]])
    ke, le = keras.layers.Embedding(10, 3, mask_zero=True), L.Embedding(10, 3, mask_zero=True)
    kr, lr = make(keras.layers), make(L)
    kr(ke(tokens))
    lr(le(tokens))
    le.set_weights(ke.get_weights())
    weights = [RNG.standard_normal(tuple(w.shape)).astype(np.float32) * 0.5 for w in kr.weights]
    kr.set_weights(weights)
    lr.set_weights(weights)
    np.testing.assert_allclose(lr(le(tokens)).numpy(), keras.ops.convert_to_numpy(kr(ke(tokens))), rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("kwargs", [
    dict(num_heads=2, key_dim=4),
    dict(num_heads=3, key_dim=4, value_dim=2, output_shape=5),
    dict(num_heads=2, key_dim=3, use_bias=False),
    dict(num_heads=2, key_dim=4, use_gate=True),
])
@pytest.mark.parametrize("call_kwargs", [dict(), dict(attention_mask=AM), dict(return_attention_scores=True)])
def test_multi_head_attention_parity(kwargs, call_kwargs):
    check(lambda m: m.MultiHeadAttention(**kwargs), (Q, V), call_kwargs)


@pytest.mark.parametrize("kwargs,call_kwargs", [
    (dict(), dict(use_causal_mask=True)),
    (dict(sliding_window=2), dict(use_causal_mask=True)),
    (dict(sliding_window=3), dict(return_attention_scores=True)),
])
def test_self_attention_parity(kwargs, call_kwargs):
    check(lambda m: m.MultiHeadAttention(2, 4, **kwargs), (Q, Q), call_kwargs)


@pytest.mark.parametrize("make", [
    lambda m: m.Attention(),
    lambda m: m.Attention(use_scale=True, score_mode="concat"),
    lambda m: m.AdditiveAttention(),
])
@pytest.mark.parametrize("call_kwargs", [dict(), dict(return_attention_scores=True), dict(use_causal_mask=True)])
def test_attention_parity(make, call_kwargs):
    check(make, ([Q, RNG.standard_normal((2, 7, 8)).astype(np.float32)],), call_kwargs)
