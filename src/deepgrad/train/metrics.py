"""Classification metrics: accuracy, the confusion matrix and per-class accuracy, plus their tables.

All functions take predictions and targets as deepgrad Tensors or NumPy arrays and return
plain Python/NumPy values: metrics are bookkeeping, never part of the autograd graph.
The confusion matrix follows scikit-learn's convention: row = true class, column = predicted.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._tensor import Tensor

__all__ = [
    "accuracy", "confusion_matrix", "per_class_accuracy", "format_confusion_matrix",
    "format_per_class_accuracy",
]


def _host(values) -> np.ndarray:
    """A NumPy array on the host from a Tensor (any device) or array-like."""
    if isinstance(values, Tensor):
        values = values.detach().cpu().numpy()
    return np.asarray(values)


def _labels(predictions) -> np.ndarray:
    """Class indices: scores (N, C) are reduced with argmax over the last dim, labels (N,) kept."""
    predictions = _host(predictions)
    return predictions.argmax(axis=-1) if predictions.ndim == 2 else predictions


def accuracy(predictions, targets) -> float:
    """Fraction of samples whose predicted class equals the target.

    Args:
        predictions: scores or logits (N, C), or predicted labels (N,).
        targets: true labels (N,).

    Returns:
        The accuracy in [0, 1] (``nan`` for an empty batch).

    Example:
        >>> accuracy(deepgrad.tensor([[0.1, 0.9], [0.8, 0.2]]), deepgrad.tensor([1, 1]))
        0.5
    """
    labels, targets = _labels(predictions), _host(targets)
    if labels.shape != targets.shape:
        raise ValueError(f"accuracy: predictions and targets must hold one label per sample; "
                         f"got predictions with shape {labels.shape} and targets with shape "
                         f"{targets.shape}")
    return float((labels == targets).mean()) if targets.size else float("nan")


def confusion_matrix(predictions, targets, num_classes: int) -> np.ndarray:
    """Counts of (true class, predicted class) pairs.

    Args:
        predictions: scores (N, C) or predicted labels (N,).
        targets: true labels (N,) in ``0 .. num_classes - 1``.
        num_classes: the number of classes C.

    Returns:
        An int64 array (C, C): entry ``[i, j]`` counts samples of class ``i`` predicted as ``j``.

    Example:
        >>> confusion_matrix([0, 1, 1], [0, 0, 1], num_classes=2)
        array([[1, 1],
               [0, 1]])
    """
    labels, targets = _labels(predictions).astype(np.int64), _host(targets).astype(np.int64)
    if labels.shape != targets.shape:
        raise ValueError(f"confusion_matrix: predictions and targets must hold one label per "
                         f"sample; got predictions with shape {labels.shape} and targets with "
                         f"shape {targets.shape}")
    for name, values in (("predictions", labels), ("targets", targets)):
        if values.size and (values.min() < 0 or values.max() >= num_classes):
            raise ValueError(f"confusion_matrix: {name} must be class indices in "
                             f"0..{num_classes - 1}; got values in {values.min()}..{values.max()}")
    # one bincount over the flattened (true, predicted) cell index
    cells = np.bincount(targets * num_classes + labels, minlength=num_classes * num_classes)
    return cells.reshape(num_classes, num_classes)


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """Each class's accuracy (recall): correct predictions of the class / samples of the class.

    Args:
        matrix: a confusion matrix (C, C) from :func:`confusion_matrix`.

    Returns:
        A float array (C,); ``nan`` for a class with no samples.

    Example:
        >>> per_class_accuracy(np.array([[1, 1], [0, 1]]))
        array([0.5, 1. ])
    """
    matrix = np.asarray(matrix)
    totals = matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(matrix) / np.maximum(totals, 1), np.nan)


def format_per_class_accuracy(matrix: np.ndarray, class_names: Sequence[str]) -> str:
    """A table with one row per class: name, samples, correct, accuracy."""
    matrix = np.asarray(matrix)
    scores = per_class_accuracy(matrix)
    width = max([len("class")] + [len(str(name)) for name in class_names])
    lines = [f"{'class':<{width}}  {'samples':>7}  {'correct':>7}  {'accuracy':>8}"]
    for index, name in enumerate(class_names):
        score = "-" if np.isnan(scores[index]) else f"{100 * scores[index]:.2f}%"
        lines.append(f"{str(name):<{width}}  {matrix[index].sum():>7}  {matrix[index, index]:>7}"
                     f"  {score:>8}")
    return "\n".join(lines)


def format_confusion_matrix(matrix: np.ndarray, class_names: Sequence[str]) -> str:
    """The confusion matrix as a text table: rows are true classes, columns predicted ones."""
    matrix = np.asarray(matrix)
    names = [str(name) for name in class_names]
    corner = "true \\ pred"
    label_width = max([len(corner)] + [len(name) for name in names])
    cell = max([len(name) for name in names] + [len(str(matrix.max(initial=0)))])
    header = f"{corner:<{label_width}} " + " ".join(f"{name:>{cell}}" for name in names)
    rows = [f"{name:<{label_width}} " + " ".join(f"{count:>{cell}}" for count in matrix[index])
            for index, name in enumerate(names)]
    return "\n".join([header] + rows)
