"""``set_num_threads`` / ``get_num_threads``: how many threads deepgrad's CPU work may use.

Two kinds of work use threads: BLAS (NumPy's OpenBLAS, which owns its thread pool; set at
startup by ``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS``, at run time through the
library's ``set_num_threads`` entry point: ``ops/kernel_memory.set_blas_threads``), which
``set_num_threads`` controls; and deepgrad's own memory-bound kernels (im2col copies, conv
chunks, pooling), which split their work in two on a second thread only with
``DEEPGRAD_KERNEL_THREADS=2`` (see ``ops/kernel_memory.in_halves``).
"""

from __future__ import annotations

import os

from .ops import kernel_memory

_threads = None  # None: not set by the user


def get_num_threads() -> int:
    """Threads used for intra-op parallelism (``torch.get_num_threads``): the value given to
    ``set_num_threads``, else ``OMP_NUM_THREADS``, else the number of CPUs."""
    if _threads is not None:
        return _threads
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return os.cpu_count() or 1


def set_num_threads(num_threads: int) -> None:
    """Use ``num_threads`` BLAS threads (``torch.set_num_threads``).

    Example:
        >>> deepgrad.set_num_threads(1)   # e.g. when running several processes
    """
    global _threads
    if isinstance(num_threads, bool) or not isinstance(num_threads, int):
        raise RuntimeError(
            f"set_num_threads expects an int, but got {type(num_threads).__name__}")
    if num_threads < 1:
        raise RuntimeError("set_num_threads expects a positive integer")
    _threads = num_threads
    # BLAS only: deepgrad's own two-way kernel split stays as DEEPGRAD_KERNEL_THREADS says
    # (off by default; measured slower for training on an idle 2-core machine, README)
    kernel_memory.set_blas_threads(num_threads)
