"""Conv2DTranspose/Conv1DTranspose with an explicit `output_padding`: output
sizes and values as Keras (its JAX/torch padding rule), including the
combinations whose output does not map back through a "same" conv2d, such as
kernel 2, stride 2, "same", output_padding 0."""

import itertools
import os

import numpy as np
import pytest

import lamina


def _reference(x, w, stride, dil, padding, op):
    """float64 scatter-add: input pixel (i, j) adds w * x into output rows
    i * s - pad + t * d; pad from Keras's conv-transpose rule for JAX."""
    n, h, wd, c = x.shape
    k, f = w.shape[0], w.shape[2]
    span = (k - 1) * dil + 1

    def geometry(length):
        if padding == "valid":
            left = span - 1
            out = (length - 1) * stride + span + op
        else:
            pad_len = span + span % 2 - 2 + op
            left = min(pad_len // 2 + pad_len % 2, span - 1)
            out = (length - 1) * stride + span - 2 * (span // 2) + op
        return out, span - 1 - left

    oh, ph = geometry(h)
    ow, pw = geometry(wd)
    y = np.zeros((n, oh, ow, f))
    for i, j, a, b in itertools.product(range(h), range(wd), range(k), range(k)):
        r, q = i * stride - ph + a * dil, j * stride - pw + b * dil
        if 0 <= r < oh and 0 <= q < ow:
            y[:, r, q] += x[:, i, j] @ w[a, b].T
    return y


CASES = [(2, 2, 1, "same", 0), (4, 2, 1, "same", 0), (3, 2, 1, "same", 1), (2, 2, 1, "valid", 1),
         (3, 3, 1, "same", 2), (5, 1, 1, "same", 0), (3, 1, 2, "same", 0), (1, 2, 1, "valid", 0)]


@pytest.mark.parametrize("k,stride,dil,padding,op", CASES)
def test_output_padding_matches_reference(k, stride, dil, padding, op):
    rng = np.random.default_rng(k * 10 + stride)
    x = rng.standard_normal((2, 4, 5, 3))
    layer = lamina.layers.Conv2DTranspose(2, k, strides=stride, padding=padding, output_padding=op,
                                          dilation_rate=dil, use_bias=False, dtype="float64")
    got = np.asarray(layer(x))
    w = np.asarray(layer.kernel)  # (k, k, filters, channels)
    want = _reference(x, w, stride, dil, padding, op)
    assert got.shape == want.shape == layer.compute_output_shape(x.shape)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("k,stride,dil,padding,op", CASES)
def test_output_padding_matches_keras(k, stride, dil, padding, op):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    x = np.random.default_rng(1).standard_normal((2, 4, 5, 3)).astype("float32")
    kl = keras.layers.Conv2DTranspose(2, k, strides=stride, padding=padding, output_padding=op,
                                      dilation_rate=dil)
    want = np.asarray(keras.ops.convert_to_numpy(kl(x)))
    ll = lamina.layers.Conv2DTranspose(2, k, strides=stride, padding=padding, output_padding=op,
                                       dilation_rate=dil)
    ll.build(x.shape)
    ll.set_weights(kl.get_weights())
    np.testing.assert_allclose(np.asarray(ll(x)), want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("k,stride,dil,padding,op", CASES[:4])
def test_output_padding_gradients(k, stride, dil, padding, op):
    import sys

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from testutil import check_grad

    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((1, 3, 4, 2)), rng.standard_normal((k, k, 2, 2))
    check_grad(lambda a, b: lamina.ops.conv_transpose(a, b, strides=stride, padding=padding,
                                                      output_padding=op, dilation_rate=dil), x, w)


def test_conv1d_transpose_output_padding():
    x = np.ones((1, 4, 3), "float32")
    layer = lamina.layers.Conv1DTranspose(2, 2, strides=2, padding="same", output_padding=0)
    assert tuple(layer(x).shape) == (1, 6, 2) == layer.compute_output_shape(x.shape)
