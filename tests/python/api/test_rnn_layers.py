"""Recurrent layers (SimpleRNN, LSTM, GRU, RNN, Bidirectional,
TimeDistributed) against Keras's parameter counts, weight layouts and
configs, and against a NumPy step-by-step reference in float64 with given
weights: masks, go_backwards, return_state, initial and stateful states,
dropout, the fused op and the step-by-step fallback."""

import numpy as np
import pytest

import lamina
from lamina import layers, ops


def to_np(t):
    return np.array(t.numpy(), copy=True)


@pytest.fixture
def rng():
    return np.random.default_rng(11)


def sig(x):
    return 1 / (1 + np.exp(-x))


ACT = {
    "tanh": np.tanh,
    "sigmoid": sig,
    "relu": lambda x: np.maximum(x, 0),
    "hard_sigmoid": lambda x: np.clip(x / 6 + 0.5, 0, 1),
}


def np_rnn(kind, x, weights, mask=None, back=False, h0=None, c0=None, act="tanh", rec_act="sigmoid",
           reset_after=True, zero_output_for_mask=False):
    """Keras's recurrence with Keras's weight layouts. Returns (outputs in
    processing order, last output, final states)."""
    f, g = ACT[act], ACT[rec_act]
    W, U = weights[0], weights[1]
    b = weights[2] if len(weights) > 2 else None
    B, T, _ = x.shape
    n = U.shape[0]
    h = np.zeros((B, n)) if h0 is None else h0.copy()
    c = np.zeros((B, n)) if c0 is None else c0.copy()
    prev = np.zeros((B, n))
    outs = []
    for s in range(T):
        t = T - 1 - s if back else s
        xt = x[:, t]
        if kind == "simple_rnn":
            hn = f(xt @ W + (0 if b is None else b) + h @ U)
            cn = c
        elif kind == "lstm":
            z = xt @ W + h @ U + (0 if b is None else b)
            i, fg, cc, o = (z[:, k * n:(k + 1) * n] for k in range(4))
            cn = g(fg) * c + g(i) * f(cc)
            hn = g(o) * f(cn)
        else:
            if b is None:
                ib = rb = 0
            elif reset_after:
                ib, rb = b[0], b[1]
            else:
                ib, rb = b, np.zeros(3 * n)
            xw = xt @ W + ib
            if reset_after:
                rec = h @ U + rb
                z_ = g(xw[:, :n] + rec[:, :n])
                r = g(xw[:, n:2 * n] + rec[:, n:2 * n])
                hh = f(xw[:, 2 * n:] + r * rec[:, 2 * n:])
            else:
                z_ = g(xw[:, :n] + h @ U[:, :n])
                r = g(xw[:, n:2 * n] + h @ U[:, n:2 * n])
                hh = f(xw[:, 2 * n:] + (r * h) @ U[:, 2 * n:])
            hn = z_ * h + (1 - z_) * hh
            cn = c
        if mask is not None:
            m = mask[:, t][:, None].astype(bool)
            out = np.where(m, hn, 0.0 if zero_output_for_mask else prev)
            h, c = np.where(m, hn, h), np.where(m, cn, c)
        else:
            out, h, c = hn, hn, cn
        prev = out
        outs.append(out)
    states = [h, c] if kind == "lstm" else [h]
    return np.stack(outs, 1), outs[-1], states


LAYERS = {"simple_rnn": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}


def make(kind, units, features, rng, reset_after=True, **kwargs):
    if kind == "gru":
        kwargs["reset_after"] = reset_after
    layer = LAYERS[kind](units, dtype="float64", **kwargs)
    layer.build((None, None, features))
    layer.set_weights([rng.standard_normal(w.shape) * 0.5 for w in layer.weights])
    return layer


# ---- parameter counts, weights, configs -----------------------------------------------


def test_param_counts_and_weight_layout_match_keras():
    lstm = layers.LSTM(128)
    lstm.build((None, 10, 128))
    assert lstm.count_params() == 131584
    assert [(w.name, w.shape) for w in lstm.weights] == [
        ("kernel", (128, 512)), ("recurrent_kernel", (128, 512)), ("bias", (512,))]
    assert [w.path for w in lstm.weights] == ["lstm/lstm_cell/kernel", "lstm/lstm_cell/recurrent_kernel",
                                              "lstm/lstm_cell/bias"]
    assert lstm.weights[0] is lstm.cell.kernel
    gru = layers.GRU(128)
    gru.build((None, 10, 128))
    assert gru.count_params() == 99072
    assert gru.cell.bias.shape == (2, 384)
    gru2 = layers.GRU(128, reset_after=False)
    gru2.build((None, 10, 128))
    assert gru2.count_params() == 98688 and gru2.cell.bias.shape == (384,)
    rnn = layers.SimpleRNN(32)
    rnn.build((None, 5, 10))
    assert rnn.count_params() == 32 * 10 + 32 * 32 + 32
    nob = layers.LSTM(4, use_bias=False)
    nob.build((None, 5, 3))
    assert [w.name for w in nob.weights] == ["kernel", "recurrent_kernel"]


def test_initializers():
    lstm = layers.LSTM(6)
    lstm.build((None, 3, 5))
    b = to_np(lstm.cell.bias)
    np.testing.assert_array_equal(b, np.r_[np.zeros(6), np.ones(6), np.zeros(12)])
    rk = to_np(lstm.cell.recurrent_kernel)
    # Orthogonal recurrent kernel: orthonormal rows.
    np.testing.assert_allclose(rk @ rk.T, np.eye(6), atol=1e-5)
    no_ufb = layers.LSTM(6, unit_forget_bias=False)
    no_ufb.build((None, 3, 5))
    assert not to_np(no_ufb.cell.bias).any()


@pytest.mark.parametrize(
    "factory",
    [
        lambda: layers.LSTM(5, return_sequences=True, go_backwards=True, dropout=0.1, seed=3,
                            kernel_regularizer="l2", recurrent_activation="hard_sigmoid"),
        lambda: layers.GRU(5, reset_after=False, return_state=True, unroll=True, recurrent_dropout=0.2),
        lambda: layers.SimpleRNN(5, activation="relu", use_bias=False, stateful=True),
        lambda: layers.RNN(layers.LSTMCell(5), return_sequences=True),
        lambda: layers.Bidirectional(layers.LSTM(5, return_sequences=True), merge_mode="sum"),
        lambda: layers.Bidirectional(layers.GRU(5), backward_layer=layers.GRU(5, go_backwards=True,
                                                                             activation="relu")),
        lambda: layers.TimeDistributed(layers.Dense(3, activation="relu")),
    ],
)
def test_config_round_trip(rng, factory):
    layer = factory()
    x = rng.standard_normal((2, 4, 3)).astype(np.float32)
    y = layer(x)
    y = y[0] if isinstance(y, tuple) else y
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    clone.build((2, 4, 3))
    clone.set_weights(layer.get_weights())
    if getattr(layer, "stateful", False):
        layer.reset_states()
    y = layer(x)
    y2 = clone(x)
    y, y2 = (y[0], y2[0]) if isinstance(y, tuple) else (y, y2)
    np.testing.assert_allclose(to_np(y2), to_np(y), rtol=1e-6, atol=1e-6)


def test_config_values_match_keras():
    c = layers.LSTM(7).get_config()
    for k, v in dict(units=7, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                     unit_forget_bias=True, dropout=0.0, recurrent_dropout=0.0, return_sequences=False,
                     return_state=False, go_backwards=False, stateful=False, unroll=False, seed=None).items():
        assert c[k] == v, k
    assert "cell" not in c
    assert c["recurrent_initializer"]["class_name"] == "Orthogonal"
    assert layers.GRU(3).get_config()["reset_after"] is True


# ---- numerics ------------------------------------------------------------------


CELL_CASES = [("simple_rnn", True), ("lstm", True), ("gru", True), ("gru", False)]


@pytest.mark.parametrize("kind,ra", CELL_CASES)
@pytest.mark.parametrize("back", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_layer_matches_numpy(rng, kind, ra, back, masked):
    B, T, F, U = 3, 6, 4, 5
    x = rng.standard_normal((B, T, F))
    layer = make(kind, U, F, rng, ra, return_sequences=True, return_state=True, go_backwards=back)
    mask = None
    if masked:
        mask = np.ones((B, T), bool)
        mask[0, 4:] = False
        mask[1, :2] = False
    out = layer(x, mask=mask)
    ref_seq, ref_last, ref_states = np_rnn(kind, x, layer.get_weights(), mask, back, reset_after=ra)
    assert len(out) == 1 + len(ref_states)
    np.testing.assert_allclose(to_np(out[0]), ref_seq, rtol=1e-10, atol=1e-12)
    for got, want in zip(out[1:], ref_states):
        np.testing.assert_allclose(to_np(got), want, rtol=1e-10, atol=1e-12)
    last = LAYERS[kind](U, dtype="float64", go_backwards=back, **({"reset_after": ra} if kind == "gru" else {}))
    last.build((None, T, F))
    last.set_weights(layer.get_weights())
    np.testing.assert_allclose(to_np(last(x, mask=mask)), ref_last, rtol=1e-10, atol=1e-12)


class LoopLSTMCell(layers.LSTMCell):
    """Overrides call: the RNN layer must run it step by step."""

    def call(self, inputs, states, training=False):
        return super().call(inputs, states, training=training)


class LoopGRUCell(layers.GRUCell):
    def call(self, inputs, states, training=False):
        return super().call(inputs, states, training=training)


@pytest.mark.parametrize("cell_cls,kind,kwargs", [
    (LoopLSTMCell, "lstm", {}),
    (LoopGRUCell, "gru", {"reset_after": True}),
    (LoopGRUCell, "gru", {"reset_after": False}),
    (layers.SimpleRNNCell, "simple_rnn", {"activation": "relu"}),
    (layers.LSTMCell, "lstm", {"activation": "relu", "recurrent_activation": "hard_sigmoid"}),
])
@pytest.mark.parametrize("back", [False, True])
def test_step_loop_fallback_matches_numpy(rng, cell_cls, kind, kwargs, back):
    B, T, F, U = 2, 5, 3, 4
    x = rng.standard_normal((B, T, F))
    cell = cell_cls(U, dtype="float64", **kwargs)
    layer = layers.RNN(cell, return_sequences=True, return_state=True, go_backwards=back, dtype="float64")
    layer.build((None, T, F))
    assert cell._fused_rnn_spec(False) is None
    layer.set_weights([rng.standard_normal(w.shape) * 0.5 for w in layer.weights])
    mask = np.ones((B, T), bool)
    mask[0, 3:] = False
    mask[1, 0] = False
    h0 = [rng.standard_normal((B, U)) for _ in range(2 if kind == "lstm" else 1)]
    act = kwargs.get("activation", "tanh")
    rec = kwargs.get("recurrent_activation", "sigmoid")
    ref_seq, _, ref_states = np_rnn(kind, x, layer.get_weights(), mask, back, h0[0],
                                    h0[1] if kind == "lstm" else None, act, rec, kwargs.get("reset_after", True))
    out = layer(x, initial_state=h0, mask=mask)
    np.testing.assert_allclose(to_np(out[0]), ref_seq, rtol=1e-10, atol=1e-12)
    for got, want in zip(out[1:], ref_states):
        np.testing.assert_allclose(to_np(got), want, rtol=1e-10, atol=1e-12)


def test_fused_and_loop_paths_agree(rng):
    x = rng.standard_normal((3, 7, 4))
    a = make("lstm", 5, 4, rng, return_sequences=True)
    b = layers.RNN(LoopLSTMCell(5, dtype="float64"), return_sequences=True, dtype="float64")
    b.build((None, 7, 4))
    b.set_weights(a.get_weights())
    np.testing.assert_allclose(to_np(b(x)), to_np(a(x)), rtol=1e-11, atol=1e-13)


def test_initial_state_and_return_state(rng):
    B, T, F, U = 2, 4, 3, 5
    x = rng.standard_normal((B, T, F))
    lstm = make("lstm", U, F, rng, return_state=True)
    h0, c0 = rng.standard_normal((B, U)), rng.standard_normal((B, U))
    out, h, c = lstm(x, initial_state=[h0, c0])
    _, last, (rh, rc) = np_rnn("lstm", x, lstm.get_weights(), h0=h0, c0=c0)
    np.testing.assert_allclose(to_np(out), last, rtol=1e-10)
    np.testing.assert_allclose(to_np(h), rh, rtol=1e-10)
    np.testing.assert_allclose(to_np(c), rc, rtol=1e-10)
    gru = make("gru", U, F, rng, return_state=True)
    out, h = gru(x, initial_state=h0)
    np.testing.assert_allclose(to_np(h), np_rnn("gru", x, gru.get_weights(), h0=h0)[2][0], rtol=1e-10)
    assert lstm.compute_output_shape((B, T, F)) == ((B, U), (B, U), (B, U))
    seq = layers.GRU(U, return_sequences=True, return_state=True)
    assert seq.compute_output_shape((None, T, F)) == ((None, T, U), (None, U))


def test_go_backwards_returns_reversed_sequence(rng):
    x = rng.standard_normal((2, 5, 3))
    fwd = make("simple_rnn", 4, 3, rng, return_sequences=True)
    bwd = layers.SimpleRNN(4, return_sequences=True, go_backwards=True, dtype="float64")
    bwd.build((None, 5, 3))
    bwd.set_weights(fwd.get_weights())
    # Processing x backwards == processing the reversed x forwards; outputs in processing order.
    np.testing.assert_allclose(to_np(bwd(x)), to_np(fwd(x[:, ::-1])), rtol=1e-12)


def test_masks_from_embedding_and_masking(rng):
    emb = layers.Embedding(20, 6, mask_zero=True, dtype="float64")
    lstm = layers.LSTM(5, return_sequences=True, dtype="float64")
    last = layers.LSTM(5, dtype="float64")
    tokens = np.array([[3, 7, 2, 0, 0], [4, 1, 9, 5, 8]])
    e = emb(tokens)
    seq = lstm(e)
    last.build((None, 5, 6))
    last.set_weights(lstm.get_weights())
    # The padded sample gives the same final output as its unpadded prefix.
    full = to_np(last(e))
    prefix = to_np(last(to_np(e)[:1, :3]))
    np.testing.assert_allclose(full[0], prefix[0], rtol=1e-12)
    assert not np.allclose(full[0], to_np(last(to_np(e)[:1]))[0])
    # Masked steps repeat the previous output; the mask propagates with return_sequences.
    s = to_np(seq)
    np.testing.assert_allclose(s[0, 3], s[0, 2])
    np.testing.assert_allclose(s[0, 4], s[0, 2])
    np.testing.assert_array_equal(to_np(seq._keras_mask), tokens != 0)
    assert getattr(last(e), "_keras_mask", None) is None
    # Masking layer: all-zero timesteps are skipped.
    xs = rng.standard_normal((2, 5, 3))
    xs[1, 3:] = 0.0
    masked = layers.Masking(dtype="float64")(xs)
    gru = layers.GRU(4, dtype="float64")
    np.testing.assert_allclose(to_np(gru(masked))[1], to_np(gru(xs[1:2, :3]))[0], rtol=1e-10)


def test_stateful_keeps_states_between_calls(rng):
    B, T, F, U = 2, 6, 3, 4
    x = rng.standard_normal((B, T, F))
    whole = make("lstm", U, F, rng)
    st = layers.LSTM(U, stateful=True, dtype="float64")
    st.build((B, T, F))
    st.set_weights(whole.get_weights())
    assert len(st.weights) == 3  # the kept states are not weights (as Keras)
    st(x[:, :3])
    y2 = st(x[:, 3:])
    np.testing.assert_allclose(to_np(y2), to_np(whole(x)), rtol=1e-10)
    st.reset_states()
    np.testing.assert_allclose(to_np(st(x[:, :3])), to_np(whole(x[:, :3])), rtol=1e-10)
    np.testing.assert_allclose(to_np(st.states[0]), to_np(whole(x[:, :3])), rtol=1e-10)
    st.reset_state()
    assert not to_np(st.states[0]).any() and not to_np(st.states[1]).any()
    with pytest.raises(ValueError, match="batch of 2 but was called on a batch of 3"):
        st(rng.standard_normal((3, 2, F)))
    # Gradients still flow with stateful states (the kept values are copies).
    xt = lamina.tensor(x[:, :3], requires_grad=True)
    ops.sum(st(xt)).backward()
    ops.sum(st(xt)).backward()
    assert xt.grad is not None


def test_dropout(rng):
    B, T, U = 3, 6, 4
    x = np.ones((B, T, U))
    rnn = layers.SimpleRNN(U, dropout=0.5, return_sequences=True, seed=1, dtype="float64")
    rnn.build((None, T, U))
    rnn.set_weights([np.eye(U), np.zeros((U, U)), np.zeros(U)])
    y = to_np(rnn(x, training=True))
    # One input mask per sequence: every timestep sees the same mask.
    for t in range(1, T):
        np.testing.assert_array_equal(y[:, t], y[:, 0])
    assert set(np.round(np.unique(y), 6)) <= {0.0, round(np.tanh(2.0), 6)}
    np.testing.assert_allclose(to_np(rnn(x)), np.tanh(x))  # inference: no dropout
    # Same seed, same weights: same masks.
    twin = layers.SimpleRNN(U, dropout=0.5, return_sequences=True, seed=1, dtype="float64")
    twin.build((None, T, U))
    twin.set_weights(rnn.get_weights())
    rnn2 = layers.SimpleRNN(U, dropout=0.5, return_sequences=True, seed=1, dtype="float64")
    rnn2.build((None, T, U))
    rnn2.set_weights(rnn.get_weights())
    np.testing.assert_array_equal(to_np(twin(x, training=True)), to_np(rnn2(x, training=True)))
    # Recurrent dropout runs the step loop while training, the fused op otherwise.
    for kind in ("lstm", "gru", "simple_rnn"):
        layer = make(kind, U, U, rng, recurrent_dropout=0.3, dropout=0.2, return_sequences=True)
        assert layer.cell._fused_rnn_spec(True) is None and layer.cell._fused_rnn_spec(False) is not None
        yt = to_np(layer(x, training=True))
        assert np.isfinite(yt).all()
        np.testing.assert_allclose(to_np(layer(x)), np_rnn(kind, x, layer.get_weights())[0], rtol=1e-10)


@pytest.mark.parametrize("factory", [
    lambda: layers.LSTM(4, return_sequences=True),
    lambda: layers.GRU(4),
    lambda: layers.GRU(4, reset_after=False),
    lambda: layers.SimpleRNN(4, return_state=True),
    lambda: layers.LSTM(4, activation="relu"),
    lambda: layers.GRU(4, recurrent_dropout=0.3),
    lambda: layers.Bidirectional(layers.LSTM(4, return_sequences=True)),
    lambda: layers.TimeDistributed(layers.Dense(3)),
])
def test_gradients_reach_every_weight(rng, factory):
    layer = factory()
    x = rng.standard_normal((2, 5, 3)).astype(np.float32)
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    kwargs = {"mask": mask} if not isinstance(layer, layers.TimeDistributed) else {}
    y = layer(x, training=True, **kwargs)
    y = y[0] if isinstance(y, tuple) else y
    ops.sum(ops.square(y)).backward()
    assert layer.trainable_weights
    for w in layer.trainable_weights:
        assert w.grad is not None, w.path
        assert np.abs(to_np(w.grad)).sum() > 0, w.path


def test_gradients_match_finite_differences(rng):
    x = rng.standard_normal((2, 4, 3))
    layer = make("gru", 3, 3, rng, return_sequences=True)
    w0 = layer.get_weights()
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], bool)
    ops.sum(layer(x, mask=mask) ** 2).backward()
    grads = [to_np(w.grad) for w in layer.trainable_weights]

    def loss(ws):
        layer.set_weights(ws)
        return float(np.sum(to_np(layer(x, mask=mask)) ** 2))

    eps = 1e-6
    for i, g in enumerate(grads):
        for idx in [tuple(rng.integers(0, s) for s in g.shape) for _ in range(4)]:
            plus = [w.copy() for w in w0]
            minus = [w.copy() for w in w0]
            plus[i][idx] += eps
            minus[i][idx] -= eps
            np.testing.assert_allclose(g[idx], (loss(plus) - loss(minus)) / (2 * eps), rtol=1e-5, atol=1e-8)


# ---- Bidirectional and TimeDistributed --------------------------------------------


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_matches_numpy(rng, merge_mode, return_sequences):
    B, T, F, U = 2, 5, 3, 4
    x = rng.standard_normal((B, T, F))
    mask = np.ones((B, T), bool)
    mask[0, 3:] = False
    bi = layers.Bidirectional(layers.LSTM(U, return_sequences=return_sequences, dtype="float64"),
                              merge_mode=merge_mode, dtype="float64")
    bi.build((None, T, F))
    assert bi.count_params() == 2 * (4 * (F * U + U * U + U))
    assert [w.path for w in bi.weights][:1] == ["bidirectional/forward_lstm/lstm_cell/kernel"]
    assert bi.weights[3].path == "bidirectional/backward_lstm/lstm_cell/kernel"
    ws = [rng.standard_normal(w.shape) * 0.5 for w in bi.weights]
    bi.set_weights(ws)
    out = bi(x, mask=mask)
    zero = return_sequences
    fs, fl, _ = np_rnn("lstm", x, ws[:3], mask, zero_output_for_mask=zero)
    bs, bl, _ = np_rnn("lstm", x, ws[3:], mask, back=True, zero_output_for_mask=zero)
    f, b = (fs, bs[:, ::-1]) if return_sequences else (fl, bl)
    want = {"concat": lambda: np.concatenate([f, b], -1), "sum": lambda: f + b, "mul": lambda: f * b,
            "ave": lambda: (f + b) / 2, None: lambda: (f, b)}[merge_mode]()
    if merge_mode is None:
        np.testing.assert_allclose(to_np(out[0]), want[0], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(to_np(out[1]), want[1], rtol=1e-10, atol=1e-12)
    else:
        np.testing.assert_allclose(to_np(out), want, rtol=1e-10, atol=1e-12)
        assert tuple(out.shape) == bi.compute_output_shape((B, T, F))
    if return_sequences and merge_mode == "concat":
        assert not to_np(out)[0, 3:].any()  # masked steps are zero in both directions


def test_bidirectional_states_and_backward_layer(rng):
    x = rng.standard_normal((2, 4, 3)).astype(np.float32)
    bi = layers.Bidirectional(layers.GRU(4, return_state=True))
    out = bi(x)
    assert len(out) == 3 and tuple(out[0].shape) == (2, 8) and tuple(out[2].shape) == (2, 4)
    assert bi.compute_output_shape((2, 4, 3)) == ((2, 8), (2, 4), (2, 4))
    h0 = [np.zeros((2, 4), np.float32), np.ones((2, 4), np.float32)]
    out2 = bi(x, initial_state=h0)
    np.testing.assert_allclose(to_np(out2[0])[:, :4], to_np(out[0])[:, :4], rtol=1e-6)
    assert not np.allclose(to_np(out2[0])[:, 4:], to_np(out[0])[:, 4:])
    with pytest.raises(ValueError, match="go_backwards"):
        layers.Bidirectional(layers.LSTM(3), backward_layer=layers.LSTM(3))
    with pytest.raises(ValueError, match="return_sequences"):
        layers.Bidirectional(layers.LSTM(3), backward_layer=layers.LSTM(3, go_backwards=True, return_sequences=True))
    with pytest.raises(ValueError, match="merge mode"):
        layers.Bidirectional(layers.LSTM(3), merge_mode="max")
    sym = layers.Bidirectional(layers.LSTM(3, return_sequences=True))(layers.Input((None, 5)))
    assert tuple(sym.shape) == (None, None, 6)


def test_time_distributed(rng):
    x = rng.standard_normal((3, 4, 5))
    td = layers.TimeDistributed(layers.Dense(2, dtype="float64"), dtype="float64")
    y = to_np(td(x))
    k, b = td.get_weights()
    assert k.shape == (5, 2)
    assert td.weights[0].path == f"{td.name}/{td.layer.name}/kernel"
    np.testing.assert_allclose(y, x @ k + b, rtol=1e-12)
    assert td.compute_output_shape((None, 4, 5)) == (None, 4, 2)
    assert tuple(layers.TimeDistributed(layers.Dense(2))(layers.Input((4, 5))).shape) == (None, 4, 2)
    conv = layers.TimeDistributed(layers.Conv2D(3, 2))
    img = rng.standard_normal((2, 4, 6, 6, 1)).astype(np.float32)
    out = conv(img)
    assert tuple(out.shape) == (2, 4, 5, 5, 3) == conv.compute_output_shape((2, 4, 6, 6, 1))
    np.testing.assert_allclose(to_np(out)[:, 2], to_np(conv.layer(img[:, 2])), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="rank >= 3"):
        layers.TimeDistributed(layers.Dense(2))(np.zeros((2, 3), np.float32))


# ---- shapes, symbolic calls, errors ---------------------------------------------------


@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru"])
@pytest.mark.parametrize("rs,st", [(False, False), (True, False), (False, True), (True, True)])
def test_output_shapes(kind, rs, st):
    layer = LAYERS[kind](6, return_sequences=rs, return_state=st)
    x = np.zeros((2, 5, 3), np.float32)
    out = layer(x)
    expected = layer.compute_output_shape((2, 5, 3))
    if st:
        assert isinstance(out, tuple) and len(out) == len(expected) == (3 if kind == "lstm" else 2)
        assert [tuple(o.shape) for o in out] == [tuple(e) for e in expected]
    else:
        assert tuple(out.shape) == expected == ((2, 5, 6) if rs else (2, 6))
    sym = layer(layers.Input((None, 3)))
    sym = sym[0] if st else sym
    assert tuple(sym.shape) == ((None, None, 6) if rs else (None, 6))


def test_errors_name_the_layer_and_shapes(rng):
    lstm = layers.LSTM(4, name="my_lstm")
    with pytest.raises(ValueError, match=r"my_lstm.*ndim=3.*\(2, 5\)"):
        lstm(np.zeros((2, 5), np.float32))
    with pytest.raises(ValueError, match=r"my_lstm.*mask has shape \(2, 4\).*\(2, 5\)"):
        lstm(np.zeros((2, 5, 3), np.float32), mask=np.ones((2, 4), bool))
    with pytest.raises(ValueError, match=r"my_lstm.*2 initial state"):
        lstm(np.zeros((2, 5, 3), np.float32), initial_state=[np.zeros((2, 4), np.float32)])
    with pytest.raises(ValueError, match=r"my_lstm.*initial state has shape \(2, 3\), expected \(2, 4\)"):
        lstm(np.zeros((2, 5, 3), np.float32), initial_state=[np.zeros((2, 3), np.float32)] * 2)
    with pytest.raises(ValueError, match="units"):
        layers.GRU(0)
    with pytest.raises(ValueError, match="batch size must be static"):
        layers.LSTM(3, stateful=True)(layers.Input((4, 3)))
    with pytest.raises(ValueError, match="All cells must have a `state_size` attribute"):
        layers.RNN([layers.LSTMCell(2), layers.Dense(2)])
    with pytest.raises(AttributeError, match="not stateful"):
        layers.LSTM(3).reset_states()


@pytest.mark.parametrize("rnn_cls", [layers.LSTM, layers.GRU, layers.SimpleRNN])
def test_small_fit_lowers_loss(rng, rnn_cls):
    if not hasattr(lamina, "Sequential"):
        pytest.skip("lamina.Sequential (Model/compile/fit) is not available yet")
    x = rng.standard_normal((64, 6, 3)).astype(np.float32)
    y = x[:, :, 0].mean(1, keepdims=True).astype(np.float32)
    model = lamina.Sequential([layers.Input((6, 3)), rnn_cls(8), layers.Dense(1)])
    model.compile(optimizer=lamina.optimizers.Adam(learning_rate=0.02), loss="mse")
    hist = model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < 0.2 * hist.history["loss"][0]
