"""Trigonometric and hyperbolic functions and their inverses, and atan2.

As in ``transcendental`` (whose ``_Unary`` base these share): ``input`` is a tensor (integer
and bool inputs give the default float dtype), ``out=`` is optional, the result has
``input``'s shape, and each backward is torch's derivative formula in deepgrad ops.
"""

from __future__ import annotations

from .. import backend
from .._tensor import Tensor
from ..autograd.function import Function
from ..backend import array_module
from .elementwise import _inplace_method, _out
from .promotion import prepare, result_type
from .transcendental import _public, _Unary, rsqrt

__all__ = [
    "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh",
    "acosh", "atanh", "arcsin", "arccos", "arctan", "arctan2", "arcsinh", "arccosh", "arctanh",
]


class Sin(_Unary):
    kernel = "sin"

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out * cos(ctx.saved_tensors[0])


class Cos(_Unary):
    kernel = "cos"

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out * -sin(ctx.saved_tensors[0])


class Tan(_Unary):
    kernel, saves_result = "tan", True

    @staticmethod
    def backward(ctx, grad_out):
        (result,) = ctx.saved_tensors
        return grad_out * (result * result + 1)


class Asin(_Unary):
    kernel = "arcsin"

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * rsqrt(1 - x * x)


class Acos(_Unary):
    kernel = "arccos"

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * -rsqrt(1 - x * x)


class Atan(_Unary):
    kernel = "arctan"

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out / (x * x + 1)


class Sinh(_Unary):
    kernel = "sinh"

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out * cosh(ctx.saved_tensors[0])


class Cosh(_Unary):
    kernel = "cosh"

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out * sinh(ctx.saved_tensors[0])


class Tanh(_Unary):
    kernel, saves_result = "tanh", True

    @staticmethod
    def backward(ctx, grad_out):
        (result,) = ctx.saved_tensors
        return grad_out * (1 - result * result)

    @staticmethod
    def raw_backward(ctx, grad_out):
        (result,) = ctx.saved_arrays
        return grad_out * (1 - result * result)


class Asinh(_Unary):
    kernel = "arcsinh"

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * rsqrt(x * x + 1)


class Acosh(_Unary):
    kernel = "arccosh"

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * rsqrt(x * x - 1)


class Atanh(_Unary):
    kernel = "arctanh"

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out / (1 - x * x)


sin = _public(Sin, "sin", "Sine (radians)")
cos = _public(Cos, "cos", "Cosine (radians)")
tan = _public(Tan, "tan", "Tangent (radians)")
asin = arcsin = _public(Asin, "asin", "Inverse sine")
acos = arccos = _public(Acos, "acos", "Inverse cosine")
atan = arctan = _public(Atan, "atan", "Inverse tangent")
sinh = _public(Sinh, "sinh", "Hyperbolic sine")
cosh = _public(Cosh, "cosh", "Hyperbolic cosine")
tanh = _public(Tanh, "tanh", "Hyperbolic tangent")
asinh = arcsinh = _public(Asinh, "asinh", "Inverse hyperbolic sine")
acosh = arccosh = _public(Acosh, "acosh", "Inverse hyperbolic cosine", "[1.5, 2.0]")
atanh = arctanh = _public(Atanh, "atanh", "Inverse hyperbolic tangent", "[0.0, 0.5]")


class Atan2(Function):
    raw = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return array_module(a).arctan2(a, b)

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        scale = grad_out / (a * a + b * b)
        return (scale * b if need_a else None), (scale * -a if need_b else None)


def atan2(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """The angle of the point ``(other, input)``: ``atan(input / other)`` in the right
    quadrant, broadcasting; integer inputs give the default float dtype.

    Example:
        >>> deepgrad.atan2(deepgrad.tensor([1., -1.]), deepgrad.tensor([-1., -1.]))
        tensor([ 2.3562, -2.3562])
    """
    if not isinstance(other, Tensor):
        raise TypeError(f"atan2(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(other).__name__}")
    dtype = result_type(input, other)
    if dtype.kind != "f":
        dtype = backend.get_default_dtype().numpy
    return _out(Atan2.apply(*prepare("atan2", input, other, dtype=dtype)), out, "atan2")


arctan2 = atan2


# ---------------------------------------------------------------- Tensor methods

for _name in __all__:
    setattr(Tensor, _name, globals()[_name])
    setattr(Tensor, _name + "_", _inplace_method(globals()[_name], _name + "_"))
