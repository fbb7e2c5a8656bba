"""dtype and device conversion: ``Tensor.to``, ``float``/``double``/..., ``clone``, ``cpu``."""

from __future__ import annotations

from .. import backend
from .._tensor import Tensor
from ..autograd.function import Function

__all__ = ["clone"]  # public torch-level names; extended below as ops are added

class Cast(Function):
    """Change dtype; the gradient is cast back to the input's dtype."""

    raw = True

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.input_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad_out):
        return Cast.apply(grad_out, ctx.input_dtype)


class ToDevice(Function):
    """Copy to another device; the gradient is copied back."""

    raw = True

    @staticmethod
    def forward(ctx, x, target):
        ctx.source = backend.device_of(x)
        return backend.move_array(x, target)

    @staticmethod
    def backward(ctx, grad_out):
        return ToDevice.apply(grad_out, ctx.source)


class Clone(Function):
    raw = True

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out


def clone(input: Tensor, *, memory_format=None) -> Tensor:  # noqa: A002
    """A copy of ``input`` that stays in the graph (gradient flows back unchanged)."""
    return Clone.apply(input)


def _parse_to(args, kwargs):
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    for a in args:
        if isinstance(a, backend.dtype):
            dtype = a
        elif isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
        elif isinstance(a, (str, backend.device)):
            device = a
        elif a is not None:
            raise TypeError(f"to() received an invalid combination of arguments: {a!r}")
    return dtype, device, kwargs.pop("copy", False)


def to(self: Tensor, *args, **kwargs) -> Tensor:
    """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``: the same tensor
    when nothing changes, otherwise a converted copy that stays in the graph."""
    dtype, device, copy = _parse_to(args, dict(kwargs))
    result = self
    if device is not None:
        target = backend.device(device)
        if target.type == "cuda":
            backend.cupy_module()
        if target != result.device:
            result = ToDevice.apply(result, target)
    if dtype is not None and result._data.dtype != dtype.numpy:
        result = Cast.apply(result, dtype.numpy)
    if copy and result is self:
        result = clone(self)
    return result


def _caster(dtype):
    def convert(self: Tensor, memory_format=None) -> Tensor:
        return to(self, dtype)

    convert.__name__ = dtype.name
    return convert


def type_as(self: Tensor, other: Tensor) -> Tensor:
    return to(self, other.dtype)


def type_(self: Tensor, dtype=None, non_blocking=False):
    if dtype is None:
        return "deepgrad." + {"float32": "FloatTensor", "float64": "DoubleTensor",
                              "int64": "LongTensor", "int32": "IntTensor",
                              "bool": "BoolTensor"}.get(self.dtype.name, self.dtype.name)
    return to(self, dtype)


def contiguous(self: Tensor, memory_format=None) -> Tensor:
    if self._data.flags.c_contiguous:
        return self
    return clone(self)


Tensor.to = to
Tensor.cpu = lambda self, memory_format=None: to(self, "cpu")
Tensor.cuda = lambda self, device=None, non_blocking=False: to(
    self, backend.device("cuda", device if isinstance(device, int) else 0))
Tensor.float = _caster(backend.float32)
Tensor.double = _caster(backend.float64)
Tensor.half = _caster(backend.float16)
Tensor.long = _caster(backend.int64)
Tensor.int = _caster(backend.int32)
Tensor.short = _caster(backend.int16)
Tensor.bool = _caster(backend.bool_)
Tensor.byte = _caster(backend.uint8)
Tensor.char = _caster(backend.int8)
Tensor.type_as = type_as
Tensor.type = type_
Tensor.clone = clone
Tensor.contiguous = contiguous
