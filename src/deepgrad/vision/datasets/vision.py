"""``VisionDataset``: the base of the image datasets (root, transforms, torchvision's repr)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from ...utils.data import Dataset
from .download import resolve_root

__all__ = ["VisionDataset"]


class VisionDataset(Dataset):
    """Base class of the image datasets, as ``torchvision.datasets.VisionDataset``.

    Args:
        root: data folder; ``None`` means the cache folder (``$DEEPGRAD_DATA`` or
            ``~/.cache/deepgrad``).
        transform: applied to the image of each sample.
        target_transform: applied to the target of each sample.
    """

    _repr_indent = 4

    def __init__(self, root=None, transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        self.root = resolve_root(root)
        self.transform = transform
        self.target_transform = target_transform

    def _sample(self, image, target):
        """Apply the transforms to one (image, target) pair."""
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"Number of datapoints: {len(self)}", f"Root location: {self.root}"]
        lines += [line for line in self.extra_repr().splitlines() if line]
        if self.transform is not None:
            lines += _indented("Transform: ", repr(self.transform))
        if self.target_transform is not None:
            lines += _indented("Target transform: ", repr(self.target_transform))
        pad = " " * self._repr_indent
        return "\n".join([f"Dataset {type(self).__name__}"] + [pad + line for line in lines])


def _indented(head: str, body: str) -> list[str]:
    first, *rest = body.splitlines()
    return [head + first] + [" " * len(head) + line for line in rest]


def dataset_not_found(name: str, looked_at: Sequence[Path], files: Sequence[str],
                      urls: Sequence[str]) -> RuntimeError:
    """The error for missing files: where we looked, which files, and how to get them."""
    places = "\n  ".join(str(path) for path in looked_at)
    return RuntimeError(
        f"Dataset not found. You can use download=True to download it.\n"
        f"{name}: looked for {', '.join(files)} in:\n  {places}\n"
        f"Get them with download=True, or download them from {' or '.join(urls)} into a "
        f"folder and pass it as root (on the command line: --data-dir FOLDER)."
    )
