"""The 3-D layers (Conv3D, Conv3DTranspose, MaxPooling3D, AveragePooling3D,
UpSampling3D, ZeroPadding3D, Cropping3D, Global*Pooling3D) against Keras
where it is installed (same weights through `set_weights`; outputs, output
shapes, parameter counts and configs compared), plus config round trips and
a short fit that must lower the loss (these run without Keras)."""

import os

import numpy as np
import pytest

import lamina
from lamina import layers as L

os.environ.setdefault("KERAS_BACKEND", "torch")
try:
    import keras

    # Without Keras installed, `keras` can resolve to a tests folder (a namespace package).
    keras.layers  # noqa: B018
except Exception:  # not installed, or no usable backend
    keras = None

needs_keras = pytest.mark.skipif(keras is None, reason="Keras is not installed here")

X = np.random.default_rng(0).standard_normal((2, 5, 6, 7, 3)).astype(np.float32)  # (b, d, h, w, c)

# name: (factory taking a layers module, input)
CASES = {
    "conv_valid": (lambda m: m.Conv3D(4, 3), X),
    "conv_same_strided": (lambda m: m.Conv3D(4, (3, 2, 3), strides=2, padding="same"), X),
    "conv_mixed_strides_relu": (lambda m: m.Conv3D(4, 2, strides=(1, 2, 3), padding="same", activation="relu"), X),
    "conv_groups_dilated": (lambda m: m.Conv3D(6, 2, groups=3, dilation_rate=(2, 1, 2), padding="same"), X),
    "conv_depthwise_no_bias": (lambda m: m.Conv3D(3, (1, 3, 2), groups=3, use_bias=False), X),
    "conv_channels_first": (lambda m: m.Conv3D(4, 3, padding="same", data_format="channels_first"), X),
    "convT_valid": (lambda m: m.Conv3DTranspose(4, 3), X),
    "convT_same_strided": (lambda m: m.Conv3DTranspose(4, 3, strides=2, padding="same"), X),
    "convT_mixed_strides": (lambda m: m.Conv3DTranspose(2, (2, 3, 2), strides=(2, 1, 3)), X),
    "convT_output_padding": (lambda m: m.Conv3DTranspose(2, 3, strides=2, padding="same", output_padding=(1, 0, 1)),
                             X),
    "convT_dilated": (lambda m: m.Conv3DTranspose(3, 2, dilation_rate=(2, 1, 2), padding="same"), X),
    "convT_channels_first": (lambda m: m.Conv3DTranspose(2, 2, strides=2, data_format="channels_first"), X),
    "maxpool_default": (lambda m: m.MaxPooling3D(), X),
    "maxpool_same": (lambda m: m.MaxPooling3D(3, strides=2, padding="same"), X),
    "maxpool_mixed": (lambda m: m.MaxPooling3D((2, 3, 1), strides=(1, 2, 1)), X),
    "maxpool_channels_first": (lambda m: m.MaxPooling3D(2, padding="same", data_format="channels_first"), X),
    "avgpool_valid": (lambda m: m.AveragePooling3D(2), X),
    "avgpool_same_symmetric": (lambda m: m.AveragePooling3D(3, strides=1, padding="same"), X),
    "avgpool_mixed": (lambda m: m.AveragePooling3D((2, 2, 3), strides=(2, 1, 3)), X),
    "avgpool_channels_first": (lambda m: m.AveragePooling3D((3, 1, 3), strides=1, padding="same",
                                                            data_format="channels_first"), X),
    "upsampling": (lambda m: m.UpSampling3D((1, 2, 3)), X),
    "upsampling_channels_first": (lambda m: m.UpSampling3D(data_format="channels_first"), X),
    "zeropadding": (lambda m: m.ZeroPadding3D(((1, 0), (0, 2), (1, 1))), X),
    "zeropadding_channels_first": (lambda m: m.ZeroPadding3D(2, data_format="channels_first"), X),
    "cropping": (lambda m: m.Cropping3D(((1, 0), (0, 2), (1, 3))), X),
    "cropping_channels_first": (lambda m: m.Cropping3D((1, 2, 0), data_format="channels_first"), X),
    "global_avg": (lambda m: m.GlobalAveragePooling3D(), X),
    "global_max_keepdims": (lambda m: m.GlobalMaxPooling3D(keepdims=True, data_format="channels_first"), X),
}


def _same_random_weights(ours, theirs):
    rng = np.random.default_rng(1)
    weights = [rng.standard_normal(w.shape).astype(np.float32) * 0.5 for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours.set_weights(weights)


def _comparable(config):
    # Initializers compared by class: Keras 3.15 adds `input_axes`/`output_axes`
    # to the variance-scaling configs, which is the initializers' business.
    def norm(k, v):
        return v["class_name"] if k.endswith("_initializer") and isinstance(v, dict) else v

    return {k: norm(k, v) for k, v in config.items() if k not in ("name", "dtype")}


@needs_keras
@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_keras(case):
    make, x = CASES[case]
    ours, theirs = make(L), make(keras.layers)
    theirs(x)
    ours(x)
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights]
    assert ours.count_params() == theirs.count_params()
    _same_random_weights(ours, theirs)
    got, want = ours(x).numpy(), keras.ops.convert_to_numpy(theirs(x))
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-5)
    for shape in [x.shape, (None,) + x.shape[1:]]:
        assert tuple(ours.compute_output_shape(shape)) == tuple(theirs.compute_output_shape(shape))
    assert _comparable(ours.get_config()) == _comparable(theirs.get_config())


@needs_keras
def test_conv3d_weight_layouts_and_param_counts_match_keras():
    for make, shape in [(lambda m: m.Conv3D(8, 3), (None, 6, 6, 6, 1)),  # 27 * 8 + 8 = 224
                        (lambda m: m.Conv3D(6, (2, 3, 1), groups=2), (None, 4, 5, 6, 4)),
                        (lambda m: m.Conv3DTranspose(5, (3, 2, 2)), (None, 4, 5, 6, 4))]:
        ours, theirs = make(L), make(keras.layers)
        ours.build(shape)
        theirs.build(shape)
        assert ours.kernel.shape == tuple(theirs.kernel.shape)
        assert ours.count_params() == theirs.count_params()
    conv = L.Conv3D(8, 3)
    conv.build((None, 6, 6, 6, 1))
    assert conv.kernel.shape == (3, 3, 3, 1, 8) and conv.count_params() == 224


def test_average_pooling3d_same_averages_only_inside_the_input():
    # Windows overhanging the end (pool 3, stride 2 on 6: padding (0, 1))
    # average the in-input taps, as TF and JAX (and lamina's 2-D op). Keras's
    # torch backend pads asymmetric windows by replicating the edge instead.
    x = np.arange(6, dtype=np.float32).reshape(1, 6, 1, 1, 1)
    y = L.AveragePooling3D((3, 1, 1), strides=(2, 1, 1), padding="same")(x).numpy()
    np.testing.assert_allclose(y.ravel(), [1.0, 3.0, 4.5])


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_round_trip(case):
    make, x = CASES[case]
    layer = make(L)
    y = layer(x).numpy()
    clone = layer.__class__.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(x).numpy(), y)


def test_layers_reject_wrong_rank():
    with pytest.raises(ValueError, match="Conv3D"):
        L.Conv3D(2, 2)(np.zeros((1, 4, 4, 3), np.float32))
    with pytest.raises(ValueError, match="Conv3DTranspose"):
        L.Conv3DTranspose(2, 2)(np.zeros((1, 4, 4, 3), np.float32))
    with pytest.raises(ValueError, match="AveragePooling3D"):
        L.AveragePooling3D(2)(np.zeros((1, 4, 4, 3), np.float32))
    with pytest.raises(ValueError, match="Cropping3D.*too large"):
        L.Cropping3D(2)(np.zeros((1, 4, 5, 5, 1), np.float32))


def test_short_fit_lowers_the_loss():
    lamina.utils.set_random_seed(3)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((32, 6, 6, 6, 2)).astype(np.float32)
    y = x.mean(axis=(1, 2, 3)) @ np.array([[1.0], [-2.0]], np.float32)
    model = lamina.Sequential([
        L.Input((6, 6, 6, 2)),
        L.ZeroPadding3D(1),
        L.Conv3D(4, 3, activation="relu"),
        L.MaxPooling3D(2),
        L.Conv3DTranspose(3, 2, strides=2),
        L.AveragePooling3D(2, padding="same"),
        L.UpSampling3D(),
        L.Cropping3D(1),
        L.GlobalAveragePooling3D(),
        L.Dense(1),
    ])
    model.compile(optimizer=lamina.optimizers.Adam(0.02), loss="mse")
    first = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=6, batch_size=8, verbose=0)
    last = model.evaluate(x, y, verbose=0)
    assert last < 0.7 * first, (first, last)
