"""MultiHeadAttention, Attention and AdditiveAttention against Keras's
parameter counts, weight names/layouts and configs, and against NumPy
einsum references in float64 (masks, causal masks, scores, dropout)."""

import numpy as np
import pytest

import lamina
from lamina import layers, ops


def to_np(t):
    return np.array(t.numpy(), copy=True)


@pytest.fixture
def rng():
    return np.random.default_rng(5)


def softmax(s):
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def np_mha(query, value, key, ws, key_dim, mask=None, causal=False):
    """Keras's MultiHeadAttention on rank-3 inputs; ws in Keras's order."""
    Wq, bq, Wk, bk, Wv, bv, Wo, bo = ws
    q = np.einsum("btd,dnh->btnh", query, Wq) + bq
    k = np.einsum("bsd,dnh->bsnh", key, Wk) + bk
    v = np.einsum("bsd,dnh->bsnh", value, Wv) + bv
    s = np.einsum("btnh,bsnh->bnts", q / np.sqrt(key_dim), k)
    keep = np.ones(s.shape, bool)
    if mask is not None:
        keep &= mask[:, None]
    if causal:
        keep &= np.tril(np.ones(s.shape[-2:], bool))
    p = softmax(np.where(keep, s, -1e9))
    o = np.einsum("bnts,bsnh->btnh", p, v)
    return np.einsum("btnh,nhe->bte", o, Wo) + bo, p


def make_mha(rng, q_shape, v_shape, k_shape=None, **kwargs):
    mha = layers.MultiHeadAttention(dtype="float64", **kwargs)
    mha.build(q_shape, v_shape, k_shape)
    mha.set_weights([rng.standard_normal(w.shape) * 0.3 for w in mha.weights])
    return mha


# ---- MultiHeadAttention ------------------------------------------------------------


def test_mha_param_count_and_weight_layout_match_keras():
    mha = layers.MultiHeadAttention(num_heads=4, key_dim=32)
    x = np.zeros((2, 7, 128), np.float32)
    assert tuple(mha(x, x).shape) == (2, 7, 128)
    assert mha.count_params() == 66048
    assert [(w.path, w.shape) for w in mha.weights] == [
        ("multi_head_attention/query/kernel", (128, 4, 32)),
        ("multi_head_attention/query/bias", (4, 32)),
        ("multi_head_attention/key/kernel", (128, 4, 32)),
        ("multi_head_attention/key/bias", (4, 32)),
        ("multi_head_attention/value/kernel", (128, 4, 32)),
        ("multi_head_attention/value/bias", (4, 32)),
        ("multi_head_attention/attention_output/kernel", (4, 32, 128)),
        ("multi_head_attention/attention_output/bias", (128,)),
    ]
    other = layers.MultiHeadAttention(2, 8, value_dim=5, use_bias=False, output_shape=(3, 4))
    other.build((None, 6, 10), (None, 9, 12), (None, 9, 11))
    assert [w.shape for w in other.weights] == [(10, 2, 8), (11, 2, 8), (12, 2, 5), (2, 5, 3, 4)]
    assert other.compute_output_shape((None, 6, 10), (None, 9, 12)) == (None, 6, 3, 4)


@pytest.mark.parametrize("value_dim", [None, 6])
@pytest.mark.parametrize("masked,causal", [(False, False), (True, False), (False, True), (True, True)])
def test_mha_matches_numpy(rng, value_dim, masked, causal):
    B, T, S, D, E = 2, 5, 7, 6, 4
    query = rng.standard_normal((B, T, D))
    value = rng.standard_normal((B, S, E))
    key = rng.standard_normal((B, S, D + 1))
    mha = make_mha(rng, query.shape, value.shape, key.shape, num_heads=3, key_dim=4, value_dim=value_dim)
    mask = None
    if masked:
        mask = rng.random((B, T, S)) < 0.7
        mask[..., 0] = True  # no fully masked row
    if causal:
        S = T
        value, key = value[:, :T], key[:, :T]
        mask = None if mask is None else mask[:, :, :T]
    want, want_p = np_mha(query, value, key, mha.get_weights(), 4, mask, causal)
    out = mha(query, value, key=key, attention_mask=mask, use_causal_mask=causal)
    np.testing.assert_allclose(to_np(out), want, rtol=1e-10, atol=1e-12)
    out2, scores = mha(query, value, key, attention_mask=mask, use_causal_mask=causal, return_attention_scores=True)
    np.testing.assert_allclose(to_np(out2), want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(to_np(scores), want_p, rtol=1e-10, atol=1e-12)
    assert tuple(scores.shape) == (B, 3, T, S)


def test_mha_keras_masks_and_self_attention(rng):
    emb = layers.Embedding(10, 8, mask_zero=True, dtype="float64")
    tokens = np.array([[1, 2, 3, 0, 0], [4, 5, 6, 7, 8]])
    x = emb(tokens)
    mha = make_mha(rng, (2, 5, 8), (2, 5, 8), num_heads=2, key_dim=4)
    out = mha(x, x)
    m = tokens != 0
    want, _ = np_mha(to_np(x), to_np(x), to_np(x), mha.get_weights(), 4, m[:, :, None] & m[:, None, :])
    got = to_np(out)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-10)
    np.testing.assert_allclose(got[0, :3], want[0, :3], rtol=1e-10)
    np.testing.assert_array_equal(to_np(out._keras_mask), m)  # the query's mask carries over
    # Padded keys do not change the unpadded queries.
    x2 = to_np(x).copy()
    x2[0, 3:] = 100.0
    from lamina.backend.common import set_keras_mask

    xt = set_keras_mask(lamina.tensor(x2), ops.convert_to_tensor(m))
    np.testing.assert_allclose(to_np(mha(xt, xt))[0, :3], got[0, :3], rtol=1e-10)


def test_mha_rank4_attends_over_all_middle_axes(rng):
    B, H, W, C = 2, 3, 4, 5
    x = rng.standard_normal((B, H, W, C))
    mha = make_mha(rng, x.shape, x.shape, num_heads=2, key_dim=3)
    out, scores = mha(x, x, return_attention_scores=True)
    assert tuple(out.shape) == x.shape and tuple(scores.shape) == (B, 2, H, W, H, W)
    flat = x.reshape(B, H * W, C)
    want, want_p = np_mha(flat, flat, flat, mha.get_weights(), 3)
    np.testing.assert_allclose(to_np(out), want.reshape(x.shape), rtol=1e-10)
    np.testing.assert_allclose(to_np(scores), want_p.reshape(B, 2, H, W, H, W), rtol=1e-10)
    with pytest.raises(NotImplementedError, match="attention_axes"):
        layers.MultiHeadAttention(2, 3, attention_axes=(2,))(x, x)
    ok = layers.MultiHeadAttention(2, 3, attention_axes=(1, 2))
    assert tuple(ok(x.astype(np.float32), x.astype(np.float32)).shape) == x.shape


def test_mha_dropout(rng):
    x = rng.standard_normal((2, 6, 8))
    mha = make_mha(rng, x.shape, x.shape, num_heads=2, key_dim=4, dropout=0.5, seed=3)
    base = to_np(mha(x, x))
    np.testing.assert_allclose(base, np_mha(x, x, x, mha.get_weights(), 4)[0], rtol=1e-10)
    a = to_np(mha(x, x, training=True))
    b = to_np(mha(x, x, training=True))
    assert not np.allclose(a, base) and not np.allclose(a, b)
    # Explicit path: the returned scores are before dropout and sum to one.
    _, scores = mha(x, x, training=True, return_attention_scores=True)
    np.testing.assert_allclose(to_np(scores).sum(-1), 1.0, rtol=1e-10)
    twin = make_mha(np.random.default_rng(0), x.shape, x.shape, num_heads=2, key_dim=4, dropout=0.5, seed=3)
    twin2 = make_mha(np.random.default_rng(0), x.shape, x.shape, num_heads=2, key_dim=4, dropout=0.5, seed=3)
    np.testing.assert_array_equal(to_np(twin(x, x, training=True)), to_np(twin2(x, x, training=True)))


@pytest.mark.parametrize("kwargs", [dict(), dict(value_dim=3), dict(use_bias=False)])
@pytest.mark.parametrize("scores", [False, True])
def test_mha_gradients_reach_every_weight(rng, kwargs, scores):
    q = rng.standard_normal((2, 4, 6)).astype(np.float32)
    v = rng.standard_normal((2, 5, 6)).astype(np.float32)
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=4, **kwargs)
    out = mha(q, v, attention_mask=np.tril(np.ones((4, 5), bool))[None].repeat(2, 0), return_attention_scores=scores)
    out = out[0] if scores else out
    ops.sum(ops.square(out)).backward()
    assert len(mha.trainable_weights) == (8 if kwargs.get("use_bias", True) else 4)
    for w in mha.trainable_weights:
        assert w.grad is not None and np.abs(to_np(w.grad)).sum() > 0, w.path


def test_mha_config_round_trip(rng):
    mha = layers.MultiHeadAttention(num_heads=3, key_dim=4, value_dim=5, dropout=0.1, output_shape=7,
                                    kernel_initializer="he_normal", seed=2)
    q = rng.standard_normal((2, 4, 6)).astype(np.float32)
    y = to_np(mha(q, q))
    config = mha.get_config()
    for k, v in dict(num_heads=3, key_dim=4, value_dim=5, dropout=0.1, use_bias=True, output_shape=(7,),
                     attention_axes=None, seed=2).items():
        assert config[k] == v, k
    clone = layers.MultiHeadAttention.from_config(config)
    assert clone.get_config() == config
    clone.build(q.shape, q.shape)
    clone.set_weights(mha.get_weights())
    np.testing.assert_allclose(to_np(clone(q, q)), y, rtol=1e-6)
    assert layers.MultiHeadAttention(2, 4).get_config()["value_dim"] == 4


def test_mha_symbolic_and_errors():
    q = layers.Input((5, 8))
    v = layers.Input((7, 6))
    mha = layers.MultiHeadAttention(2, 4, name="mha_s")
    out = mha(q, v)
    assert tuple(out.shape) == (None, 5, 8)
    out, scores = mha(q, v, return_attention_scores=True)
    assert tuple(scores.shape) == (None, 2, 5, 7)
    with pytest.raises(ValueError, match=r"mha_e.*attention_mask has shape \(2, 5, 6\).*\(2, 5, 7\)"):
        layers.MultiHeadAttention(2, 4, name="mha_e")(
            np.zeros((2, 5, 8), np.float32), np.zeros((2, 7, 6), np.float32), attention_mask=np.ones((2, 5, 6), bool))
    with pytest.raises(ValueError, match="value` and `key`"):
        layers.MultiHeadAttention(2, 4)(np.zeros((2, 5, 8), np.float32), np.zeros((2, 7, 6), np.float32),
                                        np.zeros((2, 6, 6), np.float32))
    with pytest.raises(ValueError, match="num_heads"):
        layers.MultiHeadAttention(0, 4)


# ---- Attention / AdditiveAttention --------------------------------------------------


def np_attention(q, v, k, scores_fn, v_mask=None, q_mask=None, causal=False):
    s = scores_fn(q, k)
    keep = np.ones(s.shape, bool)
    if v_mask is not None:
        keep &= v_mask[:, None, :]
    if causal:
        keep &= np.tril(np.ones(s.shape[-2:], bool))
    s = s - 1e9 * (~keep)
    p = softmax(s)
    out = p @ v
    if q_mask is not None:
        out = out * q_mask[..., None]
    return out, p


@pytest.mark.parametrize("score_mode,use_scale", [("dot", False), ("dot", True), ("concat", False), ("concat", True)])
@pytest.mark.parametrize("masked,causal", [(False, False), (True, False), (True, True)])
def test_attention_matches_numpy(rng, score_mode, use_scale, masked, causal):
    B, T, S, D, E = 2, 4, 4 if causal else 6, 5, 3
    q, v, k = rng.standard_normal((B, T, D)), rng.standard_normal((B, S, E)), rng.standard_normal((B, S, D))
    layer = layers.Attention(use_scale=use_scale, score_mode=score_mode, dtype="float64")
    layer.build([q.shape, v.shape, k.shape])
    ws = [np.array(1.7), np.array(0.6)][: len(layer.weights)]
    layer.set_weights(ws)
    scale = 1.7 if use_scale else None
    csw = ws[-1] if score_mode == "concat" else None

    def scores_fn(q_, k_):
        if score_mode == "dot":
            s = q_ @ k_.transpose(0, 2, 1)
            return s * scale if scale is not None else s
        t = q_[:, :, None] + k_[:, None]
        return csw * np.tanh(t * scale if scale is not None else t).sum(-1)

    q_mask = v_mask = None
    if masked:
        q_mask = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], bool)
        v_mask = np.ones((B, S), bool)
        v_mask[0, -2:] = False
    want, want_p = np_attention(q, v, k, scores_fn, v_mask, q_mask, causal)
    out, p = layer([q, v, k], mask=None if not masked else [q_mask, v_mask], use_causal_mask=causal,
                   return_attention_scores=True)
    np.testing.assert_allclose(to_np(out), want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(to_np(p), want_p, rtol=1e-10, atol=1e-12)
    assert tuple(out.shape) == layer.compute_output_shape([q.shape, v.shape, k.shape]) == (B, T, E)


def test_additive_attention_matches_numpy(rng):
    q, v = rng.standard_normal((2, 4, 5)), rng.standard_normal((2, 6, 5))
    layer = layers.AdditiveAttention(dtype="float64")
    layer.build([q.shape, v.shape])
    assert [(w.name, w.shape) for w in layer.weights] == [("scale", (5,))]
    scale = rng.standard_normal(5)
    layer.set_weights([scale])
    want, _ = np_attention(q, v, v, lambda a, b: (np.tanh(a[:, :, None] + b[:, None]) * scale).sum(-1))
    np.testing.assert_allclose(to_np(layer([q, v])), want, rtol=1e-10)
    unscaled = layers.AdditiveAttention(use_scale=False, dtype="float64")
    want, _ = np_attention(q, v, v, lambda a, b: np.tanh(a[:, :, None] + b[:, None]).sum(-1))
    np.testing.assert_allclose(to_np(unscaled([q, v])), want, rtol=1e-10)
    assert unscaled.weights == []
    config = layer.get_config()
    assert "score_mode" not in config and config["use_scale"] is True
    assert layers.AdditiveAttention.from_config(config).get_config() == config


def test_attention_masks_from_inputs_gradients_and_config(rng):
    emb = layers.Embedding(10, 4, mask_zero=True)
    tokens = np.array([[1, 2, 0], [3, 4, 5]])
    x = emb(tokens)
    att = layers.Attention(use_scale=True, score_mode="concat")
    out = att([x, x])
    np.testing.assert_array_equal(to_np(out._keras_mask), tokens != 0)
    assert not to_np(out)[0, 2].any()  # the masked query row is zeroed
    ops.sum(ops.square(out)).backward()
    for w in att.trainable_weights:
        assert w.grad is not None, w.path
    assert [w.name for w in att.weights] == ["scale", "concat_score_weight"]
    config = att.get_config()
    assert {k: config[k] for k in ("use_scale", "score_mode", "dropout")} == {
        "use_scale": True, "score_mode": "concat", "dropout": 0.0}
    assert layers.Attention.from_config(config).get_config() == config
    sym = layers.Attention()([layers.Input((3, 4)), layers.Input((5, 6)), layers.Input((5, 4))])
    assert tuple(sym.shape) == (None, 3, 6)
    drop = layers.Attention(dropout=0.5, seed=1)
    q = rng.standard_normal((2, 3, 4)).astype(np.float32)
    assert not np.allclose(to_np(drop([q, q], training=True)), to_np(drop([q, q])))
    with pytest.raises(ValueError, match="list of inputs"):
        layers.Attention()(q)
    with pytest.raises(ValueError, match="score_mode"):
        layers.Attention(score_mode="add")
    with pytest.raises(ValueError, match=r"query dim 4 must equal key dim 3"):
        layers.Attention()([q, q[..., :3]])


def test_small_transformer_fit_lowers_loss(rng):
    if not hasattr(lamina, "Model"):
        pytest.skip("lamina.Model (compile/fit) is not available yet")
    x = rng.standard_normal((64, 6, 8)).astype(np.float32)
    y = x.mean(axis=1)[:, :1].astype(np.float32)
    inp = layers.Input((6, 8))
    h = layers.MultiHeadAttention(num_heads=2, key_dim=4)(inp, inp)
    h = layers.GlobalAveragePooling1D()(h)
    model = lamina.Model(inp, layers.Dense(1)(h))
    model.compile(optimizer=lamina.optimizers.Adam(learning_rate=0.01), loss="mse")
    hist = model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < 0.3 * hist.history["loss"][0]


def test_mha_sliding_window_and_gate(rng):
    B, T, D = 2, 6, 8
    x = rng.standard_normal((B, T, D))
    win = make_mha(rng, x.shape, x.shape, num_heads=2, key_dim=4, sliding_window=2)
    band = np.abs(np.arange(T)[:, None] - np.arange(T)[None]) < 2
    for causal in (False, True):
        want, want_p = np_mha(x, x, x, win.get_weights(), 4, np.broadcast_to(band, (B, T, T)), causal)
        np.testing.assert_allclose(to_np(win(x, x, use_causal_mask=causal)), want, rtol=1e-10)
        _, p = win(x, x, use_causal_mask=causal, return_attention_scores=True)
        np.testing.assert_allclose(to_np(p), want_p, rtol=1e-10, atol=1e-12)
    assert win.get_config()["sliding_window"] == 2
    with pytest.raises(ValueError, match="sliding_window"):
        layers.MultiHeadAttention(2, 4, sliding_window=0)

    gated = layers.MultiHeadAttention(2, 4, use_gate=True, dtype="float64")
    gated.build(x.shape, x.shape)
    assert [w.path.split("/", 1)[1] for w in gated.weights] == [
        "query/kernel", "query/bias", "key/kernel", "key/bias", "gate/kernel", "gate/bias",
        "value/kernel", "value/bias", "attention_output/kernel", "attention_output/bias"]
    ws = [rng.standard_normal(w.shape) * 0.3 for w in gated.weights]
    gated.set_weights(ws)
    Wq, bq, Wk, bk, Wg, bg, Wv, bv, Wo, bo = ws
    q = np.einsum("btd,dnh->btnh", x, Wq) + bq
    k = np.einsum("bsd,dnh->bsnh", x, Wk) + bk
    v = np.einsum("bsd,dnh->bsnh", x, Wv) + bv
    gate = 1 / (1 + np.exp(-(np.einsum("btd,dnh->btnh", x, Wg) + bg)))
    p = softmax(np.einsum("btnh,bsnh->bnts", q / 2.0, k))
    o = np.einsum("bnts,bsnh->btnh", p, v) * gate
    want = np.einsum("btnh,nhe->bte", o, Wo) + bo
    for scores in (False, True):
        out = gated(x, x, return_attention_scores=scores)
        np.testing.assert_allclose(to_np(out[0] if scores else out), want, rtol=1e-10)
    assert layers.MultiHeadAttention.from_config(gated.get_config()).use_gate
