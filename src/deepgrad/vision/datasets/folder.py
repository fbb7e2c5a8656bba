"""``ImageFolder``: a user's own images, one subfolder per class (torchvision's layout).

Reading image files needs Pillow, an optional dependency (``pip install pillow``); it is imported
when the first ``ImageFolder`` with the default loader is built, never at ``import deepgrad``.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from .vision import VisionDataset

__all__ = ["DatasetFolder", "ImageFolder", "IMG_EXTENSIONS", "default_loader",
           "find_classes", "make_dataset"]

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def _pillow():
    try:
        from PIL import Image  # noqa: PLC0415 - optional dependency, imported on demand
    except ImportError as error:
        raise ImportError("ImageFolder reads image files with Pillow, which is not installed: "
                          "pip install pillow") from error
    return Image


def default_loader(path: str):
    """Open an image file as an RGB ``PIL.Image`` (torchvision's ``pil_loader``)."""
    image_module = _pillow()
    with open(path, "rb") as handle:
        return image_module.open(handle).convert("RGB")


def find_classes(directory) -> tuple[list[str], dict[str, int]]:
    """Sorted class names (the subfolders of ``directory``) and their indices."""
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any class folder in {directory}.")
    return classes, {name: index for index, name in enumerate(classes)}


def make_dataset(directory, class_to_idx: dict[str, int], extensions=None,
                 is_valid_file: Callable[[str], bool] | None = None,
                 allow_empty: bool = False) -> list[tuple[str, int]]:
    """``(path, class_index)`` of every valid file under each class folder, in sorted order."""
    directory = os.path.expanduser(os.fspath(directory))
    if (extensions is None) == (is_valid_file is None):
        raise ValueError("Both extensions and is_valid_file cannot be None or not None at the "
                         "same time")
    if extensions is not None:
        suffixes = tuple(extensions) if not isinstance(extensions, str) else (extensions,)
        is_valid_file = lambda path: path.lower().endswith(suffixes)  # noqa: E731
    samples, empty = [], set()
    for name in sorted(class_to_idx):
        before = len(samples)
        folder = os.path.join(directory, name)
        for parent, _, names in sorted(os.walk(folder, followlinks=True)):
            for filename in sorted(names):
                path = os.path.join(parent, filename)
                if is_valid_file(path):
                    samples.append((path, class_to_idx[name]))
        if len(samples) == before:
            empty.add(name)
    if empty and not allow_empty:
        message = f"Found no valid file for the classes {', '.join(sorted(empty))}. "
        if extensions is not None:
            shown = extensions if isinstance(extensions, str) else ", ".join(extensions)
            message += f"Supported extensions are: {shown}"
        raise FileNotFoundError(message)
    return samples


class DatasetFolder(VisionDataset):
    """Samples ``root/<class>/**/<file>`` read by ``loader``, as torchvision's ``DatasetFolder``.

    Args:
        root: folder with one subfolder per class (sorted names give the class indices).
        loader: reads one file path into a sample.
        extensions: accepted file suffixes (case-insensitive); or give ``is_valid_file``.
        transform, target_transform: applied to each sample / class index.
        is_valid_file: predicate on a path deciding which files are samples.
        allow_empty: accept class folders without any valid file.

    Attributes:
        classes, class_to_idx, samples (list of (path, class_index)), targets.

    Example:
        >>> import numpy as np
        >>> data = DatasetFolder("arrays", loader=np.load, extensions=(".npy",))  # doctest: +SKIP
    """

    def __init__(self, root, loader: Callable, extensions=None, transform=None,
                 target_transform=None, is_valid_file=None, allow_empty: bool = False) -> None:
        super().__init__(root, transform, target_transform)
        self.classes, self.class_to_idx = find_classes(self.root)
        self.samples = make_dataset(self.root, self.class_to_idx, extensions, is_valid_file,
                                    allow_empty)
        self.loader = loader
        self.extensions = extensions
        self.targets = [target for _, target in self.samples]

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int):
        path, target = self.samples[index]
        return self._sample(self.loader(path), target)


class ImageFolder(DatasetFolder):
    """Images in ``root/<class>/<image>`` files (jpg, png, bmp, ...), torchvision's signature.

    As in torchvision, the default loader returns RGB ``PIL.Image`` images, which every
    transform here accepts (``transforms.ToTensor`` gives a (3, H, W) float tensor in [0, 1]).
    Needs Pillow for the default loader: ``pip install pillow``.

    Args:
        root: folder with one subfolder per class.
        transform, target_transform: applied to each image / class index.
        loader: reads one path into an image (default: Pillow, converted to RGB).
        is_valid_file: predicate on a path (default: the suffix is in ``IMG_EXTENSIONS``).
        allow_empty: accept class folders without any image.

    Raises:
        ImportError: Pillow is missing and no ``loader`` was given.

    Example:
        >>> from deepgrad.vision import datasets, transforms
        >>> data = datasets.ImageFolder("photos", transform=transforms.Compose(
        ...     [transforms.Resize(64), transforms.ToTensor()]))  # doctest: +SKIP
    """

    def __init__(self, root, transform=None, target_transform=None,
                 loader: Callable | None = None, is_valid_file=None,
                 allow_empty: bool = False) -> None:
        if loader is None:
            _pillow()  # fail now with the install hint, not at the first sample
            loader = default_loader
        super().__init__(root, loader, IMG_EXTENSIONS if is_valid_file is None else None,
                         transform, target_transform, is_valid_file, allow_empty)
        self.imgs = self.samples
