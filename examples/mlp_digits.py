"""MLP on the 8x8 handwritten digits (scikit-learn's copy of UCI optdigits).

    python examples/mlp_digits.py [--quick]
"""

import argparse
import time


import _utils  # noqa: F401  (puts the in-tree package on sys.path)
import lamina as keras
from lamina import datasets, layers


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true", help="a few epochs only")
    p.add_argument("--epochs", type=int, default=None)
    args = p.parse_args()
    epochs = args.epochs or (8 if args.quick else 60)
    keras.utils.set_random_seed(0)

    (x_train, y_train), (x_test, y_test) = datasets.digits.load_data()
    x_train = x_train.reshape(-1, 64).astype("float32") / 16.0
    x_test = x_test.reshape(-1, 64).astype("float32") / 16.0

    model = keras.Sequential([
        keras.Input(shape=(64,)),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.2),
        layers.Dense(64, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()

    t0 = time.time()
    history = model.fit(x_train, y_train, batch_size=32, epochs=epochs,
                        validation_split=0.1, verbose=2)
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    _utils.metric_line(test_loss=float(loss), test_accuracy=float(acc),
                       train_seconds=round(time.time() - t0, 1))
    _utils.save_model(model, "mlp_digits")
    _utils.plot_history(history, "mlp_digits")


if __name__ == "__main__":
    main()
