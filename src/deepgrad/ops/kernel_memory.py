"""Memory and threads for the array kernels: per-thread scratch buffers, buffers lent from a
forward to its backward, and the two-way split of memory-bound work over a second thread.

A fresh 100 MB NumPy array costs more in page faults than copying into it, so temporaries
that never escape an op live in reused per-thread scratch buffers, and a convolution's
column matrix kept for backward comes from buffers earlier backwards gave back.
"""

from __future__ import annotations

import ctypes
import glob
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..backend import array_module

_local = threading.local()
_SCRATCH_LIMIT = 1 << 30  # bytes; larger temporaries are allocated per call


def scratch(role: str, shape: tuple, dtype, xp):
    """A reusable per-thread buffer of ``shape`` for temporaries that never escape an op.

    Args:
        role: which temporary ("conv.columns", ...); each role keeps its largest buffer.
        shape, dtype: wanted array; contents are undefined.
        xp: array module (numpy or cupy).
    """
    size = 1
    for n in shape:
        size *= n
    dtype = np.dtype(dtype)
    if size * dtype.itemsize > _SCRATCH_LIMIT:
        return xp.empty(shape, dtype)
    pool = getattr(_local, "pool", None)
    if pool is None:
        pool = _local.pool = {}
    key = (role, dtype, xp.__name__)
    buffer = pool.get(key)
    if buffer is None or buffer.size < size:
        buffer = pool[key] = xp.empty(max(size, 1), dtype)
    return buffer[:size].reshape(shape)


# Memory-bound copies and sums can run as two halves on two threads (NumPy releases the GIL)
# while BLAS threads idle between GEMMs: opt in with DEEPGRAD_KERNEL_THREADS=2. Off by
# default: on a loaded machine a half waiting for a busy core costs more than it saves, and
# on an idle 2-core machine it slowed LeNet and ResNet training (2.05x -> 2.26x, 2.9x ->
# 3.12x torch's time) while speeding up ResNet inference (3.24x -> 2.76x).
_THREADS = int(os.environ.get("DEEPGRAD_KERNEL_THREADS") or 1)
_PARALLEL_BYTES = 1 << 21
_executor = None


def set_kernel_threads(count: int) -> None:
    """Allow the memory-bound kernels ``count`` threads (they use at most two)."""
    global _THREADS
    _THREADS = count


def in_halves(work, length: int, nbytes: int, xp=np) -> None:
    """Call ``work(start, stop)`` over [0, length): two halves on two threads when enabled
    and the work moves at least 2 MB, else one call. While the halves run, BLAS is
    single-threaded: each half's GEMMs then run on its own core instead of both halves
    contending for one BLAS thread pool."""
    global _executor
    if _THREADS < 2 or length < 2 or nbytes < _PARALLEL_BYTES or xp is not np:
        work(0, length)
        return
    if _executor is None:
        _executor = ThreadPoolExecutor(1, thread_name_prefix="deepgrad-kernel")
    half = length // 2
    blas = blas_threads()
    if blas is not None and blas > 1:
        set_blas_threads(1)
    try:
        future = _executor.submit(work, 0, half)
        work(half, length)
        future.result()
    finally:
        if blas is not None and blas > 1:
            set_blas_threads(blas)


# NumPy's bundled OpenBLAS exposes its thread-count entry points (under one of these
# prefixes); found once with ctypes. None where NumPy uses another BLAS.
_BLAS_PREFIXES = ("scipy_openblas_", "openblas_", "")
_BLAS_SUFFIXES = ("64_", "")
_blas = None


def _blas_functions():
    global _blas
    if _blas is None:
        _blas = (None, None)
        folder = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
        for path in glob.glob(os.path.join(folder, "*openblas*")):
            try:
                library = ctypes.CDLL(path)
            except OSError:
                continue
            for prefix in _BLAS_PREFIXES:
                for suffix in _BLAS_SUFFIXES:
                    setter = getattr(library, f"{prefix}set_num_threads{suffix}", None)
                    getter = getattr(library, f"{prefix}get_num_threads{suffix}", None)
                    if prefix and setter is not None and getter is not None:
                        setter.argtypes, getter.restype = [ctypes.c_int], ctypes.c_int
                        _blas = (setter, getter)
                        return _blas
    return _blas


def blas_threads():
    """OpenBLAS's current thread count, or None if it cannot be read."""
    getter = _blas_functions()[1]
    return None if getter is None else getter()


def set_blas_threads(count: int) -> bool:
    """Set OpenBLAS's thread count; False if NumPy's BLAS cannot be reached."""
    setter = _blas_functions()[0]
    if setter is None:
        return False
    setter(count)
    return True


def clear_scratch() -> None:
    """Free this thread's scratch and lending buffers (they otherwise stay allocated)."""
    _local.__dict__.pop("pool", None)
    _local.__dict__.pop("spare", None)


_SPARE_LIMIT = 1 << 30  # bytes of returned lent buffers kept for reuse


def lend(shape: tuple, dtype, xp):
    """A buffer a convolution keeps from its forward to its backward (its columns), taken
    from buffers returned by earlier backwards when one is big enough: like scratch, this
    avoids page-faulting a fresh 50 MB array every step. Give it back with ``give_back``."""
    size = 1
    for n in shape:
        size *= n
    spare = getattr(_local, "spare", None)
    if spare:
        nbytes = size * np.dtype(dtype).itemsize
        for i, buffer in enumerate(spare):
            if buffer.nbytes >= nbytes and buffer.dtype == dtype and array_module(buffer) is xp:
                del spare[i]
                return buffer[:size].reshape(shape)
    return xp.empty(shape, dtype)


def give_back(array) -> None:
    """Return a ``lend`` buffer once nothing reads it any more."""
    while array.base is not None:
        array = array.base
    spare = getattr(_local, "spare", None)
    if spare is None:
        spare = _local.spare = []
    if sum(b.nbytes for b in spare) + array.nbytes <= _SPARE_LIMIT:
        spare.append(array.reshape(-1))
