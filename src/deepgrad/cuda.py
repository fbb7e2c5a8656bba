"""``deepgrad.cuda``: GPU availability through CuPy (an optional extra: ``deepgrad[gpu]``)."""

from __future__ import annotations

from . import backend


def is_available() -> bool:
    """True when CuPy imports and sees at least one CUDA device."""
    return backend.cuda_is_available()


def device_count() -> int:
    if not is_available():
        return 0
    return backend.cupy_module().cuda.runtime.getDeviceCount()


def manual_seed(seed: int) -> None:
    """Seed CuPy's generator when a GPU is present (deepgrad draws on the CPU otherwise)."""
    if is_available():
        backend.cupy_module().random.seed(seed)


manual_seed_all = manual_seed


def synchronize(device=None) -> None:
    if is_available():
        backend.cupy_module().cuda.Stream.null.synchronize()
