"""One generic test run for every layer: build, call in both training modes,
output shape == compute_output_shape, get_config -> from_config round trip
gives the same outputs, gradients reach every trainable weight, and a short
fit through the layer lowers the loss."""

import numpy as np
import pytest

import lamina
from lamina import layers, ops

L = layers

# (factory, input shape(s) without batch, input kind)
SPECS = {
    "Dense": (lambda: L.Dense(4, activation="relu"), (6,), "float"),
    "Dense3D": (lambda: L.Dense(3, kernel_regularizer="l2", bias_constraint="non_neg"), (5, 6), "float"),
    "Activation": (lambda: L.Activation("tanh"), (6,), "float"),
    "Flatten": (lambda: L.Flatten(), (3, 4), "float"),
    "Reshape": (lambda: L.Reshape((2, -1)), (3, 4), "float"),
    "Permute": (lambda: L.Permute((2, 1)), (3, 4), "float"),
    "RepeatVector": (lambda: L.RepeatVector(3), (5,), "float"),
    "Dropout": (lambda: L.Dropout(0.3, seed=1), (6,), "float"),
    "SpatialDropout1D": (lambda: L.SpatialDropout1D(0.3, seed=1), (5, 4), "float"),
    "SpatialDropout2D": (lambda: L.SpatialDropout2D(0.3, seed=1), (4, 4, 3), "float"),
    "GaussianNoise": (lambda: L.GaussianNoise(0.1, seed=1), (6,), "float"),
    "GaussianDropout": (lambda: L.GaussianDropout(0.2, seed=1), (6,), "float"),
    "AlphaDropout": (lambda: L.AlphaDropout(0.2, seed=1), (6,), "float"),
    "ActivityRegularization": (lambda: L.ActivityRegularization(l1=0.01), (6,), "float"),
    "Identity": (lambda: L.Identity(), (6,), "float"),
    "Lambda": (lambda: L.Lambda(lamina.activations.relu), (6,), "float"),
    "Masking": (lambda: L.Masking(0.0), (5, 3), "float"),
    "Embedding": (lambda: L.Embedding(10, 4), (7,), "int"),
    "EmbeddingMask": (lambda: L.Embedding(10, 4, mask_zero=True), (7,), "int"),
    "LayerNormalization": (lambda: L.LayerNormalization(), (5, 6), "float"),
    "LayerNormalizationRMS": (lambda: L.LayerNormalization(rms_scaling=True), (6,), "float"),
    "BatchNormalization": (lambda: L.BatchNormalization(), (6,), "float"),
    "BatchNormalization4D": (lambda: L.BatchNormalization(axis=1), (3, 4, 4), "float"),
    "UnitNormalization": (lambda: L.UnitNormalization(), (6,), "float"),
    "RMSNormalization": (lambda: L.RMSNormalization(), (5, 6), "float"),
    "RMSNormalizationAxes": (lambda: L.RMSNormalization(axis=[1, 2]), (5, 6), "float"),
    "GroupNormalization": (lambda: L.GroupNormalization(groups=2), (5, 4), "float"),
    "Add": (lambda: L.Add(), [(6,), (6,)], "float"),
    "Subtract": (lambda: L.Subtract(), [(6,), (6,)], "float"),
    "Multiply": (lambda: L.Multiply(), [(6,), (6,), (6,)], "float"),
    "Average": (lambda: L.Average(), [(6,), (6,)], "float"),
    "Maximum": (lambda: L.Maximum(), [(6,), (6,)], "float"),
    "Minimum": (lambda: L.Minimum(), [(6,), (6,)], "float"),
    "Concatenate": (lambda: L.Concatenate(), [(3,), (5,)], "float"),
    "Concatenate1": (lambda: L.Concatenate(axis=1), [(2, 4), (3, 4)], "float"),
    "Dot": (lambda: L.Dot(axes=1), [(6,), (6,)], "float"),
    "DotNormalize": (lambda: L.Dot(axes=(2, 2), normalize=True), [(3, 4), (5, 4)], "float"),
    "ReLU": (lambda: L.ReLU(max_value=6.0, negative_slope=0.1, threshold=0.2), (6,), "float"),
    "LeakyReLU": (lambda: L.LeakyReLU(), (6,), "float"),
    "PReLU": (lambda: L.PReLU(alpha_initializer="constant"), (6,), "float"),
    "PReLUShared": (lambda: L.PReLU(shared_axes=[1]), (3, 4), "float"),
    "ELU": (lambda: L.ELU(alpha=0.5), (6,), "float"),
    "Softmax": (lambda: L.Softmax(), (6,), "float"),
    "GlobalAveragePooling1D": (lambda: L.GlobalAveragePooling1D(), (5, 3), "float"),
    "GlobalMaxPooling1D": (lambda: L.GlobalMaxPooling1D(), (5, 3), "float"),
    "GlobalAveragePooling2D": (lambda: L.GlobalAveragePooling2D(keepdims=True), (4, 4, 3), "float"),
    "GlobalMaxPooling2D": (lambda: L.GlobalMaxPooling2D(), (4, 4, 3), "float"),
    "UpSampling1D": (lambda: L.UpSampling1D(2), (3, 2), "float"),
    "UpSampling2D": (lambda: L.UpSampling2D((2, 3)), (3, 2, 2), "float"),
    "UpSampling2DBilinear": (lambda: L.UpSampling2D(2, interpolation="bilinear"), (3, 2, 2), "float"),
    "ZeroPadding1D": (lambda: L.ZeroPadding1D((1, 2)), (3, 2), "float"),
    "ZeroPadding2D": (lambda: L.ZeroPadding2D(((1, 0), (2, 1))), (3, 3, 2), "float"),
    "Cropping1D": (lambda: L.Cropping1D((1, 1)), (5, 2), "float"),
    "Cropping2D": (lambda: L.Cropping2D(((1, 0), (0, 1))), (4, 4, 2), "float"),
    "Rescaling": (lambda: L.Rescaling(1 / 255.0, offset=-0.5), (6,), "float"),
    "Normalization": (lambda: L.Normalization(mean=2.0, variance=4.0), (6,), "float"),
    "RandomFlip": (lambda: L.RandomFlip(seed=3), (4, 4, 3), "float"),
    "RandomContrast": (lambda: L.RandomContrast(0.3, value_range=(0, 1), seed=3), (4, 4, 3), "float"),
    "RandomRotation": (lambda: L.RandomRotation(0.2, seed=3), (4, 4, 3), "float"),
    "RandomTranslation": (lambda: L.RandomTranslation(0.2, 0.2, seed=3), (4, 4, 3), "float"),
    "RandomZoom": (lambda: L.RandomZoom(0.2, seed=3), (4, 4, 3), "float"),
    "RandomCrop": (lambda: L.RandomCrop(3, 3, seed=3), (4, 4, 3), "float"),
}


def make_inputs(shape, kind, batch=4, seed=0):
    rng = np.random.default_rng(seed)
    if isinstance(shape, list):
        return [make_inputs(s, kind, batch, seed + i + 1) for i, s in enumerate(shape)]
    if kind == "int":
        x = rng.integers(0, 10, size=(batch,) + shape).astype("int32")
        x[:, -1] = 0
        return x
    return rng.uniform(-1.0, 1.0, size=(batch,) + shape).astype("float32")


def batch_shape(shape, batch):
    if isinstance(shape, list):
        return [(batch,) + s for s in shape]
    return (batch,) + shape


def to_np(x):
    return np.array(x.numpy())


@pytest.mark.parametrize("name", sorted(SPECS))
def test_layer_contract(name):
    factory, shape, kind = SPECS[name]
    layer = factory()
    x = make_inputs(shape, kind)

    # Build + call in both modes.
    y_inf = layer(x, training=False)
    y_train = layer(x, training=True)
    assert layer.built
    assert isinstance(y_inf, lamina.Tensor) and isinstance(y_train, lamina.Tensor)
    assert y_inf.shape == y_train.shape
    assert np.all(np.isfinite(to_np(y_inf)))

    # Output shape == compute_output_shape (with a concrete batch and with None).
    assert tuple(layer.compute_output_shape(batch_shape(shape, 4))) == tuple(y_inf.shape)
    sym = layer.compute_output_shape(batch_shape(shape, None))
    assert tuple(sym)[1:] == tuple(y_inf.shape)[1:]

    # Symbolic call gives the same shape.
    if isinstance(shape, list):
        kin = [lamina.Input(shape=s, dtype="int32" if kind == "int" else "float32") for s in shape]
    else:
        kin = lamina.Input(shape=shape, dtype="int32" if kind == "int" else "float32")
    fresh = factory()
    kout = fresh(kin)
    assert tuple(kout.shape) == (None,) + tuple(y_inf.shape)[1:]

    # Config round trip: same class, same config, same outputs with the same weights.
    config = layer.get_config()
    assert config["name"] == layer.name
    clone = layer.__class__.from_config(config)
    assert clone.get_config() == config
    clone(x, training=False)
    clone.set_weights(layer.get_weights())
    y_ref = layer(x, training=False)  # after the training call (moving statistics may have moved)
    np.testing.assert_allclose(to_np(clone(x, training=False)), to_np(y_ref), rtol=1e-6, atol=1e-6)

    # Gradients reach every trainable weight.
    if layer.trainable_weights:
        probe = np.random.default_rng(5).normal(size=tuple(y_inf.shape)).astype("float32")
        with lamina.GradientTape() as tape:
            out = layer(x, training=True)
            loss = ops.sum(out * probe)
        grads = tape.gradient(loss, layer.trainable_weights)
        for w, g in zip(layer.trainable_weights, grads):
            assert g is not None, f"no gradient for {w.path}"
            assert tuple(g.shape) == tuple(w.shape)
            assert np.any(to_np(g) != 0), f"zero gradient for {w.path}"

    # A short fit through the layer lowers the loss.
    lamina.utils.set_random_seed(7)
    model_layer = factory()
    h = model_layer(kin)
    h = L.Flatten()(h) if len(h.shape) > 2 else h
    out = L.Dense(1)(h)
    model = lamina.Model(kin, out)
    model.compile(optimizer=lamina.optimizers.Adam(0.02), loss="mse")
    xs = make_inputs(shape, kind, batch=64, seed=11)
    ys = np.random.default_rng(12).normal(size=(64, 1)).astype("float32")
    if name.startswith("Random"):
        # Augmentation changes the inputs seen in training: use a flip/contrast-invariant target.
        ys = xs.mean(axis=(1, 2, 3))[:, None].astype("float32") * 0.0 + 0.5
    first = model.evaluate(xs, ys, verbose=0)
    model.fit(xs, ys, epochs=8, batch_size=16, verbose=0)
    last = model.evaluate(xs, ys, verbose=0)
    assert last < first, f"{name}: loss did not decrease ({first} -> {last})"


def test_every_core_layer_has_a_spec():
    names = {spec[0]().__class__.__name__ for spec in SPECS.values()}
    expected = {
        "Dense", "Activation", "Flatten", "Reshape", "Permute", "RepeatVector", "Dropout",
        "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise", "Identity", "Lambda", "Masking",
        "Embedding", "LayerNormalization", "BatchNormalization", "UnitNormalization",
        "GroupNormalization", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
        "Concatenate", "Dot", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax",
        "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
        "UpSampling1D", "UpSampling2D", "ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D",
        "Rescaling", "Normalization", "RandomFlip", "RandomContrast", "RandomRotation",
        "RandomTranslation", "RandomZoom", "RandomCrop",
    }
    assert expected <= names
