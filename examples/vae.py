"""Variational autoencoder (Keras's VAE example) with a custom `train_step`:
the reparameterisation trick, a reconstruction + KL loss, and loss trackers.

Trains on MNIST when available, otherwise Fashion-MNIST.

    python examples/vae.py [--quick] [--latent-dim 2]
"""

import argparse
import time

import numpy as np

import _utils  # noqa: F401
import lamina as keras
from lamina import datasets, layers, ops


class Sampling(layers.Layer):
    """z = mean + exp(log_var / 2) * epsilon: differentiable w.r.t. mean and log_var."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


def build_encoder(latent_dim):
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(32, 3, activation="relu", strides=2, padding="same")(inputs)
    x = layers.Conv2D(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(16, activation="relu")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    z = Sampling()([z_mean, z_log_var])
    return keras.Model(inputs, [z_mean, z_log_var, z], name="encoder")


def build_decoder(latent_dim):
    inputs = keras.Input(shape=(latent_dim,))
    x = layers.Dense(7 * 7 * 64, activation="relu")(inputs)
    x = layers.Reshape((7, 7, 64))(x)
    x = layers.Conv2DTranspose(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu", strides=2, padding="same")(x)
    outputs = layers.Conv2DTranspose(1, 3, activation="sigmoid", padding="same")(x)
    return keras.Model(inputs, outputs, name="decoder")


class VAE(keras.Model):
    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder = encoder, decoder
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def call(self, x, training=False):
        return self.decoder(self.encoder(x, training=training)[2], training=training)

    def losses_for(self, data, training):
        if isinstance(data, (tuple, list)):  # fit(x) may hand over (x,)
            data = data[0]
        z_mean, z_log_var, z = self.encoder(data, training=training)
        reconstruction = self.decoder(z, training=training)
        reconstruction_loss = ops.mean(ops.sum(
            keras.losses.binary_crossentropy(data, reconstruction), axis=(1, 2)))
        kl_loss = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
        kl_loss = ops.mean(ops.sum(kl_loss, axis=1))
        return reconstruction_loss + kl_loss, reconstruction_loss, kl_loss

    def _update(self, total, rec, kl):
        self.total_loss_tracker.update_state(total)
        self.reconstruction_loss_tracker.update_state(rec)
        self.kl_loss_tracker.update_state(kl)
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        with keras.GradientTape() as tape:
            total, rec, kl = self.losses_for(data, training=True)
        grads = tape.gradient(total, self.trainable_weights)
        self.optimizer.apply(grads, self.trainable_weights)
        return self._update(total, rec, kl)

    def test_step(self, data):
        return self._update(*self.losses_for(data, training=False))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--latent-dim", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=None)
    args = ap.parse_args()
    keras.utils.set_random_seed(0)

    try:
        (x_train, _), (x_test, _) = datasets.mnist.load_data()
        name = "mnist"
    except (datasets.DatasetNotFoundError, OSError):
        (x_train, _), (x_test, _) = datasets.fashion_mnist.load_data()
        name = "fashion_mnist"
    x_train = x_train.astype("float32")[..., None] / 255.0
    x_test = x_test.astype("float32")[..., None] / 255.0
    if args.quick:
        x_train, x_test = x_train[:8000], x_test[:2000]
    epochs = args.epochs or (2 if args.quick else 5)

    # Keyword arguments: lamina treats `Subclass(a, b)` as a functional (inputs, outputs) call.
    vae = VAE(encoder=build_encoder(args.latent_dim), decoder=build_decoder(args.latent_dim))
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    t0 = time.time()
    history = vae.fit(x_train, epochs=epochs, batch_size=128, verbose=2)
    results = vae.evaluate(x_test, batch_size=256, verbose=0, return_dict=True)
    _utils.metric_line(dataset=name, test_total_loss=float(results["total_loss"]),
                       test_reconstruction_loss=float(results["reconstruction_loss"]),
                       test_kl_loss=float(results["kl_loss"]), train_seconds=round(time.time() - t0, 1))

    # Decode a grid over the latent space (first two latent dimensions).
    grid = np.linspace(-2, 2, 8)
    z = np.zeros((64, args.latent_dim), dtype="float32")
    z[:, 0] = np.repeat(grid, 8)
    z[:, 1 % args.latent_dim] = np.tile(grid, 8)
    images = np.asarray(vae.decoder.predict(z, verbose=0))[..., 0]
    _utils.save_model(vae, "vae")
    _utils.plot_history(history, "vae_curves", keys=["total_loss"])
    _utils.plot_images(images, "vae_latent_grid")


if __name__ == "__main__":
    main()
