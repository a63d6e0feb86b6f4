"""Layer base class: names, weights, trainable, add_weight/add_loss, input
validation, Variable, masks, symbolic calls."""

import numpy as np
import pytest

import lamina
from lamina import layers, ops


def test_automatic_unique_names_and_name_arg():
    a, b, c = layers.Dense(2), layers.Dense(2), layers.Dense(2, name="head")
    assert (a.name, b.name, c.name) == ("dense", "dense_1", "head")
    assert layers.BatchNormalization().name == "batch_normalization"
    assert layers.PReLU().name == "p_re_lu"
    lamina.backend.clear_session()
    assert layers.Dense(1).name == "dense"
    with pytest.raises(ValueError, match="cannot contain character `/`"):
        layers.Dense(2, name="a/b")


def test_unknown_kwargs_rejected():
    with pytest.raises(ValueError, match="Unrecognized keyword arguments passed to Dense"):
        layers.Dense(2, foo=1)
    with pytest.raises(ValueError, match="units"):
        layers.Dense(0)


def test_lazy_build_and_weight_layout():
    d = layers.Dense(3)
    assert not d.built and d.weights == []
    y = d(np.ones((2, 5), dtype="float64"))
    assert d.built and y.dtype == "float32"
    kernel, bias = d.get_weights()
    assert kernel.shape == (5, 3) and bias.shape == (3,)
    assert [w.path for w in d.weights] == ["dense/kernel", "dense/bias"]
    assert isinstance(d.kernel, lamina.Variable) and d.kernel.trainable
    np.testing.assert_allclose(bias, 0.0)
    limit = np.sqrt(6 / (5 + 3))
    assert np.all(np.abs(kernel) <= limit)
    d.set_weights([np.ones((5, 3)), np.full((3,), 2.0)])
    np.testing.assert_allclose(d(np.ones((1, 5))).numpy(), [[7.0, 7.0, 7.0]])
    with pytest.raises(ValueError, match="weight shape"):
        d.set_weights([np.ones((4, 3)), np.zeros(3)])
    with pytest.raises(ValueError, match="expecting 2 weights"):
        d.set_weights([np.ones((5, 3))])


def test_input_validation_names_the_layer():
    d = layers.Dense(4, name="dense_1")
    d(np.zeros((2, 784)))
    with pytest.raises(ValueError) as e:
        d(np.zeros((32, 28, 28)))
    assert str(e.value) == "Dense 'dense_1': expected input with last dimension 784, got shape (32, 28, 28)"
    with pytest.raises(ValueError, match="Dense 'dense_2': expected input with at least 2 dimensions"):
        layers.Dense(4, name="dense_2")(np.zeros((3,)))
    with pytest.raises(ValueError, match="RepeatVector 'repeat_vector': expected input with ndim=2"):
        layers.RepeatVector(2)(np.zeros((2, 3, 4)))


def test_trainable_freezing_moves_weights():
    bn = layers.BatchNormalization()
    bn(np.zeros((2, 3)))
    assert len(bn.trainable_weights) == 2 and len(bn.non_trainable_weights) == 2
    assert [w.name for w in bn.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    bn.trainable = False
    assert bn.trainable_weights == [] and len(bn.non_trainable_weights) == 4
    assert not bn.gamma.trainable and not bn.gamma.requires_grad
    bn.trainable = True
    assert bn.gamma.trainable


def test_add_weight_regularizer_constraint_and_losses():
    class Scale(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(
                shape=(input_shape[-1],), initializer="ones", regularizer=lamina.regularizers.L2(0.5),
                constraint="non_neg", name="w",
            )
            self.counter = self.add_weight(shape=(), initializer="zeros", trainable=False, name="counter")

        def call(self, x):
            self.add_loss(ops.sum(x) * 0.0 + 1.5)
            return x * self.w

    s = Scale()
    s(np.ones((2, 3)))
    assert [w.name for w in s.trainable_weights] == ["w"]
    assert [w.name for w in s.non_trainable_weights] == ["counter"]
    losses = s.losses
    assert len(losses) == 2
    np.testing.assert_allclose(float(losses[0]), 1.5)
    np.testing.assert_allclose(float(losses[1]), 0.5 * 3)
    s(np.ones((2, 3)))
    assert len(s.losses) == 2  # add_loss terms are cleared at each outer call
    assert s.w.constraint is not None


def test_layer_config_round_trip_and_auto_config():
    class MyLayer(layers.Layer):
        def __init__(self, units, scale=2.0, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.scale = scale

        def call(self, x):
            return x * self.scale

    layer = MyLayer(3, scale=4.0, name="mine")
    config = layer.get_config()
    assert config["units"] == 3 and config["scale"] == 4.0 and config["name"] == "mine"
    clone = MyLayer.from_config(config)
    assert clone.units == 3 and clone.scale == 4.0 and clone.name == "mine"


def test_variable_api():
    v = lamina.Variable(np.array([1.0, 2.0]), name="v")
    assert v.dtype == "float32" and v.name == "v" and v.trainable and v.requires_grad
    v.assign([3.0, 4.0])
    v.assign_add(np.array([1.0, 1.0]))
    v.assign_sub(lamina.tensor([0.5, 0.5]))
    np.testing.assert_allclose(v.numpy(), [3.5, 4.5])
    assert v.value is v
    assert isinstance(v + 1, lamina.Tensor)
    np.testing.assert_allclose(ops.sum(v).numpy(), 8.0)
    with pytest.raises(ValueError, match="must match"):
        v.assign([1.0, 2.0, 3.0])
    w = lamina.Variable(initializer="ones", shape=(2, 2), trainable=False, name="w")
    assert not w.trainable and not w.requires_grad
    with lamina.GradientTape() as tape:
        y = ops.sum(v * v)
    np.testing.assert_allclose(tape.gradient(y, v).numpy(), [7.0, 9.0])
    i = lamina.Variable(np.array(3, dtype=np.int64), trainable=False)
    assert i.dtype == "int64"


def test_dropout_inverted_scaling_and_training_flag():
    d = layers.Dropout(0.5, seed=3)
    x = np.ones((200, 50), dtype="float32")
    np.testing.assert_array_equal(d(x).numpy(), x)  # default: inference
    np.testing.assert_array_equal(d(x, training=False).numpy(), x)
    y = d(x, training=True).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0}
    assert 0.4 < (y == 0).mean() < 0.6
    y2 = d(x, training=True).numpy()
    assert not np.array_equal(y, y2)  # a fresh mask per call
    # same seed -> same masks
    a = layers.Dropout(0.5, seed=9)(x, training=True).numpy()
    b = layers.Dropout(0.5, seed=9)(x, training=True).numpy()
    np.testing.assert_array_equal(a, b)


def test_training_flag_propagates_to_nested_layers():
    seen = []

    class Probe(layers.Layer):
        def call(self, x, training=None):
            seen.append(training)
            return x

    class Outer(layers.Layer):
        def __init__(self):
            super().__init__()
            self.probe = Probe()

        def call(self, x):
            return self.probe(x)

    o = Outer()
    o(np.zeros((1, 2)), training=True)
    o(np.zeros((1, 2)))
    assert seen == [True, None]


def test_embedding_mask_propagates():
    emb = layers.Embedding(10, 3, mask_zero=True)
    x = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])
    y = emb(x)
    np.testing.assert_array_equal(y._keras_mask.numpy(), x != 0)
    pooled = layers.GlobalAveragePooling1D()(y).numpy()
    e = emb.embeddings.numpy()
    np.testing.assert_allclose(pooled[0], (e[1] + e[2]) / 2, rtol=1e-6)
    np.testing.assert_allclose(pooled[1], e[3], rtol=1e-6)
    with pytest.raises(Exception, match="out of bounds"):
        emb(np.array([[11]]))


def test_masking_layer():
    x = np.array([[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]]], dtype="float32")
    y = layers.Masking(mask_value=0.0)(x)
    np.testing.assert_array_equal(y._keras_mask.numpy(), [[True, False, True]])


def test_symbolic_call_and_keras_tensor():
    x = lamina.Input(shape=(None, 5), name="seq")
    assert isinstance(x, lamina.KerasTensor) and x.shape == (None, None, 5)
    y = layers.Dense(3)(x)
    assert y.shape == (None, None, 3)
    hist = y._keras_history
    assert hist.operation.name == "dense" and hist.node_index == 0
    with pytest.raises(ValueError, match="symbolic"):
        np.asarray(y)


def test_custom_layer_without_compute_output_shape_is_traced():
    class Square(layers.Layer):
        def call(self, x):
            return ops.concatenate([x * x, x], axis=-1)

    x = lamina.Input(shape=(4,))
    y = Square()(x)
    assert y.shape == (None, 8)


def test_batchnorm_training_vs_inference_and_frozen():
    bn = layers.BatchNormalization(momentum=0.5, epsilon=1e-3)
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(64, 4)).astype("float32")
    y = bn(x, training=True).numpy()
    np.testing.assert_allclose(y.mean(0), 0.0, atol=1e-5)
    mean, var = x.mean(0), x.var(0)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.5 * mean, rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.5 + 0.5 * var, rtol=1e-5)
    yi = bn(x, training=False).numpy()
    mm, mv = bn.moving_mean.numpy(), bn.moving_variance.numpy()
    np.testing.assert_allclose(yi, (x - mm) / np.sqrt(mv + 1e-3), rtol=1e-4, atol=1e-4)
    bn.trainable = False  # frozen: inference behaviour even with training=True, no stat update
    yf = bn(x, training=True).numpy()
    np.testing.assert_allclose(yf, yi, rtol=1e-6)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), mm)


def test_layer_normalization_matches_numpy():
    x = np.random.default_rng(1).normal(size=(3, 4, 5)).astype("float32")
    ln = layers.LayerNormalization()
    y = ln(x).numpy()
    ref = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-3)
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-5)
    ln2 = layers.LayerNormalization(axis=[1, 2])
    y2 = ln2(x).numpy()
    ref2 = (x - x.mean((1, 2), keepdims=True)) / np.sqrt(x.var((1, 2), keepdims=True) + 1e-3)
    np.testing.assert_allclose(y2, ref2, rtol=1e-4, atol=1e-5)


def test_group_normalization_errors_and_values():
    with pytest.raises(ValueError, match="multiple"):
        layers.GroupNormalization(groups=3)(np.zeros((2, 4)))
    x = np.random.default_rng(2).normal(size=(2, 6, 4)).astype("float32")
    y = layers.GroupNormalization(groups=2)(x).numpy()
    g = x.reshape(2, 6, 2, 2)
    ref = (g - g.mean((1, 3), keepdims=True)) / np.sqrt(g.var((1, 3), keepdims=True) + 1e-3)
    np.testing.assert_allclose(y, ref.reshape(2, 6, 4), rtol=1e-4, atol=1e-5)


def test_normalization_adapt():
    data = np.random.default_rng(3).normal(5.0, 3.0, size=(500, 3)).astype("float32")
    norm = layers.Normalization()
    norm.adapt(data)
    np.testing.assert_allclose(norm.adapt_mean.numpy(), data.mean(0), rtol=1e-5)
    np.testing.assert_allclose(norm.adapt_variance.numpy(), data.var(0), rtol=1e-4)
    y = norm(data).numpy()
    np.testing.assert_allclose(y.mean(0), 0.0, atol=1e-4)
    np.testing.assert_allclose(y.std(0), 1.0, rtol=1e-3)
    assert norm.count_params() == 7  # mean, variance (3 each) and count, as Keras


def test_merge_layer_errors():
    with pytest.raises(ValueError, match="list"):
        layers.Add()(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        layers.Subtract()([np.zeros((2, 3))] * 3)
    with pytest.raises(ValueError, match="matching shapes"):
        layers.Concatenate()([np.zeros((2, 3, 1)), np.zeros((2, 4, 2))])


def test_dot_layer_values():
    a = np.random.default_rng(0).normal(size=(2, 3, 4)).astype("float32")
    b = np.random.default_rng(1).normal(size=(2, 5, 4)).astype("float32")
    y = layers.Dot(axes=(2, 2))([a, b]).numpy()
    np.testing.assert_allclose(y, np.einsum("bik,bjk->bij", a, b), rtol=1e-5)
    v = layers.Dot(axes=1)([a[:, 0], b[:, 0]]).numpy()
    np.testing.assert_allclose(v, np.sum(a[:, 0] * b[:, 0], -1, keepdims=True), rtol=1e-5)


def test_lambda_layer_safe_mode():
    lam = layers.Lambda(lambda x: x * 2.0)
    np.testing.assert_allclose(lam(np.ones((1, 2))).numpy(), [[2.0, 2.0]])
    config = lam.get_config()
    with pytest.raises(ValueError, match="safe_mode"):
        layers.Lambda.from_config(config)
    clone = layers.Lambda.from_config(config, safe_mode=False)
    np.testing.assert_allclose(clone(np.ones((1, 2))).numpy(), [[2.0, 2.0]])


def test_config_and_mixed_precision_stubs():
    assert lamina.config.floatx() == "float32" and lamina.config.epsilon() == 1e-7
    assert lamina.config.image_data_format() == "channels_last"
    with pytest.warns(UserWarning, match="half-precision"):
        lamina.mixed_precision.set_global_policy("mixed_float16")
    try:
        assert lamina.mixed_precision.global_policy().name == "float32"
        assert layers.Dense(2).dtype == "float32"
    finally:
        lamina.config.set_dtype_policy("float32")
    lam = layers.Lambda(lambda x: x + 1.0)
    config = lam.get_config()
    lamina.config.enable_unsafe_deserialization()
    try:
        clone = layers.Lambda.from_config(config)
        np.testing.assert_allclose(clone(np.zeros((1, 1))).numpy(), [[1.0]])
    finally:
        lamina.backend.config._SAFE_MODE["value"] = True


def test_wrapper_base_class():
    class Twice(layers.Wrapper):
        def call(self, x):
            return self.layer(self.layer(x))

    w = Twice(layers.Dense(3, kernel_initializer="identity", bias_initializer="ones"))
    y = w(np.zeros((2, 3)))
    np.testing.assert_allclose(y.numpy(), 2.0)
    assert [v.path for v in w.weights] == ["twice/dense/kernel", "twice/dense/bias"]
    clone = Twice.from_config(w.get_config())
    assert isinstance(clone.layer, layers.Dense) and clone.layer.units == 3
