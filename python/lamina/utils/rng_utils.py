"""Seeding: `set_random_seed` and seeds derived from lamina's global stream."""

import random as python_random

import numpy as np

from lamina import random as lamina_random

_MASK63 = (1 << 63) - 1


def _splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return x ^ (x >> 31)


def set_random_seed(seed):
    """Seeds Python's `random`, NumPy's global generator and lamina's streams.

    After `set_random_seed(s)`, building and training the same model on the
    same data gives bit-identical weights (weight initializers, dropout masks,
    and the shuffling of `fit` all derive from it).
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise ValueError(
            f"Expected `seed` argument to be an integer. Received: seed={seed} (of type {type(seed)})"
        )
    seed = int(seed)
    python_random.seed(seed)
    np.random.seed(seed % (2**32))
    lamina_random.set_seed(seed)


def make_default_seed():
    """A fresh 63-bit seed drawn from lamina's global stream (reproducible
    under `set_random_seed`)."""
    seed, counter = lamina_random._take(lamina_random._global, (4,))
    return _splitmix64(_splitmix64(seed) ^ counter) & _MASK63


def make_seed_generator(seed=None):
    """A `lamina.random.SeedGenerator` for a layer: from `seed` if given, else
    derived from the global stream."""
    if isinstance(seed, lamina_random.SeedGenerator):
        return seed
    return lamina_random.SeedGenerator(make_default_seed() if seed is None else int(seed))


def numpy_generator(seed=None):
    """A NumPy Generator seeded from lamina's global stream (or `seed`)."""
    return np.random.default_rng(make_default_seed() if seed is None else int(seed))
