"""Fashion-MNIST (`keras.datasets.fashion_mnist`)."""

import gzip
import os

import numpy as np

from lamina.datasets._common import fetch

_BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_LOCAL_DIRS = ["/usr/share/datasets/fashion-mnist"]  # Debian package dataset-fashion-mnist
_FILES = {
    "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
    "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
}
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def _read(fname, offset):
    path = fetch(fname, [os.path.join(d, fname) for d in _LOCAL_DIRS], _FILES[fname],
                 _BASE + fname, subdir="fashion-mnist")
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def load_data():
    """Load Fashion-MNIST: `(x_train, y_train), (x_test, y_test)`.

    uint8 images (N, 28, 28), uint8 labels 0..9 (see `CLASS_NAMES`); 60,000 / 10,000.
    Reads `/usr/share/datasets/fashion-mnist` (Debian `dataset-fashion-mnist`), then
    the cache folder `fashion-mnist/`, then downloads Keras's files.
    """
    y_train = _read("train-labels-idx1-ubyte.gz", 8)
    x_train = _read("train-images-idx3-ubyte.gz", 16).reshape(len(y_train), 28, 28)
    y_test = _read("t10k-labels-idx1-ubyte.gz", 8)
    x_test = _read("t10k-images-idx3-ubyte.gz", 16).reshape(len(y_test), 28, 28)
    return (x_train, y_train), (x_test, y_test)
