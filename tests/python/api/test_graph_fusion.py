"""Functional models fuse a BatchNormalization into the plain ReLU that alone
reads it (models/fusion.py): same results as the two layers run apart."""

import numpy as np
import pytest

import lamina as keras
from lamina import layers
from lamina.models import functional


def _resnet_like(relu_layer=lambda: layers.ReLU(), bn_as_output=False):
    keras.utils.set_random_seed(3)
    inp = keras.Input((8, 8, 3))
    x = layers.Conv2D(16, 3, padding="same", use_bias=False)(inp)
    b = layers.BatchNormalization(momentum=0.9, epsilon=1e-5)(x)
    y = relu_layer()(b)
    y = layers.Conv2D(16, 3, padding="same")(y)
    y = layers.BatchNormalization()(y)
    y = layers.Activation("relu")(layers.Add()([x, y]))
    out = layers.Dense(4)(layers.GlobalAveragePooling2D()(y))
    return keras.Model(inp, [out, b] if bn_as_output else out)


def _train(model, x, y, jit=True):
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=jit)
    hist = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    return hist.history["loss"], [w.numpy() for w in model.weights], model.predict(x, verbose=0)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((64, 8, 8, 3)).astype(np.float32), rng.integers(0, 4, 64)


def test_plan_finds_only_batch_norms_read_by_a_plain_relu_alone():
    m = _resnet_like()
    plan = m._fusions()
    assert len(plan) == 1  # the second BN feeds an Add, not a ReLU
    (relu_node,) = plan.values()
    assert type(relu_node.operation) is layers.ReLU
    assert _resnet_like(lambda: layers.ReLU(max_value=6.0))._fusions() == {}
    assert _resnet_like(lambda: layers.ReLU(negative_slope=0.1))._fusions() == {}
    assert _resnet_like(lambda: layers.Activation("relu"))._fusions() != {}
    assert _resnet_like(lambda: layers.Activation("gelu"))._fusions() == {}
    assert _resnet_like(bn_as_output=True)._fusions() == {}  # BN output is needed as is


def test_batch_norm_read_twice_is_not_fused():
    inp = keras.Input((6,))
    b = layers.BatchNormalization()(inp)
    out = layers.Add()([layers.ReLU()(b), layers.Dense(6)(b)])
    assert keras.Model(inp, out)._fusions() == {}


@pytest.mark.parametrize("jit", [True, False])
def test_fused_training_matches_unfused(data, monkeypatch, jit):
    x, y = data
    fused = _train(_resnet_like(), x, y, jit)
    monkeypatch.setattr(functional, "fusion_plan", lambda nodes, outputs: {})
    plain = _train(_resnet_like(), x, y, jit)
    np.testing.assert_allclose(fused[0], plain[0], rtol=1e-6)
    for a, b in zip(fused[1], plain[1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)  # moving statistics included
    np.testing.assert_allclose(fused[2], plain[2], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("bn_trainable", [True, False])
@pytest.mark.parametrize("training", [True, False])
def test_every_batch_norm_path_applies_the_fused_relu(data, monkeypatch, bn_trainable, training):
    x, _ = data
    m = _resnet_like()
    m.layers[2].trainable = bn_trainable  # frozen: normalises with the moving statistics
    fused = m(x, training=training).numpy()
    monkeypatch.setattr(functional, "fusion_plan", lambda nodes, outputs: {})
    m.__dict__.pop("_fusion_plan")
    np.testing.assert_array_equal(fused, m(x, training=training).numpy())


def test_a_relu_changed_after_building_runs_on_its_own(data):
    x, _ = data
    m = _resnet_like()
    before = m(x, training=True).numpy()
    m.layers[3].max_value = 0.5  # no longer plain: the pair is not fused
    capped = m(x, training=True).numpy()
    assert not np.allclose(before, capped)
    probe = keras.Model(m.input, m.layers[3].output)
    assert probe(x, training=True).numpy().max() <= 0.5


def test_fused_training_matches_keras(data):
    """The oracle: Keras (where installed) trains the same graph, ReLU unfused."""
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        import keras as real_keras

        real_keras.layers  # noqa: B018  (a namespace package when not installed)
    except Exception as e:
        pytest.skip(f"Keras is not installed here ({type(e).__name__})")
    x, y = data

    def build(m):
        L = m.layers
        inp = m.Input((8, 8, 3))
        a = L.Conv2D(8, 3, padding="same", use_bias=False)(inp)
        b = L.ReLU()(L.BatchNormalization(momentum=0.9, epsilon=1e-5)(a))
        out = L.Dense(4)(L.GlobalAveragePooling2D()(b))
        model = m.Model(inp, out)
        model.compile(optimizer=m.optimizers.SGD(0.1, momentum=0.9),
                      loss=m.losses.SparseCategoricalCrossentropy(from_logits=True))
        return model

    ours, theirs = build(keras), build(real_keras)
    assert ours._fusions()
    theirs.set_weights([w.numpy() for w in ours.weights])
    ours.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    theirs.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(ours.weights, theirs.weights):
        np.testing.assert_allclose(a.numpy(), real_keras.ops.convert_to_numpy(b), rtol=1e-4, atol=1e-5)
