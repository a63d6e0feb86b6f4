"""8x8 handwritten digits (UCI optdigits test set, as shipped with scikit-learn)."""

import gzip

import numpy as np

from lamina.datasets._common import fetch, package_file

_FNAME = "digits.csv.gz"
_SHA = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
_URL = ("https://raw.githubusercontent.com/scikit-learn/scikit-learn/main/"
        "sklearn/datasets/data/digits.csv.gz")


def load_data(test_split=0.2, seed=113):
    """Load the 1,797 8x8 digits: `(x_train, y_train), (x_test, y_test)`.

    uint8 images (N, 8, 8) with values 0..16 and uint8 labels 0..9.  The file is read
    directly from an installed scikit-learn (without importing it), the cache folder,
    or downloaded.  The split is a deterministic shuffle with `seed`.
    """
    path = fetch(_FNAME, [package_file("scikit-learn", "sklearn/datasets/data/digits.csv.gz")],
                 _SHA, _URL)
    with gzip.open(path, "rt") as f:
        data = np.loadtxt(f, delimiter=",", dtype=np.float64)
    x = data[:, :-1].astype(np.uint8).reshape(-1, 8, 8)
    y = data[:, -1].astype(np.uint8)
    idx = np.random.RandomState(seed).permutation(len(x))
    x, y = x[idx], y[idx]
    n_test = int(round(len(x) * test_split))
    n_train = len(x) - n_test
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])
