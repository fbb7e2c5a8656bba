"""``deepgrad.train``: the training loop and what surrounds it.

- :func:`fit`, :func:`train_one_epoch`, :func:`evaluate`: the loop (``loop.py``).
- :func:`accuracy`, :func:`confusion_matrix`, :func:`per_class_accuracy`: metrics.
- :func:`save_checkpoint`, :func:`load_checkpoint`, :func:`restore_checkpoint`: resumable
  checkpoints (model, optimizer, scheduler, epoch, RNG states, metrics history).
- :class:`EpochProgress`: the per-epoch progress bar.
- :func:`summary`, :func:`format_summary`: the per-layer table with output-size and
  parameter-count arithmetic.
- :class:`RunFolder`, :func:`plot_history`: run folders with metrics JSON/CSV and plots.

Example:
    >>> from deepgrad import nn, optim, train
    >>> history = train.fit(model, train_loader, test_loader,
    ...                     optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(),
    ...                     epochs=5)
"""

from .checkpoint import (
    CHECKPOINT_FILE,
    CheckpointError,
    load_checkpoint,
    load_weights,
    restore_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from .loop import evaluate, fit, train_one_epoch
from .metrics import (
    accuracy,
    confusion_matrix,
    format_confusion_matrix,
    format_per_class_accuracy,
    per_class_accuracy,
)
from .plots import matplotlib_available, plot_history
from .progress import EpochProgress
from .runs import RunFolder, RunFolderError, default_run_dir
from .summary import LayerRow, count_parameters, format_summary, summary

__all__ = [
    "fit", "train_one_epoch", "evaluate",
    "accuracy", "confusion_matrix", "per_class_accuracy", "format_confusion_matrix",
    "format_per_class_accuracy",
    "CHECKPOINT_FILE", "CheckpointError", "save_checkpoint", "load_checkpoint", "load_weights",
    "restore_checkpoint", "rng_state", "set_rng_state",
    "EpochProgress", "LayerRow", "summary", "format_summary", "count_parameters",
    "RunFolder", "RunFolderError", "default_run_dir", "plot_history", "matplotlib_available",
]
