"""CIFAR-10: the python-version pickle batches, read from the official tar.gz or its folder.

The batches are Python pickles, and unpickling can run arbitrary code, so they are read with a
restricted unpickler that rebuilds only dicts, lists, strings, bytes, numbers and plain NumPy
arrays, and refuses every other global the file names.
"""

from __future__ import annotations

import builtins
import codecs
import io
import pickle
import tarfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .download import download_url
from .vision import VisionDataset, dataset_not_found

__all__ = ["CIFAR10", "load_pickle_batch"]


def _dtype(*args, **kwargs) -> np.dtype:
    result = np.dtype(*args, **kwargs)
    if result.hasobject:  # object arrays would unpickle arbitrary elements
        raise pickle.UnpicklingError(f"refusing NumPy dtype {result} (holds Python objects)")
    return result


def _reconstruct(subtype, shape, dtype_code):
    if subtype is not np.ndarray:
        raise pickle.UnpicklingError(f"refusing NumPy array subtype {subtype!r}")
    return np.ndarray.__new__(np.ndarray, shape, _dtype(dtype_code))


def _encode(text: str, encoding: str = "latin1") -> bytes:
    # Python 3 pickles of bytes at protocols < 3 call _codecs.encode(text, "latin1")
    if codecs.lookup(encoding).name != "iso8859-1":
        raise pickle.UnpicklingError(f"refusing _codecs.encode with encoding {encoding!r}")
    return codecs.encode(text, "latin1")


def _scalar(dtype, data: bytes):
    return np.frombuffer(data, _dtype(dtype), count=1)[0]


def _frombuffer(buffer, dtype, shape, order):
    # NumPy's protocol-5 array reduction (in-band buffer)
    return np.frombuffer(buffer, _dtype(dtype)).reshape(shape, order=order).copy()


_ALLOWED = {"numpy.ndarray": np.ndarray, "numpy.dtype": _dtype, "_codecs.encode": _encode}
for _module in ("numpy.core", "numpy._core"):
    _ALLOWED[f"{_module}.multiarray._reconstruct"] = _reconstruct
    _ALLOWED[f"{_module}.multiarray.scalar"] = _scalar
    _ALLOWED[f"{_module}.numeric._frombuffer"] = _frombuffer
for _name in ("dict", "list", "bytes", "str", "int"):
    _ALLOWED[f"builtins.{_name}"] = _ALLOWED[f"__builtin__.{_name}"] = getattr(builtins, _name)


class _BatchUnpickler(pickle.Unpickler):
    """Resolves only the globals in ``_ALLOWED``; anything else is refused, never imported."""

    def find_class(self, module: str, name: str):
        found = _ALLOWED.get(f"{module}.{name}")
        if found is None:
            raise pickle.UnpicklingError(
                f"refusing the global '{module}.{name}': CIFAR batches are read by a "
                "restricted unpickler that rebuilds only containers, strings, numbers and "
                "NumPy arrays")
        return found


def load_pickle_batch(raw: bytes, source: str) -> dict:
    """Unpickle one CIFAR batch safely; str keys (Python 2 pickles are read as latin-1).

    Raises:
        RuntimeError: the bytes are not a pickle of a dict, or the pickle names a global other
            than NumPy's array reconstruction.
    """
    try:
        batch = _BatchUnpickler(io.BytesIO(raw), encoding="latin1").load()
    except Exception as error:  # noqa: BLE001 - any unpickling failure means a bad file
        raise RuntimeError(f"CIFAR10: {source} is corrupt or unsafe: {error}") from None
    if not isinstance(batch, dict):
        raise RuntimeError(f"CIFAR10: {source} is corrupt: expected a pickled dict, "
                           f"got {type(batch).__name__}")
    return {key.decode("latin1") if isinstance(key, bytes) else key: value
            for key, value in batch.items()}


class CIFAR10(VisionDataset):
    """CIFAR-10: 60,000 32x32 colour images in 10 classes, torchvision's signature.

    Reads the official ``cifar-10-python.tar.gz`` directly (no extraction) from ``root``, or
    the extracted ``root/cifar-10-batches-py/`` folder (torchvision's layout). Each batch is
    checked for its keys, shapes and label range; MD5 checksums are verified at download.

    Unlike torchvision, which returns PIL images, samples are NumPy uint8 arrays (32, 32, 3)
    (HxWxC, RGB); ``data`` is uint8 (N, 32, 32, 3) and ``targets`` a list of ints, as in
    torchvision. ``transforms.ToTensor`` gives the (3, 32, 32) float tensor in [0, 1] that
    torchvision makes from the PIL image.

    Args:
        root: data folder; ``None`` uses the cache folder (``$DEEPGRAD_DATA`` or
            ``~/.cache/deepgrad``).
        train: the five training batches (50,000 images) if True, else the test batch.
        transform: applied to each image.
        target_transform: applied to each label.
        download: download the archive (MD5-verified) into ``root`` when it is not found.

    Example:
        >>> test = CIFAR10("data", train=False, download=True)  # doctest: +SKIP
        >>> image, label = test[0]  # doctest: +SKIP
        >>> image.shape, test.classes[label]  # doctest: +SKIP
        ((32, 32, 3), 'cat')
    """

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [
        ["data_batch_1", "c99cafc152244af753f735de768cd75f"],
        ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
        ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
        ["data_batch_4", "634d18415352ddfa80567beed471001a"],
        ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"],
    ]
    test_list = [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    meta = {"filename": "batches.meta", "key": "label_names",
            "md5": "5ff9c542aee3614f3951f8cda6e48888"}
    label_key = "labels"
    default_classes = ["airplane", "automobile", "bird", "cat", "deer",
                       "dog", "frog", "horse", "ship", "truck"]

    def __init__(self, root=None, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        super().__init__(root, transform, target_transform)
        self.train = train
        if self._source() is None and download:
            self.download()
        source = self._source()
        if source is None:
            raise dataset_not_found(type(self).__name__, [self.archive, self.folder],
                                    [self.filename, f"{self.base_folder}/"], [self.url])
        wanted = [name for name, _ in (self.train_list if train else self.test_list)]
        files = self._read_files(source, wanted + [self.meta["filename"]])
        batches = [self._check_batch(load_pickle_batch(files[name], f"{source}:{name}"),
                                     f"{source}:{name}") for name in wanted]
        # (N, 3072) rows are the red, green and blue 32x32 planes: -> (N, 32, 32, 3)
        data = np.concatenate([batch["data"] for batch in batches])
        self.data = np.ascontiguousarray(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        self.targets = [int(label) for batch in batches for label in batch[self.label_key]]
        self.classes = self._classes(files.get(self.meta["filename"]), source)

    # ------------------------------------------------------------ files
    @property
    def archive(self) -> Path:
        return self.root / self.filename

    @property
    def folder(self) -> Path:
        return self.root / self.base_folder

    def _source(self) -> Path | None:
        if self.folder.is_dir():
            return self.folder
        return self.archive if self.archive.is_file() else None

    def download(self) -> None:
        """Download the archive into ``root`` (kept as is: batches are read from it)."""
        try:
            download_url(self.url, self.root, self.filename, self.tgz_md5)
        except RuntimeError as error:
            raise RuntimeError(
                f"{type(self).__name__}: the dataset is not at {self.archive} or "
                f"{self.folder} and downloading it failed.\n{error}"
            ) from None

    def _read_files(self, source: Path, names: list[str]) -> dict[str, bytes]:
        """The named batch files' bytes; the meta file is optional, batches are not."""
        name = type(self).__name__
        if source.is_dir():
            files = {n: (source / n).read_bytes() for n in names if (source / n).is_file()}
        else:
            files = {}
            try:  # one streaming pass over the archive, keeping only the wanted members
                with tarfile.open(source, "r|gz") as archive:
                    for member in archive:
                        base = member.name.rsplit("/", 1)[-1]
                        if member.isfile() and base in names and base not in files:
                            files[base] = archive.extractfile(member).read()
            except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
                raise RuntimeError(f"{name}: {source} is not a valid tar.gz archive (truncated "
                                   f"or damaged): {error}") from None
        missing = [n for n in names if n not in files and n != self.meta["filename"]]
        if missing:
            raise RuntimeError(f"{name}: {source} is incomplete: missing batch "
                               f"{', '.join(missing)}")
        return files

    # ------------------------------------------------------------ parsing
    def _check_batch(self, batch: dict, source: str) -> dict:
        name = type(self).__name__
        if "data" not in batch or self.label_key not in batch:
            raise RuntimeError(f"{name}: {source} is corrupt: pickle batch with wrong keys: "
                               f"expected 'data' and '{self.label_key}', got "
                               f"{sorted(map(str, batch))}")
        data, labels = batch["data"], batch[self.label_key]
        if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
                or data.shape[1] != 3 * 32 * 32:
            got = (f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray)
                   else type(data).__name__)
            raise RuntimeError(f"{name}: {source} is corrupt: 'data' should be a uint8 array "
                               f"(N, 3072), got {got}")
        if not isinstance(labels, (list, np.ndarray)) or len(labels) != len(data):
            count = len(labels) if isinstance(labels, (list, np.ndarray)) else "no"
            raise RuntimeError(f"{name}: {source} is corrupt: {len(data)} images but {count} "
                               "labels")
        classes = len(self.default_classes)
        if any(not isinstance(label, (int, np.integer)) or not 0 <= label < classes
               for label in labels):
            raise RuntimeError(f"{name}: {source} is corrupt: labels must be ints in "
                               f"0..{classes - 1}")
        return batch

    def _classes(self, raw: bytes | None, source: Path) -> list[str]:
        if raw is None:
            return list(self.default_classes)
        meta = load_pickle_batch(raw, f"{source}:{self.meta['filename']}")
        names = meta.get(self.meta["key"])
        if not isinstance(names, list) or len(names) != len(self.default_classes):
            raise RuntimeError(f"{type(self).__name__}: {source}:{self.meta['filename']} is "
                               f"corrupt: expected '{self.meta['key']}' with "
                               f"{len(self.default_classes)} names")
        return [n.decode("latin1") if isinstance(n, bytes) else str(n) for n in names]

    # ------------------------------------------------------------ samples
    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: index for index, name in enumerate(self.classes)}

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int):
        """``(image, target)``: a uint8 (32, 32, 3) array (before ``transform``) and an int."""
        return self._sample(self.data[index].copy(), self.targets[index])

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"
