"""Elementwise arithmetic: ``+ - * / // %``, neg, and the fused lerp/addcmul/addcdiv.

Each op is a ``Function`` (forward on raw arrays, backward with deepgrad ops so it can be
differentiated again) followed by its public function. Operands go through
``promotion.binary_operands``/``prepare`` once: Python scalars become tensors, dtypes are
promoted as torch does, and operands that need a gradient are expanded to the broadcast
shape, so no backward here has to un-broadcast.

The other elementwise families (``transcendental``: powers, exp/log, trigonometry, erf;
``piecewise``: abs, relu, clamp, maximum, rounding; ``comparison``: where, comparisons,
logical and bitwise ops; ``fill``: in-place fills) share the helpers defined here:
``_floating`` (integer inputs of float-valued functions), ``_out`` (torch's ``out=``),
``_inplace_method`` (``Tensor.<op>_`` through ``Tensor._inplace``) and
``_PiecewiseConstant`` (ops whose gradient is zero).
"""

from __future__ import annotations

from .. import backend
from .._tensor import Tensor
from ..autograd import grad_mode
from ..autograd.function import Function
from ..backend import array_module
from .promotion import binary_operands, prepare, result_type

__all__ = [
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "floor_divide",
    "remainder", "fmod", "neg", "negative", "positive",
]

_mode = grad_mode.state


def _binary(function, op: str, input, other, names=("input", "other")):  # noqa: A002
    """Normalise the operands once at the boundary (see ``promotion.binary_operands``)."""
    return function.apply(*binary_operands(op, input, other, names))


def _floating(x: Tensor) -> Tensor:
    """Integer and bool inputs of float-valued functions (exp, sqrt, ...) become the default
    float dtype, as in torch."""
    if x._data.dtype.kind in "fc":
        return x
    return Tensor._make(x._data.astype(backend.get_default_dtype().numpy))


def _zeros_like(t: Tensor) -> Tensor:
    return Tensor._make(array_module(t._data).zeros_like(t._data))


def _out(result: Tensor, out, op: str) -> Tensor:
    """torch's ``out=``: write ``result`` into ``out`` (resized when its shape differs)."""
    if out is None:
        return result
    if _mode.enabled and (result._requires_grad or out._requires_grad):
        raise RuntimeError(f"{op}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    if out._data.shape != result._data.shape:
        out._data = array_module(out._data).empty(result._data.shape, out._data.dtype)
    out._write(result._data, op)
    return out


def _inplace_method(function, op: str):
    """``Tensor.<op>``: ``function(self, *args, **kwargs)`` written back into ``self`` through
    ``Tensor._inplace``. Tensor arguments must come positionally so their grad is seen."""

    def method(self, *args, **kwargs):
        if kwargs:
            return self._inplace(lambda old, *rest: function(old, *rest, **kwargs), *args, op=op)
        return self._inplace(function, *args, op=op)

    method.__name__ = method.__qualname__ = op
    return method


def _is_bool(x) -> bool:
    return type(x) is bool or isinstance(x, Tensor) and x._data.dtype.kind == "b"


class _PiecewiseConstant(Function):
    """Base of ops whose derivative is 0 wherever it exists (sign, floor, round, ...): as in
    torch the output still requires grad and its gradient is zeros."""

    raw = True

    @staticmethod
    def backward(ctx, grad_out):
        return _zeros_like(grad_out)


# ---------------------------------------------------------------- + - * /

class Add(Function):
    raw = True

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out, grad_out

    raw_backward = backward  # the same on arrays


def add(input, other, *, alpha=1, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """``input + alpha * other`` with broadcasting and torch's type promotion.

    Args:
        input, other: tensors or Python numbers.
        alpha: multiplier for ``other``.
        out: optional tensor to write the result into.

    Example:
        >>> deepgrad.add(deepgrad.tensor([1., 2.]), 1, alpha=2)
        tensor([3., 4.])
    """
    if alpha != 1:
        other = other * alpha if not isinstance(other, Tensor) else mul(other, alpha)
    return _out(_binary(Add, "add", input, other), out, "add")


class Sub(Function):
    raw = True

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out, (-grad_out if ctx.needs_input_grad[1] else None)

    raw_backward = backward


def sub(input, other, *, alpha=1, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """``input - alpha * other`` with broadcasting; bool operands are refused as in torch.

    Example:
        >>> deepgrad.sub(deepgrad.tensor([3., 4.]), 1)
        tensor([2., 3.])
    """
    if _is_bool(input) or _is_bool(other):
        both = "two bool tensors" if _is_bool(input) and _is_bool(other) else "a bool tensor"
        raise RuntimeError(f"sub: subtraction, the `-` operator, with {both} is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    if alpha != 1:
        other = other * alpha if not isinstance(other, Tensor) else mul(other, alpha)
    return _out(_binary(Sub, "sub", input, other), out, "sub")


class Mul(Function):
    raw = True

    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad
        # Save only what backward reads (as torch): a's gradient needs b and vice versa, so
        # an in-place change of an operand that needs no gradient's partner is allowed.
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        return a * b

    @staticmethod
    def backward(ctx, grad_out):
        return _product_grads(grad_out, *ctx.saved_tensors, ctx.needs_input_grad)

    @staticmethod
    def raw_backward(ctx, grad_out):
        return _product_grads(grad_out, *ctx.saved_arrays, ctx.needs_input_grad)


def _product_grads(grad_out, a, b, need):
    """``a * b``'s input gradients; the same formulas serve Tensors (differentiable) and
    arrays (the engine's first-order path)."""
    return (grad_out * b if need[0] else None), (grad_out * a if need[1] else None)


def mul(input, other, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """``input * other`` with broadcasting and torch's type promotion.

    Example:
        >>> deepgrad.mul(deepgrad.tensor([1., 2.]), deepgrad.tensor([[1.], [3.]]))
        tensor([[1., 2.],
                [3., 6.]])
    """
    return _out(_binary(Mul, "mul", input, other), out, "mul")


class Div(Function):
    raw = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad_out):
        return _quotient_grads(grad_out, *ctx.saved_tensors, ctx.needs_input_grad)

    @staticmethod
    def raw_backward(ctx, grad_out):
        return _quotient_grads(grad_out, *ctx.saved_arrays, ctx.needs_input_grad)


def _quotient_grads(grad_out, a, b, need):
    """``a / b``'s input gradients, on Tensors or arrays."""
    return (grad_out / b if need[0] else None), (-grad_out * a / (b * b) if need[1] else None)


def _rounded_quotient(a, b, rounding_mode: str):
    """``a / b`` rounded toward zero ('trunc') or down ('floor'), in the operands' dtype."""
    xp = array_module(a)
    kind = a.dtype.kind
    if kind == "b":
        raise NotImplementedError("div: rounding division is not implemented for 'Bool'")
    if kind in "iu":
        if (b == 0).any():
            raise RuntimeError("ZeroDivisionError")
        quotient = xp.floor_divide(a, b)
        if rounding_mode == "trunc":
            # floor and trunc differ by one where the exact quotient is negative and inexact
            quotient += (a - quotient * b != 0) & ((a < 0) != (b < 0))
        return quotient
    if rounding_mode == "trunc":
        return xp.trunc(a / b)
    return xp.floor_divide(a, b)  # Python's floor division, the algorithm torch uses too


class DivRounded(_PiecewiseConstant):
    @staticmethod
    def forward(ctx, a, b, rounding_mode):
        return _rounded_quotient(a, b, rounding_mode)

    @staticmethod
    def backward(ctx, grad_out):
        zero = _zeros_like(grad_out)  # a rounded quotient is piecewise constant
        return tuple(zero if need else None for need in ctx.needs_input_grad)


def div(input, other, *, rounding_mode: str | None = None,  # noqa: A002
        out: Tensor | None = None) -> Tensor:
    """``input / other``. True division unless ``rounding_mode`` is 'trunc' or 'floor'.

    Integer operands give the default float dtype for true division and keep their dtype
    when rounded; the gradient of a rounded division is zero.

    Example:
        >>> deepgrad.div(deepgrad.tensor([5, -7]), 2)
        tensor([ 2.5000, -3.5000])
        >>> deepgrad.div(deepgrad.tensor([5, -7]), 2, rounding_mode="floor")
        tensor([ 2, -4])
    """
    if rounding_mode is None:
        if isinstance(input, Tensor) and input._data.dtype.kind == "f":
            result = _binary(Div, "div", input, other)
        else:
            dtype = result_type(input, other)
            if dtype.kind not in "fc":  # int / int -> default float, as torch
                dtype = backend.get_default_dtype().numpy
            result = Div.apply(*prepare("div", input, other, dtype=dtype))
    elif rounding_mode in ("trunc", "floor"):
        result = DivRounded.apply(*binary_operands("div", input, other), rounding_mode)
    else:
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                         f"found '{rounding_mode}'")
    return _out(result, out, "div")


def true_divide(input, other, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Alias of ``div(input, other)``."""
    return div(input, other, out=out)


class FloorDivide(DivRounded):
    @staticmethod
    def forward(ctx, a, b):
        return _rounded_quotient(a, b, "floor")

    @staticmethod
    def backward(ctx, grad_out):
        raise RuntimeError("floor_divide: derivative is not implemented (nor in torch); use "
                           "div(input, other, rounding_mode='floor'), whose gradient is zero")


def floor_divide(input, other, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """``input // other``: the quotient rounded down (Python's ``//``), in the promoted dtype.

    Like torch it has no derivative: backward through it raises.

    Example:
        >>> deepgrad.tensor([5, -7]) // 2
        tensor([ 2, -4])
    """
    return _out(_binary(FloorDivide, "floor_divide", input, other), out, "floor_divide")


# ---------------------------------------------------------------- remainder, fmod

def _check_divisor(op: str, a, b) -> None:
    kind = a.dtype.kind
    if kind == "b":
        raise NotImplementedError(f"{op}: not implemented for 'Bool'")
    if kind in "iu" and (b == 0).any():
        raise RuntimeError("ZeroDivisionError")


class Remainder(Function):
    raw = True

    @staticmethod
    def forward(ctx, a, b):
        _check_divisor("remainder", a, b)
        ctx.save_for_backward(a, b)
        return array_module(a).remainder(a, b)

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_b = None
        if need_b:  # remainder = a - b * floor(a / b), and the floor is piecewise constant
            grad_b = -grad_out * DivRounded.apply(a, b, "floor")
        return (grad_out if need_a else None), grad_b


def remainder(input, other, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Python's modulus ``input % other``: the result has the sign of ``other``.

    Unlike torch, ``number % tensor`` is differentiable too (torch raises in backward).

    Example:
        >>> deepgrad.remainder(deepgrad.tensor([5., -5.]), 3)
        tensor([2., 1.])
    """
    return _out(_binary(Remainder, "remainder", input, other), out, "remainder")


class Fmod(Function):
    raw = True

    @staticmethod
    def forward(ctx, a, b):
        _check_divisor("fmod", a, b)
        ctx.save_for_backward(a, b)
        return array_module(a).fmod(a, b)

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_b = None
        if need_b:  # fmod = a - b * trunc(a / b)
            grad_b = -grad_out * DivRounded.apply(a, b, "trunc")
        return (grad_out if need_a else None), grad_b


def fmod(input, other, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """C's ``fmod``: the remainder of truncated division, with the sign of ``input``.

    Example:
        >>> deepgrad.fmod(deepgrad.tensor([5., -5.]), 3)
        tensor([ 2., -2.])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"fmod(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    return _out(_binary(Fmod, "fmod", input, other), out, "fmod")


# ---------------------------------------------------------------- sign-like

class Neg(Function):
    raw = True

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad_out):
        return -grad_out

    raw_backward = backward


def neg(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """``-input`` (refused for bool tensors, as torch)."""
    if input._data.dtype.kind == "b":
        raise RuntimeError("neg: Negation, the `-` operator, on a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    return _out(Neg.apply(input), out, "neg")


def positive(input: Tensor) -> Tensor:  # noqa: A002
    """``+input``: ``input`` itself (refused for bool tensors, as torch)."""
    if input._data.dtype.kind == "b":
        raise RuntimeError("positive: The `+` operator, on a bool tensor is not supported.")
    return input


# ---------------------------------------------------------------- aliases and Tensor methods

subtract, multiply, divide, negative = sub, mul, div, neg

Tensor.__add__ = add
Tensor.__radd__ = lambda self, other: add(other, self)
Tensor.__sub__ = sub
Tensor.__rsub__ = lambda self, other: sub(other, self)
Tensor.__mul__ = mul
Tensor.__rmul__ = lambda self, other: mul(other, self)
Tensor.__truediv__ = div
Tensor.__rtruediv__ = lambda self, other: div(other, self)
Tensor.__floordiv__ = floor_divide
Tensor.__rfloordiv__ = lambda self, other: floor_divide(other, self)
Tensor.__mod__ = remainder
Tensor.__rmod__ = lambda self, other: remainder(other, self)
Tensor.__neg__ = neg
Tensor.__pos__ = positive
Tensor.positive = positive
for _op, _name, _function in (("add", "add_", add), ("sub", "sub_", sub), ("mul", "mul_", mul),
                              ("truediv", "div_", div), ("floordiv", "floor_divide_", floor_divide),
                              ("mod", "remainder_", remainder)):
    setattr(Tensor, f"__i{_op}__", _inplace_method(_function, _name))
for _name in ("add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide",
              "floor_divide", "remainder", "fmod", "neg", "negative"):
    setattr(Tensor, _name, globals()[_name])
    setattr(Tensor, _name + "_", _inplace_method(globals()[_name], _name + "_"))
