"""Lambda wraps any callable, compiled ops included (they expose no Python signature)."""

import numpy as np

import lamina
from lamina import layers, ops


def test_lambda_wraps_compiled_op():
    x = np.array([[-1.0, 2.0, -3.0]], np.float32)
    layer = layers.Lambda(ops.relu)
    np.testing.assert_array_equal(np.asarray(layer(x)), np.maximum(x, 0))
    model = lamina.Sequential([lamina.Input((3,)), layer])
    assert model.output_shape == (None, 3)
    np.testing.assert_array_equal(model.predict(x, verbose=0), np.maximum(x, 0))


def test_lambda_passes_training_and_mask_when_asked():
    seen = {}

    def fn(x, training=None, mask=None):
        seen.update(training=training, mask=mask)
        return x * 2.0

    out = layers.Lambda(fn)(np.ones((1, 2), np.float32), training=True)
    np.testing.assert_array_equal(np.asarray(out), 2 * np.ones((1, 2)))
    assert seen["training"] is True
