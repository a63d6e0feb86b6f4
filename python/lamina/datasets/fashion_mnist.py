"""Fashion-MNIST (`keras.datasets.fashion_mnist`)."""

import gzip
import os

import numpy as np

from lamina.datasets._common import fetch, verify_bytes

_BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_LOCAL_DIRS = ["/usr/share/datasets/fashion-mnist"]  # Debian package dataset-fashion-mnist
# SHA-256 of the *decompressed* idx files: Debian's .gz files are recompressed
# (different bytes from upstream's), the data inside is identical.
_FILES = {
    "train-labels-idx1-ubyte.gz": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "train-images-idx3-ubyte.gz": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "t10k-labels-idx1-ubyte.gz": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    "t10k-images-idx3-ubyte.gz": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
}
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def _read(fname, offset):
    path = fetch(fname, [os.path.join(d, fname) for d in _LOCAL_DIRS], None,
                 _BASE + fname, subdir="fashion-mnist")
    with gzip.open(path, "rb") as f:
        data = verify_bytes(f.read(), _FILES[fname], path)
    return np.frombuffer(data, np.uint8, offset=offset)


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
