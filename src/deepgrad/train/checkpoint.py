"""Training checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint is one ``deepgrad.save`` file (the safe zip-of-``.npy`` format, written
atomically: a crash while saving leaves the previous checkpoint intact) holding

    format, version          "deepgrad-checkpoint", 1
    config                   the run's settings (model name, dataset, hyperparameters, ...)
    epoch                    completed epochs
    model                    model.state_dict()
    optimizer, scheduler     their state_dict()s (scheduler None when there is none)
    rng                      deepgrad's default generator, NumPy's and Python's global RNGs
    history                  one metrics record per completed epoch

Restoring the RNG states is what makes a resumed run bit-identical to an uninterrupted
one: the DataLoader's shuffle, dropout masks and random augmentations all draw from them.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np

from .. import backend
from ..serialization import load, save

__all__ = [
    "CHECKPOINT_FILE", "CheckpointError", "save_checkpoint", "load_checkpoint",
    "load_weights", "restore_checkpoint", "rng_state", "set_rng_state",
]

FORMAT_NAME = "deepgrad-checkpoint"
FORMAT_VERSION = 1
CHECKPOINT_FILE = "checkpoint.pt"  # name inside a run folder
_STATE_DICT_KEYS = ("model", "state_dict", "model_state_dict", "model_state")


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or does not fit: the message says which and why."""


def rng_state() -> dict:
    """The states of every random stream training draws from, in a form ``deepgrad.save`` keeps.

    Returns:
        ``{"deepgrad": uint8 Tensor, "numpy": dict, "python": list}``.
    """
    kind, keys, position, has_gauss, cached = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    return {
        "deepgrad": backend.default_generator.get_state(),
        "numpy": {"kind": kind, "keys": keys, "pos": int(position), "has_gauss": int(has_gauss),
                  "cached_gaussian": float(cached)},
        "python": [version, list(internal), gauss_next],
    }


def set_rng_state(state: dict) -> None:
    """Restore the random streams saved by :func:`rng_state`."""
    backend.default_generator.set_state(state["deepgrad"])
    numpy_state = state["numpy"]
    np.random.set_state((numpy_state["kind"], np.asarray(numpy_state["keys"], dtype=np.uint32),
                         numpy_state["pos"], numpy_state["has_gauss"],
                         numpy_state["cached_gaussian"]))
    version, internal, gauss_next = state["python"]
    random.setstate((version, tuple(internal), gauss_next))


def save_checkpoint(path, *, model, optimizer=None, scheduler=None, epoch: int = 0,
                    history: list | None = None, config: dict | None = None) -> None:
    """Save a resumable checkpoint to ``path`` atomically (see the module docstring).

    Args:
        path: the file to write (its folder must exist).
        model: the ``nn.Module``.
        optimizer, scheduler: saved through their ``state_dict()`` when given.
        epoch: the number of completed epochs.
        history: the per-epoch metrics records.
        config: the run's settings, plain JSON-like values.

    Example:
        >>> save_checkpoint("runs/x/checkpoint.pt", model=model, optimizer=opt, epoch=3)
    """
    save({
        "format": FORMAT_NAME, "version": FORMAT_VERSION,
        "config": dict(config or {}), "epoch": int(epoch),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "rng": rng_state(),
        "history": list(history or []),
    }, os.fspath(path))


def _checkpoint_path(path) -> Path:
    """A checkpoint file, or a run folder holding ``checkpoint.pt``."""
    path = Path(os.fspath(path)).expanduser()
    if path.is_dir():
        path = path / CHECKPOINT_FILE
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    return path


def _read(path: Path):
    try:
        return load(path, map_location="cpu")
    except Exception as error:  # any reader failure means the file is unusable: say why
        reason = " ".join(str(error).split()) or type(error).__name__
        raise CheckpointError(f"cannot read checkpoint {path}: {reason}") from None


def load_checkpoint(path) -> dict:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Args:
        path: the checkpoint file, or a run folder holding ``checkpoint.pt``.

    Returns:
        The checkpoint dict (tensors on the CPU), with ``"path"`` set to the file read.

    Raises:
        CheckpointError: missing, unreadable, or not a deepgrad training checkpoint.

    Example:
        >>> load_checkpoint("runs/20250101-lenet-digits")["epoch"]
        10
    """
    path = _checkpoint_path(path)
    checkpoint = _read(path)
    if not (isinstance(checkpoint, dict) and checkpoint.get("format") == FORMAT_NAME):
        raise CheckpointError(f"{path} is not a deepgrad training checkpoint (no "
                              f"'format': '{FORMAT_NAME}' entry); a bare state_dict can be "
                              f"fine-tuned from with `deepgrad finetune --from`")
    if checkpoint.get("version", 0) > FORMAT_VERSION:
        raise CheckpointError(f"{path} was written by a newer deepgrad (checkpoint version "
                              f"{checkpoint['version']}, this one reads {FORMAT_VERSION})")
    missing = [key for key in ("config", "epoch", "model") if key not in checkpoint]
    if missing:
        raise CheckpointError(f"{path} is incomplete: no {', '.join(missing)} entry")
    checkpoint["path"] = str(path)
    return checkpoint


def load_weights(path) -> tuple[dict, dict | None]:
    """Model weights from a deepgrad checkpoint or a PyTorch ``.pt``/``.pth`` file.

    Accepts a training checkpoint, a bare ``state_dict`` (saved by deepgrad or torch), or a
    dict holding one under ``"model"``, ``"state_dict"``, ``"model_state_dict"`` or
    ``"model_state"``.

    Returns:
        ``(state_dict, config)``; ``config`` is ``None`` unless the file is a training
        checkpoint.

    Example:
        >>> state, config = load_weights("resnet18.pth")
    """
    path = _checkpoint_path(path)
    loaded = _read(path)
    if isinstance(loaded, dict) and loaded.get("format") == FORMAT_NAME:
        return loaded["model"], loaded.get("config")
    if isinstance(loaded, dict):
        for key in _STATE_DICT_KEYS:
            if isinstance(loaded.get(key), dict):
                loaded = loaded[key]
                break
    if not (isinstance(loaded, dict) and loaded
            and all(isinstance(key, str) and hasattr(value, "shape")
                    for key, value in loaded.items())):
        raise CheckpointError(f"{path} holds no model weights: expected a state_dict (names "
                              f"-> tensors), a training checkpoint, or a dict with one of "
                              f"{', '.join(_STATE_DICT_KEYS)}")
    return loaded, None


def restore_checkpoint(checkpoint: dict, model, optimizer=None, scheduler=None,
                       restore_rng: bool = True) -> tuple[int, list]:
    """Load a checkpoint's states into ``model`` / ``optimizer`` / ``scheduler`` and the RNGs.

    Call it after building the model, optimizer and scheduler and right before training,
    so nothing draws random numbers between restoring the RNGs and the next epoch.

    Returns:
        ``(completed_epochs, history)``.

    Raises:
        CheckpointError: the saved weights or states do not fit the objects given.
    """
    path = checkpoint.get("path", "checkpoint")
    pieces = [("model", model), ("optimizer", optimizer), ("scheduler", scheduler)]
    for name, target in pieces:
        if target is None:
            continue
        if checkpoint.get(name) is None:
            raise CheckpointError(f"{path} has no {name} state to resume from")
        try:
            target.load_state_dict(checkpoint[name])
        except (RuntimeError, ValueError, KeyError, TypeError, IndexError) as error:
            reason = " ".join(str(error).split())
            raise CheckpointError(f"{path}: the saved {name} state does not fit: "
                                  f"{reason}") from None
    if restore_rng and checkpoint.get("rng") is not None:
        set_rng_state(checkpoint["rng"])
    return int(checkpoint["epoch"]), list(checkpoint.get("history", []))
