"""Ops that combine three operands: ``lerp`` (one fused Function) and ``addcmul`` /
``addcdiv`` (compositions of the arithmetic in elementwise.py), as torch.
"""

from __future__ import annotations

from .._tensor import Tensor
from ..autograd.function import Function
from ..backend import array_module
from .elementwise import _inplace_method, _out, add, div, mul
from .promotion import binary_operands, prepare

__all__ = ["lerp", "addcmul", "addcdiv"]


class Lerp(Function):
    """``a + weight * (b - a)``; ``weight`` is an array or a Python number."""

    raw = True

    @staticmethod
    def forward(ctx, a, b, weight):
        scalar = not hasattr(weight, "dtype")
        ctx.save_for_backward(a, b, None if scalar else weight)
        ctx.weight = weight if scalar else None
        # torch's two-sided formula: exact at weight 0 and weight 1
        if scalar:
            if -0.5 < weight < 0.5:
                return a + weight * (b - a)
            return b - (b - a) * (1 - weight)
        xp = array_module(a)
        difference = b - a
        return xp.where(xp.abs(weight) < 0.5, a + weight * difference,
                        b - difference * (1 - weight))

    @staticmethod
    def backward(ctx, grad_out):
        a, b, weight = ctx.saved_tensors
        if weight is None:
            weight = ctx.weight
        need_a, need_b, need_weight = ctx.needs_input_grad
        return (grad_out * (1 - weight) if need_a else None,
                grad_out * weight if need_b else None,
                grad_out * (b - a) if need_weight else None)


def lerp(input: Tensor, end: Tensor, weight, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Linear interpolation ``input + weight * (end - input)``, broadcasting.

    Args:
        input, end: tensors of one floating dtype.
        weight: a Python number or a tensor (of the same dtype unless it is 0-d).

    Example:
        >>> deepgrad.lerp(deepgrad.tensor([0., 10.]), deepgrad.tensor([10., 20.]), 0.5)
        tensor([ 5., 15.])
    """
    dtype = input._data.dtype
    name = input.dtype.name
    if end._data.dtype != dtype:
        raise RuntimeError(f"lerp: expected dtype {name} for `end` but got dtype {end.dtype.name}")
    if isinstance(weight, Tensor):
        if weight._data.ndim and weight._data.dtype != dtype:
            raise RuntimeError(f"lerp: expected dtype {name} for `weight` but got dtype "
                               f"{weight.dtype.name}")
        operands = prepare("lerp", input, end, weight, dtype=dtype,
                           names=("input", "end", "weight"))
        result = Lerp.apply(*operands)
    else:
        result = Lerp.apply(*binary_operands("lerp", input, end, ("input", "end")), weight)
    return _out(result, out, "lerp")


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1,  # noqa: A002
            out: Tensor | None = None) -> Tensor:
    """``input + value * tensor1 * tensor2``, broadcasting (a composite: no backward of its own).

    Example:
        >>> one, two = deepgrad.tensor([1., 2.]), deepgrad.tensor([3., 4.])
        >>> deepgrad.addcmul(deepgrad.zeros(2), one, two, value=2)
        tensor([ 6., 16.])
    """
    scaled = tensor1 if value == 1 else mul(tensor1, value)  # torch's order: (value * t1) * t2
    return _out(add(input, mul(scaled, tensor2)), out, "addcmul")


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1,  # noqa: A002
            out: Tensor | None = None) -> Tensor:
    """``input + value * tensor1 / tensor2``, broadcasting (a composite: no backward of its own).

    Example:
        >>> one, two = deepgrad.tensor([1., 2.]), deepgrad.tensor([2., 4.])
        >>> deepgrad.addcdiv(deepgrad.ones(2), one, two)
        tensor([1.5000, 1.5000])
    """
    if (isinstance(tensor1, Tensor) and tensor1._data.dtype.kind in "biu"
            and isinstance(tensor2, Tensor) and tensor2._data.dtype.kind in "biu"):
        raise RuntimeError(
            "addcdiv: Integer division with addcdiv is no longer supported, and in a future "
            "release addcdiv will perform a true division of tensor1 and tensor2. The historic "
            "addcdiv behavior can be implemented as (input + value * torch.trunc(tensor1 / "
            "tensor2)).to(input.dtype) for integer inputs and as (input + value * tensor1 / "
            "tensor2) for float inputs.")
    scaled = tensor1 if value == 1 else mul(tensor1, value)  # torch's order: (value * t1) / t2
    return _out(add(input, div(scaled, tensor2)), out, "addcdiv")


for _name in __all__:
    setattr(Tensor, _name, globals()[_name])
    setattr(Tensor, _name + "_", _inplace_method(globals()[_name], _name + "_"))
