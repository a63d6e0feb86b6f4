"""DCGAN with a hand-written training loop: `GradientTape`, two optimizers, and the
discriminator frozen (`trainable = False`) during the generator step.

Trains on MNIST when available, otherwise Fashion-MNIST.  As a simple, checkable
quality measure it reports how far the mean generated image is from the mean real
image (MSE) before and after training, and the discriminator's final accuracy.

    python examples/gan.py [--quick] [--steps N]
"""

import argparse
import time

import numpy as np

import _utils  # noqa: F401
import lamina as keras
from lamina import datasets, layers, ops

LATENT = 64


def build_generator():
    return keras.Sequential([
        keras.Input(shape=(LATENT,)),
        layers.Dense(7 * 7 * 64),
        layers.LeakyReLU(0.2),
        layers.Reshape((7, 7, 64)),
        layers.Conv2DTranspose(64, 4, strides=2, padding="same"),
        layers.LeakyReLU(0.2),
        layers.Conv2DTranspose(32, 4, strides=2, padding="same"),
        layers.LeakyReLU(0.2),
        layers.Conv2D(1, 5, padding="same", activation="sigmoid"),
    ], name="generator")


def build_discriminator():
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, 4, strides=2, padding="same"),
        layers.LeakyReLU(0.2),
        layers.Conv2D(64, 4, strides=2, padding="same"),
        layers.LeakyReLU(0.2),
        layers.Flatten(),
        layers.Dropout(0.2),
        layers.Dense(1),  # logits
    ], name="discriminator")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--steps", type=int, default=None, help="training steps in all")
    ap.add_argument("--epochs", type=int, default=None, help="sample grids and checks per run")
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args()
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)

    try:
        (x_train, _), _ = datasets.mnist.load_data()
        name = "mnist"
    except (datasets.DatasetNotFoundError, OSError):
        (x_train, _), _ = datasets.fashion_mnist.load_data()
        name = "fashion_mnist"
    x_train = x_train.astype("float32")[..., None] / 255.0
    steps = args.steps or (60 if args.quick else 1000)
    epochs = args.epochs or (2 if args.quick else 5)
    bs = args.batch_size

    generator, discriminator = build_generator(), build_discriminator()
    g_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
    d_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    real_mean = x_train.mean(axis=0)

    def mean_image_mse():
        z = rng.standard_normal((500, LATENT)).astype("float32")
        fake = np.asarray(generator.predict(z, batch_size=250, verbose=0))
        return float(np.mean((fake.mean(axis=0) - real_mean) ** 2))

    fixed_z = rng.standard_normal((32, LATENT)).astype("float32")  # the same latents every epoch

    def fake_accuracy(n=500):
        """The discriminator's accuracy on generated samples (1.0 means it has won)."""
        fake = np.asarray(generator.predict(rng.standard_normal((n, LATENT)).astype("float32"), verbose=0))
        return float(np.mean(np.asarray(discriminator.predict(fake, verbose=0)).ravel() <= 0))

    before = mean_image_mse()
    history = {"d_loss": [], "g_loss": []}
    t0 = time.time()
    for step in range(steps):
        real = x_train[rng.integers(0, len(x_train), bs)]
        z = rng.standard_normal((bs, LATENT)).astype("float32")

        # 1) Discriminator step: real -> 1, fake -> 0.
        with keras.GradientTape() as tape:
            fake = generator(z, training=True)
            real_logits = discriminator(real, training=True)
            fake_logits = discriminator(fake, training=True)
            d_loss = bce(ops.ones_like(real_logits), real_logits) + bce(ops.zeros_like(fake_logits), fake_logits)
        d_grads = tape.gradient(d_loss, discriminator.trainable_weights)
        d_opt.apply(d_grads, discriminator.trainable_weights)

        # 2) Generator step with the discriminator frozen: make D say "real".
        discriminator.trainable = False
        z = rng.standard_normal((bs, LATENT)).astype("float32")
        with keras.GradientTape() as tape:
            fake_logits = discriminator(generator(z, training=True), training=False)
            g_loss = bce(ops.ones_like(fake_logits), fake_logits)
        g_grads = tape.gradient(g_loss, generator.trainable_weights)
        g_opt.apply(g_grads, generator.trainable_weights)
        discriminator.trainable = True

        history["d_loss"].append(float(d_loss))
        history["g_loss"].append(float(g_loss))
        if step % 50 == 0 or step == steps - 1:
            print(f"step {step + 1}/{steps}  d_loss={float(d_loss):.3f}  g_loss={float(g_loss):.3f}", flush=True)
        epoch, last = divmod(step + 1, -(-steps // epochs))
        if last == 0 or step == steps - 1:  # end of an epoch: a sample grid and a collapse check
            epoch += last > 0
            history.setdefault("d_acc_fake", []).append(fake_accuracy())
            print(f"epoch {epoch}/{epochs}: discriminator accuracy on generated samples "
                  f"{history['d_acc_fake'][-1]:.3f}", flush=True)
            samples = np.asarray(generator.predict(fixed_z, verbose=0))
            _utils.plot_images(samples[..., 0], f"gan_samples_epoch{epoch:02d}")

    after = mean_image_mse()
    real = x_train[rng.integers(0, len(x_train), 500)]
    fake = np.asarray(generator.predict(rng.standard_normal((500, LATENT)).astype("float32"), verbose=0))
    logits = np.asarray(discriminator.predict(np.concatenate([real, fake]), verbose=0)).ravel()
    d_acc = float(np.mean(np.concatenate([logits[:500] > 0, logits[500:] <= 0])))
    d_acc_fake = float(np.mean(logits[500:] <= 0))
    _utils.metric_line(dataset=name, mean_image_mse_before=before, mean_image_mse_after=after,
                       discriminator_accuracy=d_acc, discriminator_accuracy_on_fakes=d_acc_fake,
                       train_seconds=round(time.time() - t0, 1))
    _utils.save_model(generator, "gan_generator")
    _utils.plot_history({k: history[k] for k in ("d_loss", "g_loss")}, "gan_curves")


if __name__ == "__main__":
    main()
