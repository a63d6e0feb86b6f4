"""`keras.utils.split_dataset` for in-memory (NumPy) data, plus a tiny word tokenizer."""

import re

import numpy as np


def _leaves(ds):
    if isinstance(ds, dict):
        return [v for k in ds for v in _leaves(ds[k])]
    if isinstance(ds, (tuple, list)) and not _is_array_like_list(ds):
        return [v for d in ds for v in _leaves(d)]
    return [ds]


def _is_array_like_list(ds):
    # A list of scalars/strings is one array, a list/tuple of arrays is a structure.
    return isinstance(ds, list) and (len(ds) == 0 or not hasattr(ds[0], "__len__") or isinstance(ds[0], str))


def _take(ds, idx):
    if isinstance(ds, dict):
        return {k: _take(v, idx) for k, v in ds.items()}
    if isinstance(ds, (tuple, list)) and not _is_array_like_list(ds):
        return type(ds)(_take(d, idx) for d in ds)
    return np.asarray(ds)[idx] if not hasattr(ds, "shape") else ds[idx]


def _resolve(size, n, name):
    if size is None:
        return None
    if isinstance(size, float):
        if not 0.0 < size < 1.0:
            raise ValueError(f"`{name}` as a float must be in (0, 1); got {size}.")
        return int(round(size * n))
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        if not 0 < size <= n:
            raise ValueError(f"`{name}`={size} is out of range for a dataset of {n} samples.")
        return int(size)
    raise TypeError(f"`{name}` must be a float fraction or an int count; got {type(size).__name__}.")


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None):
    """Split a dataset into a left and a right part (like `keras.utils.split_dataset`).

    `dataset` is an array, a tuple/list of arrays of equal length (e.g. `(x, y)`) or a
    dict of arrays.  `left_size`/`right_size` are fractions in (0, 1) or sample counts;
    when one is None it is the complement of the other (both None: 0.5 each).
    Returns `(left, right)` with the same structure as `dataset`.
    """
    leaves = _leaves(dataset)
    if not leaves:
        raise ValueError("`dataset` is empty.")
    n = len(leaves[0])
    for leaf in leaves:
        if len(leaf) != n:
            raise ValueError(f"All arrays in `dataset` must have the same length; got {len(leaf)} and {n}.")
    left = _resolve(left_size, n, "left_size")
    right = _resolve(right_size, n, "right_size")
    if left is None and right is None:
        left = n // 2
    if left is None:
        left = n - right
    if right is None:
        right = n - left
    if left + right > n:
        raise ValueError(f"left_size + right_size = {left + right} exceeds the {n} samples.")
    if left == 0 or right == 0:
        raise ValueError("Both splits must contain at least one sample.")
    idx = np.arange(n)
    if shuffle:
        seed = np.random.randint(2**31 - 1) if seed is None else seed
        idx = np.random.RandomState(seed).permutation(n)
    return _take(dataset, idx[:left]), _take(dataset, idx[left:left + right])


_TOKEN = re.compile(r"[a-z0-9']+|[^\sa-z0-9']")


class WordTokenizer:
    """A minimal word-index tokenizer: index 0 is padding, 1 is out-of-vocabulary.

    `fit(texts)` keeps the `num_words - 2` most frequent lowercased tokens;
    `texts_to_sequences(texts)` maps each text to a list of ints;
    `__call__(texts, maxlen)` returns a padded int array (post-padding, post-truncation).
    """

    def __init__(self, num_words=20000, pattern=_TOKEN):
        self.num_words = num_words
        self.pattern = re.compile(pattern) if isinstance(pattern, str) else pattern
        self.word_index = {}

    def tokenize(self, text):
        return self.pattern.findall(text.lower())

    def fit(self, texts):
        from collections import Counter

        counts = Counter()
        for t in texts:
            counts.update(self.tokenize(t))
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: self.num_words - 2]
        self.word_index = {w: i + 2 for i, (w, _) in enumerate(ranked)}
        return self

    def texts_to_sequences(self, texts):
        wi = self.word_index
        return [[wi.get(w, 1) for w in self.tokenize(t)] for t in texts]

    def __call__(self, texts, maxlen):
        out = np.zeros((len(texts), maxlen), dtype=np.int64)
        for i, seq in enumerate(self.texts_to_sequences(texts)):
            seq = seq[:maxlen]
            out[i, : len(seq)] = seq
        return out

    @property
    def vocabulary_size(self):
        return len(self.word_index) + 2
