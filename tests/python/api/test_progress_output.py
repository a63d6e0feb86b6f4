"""Progress output of fit/evaluate/predict as a user sees it: a real
terminal (a pseudo-terminal), a pipe (log files, CI) and Jupyter."""

import os
import pty
import re
import select
import subprocess
import sys

import pytest

import lamina

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(lamina.__file__)))

# Each phase prints a marker line first so the output can be split per phase.
_SCRIPT = r"""
import sys, time, types
sys.path.insert(0, sys.argv[1])
if sys.argv[2] == "jupyter":
    sys.modules["ipykernel"] = types.ModuleType("ipykernel")  # what an IPython kernel has loaded
import numpy as np
import lamina
from lamina import layers

rng = np.random.default_rng(0)
x = rng.normal(size=(64, 3)).astype("float32")
y = rng.normal(size=(64, 1)).astype("float32")
model = lamina.Sequential([layers.Input((3,)), layers.Dense(1)])
model.compile("sgd", "mse", metrics=["mae"])
# Slow batches so the bar redraws between steps (it redraws at most every 50 ms).
slow = lamina.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: time.sleep(0.06))

def phase(name):
    print(f"@@{name}@@", flush=True)

phase("fit1")
model.fit(x, y, epochs=3, batch_size=8, verbose=1, callbacks=[slow])
if sys.argv[2] == "jupyter":
    sys.exit(0)
phase("fit2")
model.fit(x, y, epochs=2, batch_size=8, verbose=2, callbacks=[slow])
phase("fit0")
model.fit(x, y, epochs=2, batch_size=8, verbose=0)
phase("evaluate")
model.evaluate(x, y, batch_size=8, verbose=1)
phase("predict")
model.predict(x, batch_size=8, verbose=1)
phase("end")
"""


def _env():
    return {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONUNBUFFERED": "1"}


def _run_in_pty(script):
    """Runs the script with stdout on a pseudo-terminal; returns what the
    terminal received."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, str(script), PYTHON_DIR, "tty"], stdout=slave, stderr=subprocess.PIPE, env=_env()
    )
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            proc.kill()
            raise AssertionError("no output for 60 s")
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(60) == 0, proc.stderr.read().decode()
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")  # the tty turns \n into \r\n


def _run_in_pipe(script, mode="pipe"):
    res = subprocess.run(
        [sys.executable, str(script), PYTHON_DIR, mode], capture_output=True, env=_env(), timeout=120
    )
    assert res.returncode == 0, res.stderr.decode()
    return res.stdout.decode("utf-8")


def _phases(out):
    parts = re.split(r"@@(\w+)@@\n", out)
    return dict(zip(parts[1::2], parts[2::2]))


ANSI = re.compile(r"\x1b\[[0-9;]*m")
FINAL = r"8/8 - \d+s - \d+(us|ms|s)/step - loss: [\d.e+-]+ - mae: [\d.e+-]+"


@pytest.fixture(scope="module")
def script(tmp_path_factory):
    path = tmp_path_factory.mktemp("progress") / "progress.py"
    path.write_text(_SCRIPT)
    return path


def test_terminal_bar_redraws_in_place(script):
    phases = _phases(_run_in_pty(script))
    fit = phases["fit1"]
    assert "\r" in fit and "\x1b[" in fit  # redrawn in place, coloured
    epochs = fit.split("Epoch ")
    assert [e.split("\n", 1)[0] for e in epochs[1:]] == ["1/3", "2/3", "3/3"]
    for epoch in epochs[1:]:
        frames = [ANSI.sub("", f) for f in epoch.split("\n", 1)[1].split("\r") if f.strip()]
        assert len(frames) >= 3, frames  # several redraws of one line per epoch
        # a frame mid-epoch: step count, bar, ETA, time per step, running metrics
        assert any(re.match(r"\s*[1-7]/8 ━{20} \d+s \d+(us|ms|s)/step - loss: [\d.]+ - mae: [\d.]+", f) for f in frames), frames
        last = frames[-1]
        assert re.match(r"8/8 ━{20} \d+s \d+(us|ms|s)/step - loss: [\d.]+ - mae: [\d.]+\s*\n$", last), last
    # verbose=2: one line per epoch even on a terminal, no redraws
    fit2 = phases["fit2"]
    assert "\r" not in fit2 and "\x1b" not in fit2
    lines = fit2.strip("\n").split("\n")
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    assert re.fullmatch(FINAL, lines[1]), lines[1]
    assert phases["fit0"] == ""  # verbose=0: silent
    for name in ("evaluate", "predict"):
        frames = [ANSI.sub("", f) for f in phases[name].split("\r") if f.strip()]
        assert re.match(r"8/8 ━{20} \d+s \d+(us|ms|s)/step", frames[-1]), frames
    assert "loss: " in phases["evaluate"]


def test_pipe_gets_one_line_per_epoch(script):
    out = _run_in_pipe(script)
    assert "\r" not in out and "\x1b" not in out
    phases = _phases(out)
    lines = phases["fit1"].strip("\n").split("\n")
    assert lines[0::2] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    assert len(lines) == 6 and all(re.fullmatch(FINAL, line) for line in lines[1::2]), lines
    lines = phases["fit2"].strip("\n").split("\n")
    assert lines[0::2] == ["Epoch 1/2", "Epoch 2/2"] and all(re.fullmatch(FINAL, line) for line in lines[1::2])
    assert phases["fit0"] == ""
    assert re.fullmatch(r"8/8 - \d+s - \d+(us|ms|s)/step - loss: [\d.e+-]+ - mae: [\d.e+-]+\n", phases["evaluate"])
    assert re.fullmatch(r"8/8 - \d+s - \d+(us|ms|s)/step\n", phases["predict"])


def test_jupyter_redraws(script):
    # An IPython kernel's stdout is no terminal, but the notebook honours
    # carriage returns, so the bar is redrawn as Keras does there.
    out = _phases(_run_in_pipe(script, "jupyter"))["fit1"]
    assert "\r" in out and "━" in out
    assert len(out.split("\r")) > 6
