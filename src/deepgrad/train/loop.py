"""The training loop of the course, readable top to bottom.

    for each epoch:
        for each batch:  forward -> loss -> zero_grad -> backward -> optimizer step
        evaluate on the test set (no graph, eval mode)
        step the learning-rate schedule, record the metrics, save a checkpoint

``fit`` is that loop; ``train_one_epoch`` and ``evaluate`` are its two halves and work on
their own with any model, loss and ``deepgrad.utils.data.DataLoader`` of ``(inputs, targets)``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import numpy as np

from ..autograd.grad_mode import no_grad
from ..optim.plateau import ReduceLROnPlateau
from .metrics import confusion_matrix
from .progress import EpochProgress

__all__ = ["fit", "train_one_epoch", "evaluate"]


def train_one_epoch(model, loader: Iterable, loss_fn: Callable, optimizer, *, scheduler=None,
                    device=None, progress: EpochProgress | None = None,
                    limit_batches: int | None = None) -> dict:
    """One pass over ``loader`` updating ``model``; returns the epoch's mean loss and accuracy.

    Args:
        model: a ``deepgrad.nn.Module`` mapping inputs (N, ...) to class scores (N, C).
        loader: yields ``(inputs, targets)`` batches.
        loss_fn: e.g. ``nn.CrossEntropyLoss()`` (a batch mean).
        optimizer: a ``deepgrad.optim`` optimizer over the model's parameters.
        scheduler: a per-batch learning-rate schedule (e.g. ``OneCycleLR``), stepped after
            every optimizer step; epoch schedules are stepped by :func:`fit`.
        device: where to move each batch (the model must already be there).
        progress: receives each batch's size and the running loss and accuracy.
        limit_batches: stop after this many batches (quick runs and tests).

    Returns:
        ``{"loss", "accuracy", "samples", "seconds"}``.

    Example:
        >>> stats = train_one_epoch(model, train_loader, nn.CrossEntropyLoss(), optimizer)
    """
    model.train()
    loss_sum, correct, seen = 0.0, 0, 0
    start = time.perf_counter()
    for step, (inputs, targets) in enumerate(loader):
        if limit_batches is not None and step >= limit_batches:
            break
        if device is not None:
            inputs, targets = inputs.to(device), targets.to(device)

        logits = model(inputs)  # (N, C)
        loss = loss_fn(logits, targets)  # mean over the batch
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()

        batch = len(targets)
        loss_sum += loss.item() * batch  # a sum, so the epoch mean weights batches by size
        correct += int((logits.argmax(dim=1) == targets).sum().item())
        seen += batch
        if progress is not None:
            progress.update(batch, loss=loss_sum / seen, accuracy=correct / seen)
    return {"loss": loss_sum / max(seen, 1), "accuracy": correct / max(seen, 1),
            "samples": seen, "seconds": time.perf_counter() - start}


def evaluate(model, loader: Iterable, loss_fn: Callable | None = None, *,
             num_classes: int | None = None, device=None,
             limit_batches: int | None = None) -> dict:
    """Loss, accuracy and (with ``num_classes``) the confusion matrix of ``model`` on ``loader``.

    Runs in eval mode (dropout off, batch norm on running statistics) without building a
    graph, and puts the model back in the mode it was in.

    Args:
        model: maps inputs (N, ...) to class scores (N, C).
        loader: yields ``(inputs, targets)`` batches.
        loss_fn: the loss to average (e.g. ``nn.CrossEntropyLoss()``); ``None`` skips it.
        num_classes: when given, also return the (C, C) confusion matrix.
        device: where to move each batch.
        limit_batches: stop after this many batches.

    Returns:
        ``{"loss", "accuracy", "samples", "seconds", "predictions", "targets"}`` (NumPy
        int64 arrays of the predicted and true labels) and ``"confusion"`` with
        ``num_classes``.

    Example:
        >>> evaluate(model, test_loader, num_classes=10)["accuracy"]
        0.981
    """
    was_training = model.training
    model.eval()
    loss_sum, seen, predictions, labels = 0.0, 0, [], []
    start = time.perf_counter()
    with no_grad():
        for step, (inputs, targets) in enumerate(loader):
            if limit_batches is not None and step >= limit_batches:
                break
            if device is not None:
                inputs, targets = inputs.to(device), targets.to(device)
            logits = model(inputs)  # (N, C)
            if loss_fn is not None:
                loss_sum += loss_fn(logits, targets).item() * len(targets)
            predictions.append(logits.argmax(dim=1).cpu().numpy())
            labels.append(targets.cpu().numpy())
            seen += len(targets)
    model.train(was_training)
    predictions = np.concatenate(predictions) if predictions else np.zeros(0, np.int64)
    labels = np.concatenate(labels) if labels else np.zeros(0, np.int64)
    result = {
        "loss": loss_sum / seen if loss_fn is not None and seen else float("nan"),
        "accuracy": float((predictions == labels).mean()) if seen else float("nan"),
        "samples": seen, "seconds": time.perf_counter() - start,
        "predictions": predictions, "targets": labels,
    }
    if num_classes is not None:
        result["confusion"] = confusion_matrix(predictions, labels, num_classes)
    return result


def fit(model, train_loader, test_loader, optimizer, loss_fn: Callable, epochs: int, *,
        scheduler=None, scheduler_step: str = "epoch", start_epoch: int = 0,
        history: list[dict] | None = None, device=None,
        on_epoch_end: Callable[[int, list[dict]], None] | None = None,
        limit_batches: int | None = None, stream=None, bar: bool | None = None) -> list[dict]:
    """Train ``model`` for epochs ``start_epoch + 1 .. epochs``, evaluating after each.

    Args:
        model, train_loader, optimizer, loss_fn: as in :func:`train_one_epoch`.
        test_loader: evaluated after every epoch; ``None`` skips evaluation.
        epochs: the total number of epochs (a resumed run passes the same total).
        scheduler: a learning-rate schedule; ``ReduceLROnPlateau`` watches the test loss
            (the training loss without a test set).
        scheduler_step: ``"epoch"`` (step after each epoch) or ``"batch"`` (after each
            optimizer step, e.g. ``OneCycleLR``).
        start_epoch: epochs already done (when resuming).
        history: the records of those epochs; new records are appended to a copy.
        device: where batches go.
        on_epoch_end: called as ``on_epoch_end(epoch, history)`` after each epoch, e.g. to
            save a checkpoint.
        limit_batches: at most this many batches per epoch (train and test).
        stream, bar: passed to :class:`EpochProgress`.

    Returns:
        The history: one dict per epoch with ``epoch``, ``train_loss``, ``train_accuracy``,
        ``test_loss``, ``test_accuracy`` (``None`` without a test set), ``lr`` (the first
        group's rate during the epoch) and ``seconds``.

    Example:
        >>> history = fit(model, train_loader, test_loader, optimizer,
        ...               nn.CrossEntropyLoss(), epochs=10)
    """
    if scheduler_step not in ("epoch", "batch"):
        raise ValueError(f"fit: scheduler_step must be 'epoch' or 'batch', got {scheduler_step!r}")
    history = list(history or [])
    batch_scheduler = scheduler if scheduler_step == "batch" else None
    for epoch in range(start_epoch + 1, epochs + 1):
        lr = optimizer.param_groups[0]["lr"]
        progress = EpochProgress(_epoch_samples(train_loader, limit_batches),
                                 f"epoch {epoch}/{epochs}", stream=stream, bar=bar)
        train = train_one_epoch(model, train_loader, loss_fn, optimizer,
                                scheduler=batch_scheduler, device=device, progress=progress,
                                limit_batches=limit_batches)
        progress.close()

        test = None
        if test_loader is not None:
            test = evaluate(model, test_loader, loss_fn, device=device,
                            limit_batches=limit_batches)

        if scheduler is not None and scheduler_step == "epoch":
            if isinstance(scheduler, ReduceLROnPlateau):
                scheduler.step(test["loss"] if test is not None else train["loss"])
            else:
                scheduler.step()

        history.append({
            "epoch": epoch,
            "train_loss": train["loss"], "train_accuracy": train["accuracy"],
            "test_loss": test["loss"] if test else None,
            "test_accuracy": test["accuracy"] if test else None,
            "lr": float(lr), "seconds": train["seconds"] + (test["seconds"] if test else 0.0),
        })
        if on_epoch_end is not None:
            on_epoch_end(epoch, history)
    return history


def _epoch_samples(loader, limit_batches: int | None) -> int | None:
    """How many samples an epoch will see, for the ETA (``None`` when unknown)."""
    try:
        samples, batches = len(loader.dataset), len(loader)
    except (AttributeError, TypeError):
        return None
    if limit_batches is not None and limit_batches < batches:
        return min(samples, limit_batches * (loader.batch_size or 1))
    return samples
