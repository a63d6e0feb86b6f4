"""Threads, devices and build information."""

import contextlib
import threading

from lamina import _core

_state = threading.local()


def set_num_threads(n):
    """Sets the threads of lamina's pool and of its BLAS together."""
    if int(n) < 1:
        raise ValueError(f"set_num_threads: expected a positive count, got {n}")
    _core.set_num_threads(int(n))


def get_num_threads():
    return _core.get_num_threads()


def build_info():
    """What this build of lamina was made with."""
    from lamina import __version__

    return {
        "version": __version__,
        "blas": _core.blas_name(),
        "compiler": _core.compiler,
        "cuda": _core.cuda_built(),
        "cuda_available": _core.cuda_available(),
        "num_threads": _core.get_num_threads(),
    }


def default_device():
    return getattr(_state, "device", "cpu")


def _check_device(name):
    base = name.split(":")[0]
    if base not in ("cpu", "cuda", "gpu"):
        raise ValueError(f"unknown device '{name}': expected 'cpu' or 'cuda'")
    base = "cuda" if base == "gpu" else base
    if base == "cuda" and not _core.cuda_built():
        raise RuntimeError(
            "CUDA requested, but lamina was built without CUDA "
            "(rebuild with -Ccmake.define.LAMINA_CUDA=ON on a machine with nvcc)"
        )
    if base == "cuda" and not _core.cuda_available():
        raise RuntimeError("CUDA requested, but no CUDA device is available")
    return base


@contextlib.contextmanager
def device(name):
    """Scope in which new tensors are created on `name` ("cpu" or "cuda")."""
    base = _check_device(name)
    prev = default_device()
    _state.device = base
    try:
        yield
    finally:
        _state.device = prev
