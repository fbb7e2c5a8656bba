"""Datasets by name, ready for training: resized, normalised, optionally augmented or subset.

``prepare_split("digits", train=True, image_size=28, ...)`` returns a dataset of
``(image (C, S, S) float32 tensor, label)`` pairs. The deterministic part of the pipeline
(scale to [0, 1], resize, normalise) runs once on the whole stacked image array, which is
much faster than per-sample transforms every epoch; only random augmentations (flip, crop,
colour) run per sample, then normalisation. Very large resized sets (e.g. CIFAR-10 at
224x224) are transformed per sample instead, to bound memory.

Class subsets (``classes=[5, 6, 7, 8, 9]``) relabel the kept classes 0..k-1 in the given
order; ``samples_per_class`` keeps a seeded random choice of that many training images per
class (few-shot fine-tuning).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _creation
from ..utils.data import Dataset, TensorDataset
from ..vision import datasets, transforms

__all__ = ["DATASETS", "DatasetSpec", "open_dataset", "channel_stats", "prepare_split",
           "AUGMENTATIONS"]

AUGMENTATIONS = ("flip", "crop", "color")
_MATERIALIZE_LIMIT = 512 * 2**20  # bytes of float32 images kept in memory at once


@dataclass(frozen=True)
class DatasetSpec:
    """What the command needs to know about a dataset before opening it."""

    name: str
    factory: type
    channels: int
    size: int  # native height = width
    bundled: bool = False


DATASETS = {
    "digits": DatasetSpec("digits", datasets.Digits, 1, 8, bundled=True),
    "mnist": DatasetSpec("mnist", datasets.MNIST, 1, 28),
    "fashion-mnist": DatasetSpec("fashion-mnist", datasets.FashionMNIST, 1, 28),
    "cifar10": DatasetSpec("cifar10", datasets.CIFAR10, 3, 32),
}


def open_dataset(name: str, train: bool, root=None, download: bool = False):
    """The raw dataset (uint8 images in ``.data``, labels in ``.targets``) without transforms.

    Raises:
        ValueError: unknown name (listing the valid ones).
        RuntimeError: files missing or corrupt (the dataset's own message).
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid choices are {', '.join(DATASETS)}")
    spec = DATASETS[name]
    if spec.bundled:
        return spec.factory(train=train)
    return spec.factory(root, train=train, download=download)


def _as_nchw(data: np.ndarray) -> np.ndarray:
    """uint8 images (N, H, W) or (N, H, W, C) -> float32 (N, C, H, W) in [0, 1]."""
    data = np.asarray(data)
    data = data[:, None] if data.ndim == 3 else data.transpose(0, 3, 1, 2)
    return data.astype(np.float32) / 255.0


def channel_stats(dataset) -> tuple[list[float], list[float]]:
    """Per-channel mean and standard deviation of a raw dataset's images, in [0, 1] units."""
    data = np.asarray(dataset.data)
    axes = (0, 1, 2) if data.ndim == 4 else None  # (N, H, W, C) per channel, (N, H, W) all
    mean = data.mean(axis=axes, dtype=np.float64) / 255.0
    std = data.std(axis=axes, dtype=np.float64) / 255.0
    return np.atleast_1d(mean).tolist(), np.atleast_1d(std).tolist()


def _subset(targets: np.ndarray, classes, samples_per_class, seed: int) -> np.ndarray:
    """Indices of the kept samples, in dataset order."""
    keep = np.arange(len(targets))
    if classes is not None:
        keep = keep[np.isin(targets, classes)]
    if samples_per_class is not None:
        rng = np.random.default_rng(seed)  # independent of the training RNG streams
        chosen = []
        for label in np.unique(targets[keep]):
            members = keep[targets[keep] == label]
            chosen.append(rng.permutation(members)[:samples_per_class])
        keep = np.sort(np.concatenate(chosen)) if chosen else keep[:0]
    return keep


def _augmentation(augment, channels: int, size: int) -> list:
    steps = []
    if "crop" in augment:
        steps.append(transforms.RandomCrop(size, padding=max(size // 8, 1)))
    if "flip" in augment:
        steps.append(transforms.RandomHorizontalFlip())
    if "color" in augment:  # saturation and hue need colour channels
        steps.append(transforms.ColorJitter(0.4, 0.4, 0.4, 0.1) if channels == 3 else
                     transforms.ColorJitter(brightness=0.4, contrast=0.4))
    return steps


class _TransformedImages(Dataset):
    """Images (uint8 or float tensors) with a per-sample transform; labels as ints."""

    def __init__(self, images, targets: np.ndarray, transform) -> None:
        self.images, self.targets, self.transform = images, targets, transform

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int):
        return self.transform(self.images[index]), int(self.targets[index])


def prepare_split(name: str, train: bool, *, image_size: int, mean, std, root=None,
                  download: bool = False, classes=None, samples_per_class=None,
                  augment=(), seed: int = 0, raw=None) -> tuple[Dataset, list[str]]:
    """A dataset split ready for a model: ``(dataset, class_names)``.

    Args:
        name: a key of :data:`DATASETS`.
        train: the training split (else test).
        image_size: images are resized (bilinear) to ``image_size`` x ``image_size``.
        mean, std: per-channel normalisation (e.g. from :func:`channel_stats`).
        root, download: where the files are, and whether to download missing ones.
        classes: original labels to keep, relabelled 0..k-1 in this order; ``None`` keeps all.
        samples_per_class: keep at most this many samples per class (seeded choice).
        augment: names from :data:`AUGMENTATIONS`, applied per sample (training only).
        seed: seed of the ``samples_per_class`` choice.
        raw: an already opened raw dataset to use instead of opening ``name``.

    Returns:
        The dataset and the names of its classes (in label order).
    """
    raw = raw if raw is not None else open_dataset(name, train, root, download)
    targets = np.asarray(raw.targets, dtype=np.int64)
    keep = _subset(targets, classes, samples_per_class, seed)
    targets = targets[keep]
    names = [str(item) for item in raw.classes]
    if classes is not None:
        relabel = np.full(max(max(classes), int(targets.max(initial=0))) + 1, -1, np.int64)
        relabel[list(classes)] = np.arange(len(classes))
        targets, names = relabel[targets], [names[label] for label in classes]
    channels = DATASETS[name].channels
    resize = transforms.Resize([image_size, image_size], antialias=True)
    normalize = transforms.Normalize(mean, std)
    augmentation = _augmentation(augment, channels, image_size) if train else []
    images = np.asarray(raw.data)[keep]
    if len(keep) * channels * image_size**2 * 4 > _MATERIALIZE_LIMIT:
        steps = [transforms.ToTensor(), resize, *augmentation, normalize]
        return _TransformedImages(images, targets, transforms.Compose(steps)), names
    base = _creation.tensor(_as_nchw(images))  # (N, C, H, W) in [0, 1]
    if base.shape[-1] != image_size or base.shape[-2] != image_size:
        base = resize(base)  # (N, C, S, S): one call on the whole stack
    if augmentation:
        per_sample = transforms.Compose([*augmentation, normalize])
        return _TransformedImages(base, targets, per_sample), names
    return TensorDataset(normalize(base), _creation.tensor(targets)), names
