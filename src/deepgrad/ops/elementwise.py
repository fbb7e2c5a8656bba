"""Elementwise ops: arithmetic, exp/log, activations, comparisons.

Each op is a ``Function`` (forward on raw arrays, backward with deepgrad ops so it can be
differentiated again) followed by its public function. Operands go through
``promotion.prepare`` once: scalars become tensors, dtypes are promoted as torch does, and
operands that need a gradient are expanded to the broadcast shape, so no backward here has
to un-broadcast.
"""

from __future__ import annotations

from .._tensor import Tensor
from ..autograd.function import Function
from ..backend import array_module
from .promotion import prepare


__all__ = ["add", "sub", "mul", "div", "neg", "exp", "log", "relu"]  # public torch-level names; extended below as ops are added

def _binary(function, op: str, input, other, names=("input", "other")):  # noqa: A002
    """Fast path for same-shape same-dtype tensors; everything else goes through prepare."""
    if isinstance(input, Tensor) and isinstance(other, Tensor):
        a, b = input._data, other._data
        if a.dtype == b.dtype and a.shape == b.shape:
            return function.apply(input, other)
    return function.apply(*prepare(op, input, other, names=names))


# ---------------------------------------------------------------- arithmetic

class Add(Function):
    raw = True

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out, grad_out


def add(input, other, *, alpha=1, out=None) -> Tensor:  # noqa: A002
    """``input + alpha * other``, broadcasting.

    Args:
        input: tensor or number.
        other: tensor or number.
        alpha: multiplier for ``other``.

    Example:
        >>> deepgrad.add(deepgrad.tensor([1., 2.]), 1)
        tensor([2., 3.])
    """
    if alpha != 1:
        other = mul(other, alpha)
    return _binary(Add, "add", input, other)


class Sub(Function):
    raw = True

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out, (-grad_out if ctx.needs_input_grad[1] else None)


def sub(input, other, *, alpha=1, out=None) -> Tensor:  # noqa: A002
    """``input - alpha * other``, broadcasting."""
    if isinstance(input, Tensor) and input._data.dtype.kind == "b":
        raise RuntimeError("sub: subtraction with two bool tensors is not supported; use the "
                           "`^` or `logical_xor()` operator instead")
    if alpha != 1:
        other = mul(other, alpha)
    return _binary(Sub, "sub", input, other)


class Mul(Function):
    raw = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad_out * b if need_a else None), (grad_out * a if need_b else None)


def mul(input, other, *, out=None) -> Tensor:  # noqa: A002
    """``input * other``, broadcasting."""
    return _binary(Mul, "mul", input, other)


class Div(Function):
    raw = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad_out / b if need_a else None
        grad_b = -grad_out * a / (b * b) if need_b else None
        return grad_a, grad_b


def div(input, other, *, rounding_mode=None, out=None) -> Tensor:  # noqa: A002
    """``input / other`` (true division: integer inputs give the default float dtype)."""
    if rounding_mode is not None:
        return _rounded_div(input, other, rounding_mode)
    dtype = None
    operands = (input, other)
    from .promotion import result_type  # noqa: PLC0415

    promoted = result_type(*operands)
    if promoted.kind != "f":  # int / int -> default float, as torch
        from ..backend import get_default_dtype  # noqa: PLC0415

        dtype = get_default_dtype().numpy
        return Div.apply(*prepare("div", input, other, dtype=dtype))
    return _binary(Div, "div", input, other)


def _rounded_div(input, other, rounding_mode):  # noqa: A002
    raise NotImplementedError  # filled in with floor_divide / trunc


class Neg(Function):
    raw = True

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad_out):
        return -grad_out


def neg(input: Tensor) -> Tensor:  # noqa: A002
    """``-input``."""
    return Neg.apply(input)


# ---------------------------------------------------------------- exp, log, activations

class Exp(Function):
    raw = True

    @staticmethod
    def forward(ctx, x):
        result = array_module(x).exp(x)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_out):
        (result,) = ctx.saved_tensors
        return grad_out * result


def exp(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise e**x."""
    return Exp.apply(_floating(input))


class Log(Function):
    raw = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return array_module(x).log(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out / x


def log(input: Tensor) -> Tensor:  # noqa: A002
    """Natural logarithm."""
    return Log.apply(_floating(input))


class Relu(Function):
    raw = True

    @staticmethod
    def forward(ctx, x):
        result = array_module(x).maximum(x, 0)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_out):
        (result,) = ctx.saved_tensors
        # relu'(0) = 0, as torch: the mask is result > 0, a constant for double backward.
        return grad_out * (result._data > 0)


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """max(x, 0); the gradient at 0 is 0 (torch's convention)."""
    return Relu.apply(input)


def _floating(x: Tensor) -> Tensor:
    """Integer inputs of float-valued functions (exp, log, sin, ...) become the default float."""
    if x._data.dtype.kind in "fc":
        return x
    from ..backend import get_default_dtype  # noqa: PLC0415

    return Tensor._make(x._data.astype(get_default_dtype().numpy))


Tensor.__add__ = add
Tensor.__radd__ = lambda self, other: add(other, self)
Tensor.__iadd__ = lambda self, other: self._inplace(add, other, op="add_")
Tensor.__sub__ = sub
Tensor.__rsub__ = lambda self, other: sub(other, self)
Tensor.__isub__ = lambda self, other: self._inplace(sub, other, op="sub_")
Tensor.__mul__ = mul
Tensor.__rmul__ = lambda self, other: mul(other, self)
Tensor.__imul__ = lambda self, other: self._inplace(mul, other, op="mul_")
Tensor.__truediv__ = div
Tensor.__rtruediv__ = lambda self, other: div(other, self)
Tensor.__itruediv__ = lambda self, other: self._inplace(div, other, op="div_")
Tensor.__neg__ = neg
Tensor.add = add
Tensor.sub = sub
Tensor.mul = mul
Tensor.div = div
Tensor.neg = neg
Tensor.exp = exp
Tensor.log = log
Tensor.relu = relu
Tensor.add_ = lambda self, other, *, alpha=1: self._inplace(
    lambda old, o: add(old, o, alpha=alpha), other, op="add_")
Tensor.sub_ = lambda self, other, *, alpha=1: self._inplace(
    lambda old, o: sub(old, o, alpha=alpha), other, op="sub_")
Tensor.mul_ = lambda self, other: self._inplace(mul, other, op="mul_")
Tensor.div_ = lambda self, other: self._inplace(div, other, op="div_")
