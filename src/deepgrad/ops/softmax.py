"""Exponential normalisation along a dim: softmax, log_softmax and logsumexp.

Each is one fused ``Function`` that subtracts the maximum before exponentiating, so
logits of magnitude 1e4 stay finite; the backward formulas use the saved output and are
written with deepgrad ops, so all three are twice differentiable.
"""

from __future__ import annotations

import warnings

from .._tensor import Tensor, wrap_dim
from ..autograd.function import Function
from ..backend import array_module, get_default_dtype
from .reduction import normalize_dims, restore_dims

__all__ = ["softmax", "log_softmax", "logsumexp"]


def _softmax_dim(op: str, input: Tensor, dim, dtype) -> tuple:  # noqa: A002
    """(input cast to dtype, wrapped dim); torch's legacy implicit dim when dim is None."""
    if dtype is not None:
        input = input.to(dtype)
    data = input._data
    if data.dtype.kind != "f":
        raise NotImplementedError(
            f"{op}: not implemented for {input.dtype.name} input; pass dtype= or use a "
            "floating-point tensor")
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {op} has been deprecated. Change the "
                      "call to include dim=X as an argument.", UserWarning, stacklevel=3)
        dim = 0 if data.ndim in (0, 1, 3) else 1
    return input, wrap_dim(dim, data.ndim, op)


class Softmax(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        xp = array_module(x)
        if x.ndim == 0 or x.size == 0:
            result = xp.asarray(xp.exp(x - x))  # 1 for a single element; empty stays empty
        else:
            result = x - x.max(axis=dim, keepdims=True)  # subtract max for stability
            xp.exp(result, out=result)
            result /= result.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_out):
        (result,) = ctx.saved_tensors
        return SoftmaxGrad.apply(grad_out, result, ctx.dim)


class SoftmaxGrad(Function):
    """softmax's gradient y * (g - sum(g * y)) (the Jacobian diag(y) - y y^T applied to g) in
    one node; its backward, written with deepgrad ops, gives every higher order."""

    raw = True

    @staticmethod
    def forward(ctx, grad, y, dim):
        ctx.dim = dim
        ctx.save_for_backward(grad, y)
        if y.ndim == 0:
            return grad * 0  # softmax of one element is constant
        return y * (grad - (grad * y).sum(axis=dim, keepdims=True))

    @staticmethod
    def backward(ctx, grad_out):
        grad, y = ctx.saved_tensors
        if y.ndim == 0:
            return grad_out * 0, grad_out * 0
        need_grad, need_y = ctx.needs_input_grad[:2]
        projected = (grad_out * y).sum(ctx.dim, keepdim=True)
        grad_grad = y * (grad_out - projected) if need_grad else None
        # d/dy of y_i g_i - y_i sum(g y): grad_out (g - sum(g y)) - g sum(grad_out y)
        grad_y = None
        if need_y:
            grad_y = grad_out * (grad - (grad * y).sum(ctx.dim, keepdim=True)) - grad * projected
        return grad_grad, grad_y


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:  # noqa: A002
    """exp(x) / sum(exp(x)) along ``dim``, computed stably (the max is subtracted first).

    Args:
        input: a floating-point tensor.
        dim: the dim whose slices sum to 1 (None: torch's deprecated implicit choice).
        _stacklevel: ``nn.functional``'s unused warning level; a dtype here is taken as
            ``dtype`` (``torch.softmax(input, dim, dtype)``).
        dtype: cast ``input`` to this dtype first (e.g. float64 for precision).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> deepgrad.tensor([[1., 2.], [3., 3.]]).softmax(1)
        tensor([[0.2689, 0.7311],
                [0.5000, 0.5000]])
    """
    if type(_stacklevel) is not int:  # torch.softmax(input, dim, dtype): dtype third
        dtype = _stacklevel
    input, dim = _softmax_dim("softmax", input, dim, dtype)
    return Softmax.apply(input, dim)


class LogSoftmax(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        xp = array_module(x)
        if x.ndim == 0 or x.size == 0:
            result = xp.asarray(x - x)  # log(1) = 0 for a single element
        else:
            result = x - x.max(axis=dim, keepdims=True)  # subtract max for stability
            result -= xp.log(xp.exp(result).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_out):
        (result,) = ctx.saved_tensors
        return LogSoftmaxGrad.apply(grad_out, result, ctx.dim)


class LogSoftmaxGrad(Function):
    """log_softmax's gradient g - exp(y) * sum(g) in one node (y = log_softmax(x)); its
    backward, written with deepgrad ops, gives every higher order."""

    raw = True

    @staticmethod
    def forward(ctx, grad, y, dim):
        ctx.dim = dim
        ctx.save_for_backward(grad, y)
        if y.ndim == 0:
            return grad * 0  # log_softmax of one element is constant
        return grad - array_module(y).exp(y) * grad.sum(axis=dim, keepdims=True)

    @staticmethod
    def backward(ctx, grad_out):
        grad, y = ctx.saved_tensors
        if y.ndim == 0:
            return grad_out * 0, grad_out * 0
        need_grad, need_y = ctx.needs_input_grad[:2]
        probabilities = y.exp()
        grad_grad = None
        if need_grad:
            grad_grad = grad_out - (grad_out * probabilities).sum(ctx.dim, keepdim=True)
        grad_y = None
        if need_y:  # d/dy_i of -exp(y_i) sum(g)
            grad_y = -(grad_out * probabilities * grad.sum(ctx.dim, keepdim=True))
        return grad_grad, grad_y


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:  # noqa: A002
    """log(softmax(x)) along ``dim``, computed as x - max - log(sum(exp(x - max))).

    Args:
        input: a floating-point tensor.
        dim: the dim to normalise along.
        dtype: cast ``input`` to this dtype first.

    Example:
        >>> deepgrad.tensor([0., 0.]).log_softmax(0)
        tensor([-0.6931, -0.6931])
    """
    if type(_stacklevel) is not int:  # torch.log_softmax(input, dim, dtype): dtype third
        dtype = _stacklevel
    input, dim = _softmax_dim("log_softmax", input, dim, dtype)
    return LogSoftmax.apply(input, dim)


class LogSumExp(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.dims, ctx.keepdim = dims, keepdim
        xp = array_module(x)
        if x.size == 0:
            with xp.errstate(divide="ignore"):  # the log of an empty sum is -inf
                result = xp.asarray(xp.log(xp.exp(x).sum(axis=dims, keepdims=keepdim)))
        else:
            top = x.max(axis=dims, keepdims=True)
            # all -inf (or an inf) slices: do not shift by inf
            top = xp.where(xp.isfinite(top), top, 0).astype(x.dtype, copy=False)
            total = xp.exp(x - top).sum(axis=dims, keepdims=True)
            with xp.errstate(divide="ignore"):
                result = xp.log(total) + top
            if not keepdim:
                result = result.reshape(()) if dims is None else result.squeeze(axis=dims)
            result = xp.asarray(result)  # an array, not a numpy scalar: a saved output
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad_out):
        x, result = ctx.saved_tensors
        shape = x._data.shape
        grad = restore_dims(grad_out, shape, ctx.dims, ctx.keepdim)
        return grad * (x - restore_dims(result, shape, ctx.dims, ctx.keepdim)).exp()


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:  # noqa: A002
    """log(sum(exp(x))) over ``dim`` (int or tuple), computed stably; integer input gives the
    default float dtype.

    Example:
        >>> deepgrad.logsumexp(deepgrad.tensor([1e4, 1e4]), 0)
        tensor(10000.6934)
    """
    data = input._data
    if data.dtype.kind not in "fc":
        input = Tensor._make(data.astype(get_default_dtype().numpy))
    dims = normalize_dims("logsumexp", dim, data.ndim)
    return LogSumExp.apply(input, dims, keepdim)


Tensor.softmax = lambda self, dim, dtype=None: softmax(self, dim, dtype=dtype)
Tensor.log_softmax = lambda self, dim, dtype=None: log_softmax(self, dim, dtype=dtype)
Tensor.logsumexp = logsumexp
