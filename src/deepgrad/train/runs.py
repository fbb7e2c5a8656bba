"""Run folders: where one training run keeps its checkpoint, metrics and plot.

    runs/20250101-120000-lenet-digits/
        checkpoint.pt     the resumable checkpoint (deepgrad.train.checkpoint), after each epoch
        metrics.json      config, per-epoch history and final results
        metrics.csv       the history as a table (epoch, losses, accuracies, lr, seconds)
        metrics.png       loss and accuracy curves (when matplotlib is installed)

Every file is written atomically (temporary file + ``os.replace``), so an interrupted run
leaves the previous epoch's files whole. A folder that already holds a run is never
overwritten: it can only be continued (resumed).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path

from .checkpoint import CHECKPOINT_FILE
from .plots import plot_history

__all__ = ["RunFolder", "RunFolderError", "default_run_dir", "HISTORY_COLUMNS"]

HISTORY_COLUMNS = ("epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "lr",
                   "seconds")


class RunFolderError(ValueError):
    """A run folder that cannot be used (exists already, or is not a run when resuming)."""


def default_run_dir(model: str, dataset: str, root="runs", now: float | None = None) -> Path:
    """``root/<YYYYmmdd-HHMMSS>-<model>-<dataset>``, with a ``-2``, ``-3``... suffix if taken.

    Example:
        >>> default_run_dir("lenet", "digits")  # doctest: +SKIP
        PosixPath('runs/20250101-120000-lenet-digits')
    """
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    base = Path(os.fspath(root)) / f"{stamp}-{model}-{dataset}"
    path, index = base, 1
    while path.exists():
        index += 1
        path = base.with_name(f"{base.name}-{index}")
    return path


def _plain(value):
    """JSON-safe values: NaN/inf become None (JSON has no NaN), NumPy scalars Python numbers."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _write_atomic(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


class RunFolder:
    """The files of one run.

    Args:
        path: the folder.

    Example:
        >>> run = RunFolder.create("runs/demo")
        >>> run.write_metrics(history, config={"model": "lenet"})
    """

    def __init__(self, path) -> None:
        self.path = Path(os.fspath(path)).expanduser()

    checkpoint = property(lambda self: self.path / CHECKPOINT_FILE)
    metrics_json = property(lambda self: self.path / "metrics.json")
    metrics_csv = property(lambda self: self.path / "metrics.csv")
    plot = property(lambda self: self.path / "metrics.png")

    @staticmethod
    def check_new(path) -> None:
        """Raise :class:`RunFolderError` unless ``path`` is free (absent or an empty folder)."""
        path = Path(os.fspath(path)).expanduser()
        if path.exists() and not (path.is_dir() and not any(path.iterdir())):
            what = "a run" if (path / CHECKPOINT_FILE).exists() else "files"
            raise RunFolderError(f"output folder {path} already holds {what}; choose another "
                                 f"--out, or continue that run with --resume {path}")

    @classmethod
    def create(cls, path) -> RunFolder:
        """Create a new run folder (refusing one that holds anything)."""
        cls.check_new(path)
        folder = cls(path)
        folder.path.mkdir(parents=True, exist_ok=True)
        return folder

    @classmethod
    def existing(cls, path) -> RunFolder:
        """An existing run folder to continue: it must hold a checkpoint."""
        folder = cls(path)
        if not folder.checkpoint.is_file():
            raise RunFolderError(f"cannot resume: {folder.path} holds no {CHECKPOINT_FILE}")
        return folder

    def write_metrics(self, history: Sequence[dict], config: dict | None = None,
                      final: dict | None = None) -> None:
        """Write ``metrics.json`` (config, history, final) and ``metrics.csv`` (history)."""
        document = {"config": config or {}, "history": list(history), "final": final or {}}
        _write_atomic(self.metrics_json, json.dumps(_plain(document), indent=2) + "\n")
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(HISTORY_COLUMNS)
        for record in history:
            row = _plain([record.get(column) for column in HISTORY_COLUMNS])
            writer.writerow(["" if value is None else value for value in row])
        _write_atomic(self.metrics_csv, buffer.getvalue())

    def write_plot(self, history: Sequence[dict], title: str | None = None) -> Path | None:
        """Write ``metrics.png``; ``None`` when matplotlib is not installed."""
        return plot_history(history, self.plot, title=title)
