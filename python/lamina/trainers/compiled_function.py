"""Compiled steps: a step function captured once as a kernel program and
replayed for later batches (Keras's `jit_compile`, lamina's way).

The first call with a given input signature (shapes and dtypes) runs
eagerly: it builds whatever the step creates lazily (optimizer slots, metric
totals). The second runs the step eagerly while `_core.begin_capture`
records every CPU kernel it launches, on input buffers of the program's own.
Later calls copy the batch into those buffers and replay the kernels in C++:
no Python per layer or op, no allocation, no shape logic. As with
`tf.function`, Python side effects of the step happen at capture time only.

Two kinds of host values do change from step to step, and the step says so
while it is captured:
- random draws (dropout, noise layers): each replay reserves counters from
  the same streams, in the same order, as the eager step would, so a
  replayed step draws exactly what the eager one would have;
- an optimizer's learning rate, step count and weight-decay factor: it
  writes them into small tensors its fused update reads when it runs, and
  registers `before_replay` hooks that rewrite them before every replay.

A program is only kept when it is safe to replay: the capture is refused
when the step read a tensor's value into Python, moved data between
devices, created a variable or updated an optimizer from host values
(`Capture.why` says which), or when its buffers would hold more than
MAX_HELD_BYTES. The first replay is checked against an eager run of the
same batch from the same state: the state buffers (weights, slots, metric
totals) are saved, the replay's outputs and new state recorded, the state
restored, the eager step run, and both must agree bit for bit. Otherwise
that signature runs eagerly.
"""

import contextlib
import threading

import numpy as np

from lamina import _core
from lamina.trainers.data_adapters import _to_numpy_leaf
from lamina.utils import tree

Tensor = _core.Tensor

# Signatures kept per step (a last, smaller batch makes a second one).
MAX_PROGRAMS = 4
# A program keeps its weights, state and an arena of its intermediates
# alive (Capture.plan: buffers whose lifetimes do not overlap share memory);
# one that would hold more than this runs eagerly instead.
MAX_HELD_BYTES = 256 << 20

_local = threading.local()


class _Recording:
    """What a step declares while it is captured: hooks to run before each
    replay, and the random draws it made (stream, shape, recorded values)."""

    def __init__(self, capture):
        self.capture = capture
        self.hooks = []
        self.draws = []


def _recording():
    return getattr(_local, "recording", None)


def before_replay(hook):
    """Registers `hook` (no arguments) to run before every replay of the step
    being captured, to rewrite the host values it reads; no-op otherwise."""
    rec = _recording()
    if rec is not None:
        rec.hooks.append(hook)


@contextlib.contextmanager
def host_side():
    """Host computations that do not taint the capture in progress: for
    values a `before_replay` hook recomputes before every replay."""
    rec = _recording()
    if rec is None:
        yield
        return
    _core.end_capture()
    try:
        yield
    finally:
        _core.begin_capture(rec.capture)


def note_draw(stream, shape, seed, counter):
    """Called by lamina.random for each draw (a no-op unless capturing)."""
    rec = _recording()
    if rec is not None:
        rec.draws.append((stream, shape, (seed, counter)))


def _signature(leaves):
    sig = []
    for leaf in leaves:
        if isinstance(leaf, Tensor):
            if leaf.device != "cpu" or leaf.requires_grad:
                return None
            sig.append((tuple(leaf.shape), str(leaf.dtype)))
        elif isinstance(leaf, np.ndarray) and leaf.dtype.kind in "biuf":
            sig.append((leaf.shape, leaf.dtype.str))
        elif leaf is None:
            sig.append(None)  # an absent sample_weight
        else:
            return None  # Python values may steer the step: run it eagerly
    return tuple(sig)


def _as_numpy(leaf):
    return leaf.numpy() if isinstance(leaf, Tensor) else leaf


class _Program:
    """A captured step: its input buffers, kernels, output tensors, and the
    host values it re-reads before each replay."""

    def __init__(self, capture, buffers, outputs, recording):
        self.capture = capture
        self.buffers = buffers
        # writable, share the buffers
        self.views = [None if buf is None else buf.numpy() for buf in buffers]
        self.outputs = outputs
        self.hooks = recording.hooks
        self.draws = [(stream, shape, stream.get("fixed")) for stream, shape, _ in recording.draws]
        # The Python draw each recorded kernel draw repeats (dropout's
        # backward redraws its forward's mask from the same counters).
        first = {}
        for j, (_, _, d) in enumerate(recording.draws):
            first.setdefault(d, j)
        self.kernel_draws = [first[tuple(d)] for d in capture.draws]
        self.verified = False

    def streams(self):
        """The random streams a replay advances (to save and restore)."""
        seen = {}
        for stream, _, fixed in self.draws:
            if not fixed:
                seen[id(stream)] = stream
        return list(seen.values())

    def run(self, leaves):
        from lamina.random import _take

        for hook in self.hooks:
            hook()
        if self.draws:
            new = [(stream["seed"], 0) if fixed else _take(stream, shape, notify=False)
                   for stream, shape, fixed in self.draws]
            self.capture.set_draws([new[j] for j in self.kernel_draws])
        self.load(leaves)
        self.capture.replay()
        return self.outputs

    def load(self, leaves):
        """Copies a batch into the input buffers."""
        for view, leaf in zip(self.views, leaves):
            # the cast to_tensors would make (float64 -> float32, ...), in place
            if view is not None:
                np.copyto(view, _as_numpy(leaf), casting="unsafe")


def _same(a, b):
    fa, fb = tree.flatten(a), tree.flatten(b)
    return len(fa) == len(fb) and all(
        np.array_equal(np.asarray(_as_numpy(x)), np.asarray(_as_numpy(y)), equal_nan=True) for x, y in zip(fa, fb))


def _read_after_replay(outputs):
    """The tensors the caller reads after a replay (kept out of the arena):
    the outputs and the Keras masks they carry (metrics weight by them)."""
    keep = []
    for t in tree.flatten(outputs):
        if isinstance(t, Tensor):
            keep.append(t)
            mask = getattr(t, "_keras_mask", None)
            if isinstance(mask, Tensor):
                keep.append(mask)
    return keep


class CompiledFunction:
    """`fn(data)` with data a nested structure of tensors / arrays, captured
    per input signature and replayed; falls back to `fn` itself wherever a
    capture is refused. Outputs of a replay live in the program's buffers
    until the next call: copy what must outlive it."""

    def __init__(self, fn):
        self._fn = fn
        self._programs = {}
        self._seen = set()
        self.refused = {}  # signature -> why it runs eagerly

    def __deepcopy__(self, memo):
        # A copied model must not replay programs recorded on this model's
        # buffers: it gets no compiled function and makes its own.
        return None

    def __call__(self, data):
        leaves = tree.flatten(data)
        sig = _signature(leaves)
        if sig is None or sig in self.refused:
            return self._fn(data)
        program = self._programs.get(sig)
        if program is None:
            if sig not in self._seen or len(self._programs) >= MAX_PROGRAMS or _recording() is not None:
                # First call: eager, so what the step creates lazily exists before a capture.
                self._seen.add(sig)
                return self._fn(data)
            return self._capture(sig, data, leaves)
        if program.verified:
            return program.run(leaves)
        return self._verify(sig, program, data, leaves)

    def _capture(self, sig, data, leaves):
        # Buffers of the dtypes the eager step would see (to_tensors' casts).
        buffers = [_core.copy(leaf) if isinstance(leaf, Tensor)
                   else None if leaf is None
                   else _core.convert_to_tensor(np.ascontiguousarray(_to_numpy_leaf(leaf)), None, True)
                   for leaf in leaves]
        capture = _core.Capture()
        recording = _Recording(capture)
        _local.recording = recording
        _core.begin_capture(capture)
        try:
            outputs = self._fn(tree.pack_sequence_as(data, buffers))
        finally:
            _core.end_capture()
            _local.recording = None
        why = self._refusal(capture, recording, outputs)
        if not why:
            capture.plan(_read_after_replay(outputs))
            if capture.held_bytes > MAX_HELD_BYTES:
                why = f"its buffers would hold {capture.held_bytes >> 20} MB"
        if why:
            self.refused[sig] = why
        else:
            self._programs[sig] = _Program(capture, buffers, outputs, recording)
        return outputs

    @staticmethod
    def _refusal(capture, recording, outputs):
        out_leaves = tree.flatten(outputs)
        if capture.tainted:
            return capture.why
        if not out_leaves or not all(isinstance(t, Tensor) for t in out_leaves):
            return "its outputs are not all tensors"
        if not {tuple(d) for d in capture.draws} <= {d for _, _, d in recording.draws}:
            return "a kernel took a random seed as a constant (a replay would repeat its draws)"
        return None

    def _verify(self, sig, program, data, leaves):
        """Replays once and runs the same step eagerly from the same state;
        the program is kept when both agree bit for bit. The eager run's
        results and state stand either way."""
        streams = program.streams()
        saved_streams = [dict(s) for s in streams]
        before = program.capture.snapshot()
        replayed = [_core.copy(t) for t in _read_after_replay(program.run(leaves))]
        after_replay = program.capture.snapshot()
        program.capture.restore(before)
        program.load(leaves)  # the input buffers are state too: they hold this batch
        for s, saved in zip(streams, saved_streams):
            s.update(saved)
        eager = self._fn(data)
        if _same(replayed, _read_after_replay(eager)) and program.capture.snapshot() == after_replay:
            program.verified = True
        else:
            del self._programs[sig]
            self.refused[sig] = "a replay differed from the eager run"
        return eager
