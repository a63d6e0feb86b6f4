"""Dense and convolution layers end in one fused bias (+ReLU) pass each way
(layers/epilogue.py, cpp/src/cpu/bias_act.cpp): the same outputs and
gradients as the separate add and activation ops."""

import numpy as np
import pytest

import lamina as keras
from lamina import layers


@pytest.mark.parametrize("make", [
    lambda a: layers.Dense(6, activation=a),
    lambda a: layers.Conv2D(5, 3, activation=a),
    lambda a: layers.Conv2D(5, 3, activation=a, data_format="channels_first"),
    lambda a: layers.Conv1D(4, 2, strides=2, activation=a),
])
@pytest.mark.parametrize("act", ["relu", None, "tanh"])
def test_layer_epilogue_equals_the_separate_ops(make, act, monkeypatch):
    """Dense/Conv end in one fused bias(+ReLU) pass: same outputs and gradients."""
    from lamina import ops
    from lamina.layers import epilogue

    x = np.random.default_rng(1).standard_normal((3, 6, 6, 4)).astype(np.float32)
    first = make(act)
    if isinstance(first, layers.Conv1D):
        x = x.reshape(3, 36, 4)
    first(x)
    results = []
    for fused in (True, False):
        if not fused:
            monkeypatch.setattr(epilogue, "_FUSED_DTYPES", ())
        layer = make(act)
        layer(x)
        layer.set_weights(first.get_weights())
        xt = keras.ops.convert_to_tensor(x)
        xt.requires_grad = True
        y = layer(xt)
        ops.sum(y * y).backward()
        results.append([y.numpy(), xt.grad.numpy()] + [w.grad.numpy() for w in layer.trainable_weights])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
