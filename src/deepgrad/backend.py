"""Devices, dtypes and random numbers: the one place that knows about NumPy vs CuPy.

Every kernel asks ``array_module(array)`` for ``xp`` (numpy on "cpu", cupy on "cuda")
instead of importing numpy for array math, so one code path serves both devices.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "dtype", "device", "array_module", "get_default_dtype", "set_default_dtype",
    "Generator", "manual_seed", "default_generator", "float16", "float32", "float64",
    "int8", "uint8", "int16", "int32", "int64", "bool_",
]


class dtype:  # noqa: N801 - torch spells it lower-case
    """A tensor element type; wraps the NumPy dtype that stores it."""

    __slots__ = ("name", "numpy", "is_floating_point", "is_signed", "itemsize")

    def __init__(self, name: str, numpy_dtype):
        self.name = name
        self.numpy = np.dtype(numpy_dtype)
        self.is_floating_point = self.numpy.kind == "f"
        self.is_signed = self.numpy.kind in "fi"
        self.itemsize = self.numpy.itemsize

    def __repr__(self) -> str:
        return f"deepgrad.{self.name}"

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))

    def to_real(self):
        return self


float16 = dtype("float16", np.float16)
float32 = dtype("float32", np.float32)
float64 = dtype("float64", np.float64)
int8 = dtype("int8", np.int8)
uint8 = dtype("uint8", np.uint8)
int16 = dtype("int16", np.int16)
int32 = dtype("int32", np.int32)
int64 = dtype("int64", np.int64)
bool_ = dtype("bool", np.bool_)
complex64 = dtype("complex64", np.complex64)  # results only (linalg.eig); no complex autograd
complex128 = dtype("complex128", np.complex128)

_ALL_DTYPES = (float16, float32, float64, int8, uint8, int16, int32, int64, bool_, complex64,
               complex128)
_FROM_NUMPY = {d.numpy: d for d in _ALL_DTYPES}
_BY_NAME = {d.name: d for d in _ALL_DTYPES}
_BY_NAME.update(half=float16, float=float32, double=float64, short=int16, int=int32, long=int64,
                cfloat=complex64, cdouble=complex128)


def _dtype_by_name(name: str) -> dtype:
    return _BY_NAME[name]


def from_numpy_dtype(numpy_dtype) -> dtype:
    """deepgrad dtype of a NumPy dtype; TypeError for types deepgrad has no name for."""
    try:
        return _FROM_NUMPY[numpy_dtype]
    except KeyError:
        raise TypeError(
            f"can't convert np.ndarray of type {numpy_dtype}. The only supported types are: "
            "float64, float32, float16, int64, int32, int16, int8, uint8, and bool."
        ) from None


def to_numpy_dtype(d) -> np.dtype:
    """NumPy dtype of a deepgrad dtype (also accepts numpy dtypes and Python types)."""
    if isinstance(d, dtype):
        return d.numpy
    if d is float:
        return float64
    if d is int:
        return np.dtype(np.int64)
    if d is bool:
        return np.dtype(np.bool_)
    return np.dtype(d)


_default_dtype = float32


def get_default_dtype() -> dtype:
    """The dtype of floating-point tensors created without one (float32 unless changed)."""
    return _default_dtype


def set_default_dtype(d: dtype) -> None:
    """Set the dtype Python floats and float factories produce (float32 or float64)."""
    global _default_dtype
    if d not in (float32, float64, float16):
        raise TypeError(f"only floating-point types are supported as the default type; got {d}")
    _default_dtype = d


# ---------------------------------------------------------------- devices

class device:  # noqa: N801 - torch spells it lower-case
    """Where a tensor lives: ``device("cpu")`` or ``device("cuda", 0)``."""

    __slots__ = ("type", "index")

    def __init__(self, type: str | device, index: int | None = None):  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index
        if ":" in type:
            type, _, idx = type.partition(":")
            index = int(idx)
        if type not in ("cpu", "cuda"):
            raise RuntimeError(
                f"Expected one of cpu, cuda device type at start of device string: {type}"
            )
        self.type = type
        self.index = index

    def __repr__(self) -> str:
        idx = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{idx})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = device("cpu")
_cupy = None


def cupy_module():
    """Import CuPy on first use; a clear error names the extra when it is missing."""
    global _cupy
    if _cupy is None:
        try:
            import cupy  # noqa: PLC0415 - optional dependency, imported on demand
        except ImportError as error:
            raise RuntimeError(
                "device 'cuda' needs CuPy, which is not installed: "
                "pip install 'deepgrad[gpu]' (or a cupy-cudaXX wheel matching your CUDA)"
            ) from error
        _cupy = cupy
    return _cupy


def cuda_is_available() -> bool:
    try:
        return cupy_module().cuda.runtime.getDeviceCount() > 0
    except Exception:  # noqa: BLE001 - no CuPy, no driver or no device all mean "no"
        return False


def array_module(array):
    """``numpy`` for CPU arrays, ``cupy`` for GPU arrays: the ``xp`` of every kernel."""
    if type(array) is np.ndarray or _cupy is None:
        return np
    return _cupy.get_array_module(array)


def device_of(array) -> device:
    if isinstance(array, np.ndarray) or _cupy is None:
        return CPU
    return device("cuda", array.device.id)


def move_array(array, target: device):
    """Copy ``array`` to ``target``; returns it unchanged when already there."""
    if target.type == "cpu":
        return array if isinstance(array, np.ndarray) else array.get()
    cupy = cupy_module()
    with cupy.cuda.Device(target.index or 0):
        return cupy.asarray(array)


# ---------------------------------------------------------------- random numbers

class Generator:
    """A seeded random stream, as ``torch.Generator``; wraps ``numpy.random.Generator``."""

    def __init__(self, device="cpu"):
        self.device = globals()["device"](device)
        self._seed = 67280421310721
        self.numpy = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> Generator:
        self._seed = int(seed)
        self.numpy = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        return self.manual_seed(int(np.random.SeedSequence().entropy) % (2**63)).initial_seed()

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self):
        from . import _creation  # noqa: PLC0415 - avoid an import cycle

        state = self.numpy.bit_generator.state
        return _creation.tensor(np.frombuffer(repr(state).encode(), dtype=np.uint8).copy())

    def set_state(self, state) -> Generator:
        import ast  # noqa: PLC0415

        raw = bytes(state.numpy().astype(np.uint8)).decode()
        self.numpy.bit_generator.state = ast.literal_eval(raw)
        return self


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator so every random function is reproducible."""
    return default_generator.manual_seed(seed)


def initial_seed() -> int:
    return default_generator.initial_seed()


def seed() -> int:
    return default_generator.seed()


def rng(generator: Generator | None) -> np.random.Generator:
    return (generator or default_generator).numpy


def _keep_freed_memory() -> None:
    """Let glibc keep freed activation memory for reuse instead of returning it to the OS.

    By default glibc gives blocks above its mmap threshold (dynamic, from 128 KB) and a
    freed heap top back to the kernel, so every step of a training loop page-faults its
    activations in again: measured 10,000 faults and 160 ms of system time per small-ResNet
    step (11% of it), 17% of a LeNet step. Serving blocks up to 32 MB from the heap and
    never trimming it makes later steps reuse the same pages, as torch's caching allocator
    does. Only glibc (Linux) is affected; set DEEPGRAD_DEFAULT_MALLOC=1 to leave it alone.
    """
    import os  # noqa: PLC0415
    import sys  # noqa: PLC0415

    if not sys.platform.startswith("linux") or os.environ.get("DEEPGRAD_DEFAULT_MALLOC"):
        return
    import ctypes  # noqa: PLC0415

    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc (musl, ...)
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    mallopt(m_mmap_threshold, 32 << 20)  # glibc's maximum
    mallopt(m_trim_threshold, 1 << 30)


_keep_freed_memory()
