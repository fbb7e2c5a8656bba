"""MNIST and Fashion-MNIST: the official IDX files (gzip-compressed or not), as torchvision reads.

The IDX format: a 4-byte magic number (two zero bytes, a type code, the number of dimensions),
one big-endian uint32 per dimension, then the values in C order. Parsing is one
``np.frombuffer`` over the decompressed bytes; every header field is checked against the payload
so a truncated or damaged file is refused with the reason instead of giving wrong images.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .download import download_url
from .vision import VisionDataset, dataset_not_found

__all__ = ["MNIST", "FashionMNIST", "read_idx"]

# IDX type code -> element type (multi-byte types are big-endian)
_IDX_TYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _read_bytes(path: Path, name: str) -> bytes:
    """The file's bytes, gunzipped when it starts with the gzip magic number."""
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:  # BadGzipFile is an OSError
        raise RuntimeError(f"{name}: {path} is corrupt: truncated or damaged gzip data "
                           f"({error})") from None


def read_idx(path, name: str = "read_idx") -> np.ndarray:
    """Read one IDX file (``*-ubyte`` or ``*-ubyte.gz``) into a NumPy array.

    Args:
        path: the file; gzip compression is detected from its first bytes.
        name: the dataset name to start error messages with.

    Returns:
        A writable array with the dimensions and element type the header declares.

    Raises:
        RuntimeError: bad magic number, truncated header, or a payload whose size differs
            from what the dimensions in the header require.

    Example:
        >>> read_idx("mnist/train-labels-idx1-ubyte.gz").shape  # doctest: +SKIP
        (60000,)
    """
    path = Path(path)
    raw = _read_bytes(path, name)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise RuntimeError(f"{name}: {path} is not an IDX file: bad magic number "
                           f"0x{raw[:4].hex() or '(empty)'} (expected 0x0000TTNN with type "
                           f"TT in {sorted(hex(t) for t in _IDX_TYPES)})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise RuntimeError(f"{name}: {path} is corrupt: truncated IDX header ({len(raw)} bytes, "
                           f"{ndim} dimensions need {header})")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise RuntimeError(f"{name}: {path} is corrupt: size mismatch between header and "
                           f"payload: dimensions {dims} need {expected} bytes of data, the file "
                           f"has {len(raw) - header}")
    # frombuffer over an immutable bytes object is read-only; one copy makes it writable
    array = np.frombuffer(raw, dtype, offset=header).reshape(dims)
    return array.astype(dtype.newbyteorder("="), copy=True)


class MNIST(VisionDataset):
    """The MNIST handwritten digits (28x28 grey images, 10 classes), torchvision's signature.

    Reads the four official IDX files, gzip-compressed or not, from ``root/MNIST/raw/``
    (torchvision's layout) or directly from ``root`` (so a folder that just holds the four
    ``*-ubyte.gz`` files works as ``root``). Nothing is cached to disk except downloads.

    Unlike torchvision, which returns PIL images and keeps ``data``/``targets`` as tensors,
    samples are NumPy uint8 arrays of shape (28, 28), ``data`` is a uint8 array (N, 28, 28)
    and ``targets`` an int64 array (N,); ``transforms.ToTensor`` turns an image into the same
    (1, 28, 28) float tensor in [0, 1] that torchvision makes from the PIL image.

    Args:
        root: data folder; ``None`` uses the cache folder (``$DEEPGRAD_DATA`` or
            ``~/.cache/deepgrad``).
        train: the training set (``train-*`` files) if True, else the test set (``t10k-*``).
        transform: applied to each image (e.g. ``transforms.ToTensor()``).
        target_transform: applied to each label.
        download: download the files from the official mirrors (MD5-verified) into
            ``root/MNIST/raw`` when they are not found.

    Example:
        >>> from deepgrad.vision import datasets, transforms
        >>> train = datasets.MNIST("data", download=True,
        ...                        transform=transforms.ToTensor())  # doctest: +SKIP
        >>> image, label = train[0]  # doctest: +SKIP
        >>> image.shape  # doctest: +SKIP
        deepgrad.Size([1, 28, 28])
    """

    mirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]
    image_size = (28, 28)

    def __init__(self, root=None, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        super().__init__(root, transform, target_transform)
        self.train = train
        files = self._found_files()
        if files is None and download:
            self.download()
            files = self._found_files()
        if files is None:
            raise dataset_not_found(type(self).__name__, self.search_folders,
                                    [f"{name}[.gz]" for name in self._file_names],
                                    self.mirrors)
        self.data, self.targets = self._load(*files)

    # ------------------------------------------------------------ files
    @property
    def raw_folder(self) -> Path:
        return self.root / type(self).__name__ / "raw"

    @property
    def search_folders(self) -> list[Path]:
        """Where the files are looked for, in order: torchvision's layout, then root itself."""
        return [self.raw_folder, self.root]

    @property
    def _file_names(self) -> tuple[str, str]:
        prefix = "train" if self.train else "t10k"
        return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"

    def _found_files(self) -> tuple[Path, Path] | None:
        for folder in self.search_folders:
            found = []
            for name in self._file_names:
                candidates = [folder / f"{name}.gz", folder / name]
                found.append(next((path for path in candidates if path.is_file()), None))
            if all(found):
                return found[0], found[1]
        return None

    def download(self) -> None:
        """Download the four files into ``raw_folder`` (skipping verified ones)."""
        for filename, md5 in self.resources:
            urls = [mirror + filename for mirror in self.mirrors]
            try:
                download_url(urls, self.raw_folder, filename, md5)
            except RuntimeError as error:
                looked = ", ".join(str(folder) for folder in self.search_folders)
                raise RuntimeError(
                    f"{type(self).__name__}: the dataset files are not in {looked} and "
                    f"downloading them failed.\n{error}"
                ) from None

    # ------------------------------------------------------------ parsing
    def _load(self, images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
        name = type(self).__name__
        images = read_idx(images_path, name)
        labels = read_idx(labels_path, name)
        if images.ndim != 3 or images.shape[1:] != self.image_size or images.dtype != np.uint8:
            raise RuntimeError(f"{name}: {images_path} has wrong dims: expected uint8 images "
                               f"(N, {self.image_size[0]}, {self.image_size[1]}), got "
                               f"{images.dtype} {images.shape}")
        if labels.ndim != 1 or labels.dtype != np.uint8:
            raise RuntimeError(f"{name}: {labels_path} has wrong dims: expected uint8 labels "
                               f"(N,), got {labels.dtype} {labels.shape}")
        if len(images) != len(labels):
            raise RuntimeError(f"{name}: images/labels count mismatch: {images_path} holds "
                               f"{len(images)} images, {labels_path} {len(labels)} labels")
        if len(labels) and labels.max() >= len(self.classes):
            raise RuntimeError(f"{name}: {labels_path} is corrupt: label {labels.max()} is not "
                               f"a class index (0..{len(self.classes) - 1})")
        return images, labels.astype(np.int64)

    # ------------------------------------------------------------ samples
    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: index for index, name in enumerate(self.classes)}

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int):
        """``(image, target)``: a uint8 (28, 28) array (before ``transform``) and an int."""
        return self._sample(self.data[index].copy(), int(self.targets[index]))

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando): 28x28 grey images of 10 clothing classes, MNIST's file format.

    Same arguments, attributes and sample types as :class:`MNIST`; files are read from
    ``root/FashionMNIST/raw/`` or directly from ``root``.

    Example:
        >>> train = FashionMNIST("data", download=True)  # doctest: +SKIP
        >>> train.classes[9]  # doctest: +SKIP
        'Ankle boot'
    """

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
