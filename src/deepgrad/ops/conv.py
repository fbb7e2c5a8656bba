"""Convolution: ``conv1d``/``conv2d`` as im2col plus one BLAS GEMM, and ``unfold``/``fold``.

Layout (measured in benchmarks/ops/bench_conv.py): the input is copied once into a
zero-padded buffer; the column matrix is laid out as (C*kh*kw, N*L) so the forward is ONE
GEMM ``weight (O, K) @ columns (K, N*L)`` (a batched one over groups), and the (O, N, L)
result is transposed into the (N, O, Ho, Wo) output in the same copy that adds the bias.

For stride 1 ("rows" plan) each output row is computed over the full padded width Wp, so a
column row ``(c, i, j)`` of image n is ONE contiguous run of the padded input (Ho*Wp
values starting at offset i*Wp + j): building the columns is kh*kw block copies and
col2im is kh*kw block adds, instead of element-wise strided gathers. The (Wp - Wo) extra
columns per row cost a little GEMM time and are dropped when the output is written. A
1x1 kernel without padding needs no columns at all ("pointwise" plan). Other strides use
a strided view of the padded input ("valid" plan).

Large temporaries (padded input, columns, GEMM result) live in per-thread scratch
buffers reused across calls: a fresh 100 MB array costs more in page faults than its
copy. The backward recomputes the columns into that scratch instead of keeping one
column matrix per layer alive until backward. It uses raw array kernels for speed
(design principle 4), so it is once-differentiable: double backward through a
convolution raises a clear error.
"""

from __future__ import annotations

import threading

import numpy as np

from .. import _errors
from .._tensor import Tensor
from ..autograd.function import Function, once_differentiable
from ..backend import array_module

__all__ = ["conv1d", "conv2d"]  # torch.conv1d/conv2d; unfold/fold live in nn.functional only

_local = threading.local()
_SCRATCH_LIMIT = 1 << 30  # bytes; larger temporaries are allocated per call


def scratch(role: str, shape: tuple, dtype, xp):
    """A reusable per-thread buffer of ``shape`` for temporaries that never escape an op.

    Args:
        role: which temporary ("conv.columns", ...); each role keeps its largest buffer.
        shape, dtype: wanted array; contents are undefined.
        xp: array module (numpy or cupy).
    """
    size = 1
    for n in shape:
        size *= n
    dtype = np.dtype(dtype)
    if size * dtype.itemsize > _SCRATCH_LIMIT:
        return xp.empty(shape, dtype)
    pool = getattr(_local, "pool", None)
    if pool is None:
        pool = _local.pool = {}
    key = (role, dtype, xp.__name__)
    buffer = pool.get(key)
    if buffer is None or buffer.size < size:
        buffer = pool[key] = xp.empty(max(size, 1), dtype)
    return buffer[:size].reshape(shape)


# ---------------------------------------------------------------- geometry

class _Plan:
    """Everything a convolution kernel needs to know about the shapes (4-d NCHW view)."""

    __slots__ = ("N", "C", "H", "W", "O", "kh", "kw", "Ho", "Wo", "Hp", "Wp", "sh", "sw",
                 "pt", "pl", "dh", "dw", "groups", "mode", "Wx", "ext")

    def __init__(self, x_shape, w_shape, geometry):
        self.N, self.C, self.H, self.W = x_shape
        self.O, _, self.kh, self.kw = w_shape
        self.sh, self.sw, self.pt, pb, self.pl, pr, self.dh, self.dw, self.groups = geometry
        self.Hp, self.Wp = self.H + self.pt + pb, self.W + self.pl + pr
        self.Ho = (self.Hp - self.dh * (self.kh - 1) - 1) // self.sh + 1
        self.Wo = (self.Wp - self.dw * (self.kw - 1) - 1) // self.sw + 1
        self.ext = 0
        if self.kh == self.kw == 1 and self.Hp == self.H and self.Wp == self.W:
            self.mode, self.Wx = "pointwise", self.Wo
        elif self.sh == self.sw == 1 and 2 * self.Wp <= 3 * self.Wo:
            # a row of the last image reads up to (kw-1)*dw values past the padded input
            self.mode, self.Wx, self.ext = "rows", self.Wp, (self.kw - 1) * self.dw
        else:
            self.mode, self.Wx = "valid", self.Wo


def _padded(x, p: _Plan, role: str):
    """The zero-padded input as a flat scratch buffer (N*C*Hp*Wp + ext values)."""
    xp = array_module(x)
    size = p.N * p.C * p.Hp * p.Wp
    flat = scratch(role, (size + p.ext,), x.dtype, xp)
    grid = flat[:size].reshape(p.N, p.C, p.Hp, p.Wp)
    top, left = p.pt, p.pl
    bottom, right = top + p.H, left + p.W
    grid[:, :, :top] = 0
    grid[:, :, bottom:] = 0
    grid[:, :, top:bottom, :left] = 0
    grid[:, :, top:bottom, right:] = 0
    flat[size:] = 0
    grid[:, :, top:bottom, left:right] = x
    return flat


def _window_view(flat, p: _Plan, i=None, j=None):
    """Strided view of the padded buffer: (C, kh, kw, N, Ho, Wx), or (C, N, Ho, Wx) for one
    kernel offset (i, j). Rows of the "rows" plan are contiguous runs of Ho*Wp values."""
    xp = array_module(flat)
    item = flat.itemsize
    plane = p.Hp * p.Wp
    offset = 0 if i is None else (i * p.dh * p.Wp + j * p.dw)
    base = flat[offset:]
    inner = (p.C * plane * item, p.sh * p.Wp * item, p.sw * item)  # n, h, w
    if i is None:
        shape = (p.C, p.kh, p.kw, p.N, p.Ho, p.Wx)
        strides = (plane * item, p.dh * p.Wp * item, p.dw * item) + inner
    else:
        shape = (p.C, p.N, p.Ho, p.Wx)
        strides = (plane * item,) + inner
    return xp.lib.stride_tricks.as_strided(base, shape, strides)


def _columns(flat, p: _Plan, role: str = "conv.columns"):
    """im2col into scratch: (C*kh*kw, N*Ho*Wx), rows ordered (c, i, j) as the weight."""
    xp = array_module(flat)
    cols = scratch(role, (p.C, p.kh, p.kw, p.N, p.Ho, p.Wx), flat.dtype, xp)
    xp.copyto(cols, _window_view(flat, p))
    return cols.reshape(p.C * p.kh * p.kw, p.N * p.Ho * p.Wx)


def _grouped(matrix, groups: int):
    """(R, S) -> (groups, R/groups, S) view for a GEMM batched over groups."""
    return matrix.reshape(groups, matrix.shape[0] // groups, matrix.shape[1])


def _forward(x, weight, bias, p: _Plan):
    xp = array_module(x)
    g = p.groups
    if p.mode == "pointwise":
        if p.sh > 1 or p.sw > 1:
            x = xp.ascontiguousarray(x[:, :, ::p.sh, ::p.sw])
        # (g, O/g, C/g) @ (N, g, C/g, L) -> (N, g, O/g, L): already the NCHW output
        result = xp.matmul(weight.reshape(g, p.O // g, p.C // g),
                           x.reshape(p.N, g, p.C // g, p.Ho * p.Wo))
        result = result.reshape(p.N, p.O, p.Ho, p.Wo)
        if bias is not None:
            result += bias.reshape(p.O, 1, 1)
        return result
    cols = _columns(_padded(x, p, "conv.input"), p)
    out = scratch("conv.gemm", (g, p.O // g, cols.shape[1]), x.dtype, xp)
    xp.matmul(weight.reshape(g, p.O // g, -1), _grouped(cols, g), out=out)
    # (O, N, Ho, Wx) -> (N, O, Ho, Wo), dropping the extra columns of the "rows" plan
    view = out.reshape(p.O, p.N, p.Ho, p.Wx)[..., :p.Wo].transpose(1, 0, 2, 3)
    result = xp.empty((p.N, p.O, p.Ho, p.Wo), x.dtype)
    if bias is None:
        xp.copyto(result, view)
    else:
        xp.add(view, bias.reshape(p.O, 1, 1), out=result)
    return result


def _backward(x, weight, grad, p: _Plan, need_input: bool, need_weight: bool):
    xp = array_module(grad)
    g = p.groups
    grad_input = grad_weight = None
    if p.mode == "pointwise":
        if p.sh > 1 or p.sw > 1:
            x = xp.ascontiguousarray(x[:, :, ::p.sh, ::p.sw])
        go = grad.reshape(p.N, g, p.O // g, p.Ho * p.Wo)
        if need_weight:  # sum over images of (O/g, L) @ (L, C/g)
            xs = x.reshape(p.N, g, p.C // g, p.Ho * p.Wo)
            grad_weight = xp.matmul(go, xs.transpose(0, 1, 3, 2)).sum(0)
        if need_input:
            gi = xp.matmul(weight.reshape(g, p.O // g, p.C // g).transpose(0, 2, 1), go)
            gi = gi.reshape(p.N, p.C, p.Ho, p.Wo)
            if p.sh > 1 or p.sw > 1:
                full = xp.zeros((p.N, p.C, p.H, p.W), grad.dtype)
                full[:, :, ::p.sh, ::p.sw] = gi
                gi = full
            grad_input = gi
        return grad_input, grad_weight
    # grad_out as (O, N, Ho, Wx) with zeros in the extra columns, matching the columns
    go = scratch("conv.grad", (p.O, p.N, p.Ho, p.Wx), grad.dtype, xp)
    if p.Wx > p.Wo:
        go[..., p.Wo:] = 0
    go[..., :p.Wo] = grad.transpose(1, 0, 2, 3)
    go = _grouped(go.reshape(p.O, -1), g)
    if need_weight:
        cols = _columns(_padded(x, p, "conv.input"), p)
        grad_weight = xp.matmul(go, _grouped(cols, g).transpose(0, 2, 1))
    if need_input:
        k = p.C * p.kh * p.kw
        gcols = scratch("conv.columns", (g, k // g, go.shape[2]), grad.dtype, xp)
        xp.matmul(weight.reshape(g, p.O // g, -1).transpose(0, 2, 1), go, out=gcols)
        gcols = gcols.reshape(p.C, p.kh, p.kw, p.N, p.Ho, p.Wx)
        size = p.N * p.C * p.Hp * p.Wp
        flat = scratch("conv.input", (size + p.ext,), grad.dtype, xp)
        flat[...] = 0
        for i in range(p.kh):  # col2im: kh*kw vectorised adds of whole column blocks
            for j in range(p.kw):
                view = _window_view(flat, p, i, j)
                view += gcols[:, i, j]
        grid = flat[:size].reshape(p.N, p.C, p.Hp, p.Wp)
        grad_input = xp.ascontiguousarray(grid[:, :, p.pt:p.pt + p.H, p.pl:p.pl + p.W])
    return grad_input, grad_weight


class Convolution(Function):
    """conv1d/conv2d on raw arrays; ``shapes`` gives the 4-d NCHW views of input and
    weight (conv1d and unbatched inputs are reshaped, not copied)."""

    raw = True

    @staticmethod
    def forward(ctx, x, weight, bias, geometry, shapes):
        x4, w4 = x.reshape(shapes[0]), weight.reshape(shapes[1])
        plan = _Plan(x4.shape, w4.shape, geometry)
        result = _forward(x4, w4, bias, plan)
        ctx.plan, ctx.shapes, ctx.has_bias = plan, (x.shape, weight.shape), bias is not None
        ctx.save_for_backward(x, weight)
        return result.reshape(shapes[2])

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        p = ctx.plan
        need_input, need_weight, need_bias = ctx.needs_input_grad[:3]
        grad = grad_out._data.reshape(p.N, p.O, p.Ho, p.Wo)
        grad_input, grad_weight = _backward(
            x._data.reshape(p.N, p.C, p.H, p.W), weight._data.reshape(p.O, -1, p.kh, p.kw),
            grad, p, need_input, need_weight)
        x_shape, w_shape = ctx.shapes
        grad_bias = None
        if need_bias and ctx.has_bias:
            grad_bias = Tensor._make(grad.sum((0, 2, 3)))
        if grad_input is not None:
            grad_input = Tensor._make(grad_input.reshape(x_shape))
        if grad_weight is not None:
            grad_weight = Tensor._make(grad_weight.reshape(w_shape))
        return grad_input, grad_weight, grad_bias

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
        blocks = xp.ascontiguousarray(_blocks_view(padded, kernel, dilation, stride, out_hw))
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
