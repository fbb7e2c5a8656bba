"""Convolution: ``conv1d``/``conv2d`` as one fused ``Function``, and ``unfold``/``fold``.

The public functions check shapes and normalise stride/padding/dilation (int, tuple,
'same', 'valid'; conv1d runs as conv2d on a unit height), then ``Convolution`` runs the
array kernels of ``ops/im2col.py``: im2col (or a strided-view formulation that copies
less) plus one BLAS GEMM, never Python loops over pixels or batch items. The backward
uses raw array kernels for speed (design principle 4), so it is once-differentiable:
double backward through a convolution raises a clear error naming the op.

``unfold``/``fold`` (im2col/col2im as torch.nn.functional) are each other's adjoint, so
they are differentiable any number of times.
"""

from __future__ import annotations

from .. import _errors
from .._tensor import Tensor
from ..autograd.function import Function, backward_from_raw
from ..backend import array_module
from . import im2col
from .gemv_sum import column_sum, sum_dims

__all__ = ["conv1d", "conv2d"]  # torch.conv1d/conv2d; unfold/fold live in nn.functional only


class Convolution(Function):
    """conv1d/conv2d on raw arrays; ``shapes`` gives the 4-d NCHW views of input and
    weight (conv1d and unbatched inputs are reshaped, not copied)."""

    raw = True

    @staticmethod
    def forward(ctx, x, weight, bias, geometry, shapes):
        x4, w4 = x.reshape(shapes[0]), weight.reshape(shapes[1])
        plan = im2col.Plan(x4.shape, w4.shape, geometry)
        plan.keep = ctx.needs_input_grad[1]
        result = im2col.forward(x4, w4, bias, plan)
        ctx.plan, ctx.shapes, ctx.has_bias = plan, (x.shape, weight.shape), bias is not None
        ctx.save_for_backward(x, weight)
        return result.reshape(shapes[2])

    @staticmethod
    def raw_backward(ctx, grad_out):
        x, weight = ctx.saved_arrays
        p = ctx.plan
        need_input, need_weight, need_bias = ctx.needs_input_grad[:3]
        grad = grad_out.reshape(p.N, p.O, p.Ho, p.Wo)
        grad_input, grad_weight = im2col.backward(
            x.reshape(p.N, p.C, p.H, p.W), weight.reshape(p.O, -1, p.kh, p.kw),
            grad, p, need_input, need_weight)
        x_shape, w_shape = ctx.shapes
        grad_bias = None
        if need_bias and ctx.has_bias:  # (N, O, L) summed over L, then N: two BLAS gemvs
            per_image = sum_dims(grad.reshape(p.N, p.O, -1), (2,), False)
            grad_bias = grad.sum((0, 2, 3)) if per_image is None else column_sum(per_image)
        if grad_input is not None:
            grad_input = grad_input.reshape(x_shape)
        if grad_weight is not None:
            grad_weight = grad_weight.reshape(w_shape)
        return grad_input, grad_weight, grad_bias

    backward = staticmethod(backward_from_raw(raw_backward.__func__))

    def name(self) -> str:
        return "ConvolutionBackward0"


# ---------------------------------------------------------------- public boundary

def _tuple(value, n: int, name: str, op: str) -> tuple:
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            raise RuntimeError(
                f"expected {name} to be a single integer value or a list of {n} values to "
                f"match the convolution dimensions, but got {name}={list(value)}")
        return tuple(int(v) for v in value)
    return (int(value),) * n


def _padding(padding, n: int, dilation, kernel, stride, op: str) -> tuple:
    """((before, after), ...) per spatial dim from an int, a tuple, 'same' or 'valid'."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding != "same":
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        if any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        # torch puts the odd extra padding after (right/bottom)
        totals = [d * (k - 1) for d, k in zip(dilation, kernel, strict=True)]
        return tuple((t // 2, t - t // 2) for t in totals)
    pads = _tuple(padding, n, "padding", op)
    if any(v < 0 for v in pads):
        raise RuntimeError("negative padding is not supported")
    return tuple((v, v) for v in pads)


def _convolution(op: str, n: int, input, weight, bias, stride, padding, dilation, groups):  # noqa: A002
    x_shape, w_shape = input._data.shape, weight._data.shape
    if len(x_shape) not in (n + 1, n + 2):
        raise RuntimeError(f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to "
                           f"{op}, but got input of size: {list(x_shape)}")
    if len(w_shape) != n + 2:
        raise _errors.op_error(RuntimeError, op, f"expected a {n + 2}-d weight",
                               input=input, weight=weight)
    if input._data.dtype != weight._data.dtype or (
            bias is not None and bias._data.dtype != input._data.dtype):
        raise _errors.op_error(
            RuntimeError, op, f"expected input, weight and bias of the same dtype, got "
            f"{input.dtype.name}, {weight.dtype.name}"
            + (f" and {bias.dtype.name}" if bias is not None else ""), input=input, weight=weight)
    batched = len(x_shape) == n + 2
    channels = x_shape[1 if batched else 0]
    stride = _tuple(stride, n, "stride", op)
    dilation = _tuple(dilation, n, "dilation", op)
    kernel = w_shape[2:]
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    pads = _padding(padding, n, dilation, kernel, stride, op)
    if w_shape[1] * groups != channels or w_shape[0] % groups:
        raise _errors.op_error(
            RuntimeError, op, f"expected input with {w_shape[1] * groups} channels (weight "
            f"{tuple(w_shape)}, groups={groups}) and out_channels divisible by groups",
            input=input, weight=weight)
    if bias is not None and tuple(bias._data.shape) != (w_shape[0],):
        raise _errors.op_error(RuntimeError, op, f"expected bias of shape ({w_shape[0]},)",
                               weight=weight, bias=bias)
    spatial = x_shape[-n:]
    padded = [s + a + b for s, (a, b) in zip(spatial, pads, strict=True)]
    effective = [d * (k - 1) + 1 for d, k in zip(dilation, kernel, strict=True)]
    if any(e > s for e, s in zip(effective, padded, strict=True)):
        raise _errors.op_error(
            RuntimeError, op, f"kernel size {tuple(kernel)} (dilated {tuple(effective)}) is "
            f"bigger than the padded input {tuple(padded)}", input=input, weight=weight)
    out_spatial = tuple((s - e) // st + 1
                        for s, e, st in zip(padded, effective, stride, strict=True))
    if n == 1:  # conv1d runs as conv2d on a unit height
        stride, dilation, pads = (1,) + stride, (1,) + dilation, ((0, 0),) + pads
        spatial, kernel = (1,) + tuple(spatial), (1,) + tuple(kernel)
    batch = x_shape[0] if batched else 1
    geometry = (stride[0], stride[1], pads[0][0], pads[0][1], pads[1][0], pads[1][1],
                dilation[0], dilation[1], groups)
    out_shape = ((batch,) if batched else ()) + (w_shape[0],) + out_spatial
    shapes = ((batch, channels) + tuple(spatial), (w_shape[0], w_shape[1]) + tuple(kernel),
              out_shape)
    return Convolution.apply(input, weight, bias, geometry, shapes)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,  # noqa: A002
           dilation=1, groups: int = 1) -> Tensor:
    """2-d convolution (cross-correlation, as torch) over an (N, C, H, W) input.

    Args:
        input: (N, C, H, W) or unbatched (C, H, W).
        weight: (O, C/groups, kh, kw).
        bias: optional (O,).
        stride, dilation: int or (h, w).
        padding: int, (h, w), ``'valid'`` (none) or ``'same'`` (output size = input size;
            stride 1 only; an odd total puts the extra row/column after).
        groups: split input and output channels into this many independent groups.

    Shape:
        output (N, O, Ho, Wo) with Ho = (H + 2*pad - dilation*(kh-1) - 1) // stride + 1.

    Returns:
        The output tensor. Its backward is once-differentiable.

    Example:
        >>> x = deepgrad.randn(8, 3, 32, 32)
        >>> w = deepgrad.randn(6, 3, 5, 5)
        >>> conv2d(x, w, padding=2).shape
        deepgrad.Size([8, 6, 32, 32])
    """
    return _convolution("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,  # noqa: A002
           dilation=1, groups: int = 1) -> Tensor:
    """1-d convolution over an (N, C, L) input, computed as conv2d on a unit height.

    Args:
        input: (N, C, L) or unbatched (C, L).
        weight: (O, C/groups, k).
        bias: optional (O,).
        stride, padding, dilation, groups: as ``conv2d`` (padding may be 'same'/'valid').

    Shape:
        output (N, O, Lo) with Lo = (L + 2*pad - dilation*(k-1) - 1) // stride + 1.

    Example:
        >>> conv1d(deepgrad.randn(4, 2, 10), deepgrad.randn(3, 2, 3)).shape
        deepgrad.Size([4, 3, 8])
    """
    return _convolution("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)

# ---------------------------------------------------------------- unfold / fold

def _blocks_view(padded, kernel, dilation, stride, out_hw):
    """(N, C, kh, kw, Ho, Wo) strided view of a contiguous padded (N, C, Hp, Wp) array."""
    xp = array_module(padded)
    sn, sc, srow, scol = padded.strides
    shape = padded.shape[:2] + tuple(kernel) + tuple(out_hw)
    strides = (sn, sc, dilation[0] * srow, dilation[1] * scol, stride[0] * srow,
               stride[1] * scol)
    return xp.lib.stride_tricks.as_strided(padded, shape, strides)


class Unfold(Function):
    """im2col as F.unfold: (N, C, H, W) -> (N, C*kh*kw, L); its adjoint is ``Fold``."""

    raw = True

    @staticmethod
    def forward(ctx, x, kernel, dilation, padding, stride, out_hw):
        xp = array_module(x)
        ph, pw = padding
        if ph or pw:
            padded = xp.zeros(x.shape[:2] + (x.shape[2] + 2 * ph, x.shape[3] + 2 * pw), x.dtype)
            padded[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]] = x
        else:
            padded = xp.ascontiguousarray(x)
        ctx.params = (kernel, dilation, padding, stride, out_hw, x.shape[2:])
        view = _blocks_view(padded, kernel, dilation, stride, out_hw)
        blocks = xp.empty(view.shape, x.dtype)  # a copy even when the view is x itself
        xp.copyto(blocks, view)
        return blocks.reshape(x.shape[0], -1, out_hw[0] * out_hw[1])

    @staticmethod
    def backward(ctx, grad_out):
        kernel, dilation, padding, stride, out_hw, size = ctx.params
        return Fold.apply(grad_out, kernel, dilation, padding, stride, out_hw, size)


class Fold(Function):
    """col2im as F.fold: (N, C*kh*kw, L) -> (N, C, H, W), adding overlapping blocks."""

    raw = True

    @staticmethod
    def forward(ctx, cols, kernel, dilation, padding, stride, out_hw, size):
        xp = array_module(cols)
        (kh, kw), (ph, pw) = kernel, padding
        n, c = cols.shape[0], cols.shape[1] // (kh * kw)
        padded = xp.zeros((n, c, size[0] + 2 * ph, size[1] + 2 * pw), cols.dtype)
        view = _blocks_view(padded, kernel, dilation, stride, out_hw)
        blocks = cols.reshape(n, c, kh, kw, out_hw[0], out_hw[1])
        for i in range(kh):  # kh*kw vectorised adds; overlapping blocks accumulate
            for j in range(kw):
                view[:, :, i, j] += blocks[:, :, i, j]
        ctx.params = (kernel, dilation, padding, stride, out_hw)
        return xp.ascontiguousarray(padded[:, :, ph:ph + size[0], pw:pw + size[1]])

    @staticmethod
    def backward(ctx, grad_out):
        return Unfold.apply(grad_out, *ctx.params)


def _block_args(op, kernel_size, dilation, padding, stride, size):
    kernel = _tuple(kernel_size, 2, "kernel_size", op)
    dilation, padding = _tuple(dilation, 2, "dilation", op), _tuple(padding, 2, "padding", op)
    stride = _tuple(stride, 2, "stride", op)
    out_hw = tuple((s + 2 * p - d * (k - 1) - 1) // st + 1
                   for s, p, d, k, st in zip(size, padding, dilation, kernel, stride, strict=True))
    if any(o < 1 for o in out_hw):
        raise RuntimeError(
            f"Given input with spatial size {tuple(size)}, kernel_size={kernel}, dilation="
            f"{dilation}, padding={padding}, calculated shape of the array of sliding blocks as "
            f"{out_hw}, but its components must be at least one.")
    return kernel, dilation, padding, stride, out_hw


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:  # noqa: A002
    """Extract sliding local blocks (im2col), as ``torch.nn.functional.unfold``.

    Args:
        input: (N, C, H, W) or unbatched (C, H, W).
        kernel_size, dilation, padding, stride: int or (h, w).

    Shape:
        output (N, C*kh*kw, L), L the number of block positions; rows ordered (c, i, j).

    Example:
        >>> unfold(deepgrad.randn(1, 2, 4, 4), 2).shape
        deepgrad.Size([1, 8, 9])
    """
    shape = input._data.shape
    if len(shape) not in (3, 4):
        raise _errors.op_error(RuntimeError, "unfold",
                               "expected 3D (unbatched) or 4D (batched) input", input=input)
    x = input if len(shape) == 4 else input.unsqueeze(0)
    params = _block_args("unfold", kernel_size, dilation, padding, stride, shape[-2:])
    result = Unfold.apply(x, *params)
    return result if len(shape) == 4 else result.squeeze(0)


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:  # noqa: A002
    """Combine sliding local blocks into a tensor, adding overlaps (col2im), as
    ``torch.nn.functional.fold``; the adjoint of ``unfold``.

    Args:
        input: (N, C*kh*kw, L) or unbatched (C*kh*kw, L).
        output_size: (H, W) of the result.
        kernel_size, dilation, padding, stride: int or (h, w).

    Shape:
        output (N, C, H, W).

    Example:
        >>> fold(deepgrad.ones(1, 4, 9), (4, 4), 2)[0, 0]
        tensor([[1., 2., 2., 1.],
                [2., 4., 4., 2.],
                [2., 4., 4., 2.],
                [1., 2., 2., 1.]])
    """
    shape = input._data.shape
    if len(shape) not in (2, 3):
        raise _errors.op_error(RuntimeError, "fold",
                               "expected 2D (unbatched) or 3D (batched) input", input=input)
    size = _tuple(output_size, 2, "output_size", "fold")
    params = _block_args("fold", kernel_size, dilation, padding, stride, size)
    kernel, out_hw = params[0], params[4]
    if shape[-2] % (kernel[0] * kernel[1]):
        raise RuntimeError(
            f"Expected size of input's dimension {len(shape) - 2} to be divisible by the product "
            f"of kernel_size, but got input.size({len(shape) - 2})={shape[-2]} and "
            f"kernel_size={kernel}.")
    if shape[-1] != out_hw[0] * out_hw[1]:
        raise RuntimeError(
            f"Given output_size={size}, kernel_size={kernel}, dilation={params[1]}, padding="
            f"{params[2]}, stride={params[3]}, expected size of input's dimension "
            f"{len(shape) - 1} to match the calculated number of sliding blocks {out_hw[0]} * "
            f"{out_hw[1]} = {out_hw[0] * out_hw[1]}, but got input.size({len(shape) - 1})="
            f"{shape[-1]}.")
    x = input if len(shape) == 3 else input.unsqueeze(0)
    result = Fold.apply(x, *params, size)
    return result if len(shape) == 3 else result.squeeze(0)
