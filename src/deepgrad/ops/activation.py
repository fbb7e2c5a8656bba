"""Activation kernels beyond relu/sigmoid/tanh (which live with the elementwise families).

Fused ``Function``s where a composition would be unstable or lose torch's gradient
convention: ``leaky_relu`` and ``hardtanh`` (torch's strict masks at the kinks), ``elu``
(also selu and celu; an exp in the unused branch would overflow), ``softplus`` (threshold
switch) and ``logsigmoid`` (gradient at 0). Each backward is written with deepgrad ops, so
all are twice differentiable. The rest (gelu, silu, mish, hardswish, ...) are compositions
in ``nn.functional``.
"""

from __future__ import annotations

from .._tensor import Tensor, wrap_dim
from ..autograd.function import Function
from ..backend import array_module
from .comparison import Where, where
from .elementwise import _zeros_like
from .softmax import softmax

__all__: list = []  # torch exposes these under nn.functional (deepgrad.nn.functional)


def _constant(array) -> Tensor:
    return Tensor._make(array)


class SlopeGrad(Function):
    """The gradient of a piecewise-linear activation: ``grad * slope`` (``slope`` a constant
    array), or ``grad`` where the bool array ``slope`` holds and 0 elsewhere (no inf/nan
    leaks through the zeros). Like torch's threshold_backward it takes the activation's
    input ``x`` with a zero derivative, so the gradient stays differentiable: its Hessian
    is zeros, not an error."""

    raw = True

    @staticmethod
    def forward(ctx, grad, x, slope):
        ctx.slope = slope
        ctx.save_for_backward(x)
        if slope.dtype.kind == "b":
            return array_module(grad).where(slope, grad, grad.dtype.type(0))
        return grad * slope

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        need_grad, need_x = ctx.needs_input_grad[:2]
        return (SlopeGrad.apply(grad_out, x, ctx.slope) if need_grad else None,
                _zeros_like(x) if need_x else None)


class LeakyRelu(Function):
    """``x`` where ``x > 0`` else ``negative_slope * x``; the gradient at 0 is the slope."""

    raw = True

    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.save_for_backward(x)
        ctx.negative_slope = negative_slope
        return array_module(x).where(x > 0, x, x * x.dtype.type(negative_slope))

    @staticmethod
    def backward(ctx, grad_out):
        x = ctx.saved_tensors[0]._data
        xp = array_module(x)
        slope = xp.where(x > 0, x.dtype.type(1), x.dtype.type(ctx.negative_slope))
        return SlopeGrad.apply(grad_out, ctx.saved_tensors[0], slope)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:  # noqa: A002
    """``max(0, x) + negative_slope * min(0, x)``.

    Example:
        >>> F.leaky_relu(deepgrad.tensor([-1., 2.]), 0.1)
        tensor([-0.1000,  2.0000])
    """
    if inplace:
        return input._inplace(lambda old: LeakyRelu.apply(old, negative_slope),
                              op="leaky_relu_")
    return LeakyRelu.apply(input, negative_slope)


class Hardtanh(Function):
    """Clamp to ``[min_val, max_val]``; as torch the gradient is 0 at the bounds (strict)."""

    raw = True

    @staticmethod
    def forward(ctx, x, min_val, max_val):
        ctx.save_for_backward(x)
        ctx.bounds = (min_val, max_val)
        return array_module(x).clip(x, min_val, max_val)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        low, high = ctx.bounds
        return SlopeGrad.apply(grad_out, x, (x._data > low) & (x._data < high))


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,  # noqa: A002
             inplace: bool = False) -> Tensor:
    """Clamp to ``[min_val, max_val]``; the gradient is 0 outside and at the bounds.

    Example:
        >>> F.hardtanh(deepgrad.tensor([-2., 0.5, 3.]))
        tensor([-1.0000,  0.5000,  1.0000])
    """
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if inplace:
        return input._inplace(lambda old: Hardtanh.apply(old, min_val, max_val), op="hardtanh_")
    return Hardtanh.apply(input, min_val, max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """``min(max(0, x), 6)``: ``hardtanh(x, 0, 6)`` (gradient 0 at 0 and 6, as torch).

    Example:
        >>> F.relu6(deepgrad.tensor([-1., 3., 7.]))
        tensor([0., 3., 6.])
    """
    return hardtanh(input, 0.0, 6.0, inplace)


class Elu(Function):
    """``scale * x`` for ``x > 0`` else ``scale * alpha * (exp(input_scale * x) - 1)``: elu,
    selu and celu in one kernel, as torch's. The backward uses the saved result, so the
    exponential is never taken of a large positive input."""

    raw = True

    @staticmethod
    def forward(ctx, x, alpha, scale, input_scale):
        xp = array_module(x)
        positive = x > 0
        negative = xp.expm1(xp.minimum(x, 0) * x.dtype.type(input_scale))
        negative *= x.dtype.type(alpha * scale)
        result = xp.where(positive, x * x.dtype.type(scale) if scale != 1 else x, negative)
        ctx.constants = (alpha, scale, input_scale)
        ctx.positive = positive
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_out):
        (result,) = ctx.saved_tensors
        alpha, scale, input_scale = ctx.constants
        # for x <= 0: d/dx = input_scale * (result + alpha * scale)
        slope = (result + alpha * scale) * input_scale if input_scale != 1 else (
            result + alpha * scale)
        dtype = result._data.dtype
        xp = array_module(result._data)
        factor = Where.apply(_constant(ctx.positive), _constant(xp.asarray(scale, dtype)), slope)
        return grad_out * factor


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """``x`` for ``x > 0`` else ``alpha * (exp(x) - 1)``.

    Example:
        >>> F.elu(deepgrad.tensor([-1., 2.]))
        tensor([-0.6321,  2.0000])
    """
    return _elu(input, alpha, 1.0, 1.0, inplace, "elu_")


def selu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """``scale * elu(x, alpha)`` with torch's fixed alpha = 1.6733 and scale = 1.0507."""
    return _elu(input, 1.6732632423543772848170429916717, 1.0507009873554804934193349852946,
                1.0, inplace, "selu_")


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _elu(input, alpha, 1.0, 1.0 / alpha, inplace, "celu_")


def _elu(input, alpha, scale, input_scale, inplace, op):  # noqa: A002
    if inplace:
        return input._inplace(lambda old: Elu.apply(old, alpha, scale, input_scale), op=op)
    return Elu.apply(input, alpha, scale, input_scale)


class Softplus(Function):
    """``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold``."""

    raw = True

    @staticmethod
    def forward(ctx, x, beta, threshold):
        xp = array_module(x)
        scaled = x * x.dtype.type(beta)
        linear = scaled > threshold
        # the exponential is only taken where it is used (no overflow in the other branch)
        smooth = xp.log1p(xp.exp(xp.minimum(scaled, x.dtype.type(threshold))))
        smooth /= x.dtype.type(beta)
        ctx.save_for_backward(x)
        ctx.beta, ctx.linear = beta, linear
        return xp.where(linear, x, smooth)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        slope = (x * ctx.beta).sigmoid() if ctx.beta != 1 else x.sigmoid()
        dtype = x._data.dtype
        one = _constant(array_module(x._data).ones((), dtype))
        return grad_out * Where.apply(_constant(ctx.linear), one, slope)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """Smooth relu ``log(1 + exp(beta * x)) / beta``, linear above ``threshold / beta``.

    Example:
        >>> F.softplus(deepgrad.tensor([0.]))
        tensor([0.6931])
    """
    return Softplus.apply(input, beta, threshold)


class LogSigmoid(Function):
    """``log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|))``, stable for large |x|."""

    raw = True

    @staticmethod
    def forward(ctx, x):
        xp = array_module(x)
        ctx.save_for_backward(x)
        return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * (-x).sigmoid()


def logsigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """``log(1 / (1 + exp(-x)))``, computed stably.

    Example:
        >>> F.logsigmoid(deepgrad.tensor([0.]))
        tensor([-0.6931])
    """
    return LogSigmoid.apply(input)


# ---------------------------------------------------------------- compositions

_SQRT1_2 = 0.7071067811865476
_SQRT_2_OVER_PI = 0.7978845608028654


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    """Gaussian error linear unit ``x * Phi(x)``; ``approximate='tanh'`` uses
    ``0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x**3)))``.

    Example:
        >>> F.gelu(deepgrad.tensor([-1., 0., 1.]))
        tensor([-0.1587,  0.0000,  0.8413])
    """
    if approximate == "none":
        return input * ((input * _SQRT1_2).erf() + 1) * 0.5
    if approximate == "tanh":
        inner = (input + input * input * input * 0.044715) * _SQRT_2_OVER_PI
        return input * 0.5 * (inner.tanh() + 1)
    raise RuntimeError("approximate argument must be either none or tanh.")


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """Sigmoid linear unit (swish) ``x * sigmoid(x)``.

    Example:
        >>> F.silu(deepgrad.tensor([0., 1.]))
        tensor([0.0000, 0.7311])
    """
    if inplace:
        return input._inplace(lambda old: old * old.sigmoid(), op="silu_")
    return input * input.sigmoid()


def mish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """``x * tanh(softplus(x))``.

    Example:
        >>> F.mish(deepgrad.tensor([0., 1.]))
        tensor([0.0000, 0.8651])
    """
    if inplace:
        return input._inplace(lambda old: old * softplus(old).tanh(), op="mish_")
    return input * softplus(input).tanh()


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """Piecewise-linear sigmoid ``relu6(x + 3) / 6``.

    Example:
        >>> F.hardsigmoid(deepgrad.tensor([-4., 0., 4.]))
        tensor([0.0000, 0.5000, 1.0000])
    """
    if inplace:
        return input._inplace(lambda old: hardsigmoid(old), op="hardsigmoid_")
    return relu6(input + 3.0) / 6.0


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """``x * relu6(x + 3) / 6`` (MobileNetV3).

    Example:
        >>> F.hardswish(deepgrad.tensor([-4., 1., 4.]))
        tensor([-0.0000,  0.6667,  4.0000])
    """
    if inplace:
        return input._inplace(lambda old: hardswish(old), op="hardswish_")
    return input * relu6(input + 3.0) / 6.0


def softsign(input: Tensor) -> Tensor:  # noqa: A002
    """``x / (1 + |x|)``."""
    return input / (input.abs() + 1)


def tanhshrink(input: Tensor) -> Tensor:  # noqa: A002
    """``x - tanh(x)``."""
    return input - input.tanh()


class Select(Function):
    """``kept`` (an array computed from ``x``, slope 1) where the bool array ``keep`` holds,
    else the constant ``fill`` (slope 0): threshold, hardshrink and softshrink."""

    raw = True

    @staticmethod
    def forward(ctx, x, keep, kept, fill):
        ctx.save_for_backward(x)
        ctx.keep = keep
        return array_module(x).where(keep, kept, x.dtype.type(fill))

    @staticmethod
    def backward(ctx, grad_out):
        return SlopeGrad.apply(grad_out, ctx.saved_tensors[0], ctx.keep)


def threshold(input: Tensor, threshold: float, value: float,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """``x`` where ``x > threshold``, else ``value`` (gradient 0 there).

    Example:
        >>> F.threshold(deepgrad.tensor([0.5, 2.]), 1., -1.)
        tensor([-1.,  2.])
    """
    limit = threshold

    def compute(x: Tensor) -> Tensor:
        return Select.apply(x, x._data > limit, x._data, value)

    return input._inplace(compute, op="threshold_") if inplace else compute(input)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, 0 between.

    Example:
        >>> F.softshrink(deepgrad.tensor([-1., 0.2, 1.]))
        tensor([-0.5000,  0.0000,  0.5000])
    """
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    x = input._data
    xp = array_module(x)
    step = x.dtype.type(lambd)
    shrunk = xp.where(x > step, x - step, x + step)
    return Select.apply(input, (x < -step) | (x > step), shrunk, 0)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """``x`` where ``|x| > lambd``, else 0.

    Example:
        >>> F.hardshrink(deepgrad.tensor([-1., 0.2, 1.]))
        tensor([-1.,  0.,  1.])
    """
    x = input._data
    return Select.apply(input, (x < -lambd) | (x > lambd), x, 0)


def glu(input: Tensor, dim: int = -1) -> Tensor:  # noqa: A002
    """Gated linear unit: split ``input`` in halves ``a, b`` along ``dim``; ``a * sigmoid(b)``.

    Example:
        >>> F.glu(deepgrad.tensor([[1., 0.]]))
        tensor([[0.5000]])
    """
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    dim = wrap_dim(dim, input.ndim, "glu")
    if input.shape[dim] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim} is size "
                           f"{input.shape[dim]}")
    first, second = input.chunk(2, dim)
    return first * second.sigmoid()


def prelu(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002
    """``x`` where ``x > 0``, else ``weight * x``; ``weight`` has one slope (or one per
    channel, dim 1).

    Example:
        >>> F.prelu(deepgrad.tensor([[-1., 2.]]), deepgrad.tensor([0.25]))
        tensor([[-0.2500,  2.0000]])
    """
    count = weight.numel()
    channels = input.shape[1] if input.ndim >= 2 else (input.shape[0] if input.ndim else 1)
    if count != 1:
        if count != channels:
            raise RuntimeError("Mismatch of parameter numbers and input channel size. Found "
                               f"parameter numbers = {count} and channel size = {channels}.")
        shape = [1] * input.ndim
        shape[1 if input.ndim >= 2 else 0] = count
        weight = weight.reshape(shape)
    elif weight.ndim:
        weight = weight.reshape(())
    return where(Tensor._make(input._data > 0), input, weight * input)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,  # noqa: A002
            dtype=None) -> Tensor:
    """``softmax(-input, dim)``.

    Example:
        >>> F.softmin(deepgrad.tensor([0., 1.]), dim=0)
        tensor([0.7311, 0.2689])
    """
    return softmax(-input, dim, dtype=dtype)
