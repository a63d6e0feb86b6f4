"""Convolutional denoising autoencoder on Fashion-MNIST, then anomaly detection:
train on nine classes, score the held-out class by reconstruction error (ROC AUC).

    python examples/autoencoder.py [--quick] [--anomaly-class 8]
"""

import argparse
import time

import numpy as np

import _utils  # noqa: F401
import lamina as keras
from lamina import datasets, layers


def roc_auc(scores, labels):
    """Area under the ROC curve (Mann-Whitney U with average ranks for ties)."""
    scores, labels = np.asarray(scores, np.float64), np.asarray(labels).astype(bool)
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    s = scores[order]
    i = 0
    while i < len(s):  # average ranks over ties
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    n_pos, n_neg = labels.sum(), (~labels).sum()
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def build_autoencoder():
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(inputs)
    x = layers.Conv2D(64, 3, strides=2, padding="same", activation="relu")(x)
    encoded = layers.Conv2D(16, 3, padding="same", activation="relu", name="code")(x)  # 7x7x16
    x = layers.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu")(encoded)
    x = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(x)
    outputs = layers.Conv2D(1, 3, padding="same", activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="denoising_autoencoder")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--anomaly-class", type=int, default=8, help="class held out of training (8 = Bag)")
    ap.add_argument("--noise", type=float, default=0.3)
    ap.add_argument("--epochs", type=int, default=None)
    args = ap.parse_args()
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)

    (x_train, y_train), (x_test, y_test) = datasets.fashion_mnist.load_data()
    x_train = x_train[y_train != args.anomaly_class].astype("float32")[..., None] / 255.0
    x_test = x_test.astype("float32")[..., None] / 255.0
    if args.quick:
        x_train = x_train[:6000]
    epochs = args.epochs or (2 if args.quick else 5)

    def noisy(x):
        return np.clip(x + args.noise * rng.standard_normal(x.shape).astype("float32"), 0, 1)

    model = build_autoencoder()
    model.summary()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["mse"])
    t0 = time.time()
    history = model.fit(noisy(x_train), x_train, batch_size=128, epochs=epochs,
                        validation_split=0.1, verbose=2)

    x_noisy = noisy(x_test)
    denoised = np.asarray(model.predict(x_noisy, batch_size=256, verbose=0))
    noisy_mse = float(np.mean((x_noisy - x_test) ** 2))
    denoised_mse = float(np.mean((denoised - x_test) ** 2))
    # Anomaly score: how badly a clean image is reconstructed.
    recon = np.asarray(model.predict(x_test, batch_size=256, verbose=0))
    err = ((recon - x_test) ** 2).mean(axis=(1, 2, 3))
    auc = roc_auc(err, y_test == args.anomaly_class)
    _utils.metric_line(noisy_mse=noisy_mse, denoised_mse=denoised_mse,
                       anomaly_class=datasets.fashion_mnist.CLASS_NAMES[args.anomaly_class].replace(" ", "_"),
                       anomaly_auc=auc, train_seconds=round(time.time() - t0, 1))
    _utils.save_model(model, "autoencoder")
    _utils.plot_history(history, "autoencoder_curves", keys=["loss"])
    _utils.plot_images(np.concatenate([x_noisy[:8, ..., 0], denoised[:8, ..., 0], x_test[:8, ..., 0]]),
                       "autoencoder_samples")


if __name__ == "__main__":
    main()
