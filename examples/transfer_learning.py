"""Transfer learning: pretrain a small CNN on digits 0-4, freeze its convolutional base
(`trainable = False`), and fit a new head on only a few labelled examples of digits 5-9.
Compares with the same architecture trained from scratch on those few examples.

Uses MNIST when available, otherwise Fashion-MNIST (classes 0-4 -> 5-9).

    python examples/transfer_learning.py [--quick] [--per-class 50]
"""

import argparse
import time

import numpy as np

import _utils  # noqa: F401
import lamina as keras
from lamina import datasets, layers


def build_base():
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
    ], name="base")


def with_head(base, n_classes):
    inputs = keras.Input(shape=(28, 28, 1))
    x = base(inputs)
    x = layers.Dense(64, activation="relu")(x)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(n_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--per-class", type=int, default=50, help="labelled examples per new class")
    args = ap.parse_args()
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)

    try:
        (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data()
        name = "mnist"
    except (datasets.DatasetNotFoundError, OSError):
        (x_train, y_train), (x_test, y_test) = datasets.fashion_mnist.load_data()
        name = "fashion_mnist"
    x_train = x_train.astype("float32")[..., None] / 255.0
    x_test = x_test.astype("float32")[..., None] / 255.0

    # Task A: classes 0-4, plenty of data.
    a = y_train < 5
    xa, ya = x_train[a], y_train[a]
    if args.quick:
        xa, ya = xa[:6000], ya[:6000]
    # Task B: classes 5-9 (relabelled 0-4), only `per_class` labelled examples each.
    idx = np.concatenate([rng.choice(np.flatnonzero(y_train == c), args.per_class, replace=False)
                          for c in range(5, 10)])
    xb, yb = x_train[idx], y_train[idx] - 5
    tb = y_test >= 5
    xb_test, yb_test = x_test[tb], y_test[tb] - 5

    t0 = time.time()
    base = build_base()
    pretrain = with_head(base, 5)
    pretrain.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    pretrain.fit(xa, ya, batch_size=128, epochs=2 if args.quick else 4, verbose=2)
    _, acc_a = pretrain.evaluate(x_test[y_test < 5], y_test[y_test < 5], verbose=0)
    print(f"pretraining accuracy on classes 0-4: {acc_a:.4f}")

    # Freeze the base and train a new head on task B.
    base.trainable = False
    model = with_head(base, 5)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.summary()
    epochs_b = 20 if args.quick else 40
    history = model.fit(xb, yb, batch_size=32, epochs=epochs_b, verbose=0)
    _, acc_transfer = model.evaluate(xb_test, yb_test, verbose=0)

    scratch = with_head(build_base(), 5)
    scratch.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                    metrics=["accuracy"])
    scratch.fit(xb, yb, batch_size=32, epochs=epochs_b, verbose=0)
    _, acc_scratch = scratch.evaluate(xb_test, yb_test, verbose=0)

    n_frozen = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    _utils.metric_line(dataset=name, pretrain_accuracy=float(acc_a), transfer_accuracy=float(acc_transfer),
                       scratch_accuracy=float(acc_scratch), frozen_params=n_frozen,
                       train_seconds=round(time.time() - t0, 1))
    _utils.save_model(model, "transfer_learning")
    _utils.plot_history(history, "transfer_learning")


if __name__ == "__main__":
    main()
