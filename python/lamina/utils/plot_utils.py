"""`plot_history`: training curves from a `History` (needs matplotlib)."""

import os


def plot_history(history, path=None, metrics=None, title=None):
    """Plots the curves of `history` (a `History` returned by `fit`, or its
    `.history` dict): one panel per metric, validation curves ("val_*") drawn
    with their training curve. Saves the figure to `path` (format from the
    extension, e.g. ".png") when given; returns the matplotlib Figure.

    Raises ImportError with install instructions when matplotlib is missing.
    """
    try:
        import matplotlib

        if path is not None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError(
            "lamina.utils.plot_history needs matplotlib, which is not installed. "
            "Install it with `pip install matplotlib`."
        ) from e
    logs = history.history if hasattr(history, "history") else dict(history)
    if not logs:
        raise ValueError("plot_history: the history is empty (was `fit` run for at least one epoch?).")
    names = metrics or [k for k in logs if not k.startswith("val_")] or list(logs)
    fig, axes = plt.subplots(len(names), 1, figsize=(6, 3 * len(names)), squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        values = logs.get(name, [])
        epochs = range(1, len(values) + 1)
        ax.plot(epochs, values, label=name)
        val = logs.get("val_" + name)
        if val:
            ax.plot(range(1, len(val) + 1), val, label="val_" + name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        folder = os.path.dirname(os.fspath(path))
        if folder:
            os.makedirs(folder, exist_ok=True)
        fig.savefig(path)
        plt.close(fig)
    return fig
