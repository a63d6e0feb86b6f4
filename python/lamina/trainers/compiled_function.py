"""Compiled steps: a step function captured once as a kernel program and
replayed for later batches (Keras's `jit_compile`, lamina's way).

The first call with a given input signature (shapes and dtypes) runs the step
eagerly while `_core.begin_capture` records every CPU kernel it launches, on
input buffers of the program's own. Later calls copy the batch into those
buffers and replay the kernels in C++: no Python per layer or op, no
allocation, no shape logic. As with `tf.function`, Python side effects of
the step happen at capture time only.

A program is only kept when it is safe to replay: the capture is refused
when the step read a tensor's value into Python, drew random numbers, moved
data between devices or updated an optimizer outside the kernel tables
(`Capture.why` says which), or when its buffers would hold more than
MAX_HELD_BYTES; and the first replay is checked against an eager run of the
same batch, bit for bit. Otherwise that signature runs eagerly.
"""

import numpy as np

from lamina import _core
from lamina.trainers.data_adapters import _to_numpy_leaf
from lamina.utils import tree

Tensor = _core.Tensor

# Signatures kept per step (a last, smaller batch makes a second one).
MAX_PROGRAMS = 4
# A program keeps every tensor it recorded alive (buffers are not yet shared
# between tensors whose lifetimes do not overlap), so a step whose buffers
# pass this runs eagerly, where freed activations are reused.
MAX_HELD_BYTES = 256 << 20


def _signature(leaves):
    sig = []
    for leaf in leaves:
        if isinstance(leaf, Tensor):
            if leaf.device != "cpu" or leaf.requires_grad:
                return None
            sig.append((tuple(leaf.shape), str(leaf.dtype)))
        elif isinstance(leaf, np.ndarray) and leaf.dtype.kind in "biuf":
            sig.append((leaf.shape, leaf.dtype.str))
        else:
            return None  # Python values may steer the step: run it eagerly
    return tuple(sig)


def _as_numpy(leaf):
    return leaf.numpy() if isinstance(leaf, Tensor) else leaf


class _Program:
    """A captured step: its input buffers, kernels and output tensors."""

    def __init__(self, capture, buffers, outputs):
        self.capture = capture
        self.buffers = buffers
        self.views = [buf.numpy() for buf in buffers]  # writable, share the buffers
        self.outputs = outputs
        self.verified = False

    def run(self, leaves):
        for view, leaf in zip(self.views, leaves):
            # the cast to_tensors would make (float64 -> float32, ...), in place
            np.copyto(view, _as_numpy(leaf), casting="unsafe")
        self.capture.replay()
        return self.outputs


def _same(a, b):
    fa, fb = tree.flatten(a), tree.flatten(b)
    return len(fa) == len(fb) and all(
        np.array_equal(np.asarray(x.numpy()), np.asarray(y.numpy()), equal_nan=True) for x, y in zip(fa, fb))


class CompiledFunction:
    """`fn(data)` with data a nested structure of tensors / arrays, captured
    per input signature and replayed; falls back to `fn` itself wherever a
    capture is refused. Outputs of a replay live in the program's buffers
    until the next call: copy what must outlive it."""

    def __init__(self, fn):
        self._fn = fn
        self._programs = {}
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
            if len(self._programs) >= MAX_PROGRAMS:
                return self._fn(data)
            return self._capture(sig, data, leaves)
        if program.verified:
            return program.run(leaves)
        return self._verify(sig, program, data, leaves)

    def _capture(self, sig, data, leaves):
        # Buffers of the dtypes the eager step would see (to_tensors' casts).
        buffers = [_core.copy(leaf) if isinstance(leaf, Tensor)
                   else _core.convert_to_tensor(np.ascontiguousarray(_to_numpy_leaf(leaf)), None, True)
                   for leaf in leaves]
        capture = _core.Capture()
        _core.begin_capture(capture)
        try:
            outputs = self._fn(tree.pack_sequence_as(data, buffers))
        finally:
            _core.end_capture()
        out_leaves = tree.flatten(outputs)
        if capture.tainted:
            self.refused[sig] = capture.why
        elif capture.held_bytes > MAX_HELD_BYTES:
            self.refused[sig] = f"its buffers would hold {capture.held_bytes >> 20} MB"
        elif not out_leaves or not all(isinstance(t, Tensor) for t in out_leaves):
            self.refused[sig] = "its outputs are not all tensors"
        else:
            self._programs[sig] = _Program(capture, buffers, outputs)
        return outputs

    def _verify(self, sig, program, data, leaves):
        replayed = tree.map_structure(lambda t: _core.copy(t), program.run(leaves))
        eager = self._fn(data)
        if _same(replayed, eager):
            program.verified = True
        else:
            del self._programs[sig]
            self.refused[sig] = "a replay differed from the eager run"
        return eager
