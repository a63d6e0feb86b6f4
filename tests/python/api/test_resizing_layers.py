"""Resizing and CenterCrop: output shapes and values as Keras (torch backend)
when it is installed, and against direct NumPy expectations otherwise."""

import os

import numpy as np
import pytest

import lamina
from lamina import layers

CASES = [
    ("Resizing", dict(height=5, width=7)),
    ("Resizing", dict(height=9, width=4, interpolation="nearest")),
    ("Resizing", dict(height=6, width=6, crop_to_aspect_ratio=True)),
    ("Resizing", dict(height=6, width=3, pad_to_aspect_ratio=True, fill_value=0.5)),
    ("Resizing", dict(height=4, width=4, data_format="channels_first")),
    ("CenterCrop", dict(height=5, width=4)),
    ("CenterCrop", dict(height=12, width=4)),
    ("CenterCrop", dict(height=3, width=3, data_format="channels_first")),
]


def _images(data_format, batched=True):
    x = np.random.default_rng(0).uniform(0, 1, (2, 8, 10, 3)).astype("float32")
    if data_format == "channels_first":
        x = np.moveaxis(x, -1, 1)
    return x if batched else x[0]


@pytest.mark.parametrize("cls,kwargs", CASES)
def test_matches_keras(cls, kwargs):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    for batched in (True, False):
        x = _images(kwargs.get("data_format"), batched)
        want = keras.ops.convert_to_numpy(getattr(keras.layers, cls)(**kwargs)(x))
        layer = getattr(layers, cls)(**kwargs)
        got = np.asarray(layer(x))
        assert got.shape == want.shape == layer.compute_output_shape(x.shape)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert sorted(layer.get_config()) == sorted(getattr(keras.layers, cls)(**kwargs).get_config())


def test_center_crop_cuts_the_middle():
    x = np.arange(2 * 8 * 10 * 1, dtype="float32").reshape(2, 8, 10, 1)
    np.testing.assert_array_equal(np.asarray(layers.CenterCrop(4, 6)(x)), x[:, 2:6, 2:8])


def test_resizing_identity_and_nearest():
    x = _images(None)
    np.testing.assert_array_equal(np.asarray(layers.Resizing(8, 10)(x)), x)
    up = np.asarray(layers.Resizing(16, 20, interpolation="nearest")(x))
    np.testing.assert_array_equal(up, x.repeat(2, axis=1).repeat(2, axis=2))


def test_in_a_model_with_config_round_trip():
    model = lamina.Sequential([lamina.Input((8, 10, 3)), layers.Resizing(6, 6), layers.CenterCrop(4, 4),
                               layers.Flatten(), layers.Dense(2)])
    assert model.output_shape == (None, 2)
    clone = lamina.Sequential.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    x = _images(None)
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0))


def test_bad_arguments():
    with pytest.raises(ValueError, match="height"):
        layers.Resizing(0, 3)
    with pytest.raises(ValueError, match="interpolation"):
        layers.Resizing(3, 3, interpolation="cubic")
    with pytest.raises(ValueError, match="only one"):
        layers.Resizing(3, 3, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="rank-3"):
        layers.CenterCrop(2, 2)(np.zeros((4, 4), "float32"))
