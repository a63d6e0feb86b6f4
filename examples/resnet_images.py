"""A small ResNet (residual blocks with BatchNormalization) and in-model augmentation
layers (Rescaling, RandomFlip, RandomContrast) on Fashion-MNIST.

    python examples/resnet_images.py [--quick]
"""

import argparse
import time


import _utils  # noqa: F401
import lamina as keras
from lamina import datasets, layers


def residual_block(x, filters, stride):
    shortcut = x
    y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)
    y = layers.BatchNormalization(momentum=0.9)(y)
    y = layers.Activation("relu")(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization(momentum=0.9)(y)
    if stride != 1 or shortcut.shape[-1] != filters:  # projection shortcut
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False)(shortcut)
        shortcut = layers.BatchNormalization(momentum=0.9)(shortcut)
    return layers.Activation("relu")(layers.Add()([y, shortcut]))


def build_resnet(widths=(16, 32, 64), num_classes=10):
    inputs = keras.Input(shape=(28, 28, 1))
    # BatchNormalization(momentum=0.9): moving statistics settle within a short run.
    x = layers.Rescaling(1.0 / 255)(inputs)
    x = layers.RandomFlip("horizontal")(x)  # active only in training
    x = layers.RandomContrast(0.1)(x)
    x = layers.Conv2D(widths[0], 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=0.9)(x)
    x = layers.Activation("relu")(x)
    for i, w in enumerate(widths):
        x = residual_block(x, w, stride=1 if i == 0 else 2)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="small_resnet")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--epochs", type=int, default=None)
    args = ap.parse_args()
    keras.utils.set_random_seed(0)

    (x_train, y_train), (x_test, y_test) = datasets.fashion_mnist.load_data()
    x_train, x_test = x_train[..., None].astype("float32"), x_test[..., None].astype("float32")
    if args.quick:
        x_train, y_train = x_train[:6000], y_train[:6000]
        x_test, y_test = x_test[:1000], y_test[:1000]
    epochs = args.epochs or (2 if args.quick else 10)

    model = build_resnet((8, 16, 32) if args.quick else (16, 32, 64))
    model.summary()
    # Cosine decay over the whole run: a high rate early, a fine settle at the end.
    steps = epochs * -(-int(len(x_train) * 0.9) // 128)
    lr = keras.optimizers.schedules.CosineDecay(3e-3, decay_steps=steps, alpha=0.01)
    model.compile(optimizer=keras.optimizers.Adam(lr), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    t0 = time.time()
    history = model.fit(x_train, y_train, batch_size=128, epochs=epochs, validation_split=0.1, verbose=2)
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    _utils.metric_line(test_loss=float(loss), test_accuracy=float(acc), train_seconds=round(time.time() - t0, 1))
    _utils.save_model(model, "resnet_images")
    _utils.plot_history(history, "resnet_images")


if __name__ == "__main__":
    main()
