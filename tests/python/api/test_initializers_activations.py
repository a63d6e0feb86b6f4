"""Initializers (Keras defaults, statistics, seeding), regularizers,
constraints and activations."""

import math

import numpy as np
import pytest

import lamina
from lamina import activations, constraints, initializers, layers, regularizers


def test_keras_default_initializers():
    d = layers.Dense(3)
    assert isinstance(d.kernel_initializer, initializers.GlorotUniform)
    assert isinstance(d.bias_initializer, initializers.Zeros)
    e = layers.Embedding(5, 2)
    assert isinstance(e.embeddings_initializer, initializers.RandomUniform)
    assert e.embeddings_initializer.minval == -0.05 and e.embeddings_initializer.maxval == 0.05
    assert isinstance(initializers.get("orthogonal"), initializers.Orthogonal)
    for name, cls in [
        ("glorot_uniform", initializers.GlorotUniform), ("glorot_normal", initializers.GlorotNormal),
        ("he_normal", initializers.HeNormal), ("he_uniform", initializers.HeUniform),
        ("lecun_normal", initializers.LecunNormal), ("lecun_uniform", initializers.LecunUniform),
        ("random_normal", initializers.RandomNormal), ("random_uniform", initializers.RandomUniform),
        ("truncated_normal", initializers.TruncatedNormal), ("zeros", initializers.Zeros), ("ones", initializers.Ones),
        ("identity", initializers.Identity), ("constant", initializers.Constant), ("GlorotUniform", initializers.GlorotUniform),
    ]:
        assert isinstance(initializers.get(name), cls)
    with pytest.raises(ValueError, match="Could not interpret initializer"):
        initializers.get("glorot")


@pytest.mark.parametrize(
    "init,bound,std",
    [
        (initializers.GlorotUniform(), math.sqrt(6 / (200 + 300)), math.sqrt(2 / (200 + 300))),
        (initializers.HeUniform(), math.sqrt(6 / 200), math.sqrt(2 / 200)),
        (initializers.LecunUniform(), math.sqrt(3 / 200), math.sqrt(1 / 200)),
        (initializers.GlorotNormal(), 2 * math.sqrt(2 / 500) / 0.8796, math.sqrt(2 / 500)),
        (initializers.HeNormal(), 2 * math.sqrt(2 / 200) / 0.8796, math.sqrt(2 / 200)),
        (initializers.LecunNormal(), 2 * math.sqrt(1 / 200) / 0.8796, math.sqrt(1 / 200)),
        (initializers.RandomNormal(stddev=0.05), None, 0.05),
        (initializers.TruncatedNormal(stddev=0.05), 0.1 + 1e-6, 0.05 * 0.8796),
        (initializers.RandomUniform(-0.05, 0.05), 0.05, 0.05 / math.sqrt(3)),
    ],
)
def test_initializer_statistics(init, bound, std):
    w = init((200, 300)).numpy()
    assert w.dtype == np.float32 and w.shape == (200, 300)
    if bound is not None:
        assert np.abs(w).max() <= bound * 1.0001
    assert abs(w.mean()) < 0.05 * std + 1e-3
    assert w.std() == pytest.approx(std, rel=0.03)


def test_constant_identity_orthogonal():
    np.testing.assert_array_equal(initializers.Constant(3.0)((2, 2)).numpy(), 3.0)
    np.testing.assert_array_equal(initializers.Ones()((3,)).numpy(), 1.0)
    np.testing.assert_array_equal(initializers.Identity(gain=2.0)((2, 3)).numpy(), 2.0 * np.eye(2, 3))
    q = initializers.Orthogonal()((6, 4)).numpy()
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-5)
    q = initializers.Orthogonal(gain=2.0)((3, 5)).numpy()
    np.testing.assert_allclose(q @ q.T, 4 * np.eye(3), atol=1e-5)
    with pytest.raises(ValueError, match="two-dimensional"):
        initializers.Orthogonal()((4,))
    with pytest.raises(ValueError, match="2D"):
        initializers.Identity()((2, 2, 2))


def test_seeding_semantics():
    # An int seed gives the same values every call (Keras 3's stateless seeds).
    a = initializers.GlorotUniform(seed=1)((4, 4)).numpy()
    b = initializers.GlorotUniform(seed=1)((4, 4)).numpy()
    np.testing.assert_array_equal(a, b)
    # set_random_seed makes unseeded layers reproducible.
    lamina.utils.set_random_seed(5)
    k1 = layers.Dense(4)
    k1.build((None, 3))
    lamina.utils.set_random_seed(5)
    k2 = layers.Dense(4)
    k2.build((None, 3))
    np.testing.assert_array_equal(k1.kernel.numpy(), k2.kernel.numpy())
    k3 = layers.Dense(4)
    k3.build((None, 3))
    assert not np.array_equal(k3.kernel.numpy(), k2.kernel.numpy())
    assert initializers.RandomNormal(seed=3).get_config() == {"mean": 0.0, "stddev": 0.05, "seed": 3}
    assert initializers.GlorotUniform().get_config() == {"seed": None}


def test_set_random_seed_seeds_python_and_numpy():
    import random

    lamina.utils.set_random_seed(11)
    a = (random.random(), np.random.rand(), lamina.random.uniform((2,)).numpy())
    lamina.utils.set_random_seed(11)
    b = (random.random(), np.random.rand(), lamina.random.uniform((2,)).numpy())
    assert a[0] == b[0] and a[1] == b[1]
    np.testing.assert_array_equal(a[2], b[2])
    with pytest.raises(ValueError, match="integer"):
        lamina.utils.set_random_seed(1.5)


def test_regularizers():
    x = lamina.tensor([[1.0, -2.0], [3.0, -4.0]])
    assert float(regularizers.L1(0.1)(x)) == pytest.approx(1.0)
    assert float(regularizers.L2(0.1)(x)) == pytest.approx(3.0)
    assert float(regularizers.L1L2(l1=0.1, l2=0.1)(x)) == pytest.approx(4.0)
    assert regularizers.get("l2").l2 == 0.01 and regularizers.get("l1").l1 == 0.01
    assert isinstance(regularizers.get("l1_l2"), regularizers.L1L2)
    assert regularizers.L1L2.from_config(regularizers.L1L2(0.2, 0.3).get_config()).l2 == 0.3
    with pytest.raises(ValueError):
        regularizers.L2(-1.0)
    layer = layers.Dense(2, kernel_regularizer="l1", bias_regularizer=regularizers.L2(1.0), activity_regularizer="l2", kernel_initializer="ones")
    y = layer(np.ones((4, 3)))
    assert len(layer.losses) == 3
    assert float(layer.losses[0]) == pytest.approx(0.01 * np.sum(y.numpy() ** 2) / 4)


def test_constraints():
    w = np.array([[3.0, 0.1], [4.0, -0.2]], dtype="float32")
    out = constraints.MaxNorm(2.0)(lamina.tensor(w)).numpy()
    norms = np.sqrt((w**2).sum(0, keepdims=True))
    np.testing.assert_allclose(out, w * np.clip(norms, 0, 2) / (1e-7 + norms), rtol=1e-6)
    np.testing.assert_array_equal(constraints.NonNeg()(lamina.tensor(w)).numpy(), np.maximum(w, 0))
    u = constraints.UnitNorm()(lamina.tensor(w)).numpy()
    np.testing.assert_allclose(np.sqrt((u**2).sum(0)), 1.0, rtol=1e-5)
    mm = constraints.MinMaxNorm(0.5, 1.0)(lamina.tensor(w)).numpy()
    np.testing.assert_allclose(np.sqrt((mm**2).sum(0)), [1.0, 0.5], rtol=1e-5)
    for name in ("max_norm", "non_neg", "unit_norm", "min_max_norm", "MaxNorm"):
        assert isinstance(constraints.get(name), constraints.Constraint)


def test_activations():
    x = np.linspace(-3, 3, 13).astype("float32")
    t = lamina.tensor(x)
    from math import erf

    np.testing.assert_allclose(activations.gelu(t).numpy(), [v * 0.5 * (1 + erf(v / math.sqrt(2))) for v in x], rtol=1e-5, atol=1e-6)
    approx = 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    np.testing.assert_allclose(activations.gelu(t, approximate=True).numpy(), approx, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(activations.relu(t).numpy(), np.maximum(x, 0))
    np.testing.assert_allclose(activations.relu(t, negative_slope=0.1, max_value=2.0, threshold=0.5).numpy(),
                               np.where(x > 0.5, np.minimum(x, 2.0), 0.0) - 0.1 * np.maximum(0.5 - x, 0), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(activations.sigmoid(t).numpy(), 1 / (1 + np.exp(-x)), rtol=1e-6)
    np.testing.assert_allclose(activations.silu(t).numpy(), x / (1 + np.exp(-x)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(activations.swish(t).numpy(), x / (1 + np.exp(-x)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(activations.elu(t).numpy(), np.where(x > 0, x, np.expm1(x)), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(activations.softplus(t).numpy(), np.log1p(np.exp(x)), rtol=1e-6)
    np.testing.assert_allclose(activations.leaky_relu(t).numpy(), np.where(x > 0, x, 0.2 * x), rtol=1e-6)
    np.testing.assert_allclose(activations.relu6(t * 3).numpy(), np.clip(3 * x, 0, 6), rtol=1e-6)
    np.testing.assert_allclose(activations.hard_sigmoid(t).numpy(), np.clip(x / 6 + 0.5, 0, 1), rtol=1e-6)
    np.testing.assert_allclose(activations.tanh(t).numpy(), np.tanh(x), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(activations.mish(t).numpy(), x * np.tanh(np.log1p(np.exp(x))), rtol=1e-5, atol=1e-6)
    selu = 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x))
    np.testing.assert_allclose(activations.selu(t).numpy(), selu, rtol=1e-5, atol=1e-6)
    m = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], dtype="float32")
    sm = np.exp(m) / np.exp(m).sum(-1, keepdims=True)
    np.testing.assert_allclose(activations.softmax(lamina.tensor(m)).numpy(), sm, rtol=1e-6)
    np.testing.assert_allclose(activations.log_softmax(lamina.tensor(m)).numpy(), np.log(sm), rtol=1e-5)
    assert activations.linear(t) is t
    for name in ("relu", "sigmoid", "softmax", "tanh", "gelu", "silu", "swish", "elu", "selu", "softplus", "leaky_relu", "relu6", "linear", "log_softmax"):
        fn = activations.get(name)
        assert callable(fn)
        assert activations.serialize(fn) in (name, "silu" if name == "swish" else name)
    assert activations.get(None) is activations.linear
    with pytest.raises(ValueError, match="Could not interpret activation"):
        activations.get("rellu")
    assert layers.Dense(2, activation="gelu").get_config()["activation"] == "gelu"


def test_utils_to_categorical_and_pad_sequences():
    y = lamina.utils.to_categorical([0, 2, 1], num_classes=3)
    np.testing.assert_array_equal(y, np.eye(3)[[0, 2, 1]])
    assert lamina.utils.to_categorical(np.array([[1], [0]])).shape == (2, 2)
    seqs = [[1, 2, 3], [4, 5], [6, 7, 8, 9, 10]]
    np.testing.assert_array_equal(
        lamina.utils.pad_sequences(seqs, maxlen=4),
        [[0, 1, 2, 3], [0, 0, 4, 5], [7, 8, 9, 10]],
    )
    np.testing.assert_array_equal(
        lamina.utils.pad_sequences(seqs, maxlen=4, padding="post", truncating="post", value=-1),
        [[1, 2, 3, -1], [4, 5, -1, -1], [6, 7, 8, 9]],
    )
