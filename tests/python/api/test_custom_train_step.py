"""Custom train_step patterns from Keras's examples (keras.io VAE/GAN): a model
that has no `call` and only wraps other models, and the batch a train_step
receives when fit gets inputs alone (Keras's pack_x_y_sample_weight rule)."""

import numpy as np

import lamina
from lamina import layers, ops


class _Wrapper(lamina.Model):
    """No call(): as keras.io's VAE, it trains `inner` in its own train_step."""

    def __init__(self, inner, **kwargs):
        super().__init__(**kwargs)
        self.inner = inner
        self.seen = []
        self.tracker = lamina.metrics.Mean(name="loss")

    @property
    def metrics(self):
        return [self.tracker]

    def train_step(self, data):
        self.seen.append(data)
        with lamina.GradientTape() as tape:
            loss = ops.mean(ops.square(self.inner(data) - 1.0))
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.tracker.update_state(loss)
        return {"loss": self.tracker.result()}


def _inner():
    return lamina.Sequential([lamina.Input((3,)), layers.Dense(1)])


def test_model_without_call_trains_through_its_train_step():
    model = _Wrapper(_inner())
    model.compile(optimizer=lamina.optimizers.SGD(0.1))
    x = np.random.default_rng(0).standard_normal((64, 3)).astype("float32")
    history = model.fit(x, epochs=5, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert model.optimizer.iterations.numpy() == 20


def test_inputs_alone_reach_train_step_unwrapped():
    model = _Wrapper(_inner())
    model.compile(optimizer="sgd")
    x = np.ones((8, 3), "float32")
    model.fit(x, epochs=1, batch_size=4, verbose=0)
    assert all(isinstance(d, lamina.Tensor) and tuple(d.shape) == (4, 3) for d in model.seen)


def test_tuple_inputs_alone_stay_a_tuple():
    seen = []

    class Two(lamina.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(1)

        def call(self, inputs):
            return self.d(ops.concatenate(list(inputs), axis=-1))

        def train_step(self, data):
            seen.append(data)
            return {}

    m = Two()
    m.compile(optimizer="sgd", loss="mse")
    a = np.ones((4, 2), "float32")
    m.fit((a, a), epochs=1, batch_size=4, verbose=0)
    (batch,) = seen
    assert isinstance(batch, tuple) and len(batch) == 1 and len(batch[0]) == 2
