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
    """Save a PNG of the curves in `history` (a Keras History or dict) if matplotlib exists."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("note: matplotlib not installed; no plot written")
        return None
    h = getattr(history, "history", history)
    keys = keys or [k for k in h if not k.startswith("val_")]
    fig, axes = plt.subplots(1, len(keys), figsize=(4 * len(keys), 3), squeeze=False)
    for ax, k in zip(axes[0], keys):
        ax.plot(h[k], label=k)
        if "val_" + k in h:
            ax.plot(h["val_" + k], label="val_" + k)
        ax.set_xlabel("epoch")
        ax.legend()
    fig.tight_layout()
    path = out_dir(name + ".png")
    fig.savefig(path)
    plt.close(fig)
    print(f"wrote {path}")
    return path


def plot_images(images, name, ncols=8, titles=None):
    """Save a grid of grayscale images (N, H, W) as a PNG if matplotlib exists."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("note: matplotlib not installed; no image grid written")
        return None
    n = len(images)
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols, nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], cmap="gray")
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=6)
    fig.tight_layout()
    path = out_dir(name + ".png")
    fig.savefig(path)
    plt.close(fig)
    print(f"wrote {path}")
    return path


def metric_line(**metrics):
    """Print the final metrics as one machine-readable line: `FINAL key=value ...`."""
    parts = [f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items()]
    line = "FINAL " + " ".join(parts)
    print(line, flush=True)
    return line
