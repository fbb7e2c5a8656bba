"""Loss and accuracy curves as a PNG, when matplotlib is installed (the ``plot`` extra).

matplotlib is optional: without it :func:`plot_history` writes nothing and returns ``None``,
and :data:`MISSING_MESSAGE` tells the user how to get the plot.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

__all__ = ["plot_history", "matplotlib_available", "MISSING_MESSAGE"]

MISSING_MESSAGE = ("no plot: matplotlib is not installed (pip install 'deepgrad[plot]' or "
                   "pip install matplotlib); the curves are in metrics.csv")


def matplotlib_available() -> bool:
    """True when matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def plot_history(history: Sequence[dict], path, title: str | None = None) -> Path | None:
    """Draw training/test loss and accuracy per epoch side by side and save them as a PNG.

    Args:
        history: per-epoch records with ``epoch``, ``train_loss``, ``train_accuracy`` and
            optionally ``test_loss``, ``test_accuracy`` (as :func:`deepgrad.train.fit` returns).
        path: the PNG file to write (atomically).
        title: a title above the two panels (e.g. ``"lenet on digits"``).

    Returns:
        The path written, or ``None`` when matplotlib is not installed.

    Example:
        >>> plot_history(history, "runs/x/metrics.png")  # doctest: +SKIP
    """
    try:
        import matplotlib

        matplotlib.use("Agg")  # a file, never a window: works on headless machines
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    epochs = [record["epoch"] for record in history]
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 4))
    for split, style in (("train", "-o"), ("test", "--s")):
        losses = [record.get(f"{split}_loss") for record in history]
        accuracies = [record.get(f"{split}_accuracy") for record in history]
        if all(value is not None for value in losses):
            loss_axes.plot(epochs, losses, style, label=split)
        if all(value is not None for value in accuracies):
            accuracy_axes.plot(epochs, [100 * value for value in accuracies], style, label=split)
    for axes, label in ((loss_axes, "loss"), (accuracy_axes, "accuracy (%)")):
        axes.set_xlabel("epoch")
        axes.set_ylabel(label)
        axes.grid(alpha=0.3)
        axes.legend()
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    path = Path(os.fspath(path))
    temporary = path.with_name(path.name + ".tmp")
    figure.savefig(temporary, format="png", dpi=100)
    plt.close(figure)
    os.replace(temporary, path)
    return path
