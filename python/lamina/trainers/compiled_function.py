"""Compiled steps: a step function captured once as a kernel program and
replayed for later batches (Keras's `jit_compile`, lamina's way).

The first call with a given input signature (shapes and dtypes) runs
eagerly: it builds whatever the step creates lazily (optimizer slots, metric
totals). The second runs the step eagerly while `_core.begin_capture`
records every CPU kernel it launches, on input buffers of the program's own
(buffers the step drops are freed as eagerly, their place in the program
assigned when it is planned).
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
(`Capture.why` says which). The third call checks it: the step runs
eagerly (its results stand), the state buffers (weights, slots, metric
totals) are put back as they were, the program's memory is planned
(`Capture.plan`), and a replay of the same batch must agree with the eager
run bit for bit, outputs and state, and hold at most MAX_HELD_BYTES.
Otherwise that signature runs eagerly.
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
        self.keep = _read_after_replay(outputs)  # not moved into the arena
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
        """Runs the step eagerly (its results and state stand), then from the
        same state plans the program's memory and replays it on the same
        batch: the program is kept when both agree bit for bit."""
        capture = program.capture
        streams = program.streams()
        streams_before = [dict(s) for s in streams]
        program.load(leaves)  # the input buffers are state too: they hold this batch
        before = capture.snapshot()
        eager = self._fn(data)
        eager_out = _read_after_replay(eager)
        after = capture.snapshot()
        streams_after = [dict(s) for s in streams]
        capture.restore(before)
        for s, saved in zip(streams, streams_before):
            s.update(saved)
        capture.plan(program.keep)
        if capture.held_bytes > MAX_HELD_BYTES:
            why = f"its buffers would hold {capture.held_bytes >> 20} MB"
        else:
            replayed = _read_after_replay(program.run(leaves))
            why = None if _same(replayed, eager_out) and capture.snapshot() == after else \
                "a replay differed from the eager run"
        if why is None:
            program.verified = True
        else:
            capture.restore(after)
            for s, saved in zip(streams, streams_after):
                s.update(saved)
            del self._programs[sig]
            self.refused[sig] = why
        return eager
