"""``Digits``: the UCI handwritten digits (1,797 8x8 images) shipped inside the package.

The offline default dataset: nothing to download. The data is the UCI "Optical Recognition of
Handwritten Digits" test set by E. Alpaydin and C. Kaynak (CC BY 4.0), in the copy scikit-learn
ships (BSD-3-Clause); see ``data/LICENSE-digits.txt`` next to the file.
"""

from __future__ import annotations

import functools
import gzip
import io
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import numpy as np

from .vision import VisionDataset

__all__ = ["Digits"]

TEST_SIZE = 360  # 20% of 1,797, as scikit-learn's examples hold out


@functools.lru_cache(maxsize=1)
def _load_all() -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 images as uint8 (N, 8, 8) in 0..255 and labels int64 (N,); parsed once."""
    raw = resources.files(__package__).joinpath("data", "digits.csv.gz").read_bytes()
    table = np.loadtxt(io.BytesIO(gzip.decompress(raw)), delimiter=",", dtype=np.int64, ndmin=2)
    if table.shape[1] != 65 or table[:, :64].min() < 0 or table[:, :64].max() > 16:
        raise RuntimeError(f"Digits: the packaged digits.csv.gz is corrupt: expected rows of 64 "
                           f"values in 0..16 and a label, got shape {table.shape}")
    # 0..16 -> 0..255 rounding half up, so ToTensor maps 16 to exactly 1.0
    images = ((table[:, :64] * 255 + 8) // 16).astype(np.uint8).reshape(-1, 8, 8)
    return images, table[:, 64].copy()


def split_indices(count: int, split: str, seed: int | None) -> np.ndarray:
    """Indices of ``split`` ("train", "test" or "all") among ``count`` samples, sorted.

    ``seed=None`` splits in file order (first ``count - 360`` train, last 360 test); an int
    shuffles first with ``numpy.random.default_rng(seed)`` (PCG64: the argsort of ``count``
    uniform draws), independently of deepgrad's global generator.
    """
    if split == "all":
        return np.arange(count)
    if seed is None:
        order = np.arange(count)
    else:
        order = np.argsort(np.random.default_rng(seed).random(count), kind="stable")
    part = order[:count - TEST_SIZE] if split == "train" else order[count - TEST_SIZE:]
    return np.sort(part)


class Digits(VisionDataset):
    """The UCI handwritten digits bundled with deepgrad: 1,797 8x8 grey images, 10 classes.

    Images are uint8 NumPy arrays (8, 8) scaled from the original 0..16 to 0..255 (rounding half
    up), so ``transforms.ToTensor`` gives a (1, 8, 8) float tensor in [0, 1]. The split is
    deterministic: 1,437 training and 360 test images, chosen by a fixed seeded shuffle
    (``seed=0`` by default; ``seed=None`` takes the first 1,437 / last 360 rows in file order).
    Train and test never overlap for the same seed.

    Args:
        root: ignored (the data ships with the package); accepted for a uniform signature.
        train: the training part if True, else the test part.
        transform: applied to each image.
        target_transform: applied to each label.
        split: "train", "test" or "all" (all 1,797); overrides ``train`` when given.
        seed: seed of the shuffle that chooses the split; ``None`` for file order.

    Attributes:
        data: uint8 array (N, 8, 8). targets: int64 array (N,). classes: ``'0'`` .. ``'9'``.

    Example:
        >>> from deepgrad.vision import datasets
        >>> train, test = datasets.Digits(train=True), datasets.Digits(train=False)
        >>> len(train), len(test), train.data.shape[1:]
        (1437, 360, (8, 8))
    """

    classes = [str(digit) for digit in range(10)]

    def __init__(self, root=None, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, split: str | None = None,
                 seed: int | None = 0) -> None:
        super().__init__(root, transform, target_transform)
        if root is None:  # the data's real location, for the repr
            self.root = Path(str(resources.files(__package__).joinpath("data")))
        if split is None:
            split = "train" if train else "test"
        if split not in ("train", "test", "all"):
            raise ValueError(f"Digits: split must be 'train', 'test' or 'all', got {split!r}")
        self.split, self.seed, self.train = split, seed, split == "train"
        images, labels = _load_all()
        indices = split_indices(len(images), split, seed)
        self.data, self.targets = images[indices], labels[indices]

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: index for index, name in enumerate(self.classes)}

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int):
        """``(image, target)``: a uint8 (8, 8) array (before ``transform``) and an int."""
        return self._sample(self.data[index].copy(), int(self.targets[index]))

    def extra_repr(self) -> str:
        return f"Split: {self.split.capitalize()} (seed={self.seed})"
