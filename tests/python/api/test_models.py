"""Sequential, functional and subclassed models: structure, parameter counts,
summary, config round trips, nesting, shared layers."""

import json

import numpy as np
import pytest

import lamina
from lamina import layers


def mlp():
    return lamina.Sequential(
        [
            lamina.Input(shape=(784,)),
            layers.Dense(512, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(512, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(10, activation="softmax"),
        ]
    )


def test_reference_parameter_counts():
    assert mlp().count_params() == 669_706
    # A small convnet-free reference: embedding + pooling classifier.
    m = lamina.Sequential([lamina.Input((20,), dtype="int32"), layers.Embedding(1000, 16), layers.GlobalAveragePooling1D(), layers.Dense(16, activation="relu"), layers.Dense(1)])
    assert m.count_params() == 1000 * 16 + 16 * 16 + 16 + 17
    bn = lamina.Sequential([lamina.Input((8,)), layers.Dense(4), layers.BatchNormalization()])
    assert bn.count_params() == 36 + 16
    assert len(bn.trainable_weights) == 4 and len(bn.non_trainable_weights) == 2


def test_sequential_layers_exclude_input_and_add_pop():
    m = mlp()
    assert [type(l).__name__ for l in m.layers] == ["Dense", "Dropout", "Dense", "Dropout", "Dense"]
    assert m.built and m.inputs[0].shape == (None, 784) and m.outputs[0].shape == (None, 10)
    assert m.get_layer(index=0) is m.layers[0]
    assert m.get_layer("dense_2").units == 10
    with pytest.raises(ValueError, match="No such layer"):
        m.get_layer("nope")
    last = m.pop()
    assert last.units == 10 and len(m.layers) == 4 and m.outputs[0].shape == (None, 512)
    m.add(layers.Dense(3))
    assert m.outputs[0].shape == (None, 3)
    with pytest.raises(ValueError, match="unique names"):
        m.add(layers.Dense(3, name="dense"))
    with pytest.raises(ValueError, match="Only instances"):
        m.add("dense")


def test_sequential_deferred_build_and_input_shape_kwarg():
    m = lamina.Sequential([layers.Dense(4), layers.Dense(2)])
    assert not m.built
    y = m(np.ones((3, 5)))
    assert y.shape == (3, 2) and m.built
    assert m.layers[0].kernel.shape == (5, 4)
    assert m.inputs[0].shape == (None, 5)
    m2 = lamina.Sequential([layers.Dense(4, input_shape=(7,)), layers.Dense(1)])
    assert m2.built and m2.count_params() == 7 * 4 + 4 + 5
    m3 = lamina.Sequential()
    m3.add(layers.Dense(2))
    m3.build((None, 6))
    assert m3.count_params() == 14


def test_wrong_input_shape_for_built_model():
    m = mlp()
    with pytest.raises(ValueError, match=r"Sequential 'sequential': expected input .* shape \(None, 784\), got shape \(32, 28, 28\)"):
        m(np.zeros((32, 28, 28)))
    with pytest.raises(ValueError, match=r"expected input .*\(None, 784\), got shape \(32, 100\)"):
        m.predict(np.zeros((32, 100)), verbose=0)


def test_functional_multi_io_shared_layers():
    a = lamina.Input(shape=(8,), name="a")
    b = lamina.Input(shape=(8,), name="b")
    shared = layers.Dense(4, name="shared")
    x = layers.concatenate([shared(a), shared(b)])
    out1 = layers.Dense(1, name="out1")(x)
    out2 = layers.Dense(2, name="out2")(x)
    model = lamina.Model(inputs=[a, b], outputs=[out1, out2])
    assert isinstance(model, lamina.Functional) and isinstance(model, lamina.Model)
    assert [l.name for l in model.layers] == ["a", "b", "shared", "concatenate", "out1", "out2"]
    assert model.count_params() == 36 + 9 + 18
    assert len(shared._inbound_nodes) == 2
    xa, xb = np.ones((3, 8)), np.zeros((3, 8))
    y1, y2 = model([xa, xb])
    assert y1.shape == (3, 1) and y2.shape == (3, 2)
    d1, d2 = model({"a": xa, "b": xb})
    np.testing.assert_allclose(d1.numpy(), y1.numpy())
    with pytest.raises(ValueError, match="expects 2 input"):
        model(xa)
    assert model.output_names == ["out1", "out2"]


def test_functional_dict_outputs_and_graph_disconnected():
    i = lamina.Input((3,), name="x")
    model = lamina.Model(i, {"a": layers.Dense(1)(i), "b": layers.Dense(2)(i)})
    out = model(np.ones((2, 3)))
    assert set(out) == {"a", "b"} and out["b"].shape == (2, 2)
    other = lamina.Input((3,))
    with pytest.raises(ValueError, match="Graph disconnected"):
        lamina.Model(i, layers.Add()([layers.Dense(3)(i), other]))


def test_nested_models_and_trainable():
    inner = lamina.Sequential([layers.Dense(4, activation="relu"), layers.Dense(2)], name="inner")
    i = lamina.Input((3,))
    o = layers.Dense(1)(inner(i))
    outer = lamina.Model(i, o)
    assert outer.count_params() == (3 * 4 + 4) + (4 * 2 + 2) + 3
    assert outer.get_layer("inner") is inner
    inner.trainable = False
    assert len(outer.trainable_weights) == 2 and len(outer.non_trainable_weights) == 4
    assert outer(np.ones((5, 3))).shape == (5, 1)


def test_functional_config_round_trip_with_shared_and_nested():
    inner = lamina.Sequential([lamina.Input((4,)), layers.Dense(3)], name="inner")
    a = lamina.Input((4,), name="a")
    b = lamina.Input((4,), name="b")
    s = layers.Dense(4, activation="tanh", name="shared")
    x = layers.Add()([inner(s(a)), inner(s(b))])
    out = layers.Dense(2, name="head")(x)
    model = lamina.Model([a, b], out, name="net")
    config = model.get_config()
    json.dumps(json.loads(model.to_json()))
    clone = lamina.Model.from_config(config)
    assert clone.name == "net" and [l.name for l in clone.layers] == [l.name for l in model.layers]
    clone.set_weights(model.get_weights())
    xa, xb = np.random.default_rng(0).normal(size=(2, 5, 4))
    np.testing.assert_allclose(clone.predict([xa, xb], verbose=0), model.predict([xa, xb], verbose=0), rtol=1e-6)
    clone2 = lamina.models.model_from_json(model.to_json())
    assert clone2.count_params() == model.count_params()


def test_sequential_config_round_trip():
    m = mlp()
    config = m.get_config()
    assert config["layers"][0]["class_name"] == "InputLayer"
    assert config["layers"][1]["config"]["units"] == 512
    clone = lamina.Sequential.from_config(config)
    assert clone.count_params() == 669_706
    clone.set_weights(m.get_weights())
    x = np.random.default_rng(0).normal(size=(2, 784)).astype("float32")
    np.testing.assert_allclose(clone.predict(x, verbose=0), m.predict(x, verbose=0), rtol=1e-6)
    cloned = lamina.models.clone_model(m)
    assert cloned.count_params() == 669_706


def test_subclassed_model():
    class MLP(lamina.Model):
        def __init__(self, hidden=8, **kwargs):
            super().__init__(**kwargs)
            self.hidden = hidden
            self.d1 = layers.Dense(hidden, activation="relu")
            self.d2 = layers.Dense(1)

        def call(self, x, training=False):
            return self.d2(self.d1(x))

    m = MLP(hidden=5)
    assert m.name == "mlp"
    m.build((None, 3))
    assert m.count_params() == 3 * 5 + 5 + 6
    assert [l.name for l in m.layers] == ["dense", "dense_1"]
    config = m.get_config()
    assert config["hidden"] == 5
    m2 = MLP.from_config(config)
    assert m2.hidden == 5
    assert m(np.ones((2, 3))).shape == (2, 1)


def test_functional_subclass_with_custom_train_step():
    class Custom(lamina.Model):
        def train_step(self, data):
            x, y = data
            with lamina.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(y=y, y_pred=y_pred)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply(grads, self.trainable_variables)
            for m in self.metrics:
                if m.name == "loss":
                    m.update_state(loss)
                else:
                    m.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    i = lamina.Input((3,))
    o = layers.Dense(1)(i)
    model = Custom(i, o)
    assert isinstance(model, Custom) and isinstance(model, lamina.Functional)
    model.compile(optimizer=lamina.optimizers.SGD(0.1), loss="mse")
    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32")
    hist = model.fit(x, y, epochs=20, verbose=0)
    assert hist.history["loss"][-1] < 0.1 * hist.history["loss"][0]


def test_summary_like_keras(capsys):
    m = mlp()
    m.summary()
    out = capsys.readouterr().out
    assert 'Model: "sequential"' in out
    assert "Layer (type)" in out and "Output Shape" in out and "Param #" in out
    assert "dense (Dense)" in out and "(None, 512)" in out and "401,920" in out
    assert "dropout (Dropout)" in out
    assert "Total params: 669,706 (2.55 MB)" in out
    assert "Trainable params: 669,706 (2.55 MB)" in out
    assert "Non-trainable params: 0 (0.00 B)" in out
    lines = []
    m.summary(print_fn=lines.append)
    assert "Total params: 669,706" in lines[0]
    a = lamina.Input((2,), name="a")
    b = lamina.Input((2,), name="b")
    f = lamina.Model([a, b], layers.Add()([a, b]))
    f.summary()
    out = capsys.readouterr().out
    assert "Connected to" in out and "a[0][0], b[0][0]" in out


def test_symbolic_arithmetic_in_functional_models():
    i = lamina.Input((3,))
    o = (i * 2.0 + 1.0) - layers.Dense(3, kernel_initializer="zeros")(i)
    model = lamina.Model(i, o)
    np.testing.assert_allclose(model(np.ones((1, 3))).numpy(), [[3.0, 3.0, 3.0]])
    assert all(not getattr(l, "_is_symbolic_op", False) for l in model.layers)


def test_weight_paths_follow_keras_name_scopes():
    m = lamina.Sequential([lamina.Input((3,)), layers.Dense(2)])
    assert [w.path for w in m.weights] == ["sequential/dense/kernel", "sequential/dense/bias"]

    class M(lamina.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(2)

        def call(self, x):
            return self.d(x)

    mm = M()
    mm(np.ones((1, 3)))
    assert [w.path for w in mm.weights] == ["m/dense_1/kernel", "m/dense_1/bias"]
    i = lamina.Input((3,))
    f = lamina.Model(i, layers.Dense(2)(i))
    assert [w.path for w in f.weights] == ["dense_2/kernel", "dense_2/bias"]
    opt = lamina.optimizers.Adam()
    opt.build(m.trainable_weights)
    assert [v.path for v in opt.variables] == [
        "adam/iteration", "adam/learning_rate",
        "adam/sequential_dense_kernel_momentum", "adam/sequential_dense_kernel_velocity",
        "adam/sequential_dense_bias_momentum", "adam/sequential_dense_bias_velocity",
    ]


def test_ops_on_symbolic_tensors_build_graph_operations():
    from lamina import ops

    i = lamina.Input((5, 3))
    a = ops.mean(i, axis=1)
    b = ops.concatenate([a, ops.max(i, axis=1)], axis=-1)
    c = lamina.activations.relu(ops.squeeze(ops.expand_dims(b, -1), -1))
    d = ops.where(c > 0.5, c, ops.zeros_like(c))
    assert (a.shape, b.shape, d.shape) == ((None, 3), (None, 6), (None, 6))
    assert ops.shape(i) == (None, 5, 3) and ops.ndim(i) == 3
    model = lamina.Model(i, layers.Dense(2)(d))
    x = np.random.default_rng(0).random((2, 5, 3)).astype("float32")
    ref = np.concatenate([x.mean(1), x.max(1)], -1)
    ref = np.where(ref > 0.5, ref, 0.0)
    dense = model.layers[-1]
    np.testing.assert_allclose(model.predict(x, verbose=0), ref @ dense.kernel.numpy() + dense.bias.numpy(), rtol=1e-5)
    model.compile("adam", "mse")
    model.fit(x, np.zeros((2, 2)), verbose=0)
    # Eager calls are unaffected.
    np.testing.assert_allclose(ops.mean(lamina.tensor([1.0, 3.0])).numpy(), 2.0)


def test_models_with_ops_serialize_and_summarize_like_keras():
    from lamina import ops

    i = lamina.Input((5, 3))
    b = (ops.mean(i, axis=1) * 2.0)[:, :2]
    model = lamina.Model(i, layers.Dense(2)(1.0 - b))
    lines = []
    model.summary(print_fn=lines.append)
    for row in ("mean (Mean)", "multiply (Multiply)", "get_item (GetItem)", "subtract (Subtract)"):
        assert row in lines[0]
    assert [l.name for l in model.layers] == ["input_layer", "dense"]
    clone = lamina.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(0).random((3, 5, 3)).astype("float32")
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    assert lamina.models.model_from_json(model.to_json()).count_params() == 6


def test_subclass_with_two_positional_arguments_is_not_functional():
    """VAE(encoder, decoder) is a subclassed model, as in Keras."""
    import numpy as np

    import lamina as keras
    from lamina import layers

    class Pair(keras.Model):
        def __init__(self, a, b, **kwargs):
            super().__init__(**kwargs)
            self.a, self.b = a, b

        def call(self, x):
            return self.b(self.a(x))

    m = Pair(layers.Dense(3), layers.Dense(2))
    assert m(np.ones((4, 5), "float32")).shape == (4, 2)
    assert keras.datasets.mnist is not None
