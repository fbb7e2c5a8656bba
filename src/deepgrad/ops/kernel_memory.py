"""Memory and threads for the array kernels: per-thread scratch buffers, buffers lent from a
forward to its backward, and the two-way split of memory-bound work over a second thread.

A fresh 100 MB NumPy array costs more in page faults than copying into it, so temporaries
that never escape an op live in reused per-thread scratch buffers, and a convolution's
column matrix kept for backward comes from buffers earlier backwards gave back.
"""

from __future__ import annotations

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
# default: on a loaded machine a half waiting for a busy core costs more than it saves
# (measured), and the idle-machine gain is still to be measured.
_THREADS = int(os.environ.get("DEEPGRAD_KERNEL_THREADS") or 1)
_PARALLEL_BYTES = 1 << 21
_executor = None


def set_kernel_threads(count: int) -> None:
    """Allow the memory-bound kernels ``count`` threads (they use at most two)."""
    global _THREADS
    _THREADS = count


def in_halves(work, length: int, nbytes: int, xp=np) -> None:
    """Call ``work(start, stop)`` over [0, length): two halves on two threads when enabled
    and the work moves at least 2 MB, else one call."""
    global _executor
    if _THREADS < 2 or length < 2 or nbytes < _PARALLEL_BYTES or xp is not np:
        work(0, length)
        return
    if _executor is None:
        _executor = ThreadPoolExecutor(1, thread_name_prefix="deepgrad-kernel")
    half = length // 2
    future = _executor.submit(work, 0, half)
    work(half, length)
    future.result()


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
