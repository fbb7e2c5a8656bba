"""Checkpoints: ``save`` / ``load`` in a format that cannot run code when it is read.

deepgrad's format (a deliberate difference from torch, whose files are pickles) is a zip
archive holding ``structure.json``, a JSON description of the saved object, and one
``arrays/<i>.npy`` per tensor or NumPy array (written with ``allow_pickle=False``). Loading
it parses JSON and ``.npy`` headers only, so a checkpoint from an untrusted source is data,
never a program. Saving to a path is atomic: the archive goes to a temporary file in the
same directory, is fsynced, and replaces the target with ``os.replace``, so a crash
mid-write leaves the previous checkpoint intact.

``load`` also reads PyTorch ``.pt``/``.pth`` files without torch (see ``_torch_pickle``).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import pickle
import stat
import struct
import warnings
import zipfile
import zlib
from collections import OrderedDict

import numpy as np

from . import _torch_pickle, backend
from ._tensor import Size, Tensor

__all__ = ["save", "load"]

FORMAT_NAME = "deepgrad"
FORMAT_VERSION = 1
STRUCTURE_NAME = "structure.json"
_ZIP_HEADERS = (b"PK\x03\x04", b"PK\x05\x06")
_ALIGNMENT = 64  # array data starts on a 64-byte boundary so mmap'd arrays are aligned
_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same object gives the same bytes


# ---------------------------------------------------------------- save

def save(obj, f, pickle_module=None, pickle_protocol=None) -> None:
    """Save ``obj`` (tensors, numbers, strings, dtypes in dicts, lists and tuples) to ``f``.

    The file is deepgrad's safe format (zip of ``.npy`` arrays plus a JSON structure), not
    a pickle: ``torch.load`` cannot read it, and ``deepgrad.load`` never executes code.
    Supported: ``Tensor`` (dtype, requires_grad and Parameter-ness are kept; ``.grad`` is not,
    as torch), ``None``, ``bool``, ``int``, ``float``, ``complex``, ``str``, ``bytes``,
    ``list``, ``tuple``, ``Size``, ``dict`` and ``OrderedDict`` (any of these as keys, so
    an optimizer's int keys survive), ``set``, ``dtype``, ``device``, NumPy arrays and
    scalars. A tensor that appears twice is stored once and loads as one object.

    Args:
        obj: the object to save, e.g. ``{"model": model.state_dict(), "epoch": 3}``.
        f: a path (``str`` / ``os.PathLike``), written atomically, or a writable binary
            file object (written in place).
        pickle_module, pickle_protocol: accepted for torch compatibility and ignored.

    Example:
        >>> deepgrad.save({"w": deepgrad.ones(2, 3), "step": 10}, "checkpoint.pt")
        >>> deepgrad.load("checkpoint.pt")["step"]
        10
    """
    encoder = _Encoder()
    document = {  # everything is validated before the target file is touched
        "format": FORMAT_NAME, "version": FORMAT_VERSION,
        "object": encoder.encode(obj, "obj"), "arrays": encoder.entries,
    }
    structure = json.dumps(document, separators=(",", ":")).encode()
    if isinstance(f, (str, os.PathLike)):
        _atomic_write(os.fspath(f), lambda fp: _write_archive(fp, structure, encoder.arrays))
    elif hasattr(f, "write"):
        _write_archive(f, structure, encoder.arrays)
    else:
        raise TypeError(f"save: f must be a path or a binary file object; got {type(f).__name__}")


class _Encoder:
    """Turns an object into a JSON tree; tensors and arrays become numbered ``.npy`` files."""

    def __init__(self):
        self.entries = []  # JSON metadata of arrays/<i>.npy
        self.arrays = []  # host arrays, in the same order
        self._ids = {}  # id(tensor or array) -> index: one object twice is stored once
        self._active = set()  # ids of the containers being encoded, to refuse cycles

    def encode(self, obj, where: str):
        kind = type(obj)
        if obj is None or kind in (bool, int, float, str):
            return obj
        if isinstance(obj, Tensor):
            return {"$": "tensor", "id": self._array(obj, where)}
        if isinstance(obj, (np.ndarray, np.generic)):
            return {"$": "ndarray" if kind is np.ndarray else "numpy_scalar",
                    "id": self._array(obj, where)}
        if isinstance(obj, backend.dtype):
            return {"$": "dtype", "name": obj.name}
        if isinstance(obj, backend.device):
            return {"$": "device", "name": str(obj)}
        for base in (int, float, str):  # subclasses (IntEnum, ...) are saved as their base
            if isinstance(obj, base):
                return base(obj)
        if isinstance(obj, complex):
            return {"$": "complex", "real": obj.real, "imag": obj.imag}
        if isinstance(obj, bytes):
            return {"$": "bytes", "hex": obj.hex()}
        if isinstance(obj, (list, tuple, dict, set, frozenset)):
            return self._container(obj, where)
        raise TypeError(
            f"save: cannot save an object of type {kind.__module__}.{kind.__qualname__} at "
            f"{where}; deepgrad's format holds tensors, NumPy arrays, numbers, strings, bytes, "
            "dtypes, devices and dicts/lists/tuples/sets of them"
        )

    def _container(self, obj, where: str):
        if id(obj) in self._active:
            raise ValueError(f"save: {where} contains itself; cyclic structures cannot be saved")
        self._active.add(id(obj))
        if isinstance(obj, dict):
            items = [[self.encode(k, f"{where} (a key)"), self.encode(v, f"{where}[{k!r}]")]
                     for k, v in obj.items()]
            node = {"$": "OrderedDict" if isinstance(obj, OrderedDict) else "dict",
                    "items": items}
            attrs = getattr(obj, "__dict__", None)  # a state_dict's _metadata
            if attrs and isinstance(obj, OrderedDict):
                node["attrs"] = self.encode(dict(attrs), f"{where}.__dict__")
        elif isinstance(obj, list):
            node = [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        else:
            tag = ("Size" if isinstance(obj, Size) else "tuple" if isinstance(obj, tuple)
                   else "frozenset" if isinstance(obj, frozenset) else "set")
            node = {"$": tag, "items": [self.encode(v, f"{where}[{i}]")
                                        for i, v in enumerate(obj)]}
        self._active.discard(id(obj))
        return node

    def _array(self, obj, where: str) -> int:
        index = self._ids.get(id(obj))
        if index is not None:
            return index
        if isinstance(obj, Tensor):
            array = backend.move_array(obj._data, backend.CPU)
            entry = {"kind": "tensor", "dtype": obj.dtype.name,
                     "requires_grad": obj._requires_grad, "device": str(obj.device),
                     "parameter": type(obj).__name__ == "Parameter"}
        else:
            array = np.asarray(obj)
            if array.dtype.hasobject:
                raise TypeError(f"save: the NumPy array at {where} has dtype object, which "
                                "cannot be saved without pickle")
            entry = {"kind": "ndarray" if isinstance(obj, np.ndarray) else "numpy_scalar",
                     "dtype": array.dtype.str}
        entry["shape"] = list(array.shape)
        index = len(self.arrays)
        self._ids[id(obj)] = index
        self.entries.append(entry)
        self.arrays.append(array)
        return index


def _write_archive(fp, structure: bytes, arrays) -> None:
    with zipfile.ZipFile(fp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        archive.writestr(zipfile.ZipInfo(STRUCTURE_NAME, _EPOCH), structure)
        for index, array in enumerate(arrays):
            info = zipfile.ZipInfo(f"arrays/{index}.npy", _EPOCH)
            large = array.nbytes > (1 << 30)  # zip64 sizes must be declared before writing
            try:  # pad the local header so the .npy (whose header is 64-byte padded) aligns
                start = archive.fp.tell() + 30 + len(info.filename) + 4 + (20 if large else 0)
                padding = -start % _ALIGNMENT
                info.extra = struct.pack("<HH", 0x6764, padding) + bytes(padding)
            except (OSError, AttributeError):  # an unseekable stream: no alignment needed
                pass
            with archive.open(info, "w", force_zip64=large) as member:
                _write_array(member, array)


def _write_array(member, array) -> None:
    np.lib.format.write_array(member, array, allow_pickle=False)


def _atomic_write(path: str, write) -> None:
    """Write through ``write(fp)`` to a temporary file, fsync it, then ``os.replace`` it."""
    path = os.path.realpath(path)  # a symlinked checkpoint is replaced at its target
    directory, name = os.path.split(path)
    if not os.path.isdir(directory):
        raise RuntimeError(f"Parent directory {directory} does not exist.")
    while True:
        temporary = os.path.join(directory, f".{name}.{os.urandom(4).hex()}.tmp")
        try:  # mode 0o666 minus the umask, as open() would give the file itself
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL
                         | getattr(os, "O_BINARY", 0), 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as fp:
            write(fp)
            fp.flush()
            os.fsync(fp.fileno())
        with contextlib.suppress(OSError):  # overwriting keeps the old file's permissions
            os.chmod(temporary, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    with contextlib.suppress(OSError, AttributeError):  # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


# ---------------------------------------------------------------- load

def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Load an object saved by ``deepgrad.save``, or by ``torch.save`` (torch not needed).

    Neither format can run code: deepgrad's is JSON plus ``.npy``; a PyTorch file's pickle
    goes through a restricted unpickler that rebuilds tensors, containers and numbers only
    and refuses any other global (``pickle.UnpicklingError`` naming it), like
    ``torch.load(weights_only=True)``, whatever ``weights_only`` says. Corrupt or truncated
    files raise ``RuntimeError`` saying why. PyTorch views come back as copies (shape,
    strides order and values kept; storage sharing between views is not); bfloat16 tensors
    load as float32 (exactly), as deepgrad has no bfloat16.

    Args:
        f: a path or a readable binary file object.
        map_location: where tensors go, as torch: ``None`` (where they were saved), a device
            or string (``"cpu"``), a dict mapping saved locations (``{"cuda:0": "cpu"}``) or
            a callable ``(tensor, location) -> tensor or None``.
        pickle_module: only ``None`` or the standard ``pickle`` (ignored).
        weights_only: accepted for torch compatibility; loading is always weights-only.
        mmap: memory-map the arrays (copy-on-write) instead of reading them; ``f`` must be
            a path.
        pickle_load_args: ``encoding`` / ``errors`` for Python 2 era PyTorch files.

    Returns:
        The saved object, with deepgrad tensors.

    Example:
        >>> state = deepgrad.load("model.pth", map_location="cpu")
    """
    if pickle_module not in (None, pickle):
        raise ValueError("load: deepgrad reads checkpoints with its own restricted unpickler; "
                         "pickle_module must be None")
    unknown = set(pickle_load_args) - {"encoding", "errors"}
    if unknown:
        raise TypeError(f"load() got an unexpected keyword argument '{sorted(unknown)[0]}'")
    is_path = isinstance(f, (str, os.PathLike))
    if mmap and not is_path:
        raise ValueError("f must be a file path in order to use the mmap argument")
    restorer = _Restorer(map_location)
    with contextlib.ExitStack() as stack:
        if is_path:
            source = f"'{os.fspath(f)}'"
            fp = stack.enter_context(open(f, "rb"))  # noqa: SIM115
        elif hasattr(f, "read"):
            source, fp = "the file", f
            if not (hasattr(f, "seekable") and f.seekable()):
                fp = io.BytesIO(f.read())
        else:
            raise TypeError(f"load: f must be a path or a binary file object; "
                            f"got {type(f).__name__}")
        start = fp.tell()
        head = fp.read(4)
        fp.seek(start)
        if not head:
            raise RuntimeError(f"load: {source} is empty; it is not a checkpoint")
        if head in _ZIP_HEADERS:
            result = _load_zip(fp, source, restorer, os.fspath(f) if mmap else None)
        elif head[:1] == b"\x80":  # a pickle: PyTorch's legacy (pre-1.6) format
            result = _torch_pickle.load_legacy(fp, source, restorer, **pickle_load_args)
        else:
            raise RuntimeError(
                f"load: {source} is neither a deepgrad nor a PyTorch checkpoint (it starts with "
                f"{head!r}, not a zip archive or pickle header); the file is corrupt or of "
                "another kind"
            )
    if restorer.widened_bfloat16:
        warnings.warn("deepgrad has no bfloat16; the file's bfloat16 tensors were loaded as "
                      "float32 (exactly)", stacklevel=2)
    return result


def _load_zip(fp, source: str, restorer, mapped_path):
    try:
        archive = zipfile.ZipFile(fp)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise RuntimeError(f"load: {source} is corrupt or truncated: its zip archive cannot "
                           f"be read ({error})") from error
    with archive:
        reader = _ArrayReader(archive, fp, source, mapped_path)
        names = archive.namelist()
        if STRUCTURE_NAME in names:
            return _Decoder(archive, reader, restorer).load()
        pickle_name = next((n for n in names if n == "data.pkl" or n.endswith("/data.pkl")), None)
        if pickle_name is not None:
            return _torch_pickle.load_zip(archive, pickle_name, reader, restorer)
        raise RuntimeError(f"load: {source} is a zip archive but not a checkpoint: it holds "
                           f"neither {STRUCTURE_NAME} (deepgrad) nor data.pkl (PyTorch)")


class _ArrayReader:
    """Reads archive members as bytes or NumPy arrays, memory-mapped when asked."""

    def __init__(self, archive, fp, source, mapped_path):
        self.archive, self.fp, self.source, self.mapped_path = archive, fp, source, mapped_path

    def corrupt(self, reason: str, error=None) -> RuntimeError:
        detail = f" ({error})" if error is not None else ""
        return RuntimeError(f"load: {self.source} is corrupt or truncated: {reason}{detail}")

    def read(self, name: str) -> bytes:
        try:
            return self.archive.read(name)  # checks the CRC
        except KeyError as error:
            raise self.corrupt(f"the archive has no entry '{name}'") from error
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as error:
            raise self.corrupt(f"entry '{name}' cannot be read", error) from error

    def npy(self, name: str) -> np.ndarray:
        """A ``.npy`` member as a writable array (a copy-on-write map under mmap)."""
        offset = self.mapped_offset(name)
        try:
            with self.archive.open(name) as member:
                header = _NPY_HEADERS.get(np.lib.format.read_magic(member))
                if header is None:
                    raise ValueError("unsupported .npy format version")
                shape, fortran, dtype = header(member)  # validates the header's fields
                count = math.prod(shape)
                if dtype.hasobject or count * dtype.itemsize != (
                        self.archive.getinfo(name).file_size - member.tell()):
                    raise ValueError(f"header ({dtype}, {shape}) does not match the data")
                order = "F" if fortran else "C"
                if offset is not None and count:
                    return np.memmap(self.mapped_path, dtype, "c", offset + member.tell(),
                                     shape, order)
                array = np.empty(shape, dtype, order)
                if count:  # a Fortran array's transpose is C-contiguous, same bytes
                    member.readinto((array.T if fortran else array).reshape(-1).view(np.uint8))
                if member.read(1):  # reaching the end checks the CRC
                    raise ValueError("trailing bytes after the array data")
            return array
        except KeyError as error:
            raise self.corrupt(f"the archive has no entry '{name}'") from error
        except (ValueError, zipfile.BadZipFile, OSError, EOFError, zlib.error) as error:
            raise self.corrupt(f"array '{name}' cannot be read", error) from error

    def mapped_offset(self, name: str) -> int | None:
        """File offset of a stored (uncompressed) member's data, when mmap was asked for."""
        if self.mapped_path is None:
            return None
        info = self.archive.getinfo(name)
        if info.compress_type != zipfile.ZIP_STORED:
            return None
        self.fp.seek(info.header_offset)
        header = self.fp.read(30)
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            raise self.corrupt(f"the local header of '{name}' is damaged")
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        return info.header_offset + 30 + name_length + extra_length


_NPY_HEADERS = {(1, 0): np.lib.format.read_array_header_1_0,
                (2, 0): np.lib.format.read_array_header_2_0}


class _Restorer:
    """Turns loaded host arrays into tensors where ``map_location`` says they belong."""

    def __init__(self, map_location):
        if not (map_location is None or callable(map_location)
                or isinstance(map_location, (str, dict, backend.device))):
            raise TypeError(f"load: map_location should be a string, a device, a dict or a "
                            f"callable; got {type(map_location).__name__}")
        self.map_location = map_location
        self.widened_bfloat16 = False

    def tensor(self, array, location: str, requires_grad: bool = False) -> Tensor:
        array = self._place(array, location)
        result = Tensor._make(array)
        if requires_grad:
            result.requires_grad = True
        return result

    def _place(self, array, location: str):
        target = self.map_location
        if callable(target):  # torch's (storage, location) -> storage or None
            result = target(Tensor._make(array), location)
            if isinstance(result, Tensor):
                return result._data
            if result is not None:
                raise TypeError(f"load: map_location returned {type(result).__name__}; "
                                "expected a tensor or None")
            target = None
        if isinstance(target, dict):
            target = target.get(location)
        return backend.move_array(array, backend.device(target or location))

    @staticmethod
    def parameter(tensor: Tensor, requires_grad: bool) -> Tensor:
        """An ``nn.Parameter`` when deepgrad.nn is available, else a tensor marked alike."""
        try:
            from .nn import Parameter  # noqa: PLC0415 - nn is built on top of this module
        except ImportError:
            tensor.requires_grad = bool(requires_grad)
            return tensor
        return Parameter(tensor, requires_grad=bool(requires_grad))


class _Decoder:
    """Rebuilds the object of a deepgrad archive from its JSON tree."""

    def __init__(self, archive, reader: _ArrayReader, restorer: _Restorer):
        self.reader, self.restorer = reader, restorer
        self.document = None
        self.loaded = {}  # array index -> the one object it becomes

    def load(self):
        try:
            document = json.loads(self.reader.read(STRUCTURE_NAME))
        except (ValueError, RecursionError) as error:
            raise self.reader.corrupt(f"{STRUCTURE_NAME} is not valid JSON", error) from error
        if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
            raise self.reader.corrupt(f"{STRUCTURE_NAME} does not describe a deepgrad object")
        if document.get("version", 0) > FORMAT_VERSION:
            raise RuntimeError(f"load: {self.reader.source} was written by a newer deepgrad "
                               f"(format version {document['version']}); upgrade deepgrad")
        self.document = document
        try:
            return self.decode(document["object"])
        except (KeyError, TypeError, ValueError, IndexError, AttributeError,
                RecursionError) as error:
            raise self.reader.corrupt(f"{STRUCTURE_NAME} is inconsistent",
                                      repr(error)) from error

    def decode(self, node):
        if node is None or type(node) in (bool, int, float, str):
            return node
        if type(node) is list:
            return [self.decode(item) for item in node]
        tag = node["$"]
        if tag in ("dict", "OrderedDict"):
            result = (OrderedDict if tag == "OrderedDict" else dict)(
                (self.decode(k), self.decode(v)) for k, v in node["items"])
            if "attrs" in node:
                result.__dict__.update(self.decode(node["attrs"]))
            return result
        if tag in _SEQUENCES:
            return _SEQUENCES[tag](self.decode(item) for item in node["items"])
        if tag in ("tensor", "ndarray", "numpy_scalar"):
            return self._array(node["id"], tag)
        if tag == "dtype":
            return backend._dtype_by_name(node["name"])
        if tag == "device":
            return backend.device(node["name"])
        if tag == "complex":
            return complex(node["real"], node["imag"])
        if tag == "bytes":
            return bytes.fromhex(node["hex"])
        raise ValueError(f"unknown entry type {tag!r}")

    def _array(self, index: int, tag: str):
        if index in self.loaded:
            return self.loaded[index]
        entry = self.document["arrays"][index]
        if entry["kind"] != tag:
            raise ValueError(f"array {index} is a {entry['kind']}, referenced as a {tag}")
        array = self.reader.npy(f"arrays/{index}.npy")
        expected = (backend._dtype_by_name(entry["dtype"]).numpy if tag == "tensor"
                    else np.dtype(entry["dtype"]))
        if array.dtype != expected or list(array.shape) != entry["shape"]:
            raise self.reader.corrupt(
                f"array {index} has dtype {array.dtype} and shape {array.shape}, but the "
                f"structure records {expected} and {tuple(entry['shape'])}")
        if tag == "tensor":
            result = self.restorer.tensor(array, entry["device"])
            if entry["parameter"]:
                result = self.restorer.parameter(result, entry["requires_grad"])
            elif entry["requires_grad"]:
                result.requires_grad = True
        else:
            result = array if tag == "ndarray" else array[()]
        self.loaded[index] = result
        return result


_SEQUENCES = {"tuple": tuple, "Size": Size, "set": set, "frozenset": frozenset}
