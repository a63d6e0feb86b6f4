"""Convolution and pooling layers against Keras's shapes, parameter counts
and configs, and against NumPy references of the convolutions (float64)."""

import numpy as np
import pytest

import lamina
from lamina import layers, ops


def to_np(t):
    return np.array(t.numpy(), copy=True)


@pytest.fixture
def rng():
    return np.random.default_rng(7)


# ---- NumPy references (channels_last) -----------------------------------------


def _pads(size, k, s, d, padding):
    keff = d * (k - 1) + 1
    if padding == "valid":
        return 0, 0, (size - keff) // s + 1
    out = -(-size // s)
    total = max((out - 1) * s + keff - size, 0)
    return total // 2, total - total // 2, out


def np_conv(x, k, strides=1, padding="valid", dilation=1):
    """x (B, *spatial, C), kernel (*ks, C/groups, F): a grouped convolution."""
    n = x.ndim - 2
    strides = (strides,) * n if isinstance(strides, int) else strides
    dilation = (dilation,) * n if isinstance(dilation, int) else dilation
    if n == 1:
        return np_conv(x[:, None], k[None], (1,) + strides, padding, (1,) + dilation)[:, 0]
    B, H, W, C = x.shape
    kh, kw, cin, F = k.shape
    groups = C // cin
    (t, b_, oh), (l, r, ow) = (_pads(H, kh, strides[0], dilation[0], padding),
                               _pads(W, kw, strides[1], dilation[1], padding))
    xp = np.pad(x, ((0, 0), (t, b_), (l, r), (0, 0)))
    out = np.zeros((B, oh, ow, F))
    fpg = F // groups
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, i * dilation[0]: i * dilation[0] + (oh - 1) * strides[0] + 1: strides[0],
                       j * dilation[1]: j * dilation[1] + (ow - 1) * strides[1] + 1: strides[1], :]
            for g in range(groups):
                out[..., g * fpg:(g + 1) * fpg] += patch[..., g * cin:(g + 1) * cin] @ k[i, j, :, g * fpg:(g + 1) * fpg]
    return out


def np_conv_transpose(x, k, strides, padding, output_padding=None, dilation=1):
    """TF semantics: the adjoint of a convolution whose input has Keras's
    `deconv_output_length`; kernel (*ks, F, C)."""
    n = x.ndim - 2
    strides = (strides,) * n if isinstance(strides, int) else strides
    dilation = (dilation,) * n if isinstance(dilation, int) else dilation
    if output_padding is not None and isinstance(output_padding, int):
        output_padding = (output_padding,) * n
    if n == 1:
        op = None if output_padding is None else (0,) + tuple(output_padding)
        return np_conv_transpose(x[:, None], k[None], (1,) + strides, padding, op, (1,) + dilation)[:, 0]
    B, H, W, C = x.shape
    kh, kw, F, _ = k.shape
    outs, befores = [], []
    for a, (L, kk, s, d) in enumerate(zip((H, W), (kh, kw), strides, dilation)):
        keff = d * (kk - 1) + 1
        if output_padding is None:
            O = L * s + max(keff - s, 0) if padding == "valid" else L * s
        else:
            pad = keff // 2 if padding == "same" else 0
            O = (L - 1) * s + keff - 2 * pad + output_padding[a]
        before = max((L - 1) * s + keff - O, 0) // 2 if padding == "same" else 0
        outs.append(O)
        befores.append(before)
    full = np.zeros((B, (H - 1) * strides[0] + dilation[0] * (kh - 1) + 1 + outs[0],
                     (W - 1) * strides[1] + dilation[1] * (kw - 1) + 1 + outs[1], F))
    for i in range(kh):
        for j in range(kw):
            contrib = x @ k[i, j].T  # (B, H, W, F)
            full[:, i * dilation[0]: i * dilation[0] + (H - 1) * strides[0] + 1: strides[0],
                 j * dilation[1]: j * dilation[1] + (W - 1) * strides[1] + 1: strides[1]] += contrib
    return full[:, befores[0]: befores[0] + outs[0], befores[1]: befores[1] + outs[1]]


def np_pool(x, pool, strides, padding, mode):
    n = x.ndim - 2
    if n == 1:
        return np_pool(x[:, None], (1,) + pool, (1,) + strides, padding, mode)[:, 0]
    B, H, W, C = x.shape
    (t, b_, oh), (l, r, ow) = (_pads(H, pool[0], strides[0], 1, padding), _pads(W, pool[1], strides[1], 1, padding))
    xp = np.pad(x, ((0, 0), (t, b_), (l, r), (0, 0)), constant_values=np.nan)
    out = np.zeros((B, oh, ow, C))
    for i in range(oh):
        for j in range(ow):
            win = xp[:, i * strides[0]: i * strides[0] + pool[0], j * strides[1]: j * strides[1] + pool[1]]
            out[:, i, j] = np.nanmax(win, (1, 2)) if mode == "max" else np.nanmean(win, (1, 2))
    return out


def to_first(a):
    return np.moveaxis(a, -1, 1)


def run(layer, x):
    return to_np(layer(x))


# ---- parameter counts and shapes ----------------------------------------------


def test_param_counts_match_keras(rng):
    conv = layers.Conv2D(32, 3)
    conv.build((None, 28, 28, 1))
    assert conv.count_params() == 320
    assert [w.name for w in conv.weights] == ["kernel", "bias"]
    assert conv.kernel.shape == (3, 3, 1, 32)

    # Keras's mnist_convnet example: 34,826 parameters.
    stack = [
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ]
    x = np.zeros((2, 28, 28, 1), np.float32)
    shapes = []
    for layer in stack:
        x = layer(x)
        shapes.append(tuple(x.shape[1:]))
    assert shapes == [(26, 26, 32), (13, 13, 32), (11, 11, 64), (5, 5, 64), (1600,), (1600,), (10,)]
    assert sum(l.count_params() for l in stack) == 34826

    dw = layers.DepthwiseConv2D(3, depth_multiplier=2)
    dw.build((None, 8, 8, 3))
    assert [(w.name, w.shape) for w in dw.weights] == [("kernel", (3, 3, 3, 2)), ("bias", (6,))]
    assert dw.depthwise_kernel is dw.kernel
    sep = layers.SeparableConv2D(16, 3, depth_multiplier=2)
    sep.build((None, 8, 8, 3))
    assert [(w.name, w.shape) for w in sep.weights] == [
        ("depthwise_kernel", (3, 3, 3, 2)), ("pointwise_kernel", (1, 1, 6, 16)), ("bias", (16,))]
    assert sep.count_params() == 54 + 96 + 16
    tr = layers.Conv2DTranspose(8, 3)
    tr.build((None, 5, 5, 4))
    assert [(w.name, w.shape) for w in tr.weights] == [("kernel", (3, 3, 8, 4)), ("bias", (8,))]
    grouped = layers.Conv1D(6, 3, groups=3, use_bias=False)
    grouped.build((None, 10, 9))
    assert grouped.kernel.shape == (3, 3, 6) and grouped.count_params() == 54


CONV_CASES = [
    # (factory, input shape, expected output shape (Keras))
    (lambda: layers.Conv1D(4, 3), (2, 10, 3), (2, 8, 4)),
    (lambda: layers.Conv1D(4, 3, strides=2, padding="same"), (2, 10, 3), (2, 5, 4)),
    (lambda: layers.Conv1D(4, 3, dilation_rate=2), (2, 10, 3), (2, 6, 4)),
    (lambda: layers.Conv1D(4, 3, padding="causal", dilation_rate=2), (2, 10, 3), (2, 10, 4)),
    (lambda: layers.Conv1D(6, 2, groups=3, data_format="channels_first"), (2, 3, 7), (2, 6, 6)),
    (lambda: layers.Conv2D(5, 3), (2, 9, 8, 3), (2, 7, 6, 5)),
    (lambda: layers.Conv2D(5, (3, 2), strides=(2, 3), padding="same"), (2, 9, 8, 3), (2, 5, 3, 5)),
    (lambda: layers.Conv2D(5, 3, strides=2), (2, 9, 8, 3), (2, 4, 3, 5)),
    (lambda: layers.Conv2D(5, 3, dilation_rate=(2, 1), padding="same"), (2, 9, 8, 3), (2, 9, 8, 5)),
    (lambda: layers.Conv2D(4, 3, groups=2), (2, 6, 6, 4), (2, 4, 4, 4)),
    (lambda: layers.Conv2D(5, 3, data_format="channels_first"), (2, 3, 9, 8), (2, 5, 7, 6)),
    (lambda: layers.Conv1DTranspose(4, 3), (2, 5, 3), (2, 7, 4)),
    (lambda: layers.Conv1DTranspose(4, 3, strides=2, padding="same"), (2, 5, 3), (2, 10, 4)),
    (lambda: layers.Conv1DTranspose(4, 3, strides=2, output_padding=1), (2, 5, 3), (2, 12, 4)),
    (lambda: layers.Conv2DTranspose(4, 3), (2, 5, 6, 3), (2, 7, 8, 4)),
    (lambda: layers.Conv2DTranspose(4, 3, strides=2), (2, 5, 6, 3), (2, 11, 13, 4)),
    (lambda: layers.Conv2DTranspose(4, 2, strides=3), (2, 5, 6, 3), (2, 15, 18, 4)),
    (lambda: layers.Conv2DTranspose(4, (3, 4), strides=2, padding="same"), (2, 5, 6, 3), (2, 10, 12, 4)),
    (lambda: layers.Conv2DTranspose(4, 3, strides=2, padding="same", output_padding=(0, 1)), (2, 5, 6, 3),
     (2, 9, 12, 4)),
    (lambda: layers.Conv2DTranspose(4, 3, dilation_rate=2), (2, 5, 6, 3), (2, 9, 10, 4)),
    (lambda: layers.Conv2DTranspose(4, 3, strides=2, data_format="channels_first"), (2, 3, 5, 6), (2, 4, 11, 13)),
    (lambda: layers.DepthwiseConv2D(3), (2, 7, 7, 3), (2, 5, 5, 3)),
    (lambda: layers.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=3), (2, 7, 7, 3), (2, 4, 4, 9)),
    (lambda: layers.DepthwiseConv1D(3, depth_multiplier=2), (2, 9, 4), (2, 7, 8)),
    (lambda: layers.SeparableConv2D(6, 3, padding="same"), (2, 7, 7, 3), (2, 7, 7, 6)),
    (lambda: layers.SeparableConv2D(6, 3, depth_multiplier=2, dilation_rate=2), (2, 9, 9, 3), (2, 5, 5, 6)),
    (lambda: layers.SeparableConv1D(6, 3, strides=2), (2, 9, 4), (2, 4, 6)),
    (lambda: layers.MaxPooling1D(), (2, 9, 3), (2, 4, 3)),
    (lambda: layers.MaxPooling1D(3, strides=1, padding="same"), (2, 9, 3), (2, 9, 3)),
    (lambda: layers.AveragePooling1D(4, strides=2), (2, 9, 3), (2, 3, 3)),
    (lambda: layers.MaxPooling2D(), (2, 9, 8, 3), (2, 4, 4, 3)),
    (lambda: layers.MaxPooling2D((3, 2), strides=(2, 1)), (2, 9, 8, 3), (2, 4, 7, 3)),
    (lambda: layers.AveragePooling2D(3, strides=2, padding="same"), (2, 9, 8, 3), (2, 5, 4, 3)),
    (lambda: layers.AveragePooling2D(2, data_format="channels_first"), (2, 3, 9, 8), (2, 3, 4, 4)),
]


@pytest.mark.parametrize("factory,in_shape,expected", CONV_CASES)
def test_output_shapes_match_keras(factory, in_shape, expected):
    layer = factory()
    assert layer.compute_output_shape(in_shape) == expected
    y = layer(np.random.default_rng(0).standard_normal(in_shape).astype(np.float32))
    assert tuple(y.shape) == expected
    # Unknown batch and spatial sizes stay unknown.
    n = len(in_shape) - 2
    if layer.data_format == "channels_last":
        unknown, want = (None,) * (n + 1) + in_shape[-1:], (None,) * (n + 1) + expected[-1:]
    else:
        unknown, want = (None, in_shape[1]) + (None,) * n, (None, expected[1]) + (None,) * n
    assert layer.compute_output_shape(unknown) == want
    sym = layer(layers.Input(shape=in_shape[1:]))
    assert tuple(sym.shape) == (None,) + expected[1:]


# ---- numerics ------------------------------------------------------------------------


def _set_random(layer, rng, in_shape):
    layer.build(in_shape)
    layer.set_weights([rng.standard_normal(w.shape) for w in layer.weights])
    return layer.get_weights()


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(filters=4, kernel_size=3),
        dict(filters=4, kernel_size=3, strides=2, padding="same"),
        dict(filters=4, kernel_size=(2, 3), strides=(1, 2), padding="same"),
        dict(filters=4, kernel_size=3, dilation_rate=2, padding="same"),
        dict(filters=6, kernel_size=2, groups=3),
        dict(filters=4, kernel_size=3, activation="relu", use_bias=False),
    ],
)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv2d_matches_numpy(rng, kwargs, data_format):
    x = rng.standard_normal((2, 7, 8, 3 if kwargs["filters"] != 6 else 6))
    layer = layers.Conv2D(data_format=data_format, dtype="float64", **kwargs)
    xin = x if data_format == "channels_last" else to_first(x)
    w = _set_random(layer, rng, xin.shape)
    ref = np_conv(x, w[0], layer.strides, kwargs.get("padding", "valid"), layer.dilation_rate)
    if layer.use_bias:
        ref = ref + w[1]
    if kwargs.get("activation") == "relu":
        ref = np.maximum(ref, 0)
    got = run(layer, xin)
    if data_format == "channels_first":
        got = np.moveaxis(got, 1, -1)
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(filters=4, kernel_size=3),
        dict(filters=4, kernel_size=4, strides=3, padding="same"),
        dict(filters=4, kernel_size=3, dilation_rate=3),
        dict(filters=3, kernel_size=2, groups=3, padding="same"),
    ],
)
def test_conv1d_matches_numpy(rng, kwargs):
    x = rng.standard_normal((2, 11, 3))
    layer = layers.Conv1D(dtype="float64", **kwargs)
    w = _set_random(layer, rng, x.shape)
    ref = np_conv(x, w[0], layer.strides, kwargs.get("padding", "valid"), layer.dilation_rate) + w[1]
    np.testing.assert_allclose(run(layer, x), ref, rtol=1e-10, atol=1e-10)


def test_conv1d_causal_padding(rng):
    x = rng.standard_normal((2, 9, 3))
    layer = layers.Conv1D(4, 3, padding="causal", dilation_rate=2, dtype="float64")
    w = _set_random(layer, rng, x.shape)
    xp = np.pad(x, ((0, 0), (4, 0), (0, 0)))
    ref = np_conv(xp, w[0], 1, "valid", 2) + w[1]
    got = run(layer, x)
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-10)
    # Output t does not depend on inputs after t.
    x2 = x.copy()
    x2[:, 5:] += 1.0
    np.testing.assert_allclose(run(layer, x2)[:, :5], got[:, :5], rtol=1e-12)


@pytest.mark.parametrize(
    "rank,kwargs",
    [
        (2, dict(kernel_size=3)),
        (2, dict(kernel_size=3, strides=2)),
        (2, dict(kernel_size=2, strides=3)),
        (2, dict(kernel_size=(3, 4), strides=2, padding="same")),
        (2, dict(kernel_size=3, strides=2, padding="same", output_padding=(0, 1))),
        (2, dict(kernel_size=3, strides=2, output_padding=1)),
        (2, dict(kernel_size=3, dilation_rate=2, padding="same")),
        (1, dict(kernel_size=3, strides=2, padding="same")),
        (1, dict(kernel_size=4, strides=2, output_padding=1)),
    ],
)
def test_conv_transpose_matches_numpy(rng, rank, kwargs):
    shape = (2, 5, 4, 3) if rank == 2 else (2, 6, 3)
    x = rng.standard_normal(shape)
    cls = layers.Conv2DTranspose if rank == 2 else layers.Conv1DTranspose
    layer = cls(4, dtype="float64", **kwargs)
    w = _set_random(layer, rng, shape)
    ref = np_conv_transpose(x, w[0], layer.strides, layer.padding, layer.output_padding, layer.dilation_rate) + w[1]
    got = run(layer, x)
    assert got.shape == layer.compute_output_shape(shape)
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-10)


def test_conv2d_transpose_channels_first(rng):
    x = rng.standard_normal((2, 5, 4, 3))
    a = layers.Conv2DTranspose(4, 3, strides=2, padding="same", dtype="float64")
    b = layers.Conv2DTranspose(4, 3, strides=2, padding="same", data_format="channels_first", dtype="float64")
    w = _set_random(a, rng, x.shape)
    b.build(to_first(x).shape)
    b.set_weights(w)
    np.testing.assert_allclose(np.moveaxis(run(b, to_first(x)), 1, -1), run(a, x), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mult,strides,padding", [(1, 1, "valid"), (2, 2, "same"), (3, 1, "same")])
def test_depthwise_and_separable_match_numpy(rng, mult, strides, padding):
    x = rng.standard_normal((2, 7, 6, 3))
    dw = layers.DepthwiseConv2D(3, strides=strides, padding=padding, depth_multiplier=mult, dtype="float64")
    k, b = _set_random(dw, rng, x.shape)
    # Depthwise = grouped convolution with one group per input channel.
    grouped = k.reshape(3, 3, 1, 3 * mult)
    ref = np_conv(x, grouped, (strides, strides), padding) + b
    np.testing.assert_allclose(run(dw, x), ref, rtol=1e-10, atol=1e-10)

    sep = layers.SeparableConv2D(5, 3, strides=strides, padding=padding, depth_multiplier=mult, dtype="float64")
    dk, pk, sb = _set_random(sep, rng, x.shape)
    ref = np_conv(np_conv(x, dk.reshape(3, 3, 1, 3 * mult), (strides, strides), padding), pk) + sb
    np.testing.assert_allclose(run(sep, x), ref, rtol=1e-10, atol=1e-10)

    x1 = rng.standard_normal((2, 9, 3))
    dw1 = layers.DepthwiseConv1D(3, depth_multiplier=mult, padding=padding, dtype="float64")
    k1, b1 = _set_random(dw1, rng, x1.shape)
    np.testing.assert_allclose(run(dw1, x1), np_conv(x1, k1.reshape(3, 1, 3 * mult), 1, padding) + b1,
                               rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("pool,strides,padding", [((2, 2), None, "valid"), ((3, 3), (2, 2), "same"),
                                                  ((3, 2), (1, 2), "same"), ((2, 3), (2, 1), "valid")])
def test_pooling_matches_numpy(rng, mode, pool, strides, padding):
    x = rng.standard_normal((2, 7, 8, 3))
    cls = layers.MaxPooling2D if mode == "max" else layers.AveragePooling2D
    layer = cls(pool, strides=strides, padding=padding, dtype="float64")
    s = pool if strides is None else strides
    np.testing.assert_allclose(run(layer, x), np_pool(x, pool, s, padding, mode), rtol=1e-12, atol=1e-12)
    cf = cls(pool, strides=strides, padding=padding, data_format="channels_first", dtype="float64")
    np.testing.assert_allclose(np.moveaxis(run(cf, to_first(x)), 1, -1), np_pool(x, pool, s, padding, mode),
                               rtol=1e-12, atol=1e-12)
    x1 = x[:, :, 0, :]
    cls1 = layers.MaxPooling1D if mode == "max" else layers.AveragePooling1D
    l1 = cls1(pool[0], strides=None if strides is None else strides[0], padding=padding, dtype="float64")
    np.testing.assert_allclose(run(l1, x1), np_pool(x1, (pool[0],), (s[0],), padding, mode), rtol=1e-12, atol=1e-12)


# ---- training, configs, errors ------------------------------------------------


@pytest.mark.parametrize(
    "factory,in_shape",
    [
        (lambda: layers.Conv1D(3, 2, padding="causal"), (2, 6, 2)),
        (lambda: layers.Conv2D(3, 2, groups=1), (2, 5, 5, 2)),
        (lambda: layers.Conv2DTranspose(3, 3, strides=2), (2, 3, 3, 2)),
        (lambda: layers.Conv1DTranspose(3, 3, strides=2, padding="same"), (2, 4, 2)),
        (lambda: layers.DepthwiseConv2D(2, depth_multiplier=2), (2, 4, 4, 2)),
        (lambda: layers.SeparableConv2D(3, 2), (2, 4, 4, 2)),
    ],
)
def test_gradients_reach_every_weight(rng, factory, in_shape):
    layer = factory()
    x = lamina.tensor(rng.standard_normal(in_shape).astype(np.float32), requires_grad=True)
    loss = ops.sum(ops.square(layer(x)))
    loss.backward()
    assert len(layer.trainable_weights) >= 2
    for w in layer.trainable_weights:
        assert w.grad is not None and w.grad.shape == w.shape, w.path
        assert np.abs(to_np(w.grad)).sum() > 0, w.path
    assert x.grad is not None


@pytest.mark.parametrize(
    "factory,in_shape",
    [
        (lambda: layers.Conv1D(3, 2, strides=2, padding="same", activation="relu", groups=1,
                               kernel_regularizer="l2"), (2, 6, 2)),
        (lambda: layers.Conv2D(4, (2, 3), dilation_rate=2, data_format="channels_first", use_bias=False,
                               kernel_initializer="he_normal"), (2, 2, 7, 7)),
        (lambda: layers.Conv2DTranspose(3, 3, strides=2, output_padding=1, padding="same"), (2, 3, 3, 2)),
        (lambda: layers.Conv1DTranspose(3, 3), (2, 4, 2)),
        (lambda: layers.DepthwiseConv2D(2, depth_multiplier=2, activation="tanh"), (2, 4, 4, 2)),
        (lambda: layers.SeparableConv2D(3, 2, depth_multiplier=2, pointwise_initializer="ones"), (2, 4, 4, 2)),
        (lambda: layers.SeparableConv1D(3, 2), (2, 4, 2)),
        (lambda: layers.MaxPooling2D((2, 3), strides=1, padding="same"), (2, 4, 4, 2)),
        (lambda: layers.AveragePooling1D(3, data_format="channels_first"), (2, 2, 7)),
    ],
)
def test_config_round_trip(rng, factory, in_shape):
    layer = factory()
    x = rng.standard_normal(in_shape).astype(np.float32)
    y = to_np(layer(x))
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    clone.build(in_shape)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(to_np(clone(x)), y, rtol=1e-6, atol=1e-6)


def test_config_values_match_keras():
    c = layers.Conv2D(8, 3).get_config()
    for k, v in dict(filters=8, kernel_size=(3, 3), strides=(1, 1), padding="valid", data_format="channels_last",
                     dilation_rate=(1, 1), groups=1, use_bias=True).items():
        assert c[k] == v, k
    assert c["kernel_initializer"]["class_name"] == "GlorotUniform"
    assert c["bias_initializer"]["class_name"] == "Zeros"
    p = layers.MaxPooling2D().get_config()
    assert (p["pool_size"], p["strides"], p["padding"]) == ((2, 2), (2, 2), "valid")
    assert layers.AveragePooling1D(3).strides == (3,)
    assert layers.Conv2DTranspose(2, 3).get_config()["output_padding"] is None


def test_errors_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match="evenly divisible"):
        layers.Conv2D(5, 3, groups=2)
    with pytest.raises(ValueError, match=r"input channels must be evenly divisible.*groups=2.*3 channels"):
        layers.Conv2D(4, 3, groups=2)(np.zeros((1, 5, 5, 3), np.float32))
    with pytest.raises(ValueError, match="dilation_rate > 1"):
        layers.Conv2D(4, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="padding"):
        layers.Conv2D(4, 3, padding="causal")
    with pytest.raises(ValueError, match="kernel_size"):
        layers.Conv2D(4, (3, 0))
    with pytest.raises(ValueError, match="output padding"):
        layers.Conv2DTranspose(4, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match=r"conv_small.*not positive.*\(1, 2, 2, 3\)"):
        layers.Conv2D(4, 3, name="conv_small")(np.zeros((1, 2, 2, 3), np.float32))
    with pytest.raises(ValueError, match=r"Conv2D 'conv_rank'.*4 dimensions.*\(1, 5, 3\)"):
        layers.Conv2D(4, 3, name="conv_rank")(np.zeros((1, 5, 3), np.float32))
    with pytest.raises(ValueError, match=r"pool_c.*expected input with ndim=4"):
        layers.MaxPooling2D(name="pool_c")(np.zeros((1, 5, 3), np.float32))
    conv = layers.Conv2D(4, 3, name="conv_ch")
    conv(np.zeros((1, 5, 5, 3), np.float32))
    with pytest.raises(ValueError, match="conv_ch"):
        conv(np.zeros((1, 5, 5, 2), np.float32))
    with pytest.raises(ValueError, match=r"Conv3D 'conv3d': expected input with at least 5 dimensions, got shape \(1, 5, 5, 3\)"):
        layers.Conv3D(4, 3)(np.zeros((1, 5, 5, 3), np.float32))
    with pytest.raises(ValueError, match=r"MaxPooling3D 'max_pooling3d': expected input with ndim=5"):
        layers.MaxPooling3D()(np.zeros((1, 5, 5, 3), np.float32))


def test_aliases():
    assert layers.Convolution2D is layers.Conv2D
    assert layers.MaxPool2D is layers.MaxPooling2D
    assert layers.AvgPool1D is layers.AveragePooling1D
    assert layers.SeparableConvolution2D is layers.SeparableConv2D
