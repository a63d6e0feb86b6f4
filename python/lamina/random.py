"""Random tensors from a counter-based generator (Philox4x32-10).

Every draw takes a fresh block of the stream, so a seed fixes every value on
any device and thread count: `lamina.random.set_seed(s)` (or
`lamina.utils.set_random_seed(s)`) makes runs reproducible bit for bit.
"""

import os
import threading

from lamina import _core
from lamina.runtime import default_device

_lock = threading.Lock()
_global = {"seed": int.from_bytes(os.urandom(8), "little") >> 1, "counter": 0}


def set_seed(seed):
    """Seeds the global stream."""
    with _lock:
        _global["seed"] = int(seed) & ((1 << 63) - 1)
        _global["counter"] = 0


def _numel(shape):
    n = 1
    for s in shape:
        n *= int(s)
    return n


def _take(stream, shape, notify=True):
    """Reserves counters for one draw of `shape` from `stream` (a dict). A
    step being captured notes the draw, so its replays reserve their own."""
    with _lock:
        seed, counter = stream["seed"], stream["counter"]
        # float32 draws take a Philox block per 4 values, float64 per 2.
        stream["counter"] += (_numel(shape) + 1) // 2 + 1
    if notify:
        from lamina.trainers.compiled_function import note_draw

        note_draw(stream, shape, seed, counter)
    return seed, counter


class SeedGenerator:
    """A stream of its own, as `keras.random.SeedGenerator`."""

    def __init__(self, seed=None):
        if seed is None:
            seed = int.from_bytes(os.urandom(8), "little") >> 1
        self._stream = {"seed": int(seed) & ((1 << 63) - 1), "counter": 0}

    def next(self, shape):
        return _take(self._stream, shape)

    def get_state(self):
        return dict(self._stream)

    def set_state(self, state):
        self._stream.update(seed=int(state["seed"]), counter=int(state["counter"]))


def _stream_for(seed):
    if seed is None:
        return _global
    if isinstance(seed, SeedGenerator):
        return seed._stream
    # An int seed gives the same values on every call, as keras.random.
    return {"seed": int(seed) & ((1 << 63) - 1), "counter": 0, "fixed": True}


def _shape(shape):
    return (shape,) if isinstance(shape, int) else tuple(int(s) for s in shape)


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Uniform values in [minval, maxval)."""
    shape = _shape(shape)
    s, c = _take(_stream_for(seed), shape)
    return _core.random_uniform(shape, float(minval), float(maxval), dtype, s, c, default_device())


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normally distributed values."""
    shape = _shape(shape)
    s, c = _take(_stream_for(seed), shape)
    return _core.random_normal(shape, float(mean), float(stddev), dtype, s, c, default_device())


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal values, those beyond two standard deviations redrawn (as Keras)."""
    from lamina import ops

    shape = _shape(shape)
    stream = _stream_for(seed)
    dev = default_device()
    z = _core.random_normal(shape, 0.0, 1.0, dtype, *_take(stream, shape), dev)
    for _ in range(32):
        bad = ops.greater(ops.abs(z), 2.0)
        if not bool(ops.any(bad)):
            break
        z = ops.where(bad, _core.random_normal(shape, 0.0, 1.0, dtype, *_take(stream, shape), dev), z)
    z = ops.clip(z, -2.0, 2.0)
    return z * stddev + mean


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Inverted dropout (as keras.random.dropout): zeros a fraction `rate` and
    scales the rest by 1 / (1 - rate). The mask comes from the Philox stream,
    so backward recomputes it instead of storing it."""
    x = _core.convert_to_tensor(inputs, None, True)
    if noise_shape is not None and tuple(noise_shape) != tuple(x.shape):
        from lamina import ops

        keep = ops.greater_equal(uniform(noise_shape, dtype=x.dtype, seed=seed), rate)
        return ops.multiply(x, ops.divide(ops.cast(keep, x.dtype), 1.0 - rate))
    s, c = _take(_stream_for(seed), x.shape)
    return _core.dropout_raw(x, float(rate), s, c)
