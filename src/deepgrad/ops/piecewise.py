"""Piecewise elementwise ops: abs, sign, relu, clamp, maximum/minimum, fmax/fmin, rounding
(floor, ceil, round, trunc, frac) and nan_to_num.

Their derivatives have kinks or jumps; each backward states torch's convention there:
abs'(0) = relu'(0) = 0, clamp passes the gradient AT a bound (grad is 1 where
min <= x <= max), maximum/minimum split a tie 0.5/0.5, rounding has a zero gradient.
Masks are constants built from raw arrays, and gradients are selected with ``where`` (as
torch does) so an inf/nan gradient never leaks into a masked-off element.
"""

from __future__ import annotations

from .._tensor import Tensor
from ..autograd.function import Function
from ..backend import array_module
from .comparison import _masked, keep_where, where
from .elementwise import _inplace_method, _out, _PiecewiseConstant, _zeros_like, sub
from .promotion import binary_operands, cast, prepare, result_type

__all__ = [
    "abs", "absolute", "sign", "sgn", "relu", "clamp", "clip", "clamp_min", "clamp_max",
    "maximum", "minimum", "fmax", "fmin", "floor", "ceil", "round", "trunc", "fix", "frac",
    "nan_to_num",
]


# ---------------------------------------------------------------- abs, sign, relu

class Abs(Function):
    raw = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return array_module(x).abs(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * Sign.apply(x)  # abs'(0) = sign(0) = 0, as torch


def abs(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A001,A002
    """``|input|``; the gradient at 0 is 0 (torch's convention).

    Example:
        >>> deepgrad.abs(deepgrad.tensor([-1., 0., 2.]))
        tensor([1., 0., 2.])
    """
    if input._data.dtype.kind == "b":
        raise NotImplementedError("abs: not implemented for 'Bool'")
    return _out(Abs.apply(input), out, "abs")


class Sign(_PiecewiseConstant):
    @staticmethod
    def forward(ctx, x):
        if x.dtype.kind == "b":
            return x.copy()
        return array_module(x).sign(x)


def sign(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """-1, 0 or 1 by the sign of each element (bool stays bool); the gradient is zero.

    Example:
        >>> deepgrad.sign(deepgrad.tensor([-2., 0., 3.]))
        tensor([-1.,  0.,  1.])
    """
    return _out(Sign.apply(input), out, "sign")


class Relu(Function):
    raw = True

    @staticmethod
    def forward(ctx, x):
        xp = array_module(x)
        result = xp.asarray(xp.maximum(x, 0))  # 0-d: an array, so saving finds the output
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_out):
        (result,) = ctx.saved_tensors
        return ReluGradient.apply(grad_out, result)

    @staticmethod
    def raw_backward(ctx, grad_out):
        (result,) = ctx.saved_arrays
        return _relu_gradient(grad_out, result)


class ReluGradient(Function):
    """relu's backward, ``grad`` where ``result > 0`` else 0 (relu'(0) = 0; nan passes, as
    torch). Like torch's threshold_backward it takes ``result`` as an input with a zero
    derivative, so relu's gradient stays differentiable: its Hessian is zeros, not an error."""

    raw = True

    @staticmethod
    def forward(ctx, grad, result):
        ctx.save_for_backward(result)
        return _relu_gradient(grad, result)

    @staticmethod
    def backward(ctx, grad_out):
        (result,) = ctx.saved_tensors
        need_grad, need_result = ctx.needs_input_grad
        return (ReluGradient.apply(grad_out, result) if need_grad else None,
                _zeros_like(result) if need_result else None)


def _relu_gradient(grad, result):
    # torch's threshold_backward keeps grad where not (result <= 0); for a relu output
    # (>= 0, +-0 or nan) that is result != 0, one pass fewer than the negated comparison
    return keep_where(result != 0, grad)


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """``max(input, 0)``; the gradient at 0 is 0 (torch's convention).

    Args:
        input: tensor (not bool).
        inplace: write the result into ``input`` (``relu_``).

    Example:
        >>> deepgrad.relu(deepgrad.tensor([-1., 0., 2.]))
        tensor([0., 0., 2.])
    """
    if input._data.dtype.kind == "b":
        raise RuntimeError("relu: Boolean inputs not supported for relu")
    if inplace:
        return input._inplace(relu, op="relu_")
    return Relu.apply(input)


# ---------------------------------------------------------------- clamp

class Clamp(Function):
    """Clamp to Python-number bounds (one of them may be None)."""

    raw = True

    @staticmethod
    def forward(ctx, x, low, high):
        ctx.save_for_backward(x)
        ctx.bounds = (low, high)
        return array_module(x).clip(x, low, high)

    @staticmethod
    def backward(ctx, grad_out):
        x = ctx.saved_tensors[0]._data
        low, high = ctx.bounds
        # torch passes the gradient at the bounds: the mask is low <= x <= high
        if low is None:
            mask = x <= high
        elif high is None:
            mask = x >= low
        else:
            mask = (x >= low) & (x <= high)
        return _masked(grad_out, mask)


class ClampTensor(Function):
    """Clamp to tensor bounds; ``low`` or ``high`` may be None. All three get gradients."""

    raw = True

    @staticmethod
    def forward(ctx, x, low, high):
        ctx.save_for_backward(x, low, high)
        xp = array_module(x)
        result = x if low is None else xp.maximum(x, low)
        return result if high is None else xp.minimum(result, high)

    @staticmethod
    def backward(ctx, grad_out):
        x, low, high = (t if t is None else t._data for t in ctx.saved_tensors)
        # torch's rules, ties included: x gets it where low <= x <= high; low where it won and
        # low < high; high where it won or low > high (then high is the result everywhere).
        if low is not None and high is not None:
            masks = ((x >= low) & (x <= high), (low > x) & (low < high), (high < x) | (low > high))
        elif low is not None:
            masks = (x >= low, low > x, None)
        else:
            masks = (x <= high, None, high < x)
        return tuple(_masked(grad_out, mask) if need else None
                     for mask, need in zip(masks, ctx.needs_input_grad, strict=True))


def clamp(input: Tensor, min=None, max=None, *, out: Tensor | None = None) -> Tensor:  # noqa: A001,A002
    """Clamp every element into ``[min, max]`` (if ``min > max`` the result is ``max``).

    The gradient flows where ``min <= input <= max`` (bounds included, as torch); tensor
    bounds broadcast and get the gradient where they are the result.

    Args:
        input: tensor.
        min, max: Python numbers or tensors; at least one must be given.
        out: optional tensor to write the result into.

    Example:
        >>> deepgrad.clamp(deepgrad.tensor([-2., 0.5, 3.]), min=0., max=1.)
        tensor([0.0000, 0.5000, 1.0000])
    """
    if min is None and max is None:
        raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        given = [(name, x) for name, x in (("input", input), ("min", min), ("max", max))
                 if x is not None]
        tensors = iter(prepare("clamp", *(x for _, x in given), names=[n for n, _ in given]))
        x = next(tensors)
        low = next(tensors) if min is not None else None
        high = next(tensors) if max is not None else None
        result = ClampTensor.apply(x, low, high)
    else:
        dtype = input._data.dtype
        if dtype.kind != "f" or type(min) is bool or type(max) is bool:
            input = cast(input, result_type(*(x for x in (input, min, max) if x is not None)))
        result = Clamp.apply(input, min, max)
    return _out(result, out, "clamp")


def clamp_min(input: Tensor, min) -> Tensor:  # noqa: A001,A002
    """``clamp(input, min=min)``."""
    return clamp(input, min=min)


def clamp_max(input: Tensor, max) -> Tensor:  # noqa: A001,A002
    """``clamp(input, max=max)``."""
    return clamp(input, max=max)


def _clamp_(self: Tensor, min=None, max=None) -> Tensor:  # noqa: A002
    # bounds go to _inplace positionally so a bound that requires grad is recorded
    return self._inplace(lambda old, low, high: clamp(old, low, high), min, max, op="clamp_")


# ---------------------------------------------------------------- maximum, minimum

def _tensor_operands(op: str, input, other):  # noqa: A002
    if not isinstance(other, Tensor):
        raise TypeError(f"{op}(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(other).__name__}")
    return binary_operands(op, input, other)


def _tie_halved(grad_out: Tensor, a, b) -> Tensor:
    return where(Tensor._make(a == b), grad_out / 2, grad_out)


class Maximum(Function):
    raw = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return array_module(a).maximum(a, b)

    @staticmethod
    def backward(ctx, grad_out):
        a, b = (t._data for t in ctx.saved_tensors)
        need_a, need_b = ctx.needs_input_grad
        shared = _tie_halved(grad_out, a, b)  # torch: a tie splits the gradient 0.5 / 0.5
        return (_masked(shared, ~(a < b)) if need_a else None,
                _masked(shared, ~(a > b)) if need_b else None)


def maximum(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise maximum of two tensors (NaN propagates); ties split the gradient in half.

    Example:
        >>> deepgrad.maximum(deepgrad.tensor([1., 5.]), deepgrad.tensor([3., 2.]))
        tensor([3., 5.])
    """
    return _out(Maximum.apply(*_tensor_operands("maximum", input, other)), out, "maximum")


class Minimum(Function):
    raw = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return array_module(a).minimum(a, b)

    @staticmethod
    def backward(ctx, grad_out):
        a, b = (t._data for t in ctx.saved_tensors)
        need_a, need_b = ctx.needs_input_grad
        shared = _tie_halved(grad_out, a, b)
        return (_masked(shared, ~(a > b)) if need_a else None,
                _masked(shared, ~(a < b)) if need_b else None)


def minimum(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise minimum of two tensors (NaN propagates); ties split the gradient in half.

    Example:
        >>> deepgrad.minimum(deepgrad.tensor([1., 5.]), deepgrad.tensor([3., 2.]))
        tensor([1., 2.])
    """
    return _out(Minimum.apply(*_tensor_operands("minimum", input, other)), out, "minimum")


class Fmax(Function):
    raw = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return array_module(a).fmax(a, b)

    @staticmethod
    def backward(ctx, grad_out):
        a, b = (t._data for t in ctx.saved_tensors)
        first = (a >= b) | array_module(a).isnan(b)  # torch: a tie goes to input
        need_a, need_b = ctx.needs_input_grad
        return (_masked(grad_out, first) if need_a else None,
                _masked(grad_out, ~first) if need_b else None)


def fmax(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise maximum that ignores NaN (NaN only where both are NaN).

    Example:
        >>> deepgrad.fmax(deepgrad.tensor([1., float("nan")]), deepgrad.tensor([3., 2.]))
        tensor([3., 2.])
    """
    return _out(Fmax.apply(*_tensor_operands("fmax", input, other)), out, "fmax")


class Fmin(Function):
    raw = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return array_module(a).fmin(a, b)

    @staticmethod
    def backward(ctx, grad_out):
        a, b = (t._data for t in ctx.saved_tensors)
        first = (a <= b) | array_module(a).isnan(b)
        need_a, need_b = ctx.needs_input_grad
        return (_masked(grad_out, first) if need_a else None,
                _masked(grad_out, ~first) if need_b else None)


def fmin(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise minimum that ignores NaN (NaN only where both are NaN).

    Example:
        >>> deepgrad.fmin(deepgrad.tensor([1., float("nan")]), deepgrad.tensor([3., 2.]))
        tensor([1., 2.])
    """
    return _out(Fmin.apply(*_tensor_operands("fmin", input, other)), out, "fmin")


# ---------------------------------------------------------------- rounding

class _Rounding(_PiecewiseConstant):
    kernel = ""

    @staticmethod
    def forward(ctx, x):
        if x.dtype.kind != "f":  # integers are already whole
            return x.copy()
        return getattr(array_module(x), ctx.kernel)(x)


class Floor(_Rounding):
    kernel = "floor"


class Ceil(_Rounding):
    kernel = "ceil"


class Trunc(_Rounding):
    kernel = "trunc"


def _rounding(function, name: str, summary: str):
    def rounding(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
        if input._data.dtype.kind == "b":
            raise NotImplementedError(f"{name}: not implemented for 'Bool'")
        return _out(function.apply(input), out, name)

    rounding.__name__ = rounding.__qualname__ = name
    rounding.__doc__ = f"""{summary}; integer inputs are returned as a copy. Zero gradient.

    Example:
        >>> deepgrad.{name}(deepgrad.tensor([-1.5, 0.5, 2.7]))
    """
    return rounding


floor = _rounding(Floor, "floor", "The largest integer <= each element")
ceil = _rounding(Ceil, "ceil", "The smallest integer >= each element")
trunc = fix = _rounding(Trunc, "trunc", "Each element rounded toward zero")


class Round(_PiecewiseConstant):
    @staticmethod
    def forward(ctx, x, decimals):
        if x.dtype.kind != "f":
            return x.copy()
        xp = array_module(x)
        if decimals == 0:
            return xp.rint(x)  # half to even, as torch's nearbyint
        scale = x.dtype.type(10.0 ** (decimals if decimals > 0 else -decimals))  # x's dtype
        if decimals > 0:
            return xp.rint(x * scale) / scale
        return xp.rint(x / scale) * scale


def round(input: Tensor, *, decimals: int = 0, out: Tensor | None = None) -> Tensor:  # noqa: A001,A002
    """Round to ``decimals`` decimal places, halves to even (as torch). Zero gradient.

    Example:
        >>> deepgrad.round(deepgrad.tensor([0.5, 1.5, 1.26]), decimals=1)
        tensor([0.5000, 1.5000, 1.3000])
    """
    if input._data.dtype.kind == "b":
        raise NotImplementedError("round: not implemented for 'Bool'")
    return _out(Round.apply(input, decimals), out, "round")


def frac(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """``input - trunc(input)`` (a composite: its gradient is 1). Floating inputs only.

    Example:
        >>> deepgrad.frac(deepgrad.tensor([1.25, -2.5]))
        tensor([ 0.2500, -0.5000])
    """
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"frac: not implemented for '{input.dtype.name}'")
    return _out(sub(input, trunc(input)), out, "frac")


# ---------------------------------------------------------------- nan_to_num

class NanToNum(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        ctx.save_for_backward(x)
        return array_module(x).nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return _masked(grad_out, array_module(x._data).isfinite(x._data))  # replaced: 0


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None,  # noqa: A002
               neginf: float | None = None, *, out: Tensor | None = None) -> Tensor:
    """Replace NaN, +inf and -inf (by default with 0 and the dtype's largest/smallest finite
    value). The replaced elements get a zero gradient.

    Example:
        >>> deepgrad.nan_to_num(deepgrad.tensor([float("nan"), 1.]))
        tensor([0., 1.])
    """
    return _out(NanToNum.apply(input, nan, posinf, neginf), out, "nan_to_num")


# ---------------------------------------------------------------- aliases and Tensor methods

absolute, sgn, clip = abs, sign, clamp

Tensor.__abs__ = abs
Tensor.relu = relu
Tensor.relu_ = lambda self: self._inplace(relu, op="relu_")
Tensor.clamp = Tensor.clip = clamp
Tensor.clamp_ = Tensor.clip_ = _clamp_
for _name in ("abs", "absolute", "sign", "sgn", "clamp_min", "clamp_max", "floor", "ceil",
              "round", "trunc", "fix", "frac", "nan_to_num"):
    setattr(Tensor, _name, globals()[_name])
    setattr(Tensor, _name + "_", _inplace_method(globals()[_name], _name + "_"))
for _name in ("maximum", "minimum", "fmax", "fmin"):
    setattr(Tensor, _name, globals()[_name])
