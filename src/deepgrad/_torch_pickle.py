"""Read PyTorch ``.pt`` / ``.pth`` checkpoints without torch, never running code from them.

A ``torch.save`` file is a zip archive: ``<name>/data.pkl`` is a pickle of the object whose
tensors refer to raw storages ``<name>/data/<key>`` through persistent ids, plus
``<name>/byteorder``. Files from torch < 1.6 (or ``_use_new_zipfile_serialization=False``)
are a run of pickles followed by the raw storages; both are read here.

A pickle is a program: ``GLOBAL`` imports any callable and ``REDUCE`` calls it, which is how
a malicious ``__reduce__`` runs ``os.system``. ``_TorchUnpickler.find_class`` is the one
place globals are resolved, and it hands out only deepgrad's own rebuild functions and inert
data types (the set ``torch.load(weights_only=True)`` allows); every other name is refused
with ``pickle.UnpicklingError`` before anything is called. As no reachable global runs
file-supplied code, ``BUILD``/``NEWOBJ``/``SETITEM`` on the objects they make cannot either.
"""

from __future__ import annotations

import codecs
import io
import operator
import pickle
import struct
from collections import Counter, OrderedDict

import numpy as np

from . import backend
from ._tensor import Size, Tensor

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001


class _Marker:
    """An inert stand-in for a torch storage class, tensor class or dtype.

    ``code`` is the NumPy element type of a storage or dtype deepgrad can read, ``None``
    for ones it cannot (complex, quantized, unsigned > 8 bits, float8).
    """

    __slots__ = ("name", "code")

    def __init__(self, name: str, code: str | None = None):
        self.name, self.code = name, code

    def __repr__(self) -> str:
        return f"torch.{self.name}"


_STORAGE_CODES = {
    "DoubleStorage": "f8", "FloatStorage": "f4", "HalfStorage": "f2", "BFloat16Storage": "u2",
    "LongStorage": "i8", "IntStorage": "i4", "ShortStorage": "i2", "CharStorage": "i1",
    "ByteStorage": "u1", "BoolStorage": "b1", "ComplexDoubleStorage": None,
    "ComplexFloatStorage": None, "QInt32Storage": None, "QInt8Storage": None,
    "QUInt8Storage": None, "QUInt4x2Storage": None, "QUInt2x4Storage": None,
}
_GLOBALS = {f"torch.{name}": _Marker(name, code) for name, code in _STORAGE_CODES.items()}
_GLOBALS["torch.storage.UntypedStorage"] = _Marker("UntypedStorage", "u1")
_STORAGES = set(map(id, _GLOBALS.values()))
_BFLOAT16 = _Marker("bfloat16", "u2")  # read as raw 16 bits, widened to float32
_GLOBALS.update({f"torch.{d.name}": d for d in backend._ALL_DTYPES})
_GLOBALS["torch.bfloat16"] = _BFLOAT16
_GLOBALS.update({f"torch.{name}": _Marker(name) for name in (
    "complex32", "complex64", "complex128", "uint16", "uint32", "uint64", "float8_e4m3fn",
    "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu", "qint8", "quint8",
    "qint32", "quint4x2", "quint2x4")})
_TENSOR_TYPE, _PARAMETER_TYPE = _Marker("Tensor"), _Marker("nn.Parameter")
_GLOBALS.update({
    "torch.Tensor": _TENSOR_TYPE, "torch._tensor.Tensor": _TENSOR_TYPE,
    "torch.nn.parameter.Parameter": _PARAMETER_TYPE, "torch.Size": Size,
    "collections.OrderedDict": OrderedDict, "collections.Counter": Counter,
    "builtins.set": set, "builtins.frozenset": frozenset, "builtins.bytearray": bytearray,
    "builtins.complex": complex,
})


def _device(*args):
    return backend.device(*args)


def _encode(text, encoding="utf-8"):
    """Protocol 2 pickles ``bytes`` as ``_codecs.encode(text, 'latin1')``; text codecs only."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1", "utf-8", "utf8"):
        raise pickle.UnpicklingError(f"unexpected _codecs.encode({text!r:.40}, {encoding!r})")
    return codecs.encode(text, encoding)


class _Storage:
    __slots__ = ("array", "location", "bfloat16")

    def __init__(self, array, location: str, bfloat16: bool):
        self.array, self.location, self.bfloat16 = array, location, bfloat16


class _TorchUnpickler(pickle.Unpickler):
    """Rebuilds tensors, containers and numbers; refuses every other global.

    ``read_storage(key, dtype)`` returns a storage's elements as a 1-D array; ``None`` makes
    a scouting pass that only learns each storage's dtype (legacy files store data after
    the pickle) and builds empty placeholder tensors.
    """

    def __init__(self, file, source, restorer, read_storage=None, byteorder="little", **kwargs):
        super().__init__(file, **kwargs)
        self.source, self.restorer, self.read_storage = source, restorer, read_storage
        self.byteorder = "<" if byteorder == "little" else ">"
        self.storages = {}
        self.storage_dtypes = {}  # key -> NumPy dtype
        self.refused = False
        self.rebuilders = {
            "torch._utils._rebuild_tensor": self.rebuild_tensor,
            "torch._utils._rebuild_tensor_v2": self.rebuild_tensor_v2,
            "torch._utils._rebuild_tensor_v3": self.rebuild_tensor_v3,
            "torch._utils._rebuild_parameter": self.rebuild_parameter,
            "torch._utils._rebuild_parameter_with_state": self.rebuild_parameter_with_state,
        }
        self.allowed = {**_GLOBALS, **self.rebuilders, "torch.device": _device,
                        "torch._tensor._rebuild_from_type_v2": self.rebuild_from_type_v2,
                        "_codecs.encode": _encode}

    def corrupt(self, reason: str) -> RuntimeError:
        return RuntimeError(f"load: {self.source} is corrupt: {reason}")

    def find_class(self, module: str, name: str):
        if module == "__builtin__":  # protocol 2 spells builtins the Python 2 way
            module = "builtins"
        found = self.allowed.get(f"{module}.{name}")
        if found is None:
            self.refused = True
            raise pickle.UnpicklingError(
                f"load: refusing the global '{module}.{name}' in {self.source}: PyTorch files "
                "are read by a restricted unpickler that rebuilds only tensors, containers and "
                "numbers, and never calls anything else from the file. If you trust the file, "
                "load it with torch and re-save plain data (e.g. the state_dict)."
            )
        return found

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise self.corrupt(f"unexpected persistent id {pid!r:.80}")
        storage_type, key, location = pid[1], str(pid[2]), pid[3]
        if id(storage_type) not in _STORAGES or not isinstance(location, str):
            raise self.corrupt(f"malformed storage reference {pid!r:.80}")
        if storage_type.code is None:
            raise RuntimeError(f"load: {self.source} holds a torch.{storage_type.name}; "
                               "deepgrad has no matching dtype (complex and quantized "
                               "tensors are not supported)")
        storage = self.storages.get(key)
        if storage is None:
            dtype = np.dtype(storage_type.code).newbyteorder(self.byteorder)
            self.storage_dtypes[key] = dtype
            array = None if self.read_storage is None else self.read_storage(key, dtype)
            bfloat16 = storage_type.name == "BFloat16Storage"
            storage = self.storages[key] = _Storage(array, location, bfloat16)
        view = pid[5] if len(pid) > 5 else None
        if view is None:
            return storage
        view_key, offset, size = view  # legacy storage views: a slice of the root storage
        if view_key not in self.storages:
            array = None if storage.array is None else storage.array[offset:offset + size]
            self.storages[view_key] = _Storage(array, location, storage.bfloat16)
        return self.storages[view_key]

    # ------------------------------------------------------------ rebuild functions
    def rebuild_tensor(self, storage, storage_offset, size, stride):
        return self.build(storage, storage_offset, size, stride, False, None)

    def rebuild_tensor_v2(self, storage, storage_offset, size, stride, requires_grad,
                          backward_hooks, metadata=None):
        return self.build(storage, storage_offset, size, stride, requires_grad, None)

    def rebuild_tensor_v3(self, storage, storage_offset, size, stride, requires_grad,
                          backward_hooks, dtype, metadata=None):
        return self.build(storage, storage_offset, size, stride, requires_grad, dtype)

    def rebuild_parameter(self, data, requires_grad, backward_hooks):
        if not isinstance(data, Tensor):
            raise self.corrupt("a Parameter without tensor data")
        return self.restorer.parameter(data, requires_grad)

    def rebuild_parameter_with_state(self, data, requires_grad, backward_hooks, state):
        return _set_state(self.rebuild_parameter(data, requires_grad, backward_hooks), state)

    def rebuild_from_type_v2(self, func, new_type, args, state):
        """A tensor with Python attributes: ``func(*args)`` then the attributes."""
        if func not in self.rebuilders.values() or new_type not in (_TENSOR_TYPE,
                                                                    _PARAMETER_TYPE):
            raise self.corrupt(f"unexpected tensor rebuild {func!r:.60} for {new_type!r:.60}")
        result = func(*args)
        if new_type is _PARAMETER_TYPE:
            result = self.restorer.parameter(result, result.requires_grad)
        return _set_state(result, state)

    def build(self, storage, offset, size, stride, requires_grad, dtype) -> Tensor:
        """The tensor ``storage[offset]`` viewed with ``size`` and ``stride``, as a copy."""
        if not isinstance(storage, _Storage):
            raise self.corrupt("a tensor without a storage")
        if storage.array is None:  # scouting a legacy file
            return Tensor._make(np.empty(0, np.float32))
        array, bfloat16 = storage.array, storage.bfloat16
        if dtype is not None:  # v3: an untyped byte storage read as ``dtype``
            code = dtype.code if isinstance(dtype, _Marker) else getattr(dtype, "numpy", None)
            if code is None:
                raise RuntimeError(f"load: {self.source} holds a tensor of dtype {dtype!r}, "
                                   "which deepgrad does not support")
            element = np.dtype(code).newbyteorder(self.byteorder)
            if array.nbytes % element.itemsize:
                raise self.corrupt(f"a storage is not a whole number of {dtype!r} elements")
            array, bfloat16 = array.view(element), dtype is _BFLOAT16
        try:
            offset = operator.index(offset)
            size, stride = tuple(map(operator.index, size)), tuple(map(operator.index, stride))
        except TypeError as error:
            raise self.corrupt(f"a tensor's geometry is not integers ({error})") from error
        if len(size) != len(stride) or min((offset, *size, *stride)) < 0 or (
                0 not in size and offset + sum(
                    (n - 1) * s for n, s in zip(size, stride, strict=True)) >= len(array)):
            raise self.corrupt(f"a tensor of size {size}, stride {stride} and offset {offset} "
                               f"does not fit in its storage of {len(array)} elements")
        view = np.lib.stride_tricks.as_strided(
            array[offset:], size, tuple(s * array.itemsize for s in stride))
        mapped = isinstance(array, np.memmap) and array.dtype.isnative and not bfloat16
        data = view if mapped else np.array(view, order="K")  # keeps a transpose's layout
        if not data.dtype.isnative:
            data = data.astype(data.dtype.newbyteorder("="))
        if bfloat16:  # bfloat16 is float32's top 16 bits: widening is exact
            data = (data.astype(np.uint32) << 16).view(np.float32)
            self.restorer.widened_bfloat16 = True  # load() warns once
        return self.restorer.tensor(data, storage.location, bool(requires_grad))


def _set_state(obj, state):
    """Python attributes pickled with a tensor; never overriding a Tensor attribute."""
    if isinstance(state, tuple) and len(state) == 2:  # (__dict__, slots)
        state = {**(state[0] or {}), **(state[1] or {})}
    for key, value in (state or {}).items():
        if isinstance(key, str) and not key.startswith("__") and not hasattr(type(obj), key):
            obj.__dict__[key] = value
    return obj


def _run(unpickler: _TorchUnpickler):
    """``unpickler.load()``; damage becomes RuntimeError, a refused global stays as raised."""
    try:
        return unpickler.load()
    except pickle.UnpicklingError as error:
        if unpickler.refused:
            raise
        raise unpickler.corrupt(f"its pickle is damaged ({error})") from error
    except (EOFError, ValueError, TypeError, KeyError, IndexError, AttributeError,
            struct.error, OverflowError) as error:
        raise unpickler.corrupt(f"its pickle is damaged ({type(error).__name__}: "
                                f"{error})") from error


def _read_storage(reader, name: str, dtype: np.dtype) -> np.ndarray:
    """A raw storage as a 1-D array: read-only bytes, or a copy-on-write map under mmap."""
    offset = reader.mapped_offset(name)
    if offset is not None:
        size = reader.archive.getinfo(name).file_size // dtype.itemsize
        if size:
            return np.memmap(reader.mapped_path, dtype, "c", offset, (size,))
    raw = reader.read(name)
    if len(raw) % dtype.itemsize:
        raise reader.corrupt(f"entry '{name}' is not a whole number of {dtype} elements")
    return np.frombuffer(raw, dtype)


def load_zip(archive, pickle_name: str, reader, restorer):
    """The object of a ``torch.save`` zip archive; ``reader`` reads its members."""
    prefix = pickle_name[: -len("data.pkl")]
    byteorder = "little"
    if prefix + "byteorder" in archive.namelist():
        byteorder = reader.read(prefix + "byteorder").decode("ascii", "replace").strip()
        if byteorder not in ("little", "big"):
            raise reader.corrupt(f"unknown byte order {byteorder!r}")
    unpickler = _TorchUnpickler(
        io.BytesIO(reader.read(pickle_name)), reader.source, restorer,
        lambda key, dtype: _read_storage(reader, f"{prefix}data/{key}", dtype), byteorder)
    return _run(unpickler)


def load_legacy(fp, source: str, restorer, **pickle_args):
    """The object of a pre-1.6 ``torch.save`` file: pickles, then the raw storages."""
    def unpickler(read_storage=None, byteorder="little"):
        return _TorchUnpickler(fp, source, restorer, read_storage, byteorder, **pickle_args)

    magic = _run(unpickler())
    if type(magic) is not int or magic != _LEGACY_MAGIC:
        raise RuntimeError(f"load: {source} is a pickle but not a PyTorch checkpoint (invalid "
                           "magic number); deepgrad.load reads deepgrad and torch.save files")
    protocol = _run(unpickler())
    if protocol != _LEGACY_PROTOCOL:
        raise RuntimeError(f"load: {source} uses PyTorch legacy protocol {protocol!r}, which "
                           "deepgrad cannot read; re-save it with a recent torch")
    system = _run(unpickler())
    little = not isinstance(system, dict) or system.get("little_endian", True)
    byteorder = "little" if little else "big"
    start = fp.tell()
    scout = unpickler(None, byteorder)
    _run(scout)  # learns each storage's dtype; the data follows the pickle
    keys = _run(unpickler())
    arrays = {}
    position, end = fp.tell(), fp.seek(0, io.SEEK_END)
    fp.seek(position)
    for key in keys if isinstance(keys, list) else ():
        dtype = scout.storage_dtypes.get(str(key))
        header = fp.read(8)
        if dtype is None or len(header) < 8:
            raise scout.corrupt(f"storage {key!r} is missing or truncated")
        (numel,) = struct.unpack(("<" if little else ">") + "q", header)
        if not 0 <= numel * dtype.itemsize <= end - fp.tell():
            raw = b""
        else:
            raw = fp.read(numel * dtype.itemsize)
        if len(raw) < numel * dtype.itemsize:
            raise RuntimeError(f"load: {source} is truncated: storage {key!r} should hold "
                               f"{numel} elements but the file ends early")
        arrays[str(key)] = np.frombuffer(raw, dtype)
    if set(arrays) != set(scout.storage_dtypes):
        raise scout.corrupt("its list of storages does not match the tensors")
    fp.seek(start)
    return _run(unpickler(lambda key, dtype: arrays[key], byteorder))
