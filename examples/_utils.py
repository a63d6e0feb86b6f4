"""Small helpers shared by the examples: saving a model and plotting training curves."""

import glob
import os
import sys

# Let `python examples/foo.py` find an in-tree package that has a built
# extension (a developer build); after `pip install .` the installed one is used.
_here = os.path.dirname(os.path.abspath(__file__))
_py = os.path.join(os.path.dirname(_here), "python")
if glob.glob(os.path.join(_py, "lamina", "_core*")) and _py not in sys.path:
    sys.path.insert(0, _py)

import numpy as np  # noqa: E402

import lamina as keras  # noqa: E402


def out_dir(name):
    d = os.environ.get("LAMINA_EXAMPLES_OUT", os.path.join(_here, "outputs"))
    os.makedirs(d, exist_ok=True)
    return os.path.join(d, name)


def save_model(model, name):
    """`model.save(name.lamina)`, falling back to `save_weights`, else a note."""
    path = out_dir(name + ".lamina")
    try:
        model.save(path)
        print(f"saved model to {path}")
        return path
    except NotImplementedError as e:
        why = f"model.save not available ({e})"
    except Exception as e:  # e.g. a subclassed model without get_config
        why = f"model.save failed ({type(e).__name__}: {e})"
    wpath = out_dir(name + ".weights.npz")
    try:
        model.save_weights(wpath)
        print(f"{why}; saved weights to {wpath}")
        return wpath
    except (NotImplementedError, AttributeError, ImportError) as e:
        print(f"note: model saving not available yet ({type(e).__name__}); skipped")
        return None


def plot_history(history, name, keys=None):
    """Save a PNG of the curves in `history` with lamina.utils.plot_history (needs matplotlib)."""
    path = out_dir(name + ".png")
    try:
        keras.utils.plot_history(history, path, metrics=keys)
    except ImportError:
        print("note: matplotlib not installed (pip install matplotlib); no training-curve plot written")
        return None
    print(f"wrote {path}")
    return path


def plot_images(images, name, ncols=8):
    """Save a grid of grayscale images (N, H, W) in 0..1 as a PNG (no imaging library needed)."""
    grid = keras.utils.image_grid(np.clip(np.asarray(images, dtype="float32"), 0.0, 1.0), ncols=ncols)
    path = keras.utils.save_img(out_dir(name + ".png"), grid * 255.0, scale=False)
    print(f"wrote {path}")
    return path


def metric_line(**metrics):
    """Print the final metrics as one machine-readable line: `FINAL key=value ...`."""
    parts = [f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items()]
    line = "FINAL " + " ".join(parts)
    print(line, flush=True)
    return line
