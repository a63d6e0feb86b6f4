"""The fused recurrent op (LSTM, GRU with and without reset_after,
SimpleRNN) against a NumPy step-by-step reference in float64 with Keras's
gate orders, masks, go_backwards and initial states, plus finite-difference
gradients through time."""

import numpy as np
import pytest

from lamina import ops

from testutil import check_grad, to_np


def sig(x):
    return 1 / (1 + np.exp(-x))


def ref_rnn(cell, x, W, Uk, b=None, rb=None, h0=None, c0=None, mask=None, back=False, ra=True):
    B, T, _ = x.shape
    U = Uk.shape[0]
    h = np.zeros((B, U)) if h0 is None else h0.copy()
    c = np.zeros((B, U)) if c0 is None else c0.copy()
    prev_out = np.zeros((B, U))
    outs = []
    for s in range(T):
        t = T - 1 - s if back else s
        xw = x[:, t] @ W + (0 if b is None else b)
        if cell == "lstm":
            z = xw + h @ Uk
            i, f, g, o = sig(z[:, :U]), sig(z[:, U:2 * U]), np.tanh(z[:, 2 * U:3 * U]), sig(z[:, 3 * U:])
            cn = f * c + i * g
            hn = o * np.tanh(cn)
        elif cell == "gru":
            rec = h @ Uk + (0 if rb is None else rb)
            zg = sig(xw[:, :U] + rec[:, :U])
            r = sig(xw[:, U:2 * U] + rec[:, U:2 * U])
            if ra:
                hh = np.tanh(xw[:, 2 * U:] + r * rec[:, 2 * U:])
            else:
                hh = np.tanh(xw[:, 2 * U:] + (r * h) @ Uk[:, 2 * U:])
            hn = zg * h + (1 - zg) * hh
            cn = c
        else:
            hn = np.tanh(xw + h @ Uk)
            cn = c
        if mask is not None:
            m = mask[:, t][:, None].astype(bool)
            out = np.where(m, hn, prev_out)
            h, c = np.where(m, hn, h), np.where(m, cn, c)
        else:
            out, h, c = hn, hn, cn
        prev_out = out
        outs.append(out)
    return np.stack(outs, 1), h, c


GATES = {"lstm": 4, "gru": 3, "simple_rnn": 1}


def weights(rng, cell, I, U, ra=True):
    G = GATES[cell]
    W, Uk, b = rng.standard_normal((I, G * U)) * 0.5, rng.standard_normal((U, G * U)) * 0.5, rng.standard_normal(G * U) * 0.1
    rb = rng.standard_normal(G * U) * 0.1 if cell == "gru" and ra else None
    return W, Uk, b, rb


@pytest.mark.parametrize("cell,ra", [("lstm", True), ("gru", True), ("gru", False), ("simple_rnn", True)])
@pytest.mark.parametrize("back", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_rnn_forward_matches_reference(rng, cell, ra, back, masked):
    B, T, I, U = 3, 5, 4, 6
    x = rng.standard_normal((B, T, I))
    W, Uk, b, rb = weights(rng, cell, I, U, ra)
    h0, c0 = rng.standard_normal((B, U)), rng.standard_normal((B, U))
    mask = None
    if masked:
        mask = np.ones((B, T))
        mask[0, 3:] = 0  # trailing padding
        mask[1, :2] = 0  # leading padding: outputs zeros until the first step
    init = (h0, c0) if cell == "lstm" else h0
    seq, h, c = ops.rnn(cell, x, W, Uk, b, rb, init, mask, go_backwards=back, reset_after=ra)
    rs, rh, rc = ref_rnn(cell, x, W, Uk, b, rb, h0, c0 if cell == "lstm" else None, mask, back, ra)
    np.testing.assert_allclose(to_np(seq), rs, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(to_np(h), rh, rtol=1e-10, atol=1e-12)
    if cell == "lstm":
        np.testing.assert_allclose(to_np(c), rc, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cell,ra", [("lstm", True), ("gru", True), ("gru", False), ("simple_rnn", True)])
@pytest.mark.parametrize("masked", [False, True])
def test_rnn_gradients(rng, cell, ra, masked):
    B, T, I, U = 2, 4, 3, 3
    x = rng.standard_normal((B, T, I))
    W, Uk, b, rb = weights(rng, cell, I, U, ra)
    h0 = rng.standard_normal((B, U))
    mask = None
    if masked:
        mask = np.ones((B, T))
        mask[0, 2:] = 0
        mask[1, 0] = 0
    args = [x, W, Uk, b, h0] + ([rb] if rb is not None else [])

    def f(x_, W_, U_, b_, h_, *rest):
        rb_ = rest[0] if rest else None
        seq, hT, cT = ops.rnn(cell, x_, W_, U_, b_, rb_, h_, mask, reset_after=ra)
        return ops.concatenate([ops.reshape(seq, (-1,)), ops.reshape(hT, (-1,)), ops.reshape(cT, (-1,))], 0)

    check_grad(f, *args, rtol=1e-5, atol=1e-8)


def test_lstm_cell_state_gradient(rng):
    x = rng.standard_normal((2, 3, 2))
    W, Uk, b, _ = weights(rng, "lstm", 2, 3)
    c0 = rng.standard_normal((2, 3))
    check_grad(lambda c_: ops.rnn("lstm", x, W, Uk, b, None, (np.zeros((2, 3)), c_))[2], c0)


def test_rnn_errors(rng):
    x = rng.standard_normal((2, 3, 4))
    W, Uk, b, _ = weights(rng, "lstm", 4, 5)
    with pytest.raises(ValueError, match="kernel has shape"):
        ops.rnn("lstm", x, W[:3], Uk, b)
    with pytest.raises(ValueError, match="rank 3"):
        ops.rnn("lstm", x[0], W, Uk, b)
    with pytest.raises(ValueError, match="mask has shape"):
        ops.rnn("lstm", x, W, Uk, b, mask=np.ones((2, 4)))
    with pytest.raises(ValueError, match="unknown cell"):
        ops.rnn("lstmx", x, W, Uk, b)


@pytest.mark.parametrize("cell,ra", [("lstm", True), ("gru", True), ("gru", False), ("simple_rnn", True)])
def test_float32_wide_units_match_float64(rng, cell, ra):
    """64 units take the float32 register-blocked step product (cpu/small_gemm);
    forward and every gradient agree with the float64 path, which the tests
    above check against NumPy and finite differences."""
    import lamina

    B, T, I, U = 7, 6, 5, 64
    x = rng.standard_normal((B, T, I))
    W, Uk, b, rb = weights(rng, cell, I, U, ra)
    Uk *= 0.3
    h0 = rng.standard_normal((B, U))
    mask = np.ones((B, T))
    mask[2, 4:] = 0
    results = {}
    for dt in ("float32", "float64"):
        ts = [lamina.tensor(a.astype(dt)) for a in (x, W, Uk, b, h0)]
        rbt = lamina.tensor(rb.astype(dt)) if rb is not None else None
        for t in ts + ([rbt] if rbt is not None else []):
            t.requires_grad = True
        seq, hT, _ = ops.rnn(cell, ts[0], ts[1], ts[2], ts[3], rbt, ts[4], mask, reset_after=ra)
        weights_out = lamina.tensor(rng.standard_normal(tuple(seq.shape)).astype(dt)) if dt == "float32" \
            else lamina.tensor(results["w"].astype(dt))
        if dt == "float32":
            results["w"] = to_np(weights_out)
        ops.sum(seq * weights_out).backward()
        results[dt] = [to_np(seq)] + [to_np(t.grad) for t in ts + ([rbt] if rbt is not None else [])]
    for a32, a64 in zip(results["float32"], results["float64"]):
        np.testing.assert_allclose(a32, a64, rtol=2e-4, atol=2e-4)
