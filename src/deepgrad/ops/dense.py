"""The fully connected layer's op: ``linear(input, weight, bias) = input @ weight.T + bias``.

One fused ``Function`` because it is the hot path of every MLP step: the forward is a single
GEMM whose fresh result takes the bias in place (no temporary for ``x @ W.T`` plus another
for ``+ b``); an N-d input is folded to 2-d for the GEMM and unfolded after. The backward
is written with deepgrad ops (MatMul with its transpose flag, Reshape, Sum) so it can be
differentiated again, and computes only the gradients ``needs_input_grad`` asks for.
"""

from __future__ import annotations

import numpy as np

from .. import _errors
from .._tensor import Tensor
from ..autograd.function import Function
from ..backend import array_module
from .gemv_sum import column_sum
from .linalg import MatMul
from .reduction import Sum
from .shape import Reshape

__all__: list = []  # torch has no top-level linear; nn.functional exports it


class Linear(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        if x.ndim == 2 and bias is not None and _fold_bias(x, weight):
            return _with_bias_column(x, weight, bias)
        if x.ndim == 2:
            result = array_module(x).matmul(x, weight.T)
        else:  # (..., in) -> (M, in) @ (in, out) -> (..., out)
            rows = _rows(x.shape)
            result = array_module(x).matmul(x.reshape(rows, x.shape[-1]), weight.T)
            result = result.reshape(x.shape[:-1] + (weight.shape[0],))
        if bias is not None:
            result += bias  # in place on the fresh GEMM output: no extra temporary
        return result

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        need_x, need_weight, need_bias = ctx.needs_input_grad
        shape = x._data.shape
        if len(shape) != 2:  # fold the leading dims: (..., out) -> (M, out)
            grad_out = Reshape.apply(grad_out, (_rows(shape), weight._data.shape[0]))
        grad_x = grad_weight = grad_bias = None
        if need_x:
            grad_x = MatMul.apply(grad_out, weight)  # (M, out) @ (out, in)
            if len(shape) != 2:
                grad_x = Reshape.apply(grad_x, shape)
        if need_weight:
            x2 = x if len(shape) == 2 else Reshape.apply(x, (_rows(shape), shape[-1]))
            grad_weight = MatMul.apply(grad_out, x2, True, False)  # (out, M) @ (M, in)
        if need_bias:
            grad_bias = Sum.apply(grad_out, (0,), False, None)
        return grad_x, grad_weight, grad_bias


    @staticmethod
    def raw_backward(ctx, grad_out):
        x, weight = ctx.saved_arrays
        need_x, need_weight, need_bias = ctx.needs_input_grad
        shape = x.shape
        if len(shape) != 2:
            grad_out = grad_out.reshape(_rows(shape), weight.shape[0])
        xp = array_module(grad_out)
        grad_x = grad_weight = grad_bias = None
        if need_x:
            grad_x = xp.matmul(grad_out, weight)
            if len(shape) != 2:
                grad_x = grad_x.reshape(shape)
        if need_weight:
            x2 = x if len(shape) == 2 else x.reshape(_rows(shape), shape[-1])
            grad_weight = xp.matmul(grad_out.T, x2)
        if need_bias:
            grad_bias = column_sum(grad_out)
        return grad_x, grad_weight, grad_bias


def _fold_bias(x, weight) -> bool:
    """Whether to put the bias in the GEMM: for few input features the output is much larger
    than the input, and broadcasting the bias over the output costs more than a column of
    ones in the input (spiral MLP's 2 -> 100 layer, 300 rows: 15.9 -> 9.3 us)."""
    rows, features = x.shape
    outputs = weight.shape[0]
    return 4 * features <= outputs and rows * outputs >= 4096 and type(x) is np.ndarray


def _with_bias_column(x, weight, bias):
    """``[x, 1] @ [weight.T; bias]``: the bias added by the GEMM itself."""
    rows, features = x.shape
    dtype = np.result_type(x, weight)
    x1 = np.empty((rows, features + 1), dtype)
    x1[:, :features] = x
    x1[:, features] = 1
    w1 = np.empty((features + 1, weight.shape[0]), dtype)
    w1[:features] = weight.T
    w1[features] = bias
    return np.matmul(x1, w1)


def _rows(shape: tuple) -> int:
    rows = 1
    for s in shape[:-1]:
        rows *= s
    return rows


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """Affine map ``input @ weight.T + bias`` (torch.nn.functional.linear).

    Args:
        input: ``(*, in_features)``.
        weight: ``(out_features, in_features)``.
        bias: optional ``(out_features,)``.

    Shape:
        ``(*, in_features) -> (*, out_features)``.

    Example:
        >>> x, w = deepgrad.ones(4, 3), deepgrad.ones(2, 3)
        >>> deepgrad.nn.functional.linear(x, w, deepgrad.zeros(2)).shape
        deepgrad.Size([4, 2])
    """
    x, w = input._data, weight._data
    if x.ndim == 0 or w.ndim != 2 or x.shape[-1] != w.shape[1]:
        _shape_error(input, weight)
    if x.dtype != w.dtype or bias is not None and bias._data.dtype != w.dtype:
        raise _errors.op_error(
            RuntimeError, "linear",
            f"expected input, weight and bias of one dtype, but got input {input.dtype.name}, "
            f"weight {weight.dtype.name}"
            + ("" if bias is None else f" and bias {bias.dtype.name}"))
    if bias is not None and bias._data.shape not in ((w.shape[0],), (), (1,)):
        raise _errors.op_error(RuntimeError, "linear",
                               f"bias must have shape ({w.shape[0]},) to match weight",
                               weight=weight, bias=bias)
    if bias is not None and bias._data.shape != (w.shape[0],) and bias._requires_grad:
        bias = bias.expand(w.shape[0])  # a broadcast bias gets its gradient summed back
    return Linear.apply(input, weight, bias)


def _shape_error(input: Tensor, weight: Tensor):  # noqa: A002
    if input._data.ndim == 0 or weight._data.ndim != 2:
        raise _errors.op_error(RuntimeError, "linear",
                               "expected input with at least 1 dim and a 2-D weight",
                               input=input, weight=weight)
    rows, columns = _rows(input._data.shape), input._data.shape[-1]
    raise _errors.op_error(
        RuntimeError, "linear",
        f"mat1 and mat2 shapes cannot be multiplied ({rows}x{columns} and "
        f"{weight._data.shape[1]}x{weight._data.shape[0]})", input=input, weight=weight)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor,
             bias: Tensor | None = None) -> Tensor:
    """``y_k = input1 @ weight[k] @ input2 + bias_k`` (torch.nn.functional.bilinear), a
    composition of einsum and add.

    Shape:
        input1 ``(*, in1)``, input2 ``(*, in2)``, weight ``(out, in1, in2)`` -> ``(*, out)``.

    Example:
        >>> F.bilinear(deepgrad.ones(4, 2), deepgrad.ones(4, 3), deepgrad.ones(5, 2, 3)).shape
        deepgrad.Size([4, 5])
    """
    from .einsum import einsum  # noqa: PLC0415 - einsum is only needed here

    if (input1._data.shape[:-1] != input2._data.shape[:-1] or weight._data.ndim != 3
            or weight._data.shape[1:] != (input1._data.shape[-1], input2._data.shape[-1])):
        raise _errors.op_error(
            RuntimeError, "bilinear",
            "expected input1 (*, in1), input2 (*, in2) and weight (out, in1, in2)",
            input1=input1, input2=input2, weight=weight)
    lead = input1._data.shape[:-1]
    x1 = input1.reshape(-1, input1._data.shape[-1])
    x2 = input2.reshape(-1, input2._data.shape[-1])
    result = einsum("bi,oij,bj->bo", x1, weight, x2)
    if bias is not None:
        result = result + bias
    return result.reshape(lead + (weight._data.shape[0],))
