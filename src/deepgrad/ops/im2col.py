"""The array kernels behind ``conv1d``/``conv2d``: three GEMM formulations chosen per shape.

NumPy convolutions lose their time moving memory, not in the GEMM, so each plan is about
which copies it avoids (timings in benchmarks/ops/bench_conv.py):

- "pointwise" (1x1 kernel, no padding): the input already is the column matrix; the
  forward is one batched GEMM ``(O, C) @ (N, C, H*W)`` straight into the NCHW output.
- "shift" (stride 1, groups 1, enough channels, padded grid at most 25% larger than the
  output): the input is copied once into a zero-padded (C, N*Hp*Wp) grid, and only the kw
  horizontal shifts are materialised, ``Y[(c, j), q] = grid[c, q + j*dw]`` (kw copies of
  the input, not kh*kw). Output position q of the grid needs ``Y[:, q + i*dh*Wp]`` for
  kernel row i: a column offset of the same matrix. ONE GEMM of the kh stacked weight
  rows ``(kh*O, C*kw) @ Y`` gives every row's partial result, and one strided reduction
  sums the kh shifted blocks straight into the NCHW output, reading only the real output
  positions of the grid. The weight gradient is one GEMM of Y with kh shifted copies of
  the output gradient.
- "columns" (everything else): classic im2col, one strided-view copy into a
  (C*kh*kw, N*Ho*Wo) matrix, and one (group-batched) GEMM. Column matrices up to 32 MB are
  kept for the weight gradient; larger ones are rebuilt in scratch memory. (Computing
  stride-1 rows over the padded width so that column rows become contiguous runs measured
  slower: the extra GEMM columns cost more than the copy saves.)

The input gradient of a stride-1 convolution is the convolution of the output gradient
with the flipped, transposed kernel (padding d*(k-1) - p), run through the same plans:
one GEMM with K = O*kh*kw instead of a GEMM with K = O and kh*kw col2im adds. col2im is
kept where the gradient's columns would be much larger (few input channels, e.g. LeNet's
second conv) and for strided convolutions.

The "columns" forward runs over chunks of images small enough that a chunk's columns are
still in cache when its GEMM reads them; when nothing is kept for backward and a window
row in channels-last order (kw*C values) is longer than an output row (Wo), the chunks are
built channels-last instead ("rows": longer contiguous copies, the same GEMM).

Temporaries live in per-thread scratch buffers reused across calls (kernel_memory.py): a
fresh 100 MB array costs more in page faults than its copy. Nothing returned to the caller
is scratch.
"""

from __future__ import annotations

import numpy as np

from ..backend import array_module
from .kernel_memory import give_back, in_halves, lend, scratch


class Plan:
    """Shapes of one convolution (as 4-d NCHW) and the formulation chosen for them."""

    __slots__ = ("N", "C", "H", "W", "O", "kh", "kw", "Ho", "Wo", "Hp", "Wp", "sh", "sw",
                 "pt", "pb", "pl", "pr", "dh", "dw", "groups", "mode", "keep", "columns")

    def __init__(self, x_shape, w_shape, geometry, mode: str | None = None):
        self.N, self.C, self.H, self.W = x_shape
        self.O, _, self.kh, self.kw = w_shape
        self.sh, self.sw, self.pt, self.pb, self.pl, self.pr, self.dh, self.dw, \
            self.groups = geometry
        self.Hp, self.Wp = self.H + self.pt + self.pb, self.W + self.pl + self.pr
        self.Ho = (self.Hp - self.dh * (self.kh - 1) - 1) // self.sh + 1
        self.Wo = (self.Wp - self.dw * (self.kw - 1) - 1) // self.sw + 1
        self.mode = mode or self._choose()
        # with keep, the forward's column matrix (or shifted input) stays for the weight
        # gradient in a lent buffer instead of being rebuilt in backward
        self.keep, self.columns = False, None

    def _choose(self) -> str:
        stride1 = self.sh == self.sw == 1
        if self.kh == self.kw == 1 and self.Hp == self.H and self.Wp == self.W:
            return "pointwise"
        if stride1 and self.groups == 1 and self.C * self.kw >= 24 and \
                4 * self.Hp * self.Wp <= 5 * self.Ho * self.Wo and self.shift_transposable():
            return "shift"  # at most 25% extra grid positions
        return "columns"

    def shift_transposable(self) -> bool:
        """The shift plan's input gradient is a convolution with padding d*(k-1) - p."""
        return self.dh * (self.kh - 1) >= max(self.pt, self.pb) and \
            self.dw * (self.kw - 1) >= max(self.pl, self.pr)

    def transposed(self):
        """The plan of the input gradient as a convolution of the output gradient (stride 1):
        padding d*(k-1) - p on each side, the flipped and transposed weight."""
        kh, kw = self.dh * (self.kh - 1), self.dw * (self.kw - 1)
        return Plan((self.N, self.O, self.Ho, self.Wo), (self.C, self.O, self.kh, self.kw),
                    (1, 1, kh - self.pt, kh - self.pb, kw - self.pl, kw - self.pr, self.dh,
                     self.dw, 1))


def forward(x, weight, bias, p: Plan):
    """Convolution forward on raw arrays: (N, C, H, W) -> fresh (N, O, Ho, Wo)."""
    if p.mode == "pointwise":
        return _pointwise_forward(x, weight, bias, p)
    if not p.keep and p.groups == 1 and array_module(x) is np:
        if p.kw * p.C > p.Wo:
            return _rows_forward(x, weight, bias, p)
        if p.sw == 1 and p.mode == "columns" and 4 * (p.Wp - p.Wo) <= p.Wo:
            return _wide_forward(x, weight, bias, p)
    if p.mode == "shift":
        return _shift_forward(x, weight, bias, p)
    return _columns_forward(x, weight, bias, p)


def backward(x, weight, grad, p: Plan, need_input: bool, need_weight: bool):
    """(grad_input, grad_weight) as raw arrays (None where not needed)."""
    if p.mode == "pointwise":
        return _pointwise_backward(x, weight, grad, p, need_input, need_weight)
    grad_input = grad_weight = None
    if need_input and _transposable(p):
        # a stride-1 convolution's adjoint: convolve the gradient with the flipped kernel
        flipped = weight[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
        grad_input = forward(grad, array_module(grad).ascontiguousarray(flipped), None,
                             p.transposed())
        need_input = False
    if p.mode == "shift":
        if need_weight:
            grad_weight = _shift_weight_grad(x, grad, p)
        return grad_input, grad_weight
    col_input, grad_weight = _columns_backward(x, weight, grad, p, need_input, need_weight)
    return (grad_input if col_input is None else col_input), grad_weight


def _transposable(p: Plan) -> bool:
    """Input gradient as a convolution (one GEMM with K = O*kh*kw) rather than col2im (a GEMM
    with K = O, then kh*kw adds): faster unless the gradient's own columns would be much
    larger than the input's (small C, large padding to undo)."""
    if p.sh != 1 or p.sw != 1 or p.groups != 1 or not p.shift_transposable():
        return False
    return p.mode == "shift" or 2 * p.O * p.H * p.W <= 3 * p.C * p.Ho * p.Wo


# ---------------------------------------------------------------- pointwise

def _pointwise_input(x, p: Plan):
    if p.sh > 1 or p.sw > 1:
        return array_module(x).ascontiguousarray(x[:, :, ::p.sh, ::p.sw])
    return x


def _pointwise_forward(x, weight, bias, p: Plan):
    xp, g = array_module(x), p.groups
    x = _pointwise_input(x, p)
    # (g, O/g, C/g) @ (N, g, C/g, L) -> (N, g, O/g, L): already the NCHW output
    result = xp.matmul(weight.reshape(g, p.O // g, p.C // g),
                       x.reshape(p.N, g, p.C // g, p.Ho * p.Wo))
    result = result.reshape(p.N, p.O, p.Ho, p.Wo)
    if bias is not None:
        result += bias.reshape(p.O, 1, 1)
    return result


def _pointwise_backward(x, weight, grad, p: Plan, need_input, need_weight):
    xp, g = array_module(grad), p.groups
    grad_input = grad_weight = None
    go = grad.reshape(p.N, g, p.O // g, p.Ho * p.Wo)
    if need_weight:  # sum over images of (O/g, L) @ (L, C/g)
        xs = _pointwise_input(x, p).reshape(p.N, g, p.C // g, p.Ho * p.Wo)
        grad_weight = xp.matmul(go, xs.transpose(0, 1, 3, 2)).sum(0)
    if need_input:
        gi = xp.matmul(weight.reshape(g, p.O // g, p.C // g).transpose(0, 2, 1), go)
        grad_input = gi.reshape(p.N, p.C, p.Ho, p.Wo)
        if p.sh > 1 or p.sw > 1:
            grad_input = xp.zeros((p.N, p.C, p.H, p.W), grad.dtype)
            grad_input[:, :, ::p.sh, ::p.sw] = gi.reshape(p.N, p.C, p.Ho, p.Wo)
    return grad_input, grad_weight


# ---------------------------------------------------------------- shift

def _shifted(x, p: Plan):
    """Y (C*kw, N*Hp*Wp + span): the padded input grid and its kw horizontal shifts."""
    xp = array_module(x)
    q = p.N * p.Hp * p.Wp
    if p.columns is not None:
        return p.columns, q
    q = p.N * p.Hp * p.Wp
    span = (p.kh - 1) * p.dh * p.Wp  # extra columns the kernel rows below need
    width = q + span
    grid = scratch("conv.grid", (p.C, width + (p.kw - 1) * p.dw), x.dtype, xp)
    image = grid[:, :q].reshape(p.C, p.N, p.Hp, p.Wp)
    top, left = p.pt, p.pl
    bottom, right = top + p.H, left + p.W
    image[:, :, :top] = 0
    image[:, :, bottom:] = 0
    image[:, :, top:bottom, :left] = 0
    image[:, :, top:bottom, right:] = 0
    grid[:, q:] = 0
    image[:, :, top:bottom, left:right] = x.transpose(1, 0, 2, 3)
    shape = (p.C, p.kw, width)
    shifted = lend(shape, x.dtype, xp) if p.keep else scratch("conv.shifted", shape, x.dtype,
                                                              xp)
    item = grid.itemsize
    view = xp.lib.stride_tricks.as_strided(grid, (p.C, p.kw, width),
                                           (grid.strides[0], p.dw * item, item))
    in_halves(lambda a, b: xp.copyto(shifted[a:b], view[a:b]), p.C, shifted.nbytes, xp)
    shifted = shifted.reshape(p.C * p.kw, width)
    if p.keep:
        p.columns = shifted
    return shifted, q


def _release(p: Plan) -> None:
    """The weight gradient is done: the kept columns go back for reuse."""
    if p.columns is not None:
        give_back(p.columns)
        p.columns = None


def _shift_forward(x, weight, bias, p: Plan):
    """The shift plan's forward over chunks of images: a chunk's GEMM output (kh blocks of
    O rows) is summed into the NCHW output while it is still in cache (at batch scale the
    kh*O x N*Hp*Wp product is tens of MB, and summing it from memory cost as much as the
    GEMM)."""
    xp = array_module(x)
    shifted, q = _shifted(x, p)
    o, row, plane = p.O, p.dh * p.Wp, p.Hp * p.Wp
    span = shifted.shape[1] - q  # extra columns the kernel rows below need
    # one GEMM for all kernel rows: rows (i, o) of the stacked weight, columns (c, j) of Y
    stacked = weight.transpose(2, 0, 1, 3).reshape(p.kh * o, p.C * p.kw)
    n = max(1, min(p.N, 2 * _CHUNK_BYTES // (p.kh * o * plane * x.dtype.itemsize)))
    if xp is not np:
        n = p.N
    result = xp.empty((p.N, o, p.Ho, p.Wo), x.dtype)

    def work(first: int, last: int) -> None:
        buffer = scratch("conv.gemm", (p.kh * o * (n * plane + span),), x.dtype, xp)
        for start in range(first, last, n):
            m = min(n, last - start)
            columns = m * plane + span
            partial = buffer[:p.kh * o * columns].reshape(p.kh * o, columns)
            xp.matmul(stacked, shifted[:, start * plane:start * plane + columns], out=partial)
            # kernel row i's contribution to grid position q sits at column q + i*row of its
            # block of rows: all kh blocks are one strided view, summed in one pass (only
            # the real output positions of the grid are read)
            item = partial.itemsize
            blocks = xp.lib.stride_tricks.as_strided(
                partial, (p.kh, o, m, p.Hp, p.Wp),
                ((o * columns + row) * item, columns * item, plane * item, p.Wp * item, item))
            blocks = blocks[:, :, :, :p.Ho, :p.Wo].transpose(0, 2, 1, 3, 4)
            xp.sum(blocks, axis=0, out=result[start:start + m])

    in_halves(work, p.N, p.kh * o * q * x.dtype.itemsize, xp)
    if bias is not None:
        result += bias.reshape(o, 1, 1)
    return result


def _shift_weight_grad(x, grad, p: Plan):
    """grad_weight[o, c, i, j] = sum_q grad[o, q] * Y[(c, j), q + i*dh*Wp], for all i at once
    with kh shifted copies of the gradient stacked as GEMM columns."""
    xp = array_module(grad)
    shifted, q = _shifted(x, p)
    o, row, width = p.O, p.dh * p.Wp, shifted.shape[1]
    stack = scratch("conv.grad", (p.kh, o, width), grad.dtype, xp)
    grid = stack[0, :, :q].reshape(o, p.N, p.Hp, p.Wp)  # the gradient on the padded grid
    grid[:, :, p.Ho:] = 0
    grid[:, :, :p.Ho, p.Wo:] = 0
    grid[:, :, :p.Ho, :p.Wo] = grad.transpose(1, 0, 2, 3)
    stack[0, :, q:] = 0
    for i in range(1, p.kh):  # the same block shifted right by i rows
        stack[i, :, :i * row] = 0
        stack[i, :, i * row:i * row + q] = stack[0, :, :q]
        stack[i, :, i * row + q:] = 0
    product = xp.matmul(shifted, stack.reshape(p.kh * o, width).T)  # (C*kw, kh*O)
    _release(p)
    return product.reshape(p.C, p.kw, p.kh, o).transpose(3, 0, 2, 1).copy()


# ---------------------------------------------------------------- columns

def _padded(x, p: Plan, role: str):
    """The zero-padded input in a scratch buffer, (N, C, Hp, Wp)."""
    xp = array_module(x)
    grid = scratch(role, (p.N, p.C, p.Hp, p.Wp), x.dtype, xp)
    top, left = p.pt, p.pl
    bottom, right = top + p.H, left + p.W
    grid[:, :, :top] = 0
    grid[:, :, bottom:] = 0
    grid[:, :, top:bottom, :left] = 0
    grid[:, :, top:bottom, right:] = 0
    grid[:, :, top:bottom, left:right] = x
    return grid


def _window_view(grid, p: Plan, i=None, j=None):
    """Strided view of the padded (N, C, Hp, Wp) grid: (C, kh, kw, N, Ho, Wo), or
    (C, N, Ho, Wo) for the kernel offset (i, j)."""
    xp = array_module(grid)
    sn, sc, srow, scol = grid.strides
    inner = (sn, p.sh * srow, p.sw * scol)  # n, h, w
    if i is None:
        shape = (p.C, p.kh, p.kw, p.N, p.Ho, p.Wo)
        return xp.lib.stride_tricks.as_strided(
            grid, shape, (sc, p.dh * srow, p.dw * scol) + inner)
    base = grid[:, :, i * p.dh:, j * p.dw:]
    return xp.lib.stride_tricks.as_strided(base, (p.C, p.N, p.Ho, p.Wo), (sc,) + inner)


def _columns(x, p: Plan):
    """im2col: (C*kh*kw, N*Ho*Wo), rows ordered (c, i, j) as the weight; in scratch memory
    unless the plan keeps it for backward."""
    xp = array_module(x)
    if p.columns is not None:
        return p.columns
    grid = _padded(x, p, "conv.input")
    shape = (p.C, p.kh, p.kw, p.N, p.Ho, p.Wo)
    keep = p.keep
    cols = lend(shape, x.dtype, xp) if keep else scratch("conv.columns", shape, x.dtype, xp)
    view = _window_view(grid, p)
    in_halves(lambda a, b: xp.copyto(cols[:, :, :, a:b], view[:, :, :, a:b]), p.N, cols.nbytes,
              xp)
    if keep:
        p.columns = cols.reshape(p.C * p.kh * p.kw, p.N * p.Ho * p.Wo)
    return cols.reshape(p.C * p.kh * p.kw, p.N * p.Ho * p.Wo)


def _grouped(matrix, groups: int):
    """(R, S) -> (groups, R/groups, S) view for a GEMM batched over groups."""
    return matrix.reshape(groups, matrix.shape[0] // groups, matrix.shape[1])


# Column-matrix bytes per chunk of images in the columns forward: a chunk's columns are
# still in L2 (2 MB per core here) when its GEMM reads them, and its GEMM output when it is
# transposed to NCHW. LeNet's first conv at batch 256: 4.5 -> 2.3 ms (1 thread).
_CHUNK_BYTES = 1 << 19


def _columns_forward(x, weight, bias, p: Plan):
    """im2col + GEMM, over chunks of images: copy a chunk's columns, multiply, and write its
    NCHW output while all of it is in cache."""
    xp = array_module(x)
    result = xp.empty((p.N, p.O, p.Ho, p.Wo), x.dtype)
    if p.columns is not None:  # (the columns of this very input, kept by an earlier call)
        return _gemm_to_nchw(p.columns, weight, bias, p, 0, p.N, result)
    grid = _padded(x, p, "conv.input")
    view = _window_view(grid, p)
    k, per_image = p.C * p.kh * p.kw, p.Ho * p.Wo
    n = max(1, min(p.N, _CHUNK_BYTES // (k * per_image * x.dtype.itemsize)))
    if xp is not np:
        n = p.N  # one chunk on GPUs: there the copies are cheap and launches are not
    full = (p.C, p.kh, p.kw, p.N, p.Ho, p.Wo)
    kept = lend(full, x.dtype, xp) if p.keep else None

    def work(first: int, last: int) -> None:  # images [first, last), chunk by chunk
        chunk = None if kept is not None else scratch("conv.columns", (k * n * per_image,),
                                                      x.dtype, xp)
        for start in range(first, last, n):
            stop = min(start + n, last)
            if kept is not None:
                cols = kept[:, :, :, start:stop]
            else:
                cols = chunk[:k * (stop - start) * per_image].reshape(
                    p.C, p.kh, p.kw, stop - start, p.Ho, p.Wo)
            xp.copyto(cols, view[:, :, :, start:stop])
            _gemm_to_nchw(cols.reshape(k, -1), weight, bias, p, start, stop, result)

    in_halves(work, p.N, k * p.N * per_image * x.dtype.itemsize, xp)
    if kept is not None:
        p.columns = kept.reshape(k, p.N * per_image)
    return result


def _rows_forward(x, weight, bias, p: Plan):
    """im2col in channels-last order, over chunks of images: a chunk is padded into an
    (m, Hp, Wp, C) grid, its (m*Ho*Wo, kh*kw*C) row matrix copied from windows whose rows
    are runs of kw*C contiguous values (against runs of Wo in the NCHW column matrix), one
    GEMM, and the (m, L, O) -> (m, O, L) transpose with the bias. Taken when nothing is
    kept for backward and kw*C > Wo: LeNet's second conv 4.5 -> 3.4 ms, a 32 -> 64-channel
    3x3 conv at 28x28 78 -> 51 ms (batch 256 / 128, 1 thread)."""
    k, per_image = p.C * p.kh * p.kw, p.Ho * p.Wo
    n = max(1, min(p.N, _CHUNK_BYTES // (k * per_image * x.dtype.itemsize)))
    w_rows = np.ascontiguousarray(weight.transpose(2, 3, 1, 0)).reshape(k, p.O)
    result = np.empty((p.N, p.O, p.Ho, p.Wo), x.dtype)
    top, left = p.pt, p.pl

    def work(first: int, last: int) -> None:  # images [first, last), chunk by chunk
        grid = scratch("conv.input", (n, p.Hp, p.Wp, p.C), x.dtype, np)
        grid[...] = 0
        rows = scratch("conv.columns", (n * per_image * k,), x.dtype, np)
        out = scratch("conv.gemm", (n * per_image * p.O,), x.dtype, np)
        for start in range(first, last, n):
            m = min(n, last - start)
            g = grid[:m]
            g[:, top:top + p.H, left:left + p.W] = x[start:start + m].transpose(0, 2, 3, 1)
            s0, s1, s2, s3 = g.strides
            windows = np.lib.stride_tricks.as_strided(
                g, (m, p.Ho, p.Wo, p.kh, p.kw, p.C),
                (s0, s1 * p.sh, s2 * p.sw, s1 * p.dh, s2 * p.dw, s3))
            r = rows[:m * per_image * k].reshape(m, p.Ho, p.Wo, p.kh, p.kw, p.C)
            np.copyto(r, windows)
            o = out[:m * per_image * p.O].reshape(m * per_image, p.O)
            np.matmul(r.reshape(m * per_image, k), w_rows, out=o)
            target = result[start:start + m].reshape(m, p.O, per_image)
            view = o.reshape(m, per_image, p.O).transpose(0, 2, 1)
            if bias is None:
                np.copyto(target, view)
            else:
                np.add(view, bias.reshape(p.O, 1), out=target)

    in_halves(work, p.N, k * p.N * per_image * x.dtype.itemsize)
    return result


def _wide_forward(x, weight, bias, p: Plan):
    """Columns over the padded width: with stride 1 along the width, output rows computed
    for all Wp grid columns (the last Wp - Wo are discarded) make each column-matrix row a
    contiguous run of Ho*Wp grid values instead of Ho runs of Wo; the GEMM does up to 25%
    more columns. Taken when nothing is kept for backward and few channels make the rows
    plan's windows short (kw*C <= Wo): LeNet's first conv 3.1 -> 2.9 ms, a 3-channel 5x5 conv
    at 32x32 12.9 -> 10.2 ms (batch 256, 1 thread)."""
    k, row = p.C * p.kh * p.kw, p.Ho * p.Wp
    plane, slack = p.Hp * p.Wp, (p.kw - 1) * p.dw
    n = max(1, min(p.N, _CHUNK_BYTES // (k * row * x.dtype.itemsize)))
    flat = scratch("conv.wide", (p.N * p.C * plane + slack,), x.dtype, np)
    grid = flat[:p.N * p.C * plane].reshape(p.N, p.C, p.Hp, p.Wp)
    top, left, bottom, right = p.pt, p.pl, p.pt + p.H, p.pl + p.W
    grid[:, :, :top] = 0
    grid[:, :, bottom:] = 0
    grid[:, :, top:bottom, :left] = 0
    grid[:, :, top:bottom, right:] = 0
    grid[:, :, top:bottom, left:right] = x
    flat[p.N * p.C * plane:] = 0  # read only by discarded columns; kept finite
    e = x.dtype.itemsize
    w_matrix = weight.reshape(p.O, k)
    result = np.empty((p.N, p.O, p.Ho, p.Wo), x.dtype)

    def work(first: int, last: int) -> None:
        cols = scratch("conv.columns", (k * n * row,), x.dtype, np)
        out = scratch("conv.gemm", (p.O * n * row,), x.dtype, np)
        for start in range(first, last, n):
            m = min(n, last - start)
            windows = np.lib.stride_tricks.as_strided(
                flat[start * p.C * plane:], (p.C, p.kh, p.kw, m, p.Ho, p.Wp),
                (plane * e, p.dh * p.Wp * e, p.dw * e, p.C * plane * e, p.sh * p.Wp * e, e))
            c = cols[:k * m * row].reshape(p.C, p.kh, p.kw, m, p.Ho, p.Wp)
            np.copyto(c, windows)
            o = out[:p.O * m * row].reshape(p.O, m * row)
            np.matmul(w_matrix, c.reshape(k, m * row), out=o)
            view = o.reshape(p.O, m, p.Ho, p.Wp)[:, :, :, :p.Wo].transpose(1, 0, 2, 3)
            if bias is None:
                np.copyto(result[start:start + m], view)
            else:
                np.add(view, bias.reshape(p.O, 1, 1), out=result[start:start + m])

    in_halves(work, p.N, k * p.N * row * e)
    return result


def _gemm_to_nchw(cols, weight, bias, p: Plan, start: int, stop: int, result):
    """``result[start:stop]`` = the convolution of images start..stop from their (K, m*L)
    columns: one (group-batched) GEMM, then the (O, m) -> (m, O) transpose with the bias."""
    xp, g = array_module(cols), p.groups
    m = stop - start
    size = p.O * m * p.Ho * p.Wo
    out = scratch("conv.gemm", (size,), cols.dtype, xp).reshape(g, p.O // g, m * p.Ho * p.Wo)
    xp.matmul(weight.reshape(g, p.O // g, -1), _grouped(cols, g), out=out)
    view = out.reshape(p.O, m, p.Ho, p.Wo).transpose(1, 0, 2, 3)
    if bias is None:
        xp.copyto(result[start:stop], view)
    else:
        xp.add(view, bias.reshape(p.O, 1, 1), out=result[start:stop])
    return result


def _columns_backward(x, weight, grad, p: Plan, need_input, need_weight):
    xp, g = array_module(grad), p.groups
    grad_input = grad_weight = None
    # grad_out as (O, N, Ho, Wo), the layout of the columns
    go = scratch("conv.grad", (p.O, p.N, p.Ho, p.Wo), grad.dtype, xp)
    go[...] = grad.transpose(1, 0, 2, 3)
    go = _grouped(go.reshape(p.O, -1), g)
    if need_weight:  # (K/g, NL) @ (NL, O/g) per group, the faster orientation for BLAS
        cols = _grouped(_columns(x, p), g)
        grad_weight = xp.matmul(cols, go.transpose(0, 2, 1)).transpose(0, 2, 1)
        _release(p)
    if need_input:
        k = p.C * p.kh * p.kw
        gcols = scratch("conv.columns", (g, k // g, go.shape[2]), grad.dtype, xp)
        xp.matmul(weight.reshape(g, p.O // g, -1).transpose(0, 2, 1), go, out=gcols)
        gcols = gcols.reshape(p.C, p.kh, p.kw, p.N, p.Ho, p.Wo)
        grid = scratch("conv.input", (p.N, p.C, p.Hp, p.Wp), grad.dtype, xp)
        grid[...] = 0
        for i in range(p.kh):  # col2im: kh*kw vectorised adds of whole column blocks
            for j in range(p.kw):
                view = _window_view(grid, p, i, j)
                view += gcols[:, i, j]
        grad_input = xp.empty((p.N, p.C, p.H, p.W), grad.dtype)  # never the scratch itself
        xp.copyto(grad_input, grid[:, :, p.pt:p.pt + p.H, p.pl:p.pl + p.W])
    return grad_input, grad_weight
