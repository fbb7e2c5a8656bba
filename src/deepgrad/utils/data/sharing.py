"""Shared memory for array-backed datasets, so DataLoader workers map one copy of the data.

PyTorch users see per-worker memory grow when workers index a dataset (pytorch issue 13246):
every access to a Python object writes its reference count, so fork's copy-on-write pages are
copied, and with 'spawn' each worker unpickles a private copy of the whole dataset. Here the
arrays an array-backed dataset indexes (``TensorDataset``, and ``Subset`` / ``ConcatDataset``
of it: anything whose ``_tensors_to_share()`` lists tensors) are moved once into
``multiprocessing.shared_memory`` blocks, in place, as ``Tensor.share_memory_()`` does in
torch: the tensors keep their values and identity, only their storage changes. Workers
then map the same physical pages: forked workers inherit the mapping, spawned workers receive
the block names (``SharedPayload`` pickles a registered array as ``(name, shape, dtype)``).

A block is closed and unlinked when its array is garbage collected (views keep the array
alive) and unlinked at interpreter exit. Arrays that do not fit in ``/dev/shm`` stay private
(with a warning): workers then get them through fork's copy-on-write or pickling.
"""

from __future__ import annotations

import atexit
import io
import os
import warnings
import weakref
from multiprocessing import shared_memory
from multiprocessing.reduction import ForkingPickler

import numpy as np

__all__ = ["share_dataset_memory", "is_shared", "SharedPayload"]

# id(array) -> (weak reference to the array, its SharedMemory block, creator pid or None)
_BLOCKS: dict[int, tuple] = {}


def is_shared(array) -> bool:
    """Whether ``array`` is an array this module placed in (or mapped from) shared memory."""
    entry = _BLOCKS.get(id(array))
    return entry is not None and entry[0]() is array


def _register(array: np.ndarray, block, owner_pid: int | None) -> None:
    key = id(array)
    _BLOCKS[key] = (weakref.ref(array), block, owner_pid)
    # closing unmaps the memory, so it may only happen once no array uses the block
    weakref.finalize(array, _release, key, block, owner_pid).atexit = False


def _release(key: int, block, owner_pid: int | None) -> None:
    _BLOCKS.pop(key, None)
    block.close()
    if owner_pid == os.getpid():
        try:
            block.unlink()
        except FileNotFoundError:
            pass


@atexit.register
def _unlink_owned_blocks() -> None:
    # only unlink (remove the name): arrays may still be read while the interpreter exits
    for _, block, owner_pid in list(_BLOCKS.values()):
        if owner_pid == os.getpid():
            try:
                block.unlink()
            except FileNotFoundError:
                pass


def _shared_copy(array: np.ndarray) -> np.ndarray:
    block = shared_memory.SharedMemory(create=True, size=array.nbytes)
    shared = np.ndarray(array.shape, array.dtype, buffer=block.buf)
    shared[...] = array
    _register(shared, block, os.getpid())
    return shared


def _attach(name: str, shape: tuple, dtype: str) -> np.ndarray:
    """The array stored in block ``name`` (in a worker), mapped, not copied."""
    block = shared_memory.SharedMemory(name=name)
    array = np.ndarray(shape, np.dtype(dtype), buffer=block.buf)
    _register(array, block, None)
    return array


def _free_shared_bytes() -> int | None:
    try:
        stats = os.statvfs("/dev/shm")
    except (OSError, AttributeError):
        return None  # no /dev/shm to measure (not Linux): let the allocation decide
    return stats.f_bavail * stats.f_frsize


def share_dataset_memory(dataset) -> int:
    """Move the arrays behind ``dataset``'s tensors into shared memory (once); returns the
    number of bytes moved by this call (0 when already shared or nothing to share)."""
    from .dataset import _shareable_tensors  # noqa: PLC0415 - dataset imports collate only

    moved, done = 0, {}
    for tensor in _shareable_tensors(dataset):
        array = tensor._data
        if type(array) is not np.ndarray or array.nbytes == 0 or is_shared(array):
            continue
        if id(array) in done:  # two tensors over one array keep sharing it
            tensor._data = done[id(array)]
            continue
        free = _free_shared_bytes()
        if free is not None and array.nbytes > free // 2:
            warnings.warn(f"DataLoader: {array.nbytes} bytes of dataset arrays do not fit in "
                          f"/dev/shm ({free} bytes free); workers will not share them",
                          stacklevel=3)
            continue
        done[id(array)] = tensor._data = _shared_copy(array)
        moved += array.nbytes
    return moved


class _SharedArrayPickler(ForkingPickler):
    """Pickles registered shared arrays as their block name; everything else as usual."""

    def reducer_override(self, obj):
        if type(obj) is np.ndarray:
            entry = _BLOCKS.get(id(obj))
            if entry is not None and entry[0]() is obj:
                return _attach, (entry[1].name, obj.shape, obj.dtype.str)
        return NotImplemented


def _load_payload(data: bytes):
    return ForkingPickler.loads(data)


class SharedPayload:
    """Wraps the objects a worker process starts with (dataset, collate_fn, ...).

    Under 'fork' nothing is pickled and the worker unwraps ``obj``; under 'spawn' the payload
    pickles itself with a pickler that sends shared arrays by name, so each worker maps the
    dataset's blocks instead of receiving a copy of the data.
    """

    def __init__(self, obj) -> None:
        self.obj = obj

    def __reduce__(self):
        buffer = io.BytesIO()
        _SharedArrayPickler(buffer, -1).dump(self.obj)
        return _load_payload, (buffer.getvalue(),)
