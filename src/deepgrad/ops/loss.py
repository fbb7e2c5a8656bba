"""Class-index losses: ``cross_entropy`` and ``nll_loss``, each one fused ``Function``.

``cross_entropy`` is the last op of every classifier step, so its common case (class
indices, no weight, mean, no label smoothing) is one pass: shift by the row max (stable
for logits of magnitude 1e4), exponentiate, sum, pick the target entries; the softmax
needed by backward is kept from that pass. Its backward is ``(softmax - onehot) * weight /
normaliser`` in a ``CrossEntropyGrad`` node whose own backward is written with deepgrad ops
(softmax and its gradient), so Hessians through a classifier loss work. Inputs of shape
``(N, C, d1, ...)`` are folded to ``(N * d1 * ..., C)`` with differentiable ops first.
Probability targets are a composition.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import _errors
from .._tensor import Tensor
from ..autograd.function import Function
from ..backend import array_module
from .elementwise import _zeros_like
from .gemv_sum import row_sum
from .softmax import Softmax, SoftmaxGrad, log_softmax

__all__: list = []  # torch exposes these under nn.functional

_REDUCTIONS = ("none", "mean", "sum")
_TARGET_DTYPES = (np.dtype(np.int64), np.dtype(np.uint8))


def reduction_of(size_average, reduce, reduction: str) -> str:
    """The ``reduction`` string, honouring torch's deprecated ``size_average``/``reduce``."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
        warnings.warn("size_average and reduce args will be deprecated, please use "
                      f"reduction='{reduction}' instead.", UserWarning, stacklevel=3)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def reduce_loss(losses: Tensor, reduction: str) -> Tensor:
    """Apply ``reduction`` ('none', 'mean' or 'sum') to elementwise losses."""
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


# ---------------------------------------------------------------- target bookkeeping

class _Targets:
    """Per-row facts about class-index targets: which rows count (``valid``, None when all
    do), a safe index for every row, the flat position of each row's target in the
    ``(M, C)`` logits (1-d fancy indexing is twice as fast as ``[rows, targets]``), each
    row's weight ``w_t`` and the mean's normaliser."""

    __slots__ = ("count", "flat", "safe", "valid", "row_weight", "norm", "weight", "classes")

    def __init__(self, op: str, target, weight, ignore_index: int, classes: int, dtype):
        xp = array_module(target)
        self.count = target.shape[0]
        self.classes = classes
        self.weight = None if weight is None else weight.astype(dtype, copy=False)
        valid = None
        # one pass checks 0 <= t < C: negative int64 targets wrap to huge unsigned values
        if target.size and (0 <= ignore_index < classes
                            or target.view(_UNSIGNED[target.dtype.itemsize]).max() >= classes):
            valid = target != ignore_index
            counted = target[valid]
            bad = (counted < 0) | (counted >= classes)
            if bad.any():
                raise IndexError(f"{op}: Target {int(counted[bad][0])} is out of bounds.")
            if valid.all():
                valid = None
        self.valid = valid
        self.safe = target if valid is None else xp.where(valid, target, 0)
        self.flat = _row_starts(xp, self.count, classes) + self.safe
        if self.weight is not None:
            row_weight = self.weight[self.safe]
            if valid is not None:
                row_weight = row_weight * valid
        elif valid is not None:
            row_weight = valid.astype(dtype)
        else:
            row_weight = None  # every row weighs 1
        self.row_weight = row_weight
        self.norm = target.shape[0] if row_weight is None else row_weight.sum()


_UNSIGNED = {1: np.uint8, 8: np.uint64}
_ROW_STARTS: dict = {}


def _row_starts(xp, rows: int, classes: int):
    """``arange(0, rows * classes, classes)``, cached: a training loop asks for the same one
    every step (the cache is small and reset when it grows)."""
    key = (rows, classes, xp)
    starts = _ROW_STARTS.get(key)
    if starts is None:
        if len(_ROW_STARTS) >= 16:
            _ROW_STARTS.clear()
        starts = _ROW_STARTS[key] = xp.arange(0, rows * classes, classes)
    return starts


def _over_norm(xp, value, norm, dtype):
    """``value / norm`` in ``dtype``; a zero norm (every row ignored) gives nan/inf quietly,
    as torch does, without paying for ``errstate`` in the common case."""
    if type(norm) is int and norm:
        return value / dtype.type(norm)
    with xp.errstate(invalid="ignore", divide="ignore"):
        return value / xp.asarray(norm, dtype)


def _reduce(xp, losses, targets: _Targets, reduction: str, dtype):
    if reduction == "none":
        return losses
    total = losses.sum()
    if reduction == "mean":
        total = _over_norm(xp, total, targets.norm, dtype)
    return xp.asarray(total, dtype)


def _row_scale(xp, grad, targets: _Targets, reduction: str, dtype):
    """d(reduced loss)/d(loss_i) for each row: grad_out per row, shared, or over the norm."""
    if reduction == "mean":
        return _over_norm(xp, grad, targets.norm, dtype)
    return grad


# ---------------------------------------------------------------- row reductions

# NumPy reduces a short inner axis slowly (max over (300, 3) takes ~30 us, the time of ten
# elementwise ops), so rows of logits are reduced column by column or with a BLAS gemv.
_FEW_CLASSES = 16


# Logits whose whole range is below these can share one shift (the global max) instead of
# each row's own: every row's largest exp is then at least exp(-range), far from underflow
# (float32's smallest normal is exp(-87)). Two contiguous reductions cost less than the
# per-row max over a short row (spiral, 300 x 3: about 4 us less per step).
_GLOBAL_SHIFT_RANGE = {np.dtype(np.float16): 8.0, np.dtype(np.float32): 60.0,
                       np.dtype(np.float64): 600.0}


def _shifted_logits(x):
    """``x`` minus a per-row bound >= the row's max, for a stable softmax."""
    limit = _GLOBAL_SHIFT_RANGE.get(x.dtype)
    if limit is not None and type(x) is np.ndarray and x.size:
        high = np.maximum.reduce(x, axis=None)
        if high - np.minimum.reduce(x, axis=None) < limit:  # (False for nan and inf)
            return x - high
    return x - _row_max(x)


def _row_max(x):
    """``x.max(axis=1, keepdims=True)`` for (M, C), NaN-propagating like it."""
    classes = x.shape[1]
    if type(x) is not np.ndarray or not 0 < classes <= _FEW_CLASSES:
        return x.max(axis=1, keepdims=True)
    if classes == 1:
        return x.copy()
    top = np.maximum(x[:, 0], x[:, 1])
    for j in range(2, classes):
        np.maximum(top, x[:, j], out=top)
    return top[:, None]


# ---------------------------------------------------------------- cross entropy

class CrossEntropy(Function):
    """Cross-entropy of ``(M, C)`` logits against ``(M,)`` class indices."""

    raw = True

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction, label_smoothing):
        xp = array_module(x)
        dtype = x.dtype
        classes = x.shape[1]
        targets = _Targets("cross_entropy", target, weight, ignore_index, classes, dtype)
        shifted = _shifted_logits(x)  # minus the (row or global) max, for stability
        exp = xp.exp(shifted)
        total = row_sum(exp)
        log_total = xp.log(total)[:, 0]
        losses = log_total - shifted.reshape(-1)[targets.flat]  # -log p(target)
        if targets.row_weight is not None:
            losses *= targets.row_weight
        if label_smoothing:
            # the uniform part: -sum_c w_c log p_c = W log_total - sum_c w_c shifted_c
            if targets.weight is None:
                smooth = classes * log_total - shifted.sum(axis=1)
            else:
                smooth = targets.weight.sum() * log_total - shifted @ targets.weight
            if targets.valid is not None:
                smooth *= targets.valid
            losses = (1 - label_smoothing) * losses + (label_smoothing / classes) * smooth
        if ctx.needs_input_grad[0]:
            exp /= total  # the softmax, kept for backward
            ctx.probs = exp
        ctx.targets, ctx.reduction, ctx.label_smoothing = targets, reduction, label_smoothing
        ctx.save_for_backward(x)
        return _reduce(xp, losses.astype(dtype, copy=False), targets, reduction, dtype)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return CrossEntropyGrad.apply(grad_out, x, ctx), None, None, None, None, None

    @staticmethod
    def raw_backward(ctx, grad_out):
        (x,) = ctx.saved_arrays  # checks that the logits were not modified in place
        return _cross_entropy_grad(grad_out, ctx, x.dtype), None, None, None, None, None


class CrossEntropyGrad(Function):
    """``d cross_entropy / d logits`` given the output gradient. With ``p = softmax(x)``
    each row is ``s_i * (a_i * p + b_i)``: ``s`` the output gradient (over the normaliser
    for 'mean'), ``a`` and ``b`` constants of the targets, weights and label smoothing."""

    raw = True

    @staticmethod
    def forward(ctx, grad, x, forward_ctx):
        ctx.forward_ctx = forward_ctx
        ctx.save_for_backward(grad, x)
        return _cross_entropy_grad(grad, forward_ctx, x.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        grad, x = ctx.saved_tensors
        forward_ctx = ctx.forward_ctx
        targets, reduction = forward_ctx.targets, forward_ctx.reduction
        xp = array_module(x._data)
        a, b = _affine_parts(xp, targets, forward_ctx.label_smoothing, x._data.dtype)
        a, b = Tensor._make(a), Tensor._make(b)
        need_grad, need_x = ctx.needs_input_grad[:2]
        p = Softmax.apply(x, 1)
        grad_grad = grad_x = None
        if need_grad:
            per_row = (grad_out * (a * p + b)).sum(1)
            grad_grad = per_row if reduction == "none" else per_row.sum()
            if reduction == "mean":
                grad_grad = grad_grad / Tensor._make(xp.asarray(targets.norm or 1, x._data.dtype))
        if need_x:
            scale = grad.reshape(-1, 1) if reduction == "none" else grad
            if reduction == "mean":
                scale = scale / Tensor._make(xp.asarray(targets.norm or 1, x._data.dtype))
            grad_x = SoftmaxGrad.apply(grad_out * (scale * a), p, 1)
        return grad_grad, grad_x


def _cross_entropy_grad(grad, forward_ctx, dtype):
    """The array gradient of cross-entropy's logits for output gradient ``grad``."""
    targets, reduction = forward_ctx.targets, forward_ctx.reduction
    xp = array_module(forward_ctx.probs)
    scale = _row_scale(xp, grad, targets, reduction, dtype)
    if reduction == "none":
        scale = scale[:, None]
    smoothing = forward_ctx.label_smoothing
    if targets.row_weight is None and not smoothing:  # the common case: (p - onehot) * s
        result = forward_ctx.probs * scale
        result.reshape(-1)[targets.flat] -= scale if scale.ndim == 0 else scale[:, 0]
        return result
    a, b = _affine_parts(xp, targets, smoothing, dtype)
    with xp.errstate(invalid="ignore"):
        result = forward_ctx.probs * (scale * a) + scale * b
    if targets.valid is not None:  # ignored rows get exactly 0 (not 0 * inf)
        result = xp.where(targets.valid[:, None], result, dtype.type(0))
    return result


def _affine_parts(xp, targets: _Targets, smoothing: float, dtype):
    """(a, b) with each gradient row ``a_i * p + b_i``: a (M, 1), b (M, C)."""
    rows, classes = targets.count, targets.classes
    row_weight = (targets.row_weight if targets.row_weight is not None
                  else xp.ones(rows, dtype))
    weight_sum = classes if targets.weight is None else targets.weight.sum()
    valid = xp.ones(rows, dtype) if targets.valid is None else targets.valid.astype(dtype)
    a = (1 - smoothing) * row_weight + (smoothing / classes) * weight_sum * valid
    b = xp.zeros((rows, classes), dtype)
    b.reshape(-1)[targets.flat] = -(1 - smoothing) * row_weight
    if smoothing:
        uniform = xp.ones(classes, dtype) if targets.weight is None else targets.weight
        b -= (smoothing / classes) * valid[:, None] * uniform
    return a[:, None].astype(dtype, copy=False), b.astype(dtype, copy=False)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy between logits and class indices (or class probabilities).

    ``loss_i = -w[t_i] * log_softmax(x_i)[t_i]``; 'mean' divides by the summed weights of
    the rows that count (rows whose target is ``ignore_index`` do not). With
    ``label_smoothing`` ``e`` the target is ``(1 - e) * onehot + e / C``.

    Args:
        input: logits ``(N, C)``, ``(C,)`` or ``(N, C, d1, ...)``.
        target: class indices (int64) ``(N,)``, ``()`` or ``(N, d1, ...)``; or probabilities
            of ``input``'s shape.
        weight: optional per-class weights ``(C,)``.
        ignore_index: target value that contributes nothing (class indices only).
        reduction: 'none' | 'mean' | 'sum'.
        label_smoothing: in [0, 1].

    Returns:
        A 0-d tensor, or the per-element losses for 'none' (target's shape).

    Example:
        >>> F.cross_entropy(deepgrad.tensor([[2., 0.], [0., 2.]]), deepgrad.tensor([0, 1]))
        tensor(0.1269)
    """
    reduction = reduction_of(size_average, reduce, reduction)
    ndim = input._data.ndim
    if ndim == 0:
        raise _errors.op_error(RuntimeError, "cross_entropy",
                               "expected input of shape (C,), (N, C) or (N, C, d1, ...)",
                               input=input, target=target)
    classes = input._data.shape[0 if ndim == 1 else 1]
    _check_weight("cross_entropy", weight, classes)
    if target._data.shape == input._data.shape:
        return _cross_entropy_probabilities(input, target, weight, ignore_index, reduction,
                                            label_smoothing, classes)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")
    x, t = _fold("cross_entropy", input, target)
    result = CrossEntropy.apply(x, t, weight, ignore_index, reduction, label_smoothing)
    if reduction == "none" and ndim != 2:
        result = result.reshape(target._data.shape)
    return result


def _cross_entropy_probabilities(input, target, weight, ignore_index, reduction,  # noqa: A002
                                 label_smoothing, classes):
    """Soft targets: ``-sum_c w_c t_c log_softmax(x)_c`` (a composition of deepgrad ops)."""
    if target._data.dtype.kind != "f":
        raise RuntimeError("cross_entropy: expected floating point type for target with class "
                           f"probabilities, got {target.dtype.name}")
    if ignore_index >= 0:
        raise RuntimeError("cross_entropy: ignore_index is not supported for floating point "
                           "target")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")
    class_dim = 0 if input._data.ndim == 1 else 1
    logp = log_softmax(input, class_dim)
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / classes
    product = logp * target
    if weight is not None:
        shape = [1] * input._data.ndim
        shape[class_dim] = classes
        product = product * weight.reshape(shape)
    if reduction == "none":
        return -product.sum(class_dim)
    total = -product.sum()
    if reduction == "sum":
        return total
    return total / (input._data.size // classes) if input._data.size else total * float("nan")


def _check_weight(op: str, weight, classes: int) -> None:
    if weight is not None and weight._data.shape != (classes,):
        raise RuntimeError(f"{op}: weight tensor should be defined either for all {classes} "
                           f"classes or no classes but got weight tensor of shape: "
                           f"{list(weight._data.shape)}")


def _fold(op: str, input: Tensor, target: Tensor):  # noqa: A002
    """(input as (M, C), target as (M,)) for 1-d, 2-d and (N, C, d1, ...) inputs."""
    if target._data.dtype not in _TARGET_DTYPES:
        raise RuntimeError(f"{op}: expected target dtype to be Long or Byte, but got "
                           f"{target.dtype.name}")
    shape, target_shape = input._data.shape, target._data.shape
    ndim = len(shape)
    if ndim == 1:
        if target_shape != ():
            raise _errors.op_error(RuntimeError, op,
                                   "expected a 0-d target for an unbatched input (C,)",
                                   input=input, target=target)
        return input.reshape(1, shape[0]), target.reshape(1)
    if ndim == 2:
        if target_shape != shape[:1]:
            raise _errors.op_error(ValueError, op,
                                   "expected target with shape (N,) for input (N, C)",
                                   input=input, target=target)
        return input, target
    if target_shape != shape[:1] + shape[2:]:
        raise _errors.op_error(RuntimeError, op,
                               "expected target with shape (N, d1, ...) for input "
                               "(N, C, d1, ...)", input=input, target=target)
    # (N, C, d1, ...) -> (N, d1, ..., C) -> (M, C)
    return input.movedim(1, -1).reshape(-1, shape[1]), target.reshape(-1)


# ---------------------------------------------------------------- nll

class NLLLoss(Function):
    """Negative log-likelihood of ``(M, C)`` log-probabilities at ``(M,)`` class indices."""

    raw = True

    @staticmethod
    def forward(ctx, logp, target, weight, ignore_index, reduction):
        xp = array_module(logp)
        targets = _Targets("nll_loss", target, weight, ignore_index, logp.shape[1], logp.dtype)
        losses = -logp.reshape(-1)[targets.flat]
        if targets.row_weight is not None:
            losses *= targets.row_weight
        ctx.targets, ctx.reduction, ctx.shape = targets, reduction, logp.shape
        ctx.target, ctx.weight, ctx.ignore_index = target, weight, ignore_index
        ctx.save_for_backward(logp)
        return _reduce(xp, losses, targets, reduction, logp.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        return NLLLossGrad.apply(grad_out, ctx.saved_tensors[0], ctx), None, None, None, None


class NLLLossGrad(Function):
    """nll's gradient: ``-w_t * scale`` at each row's target, 0 elsewhere. It is linear in
    the output gradient, and its adjoint is nll itself, which gives its backward. It takes
    the log-probabilities with a zero derivative (as torch's nll_loss_backward), so the
    gradient stays differentiable with respect to them."""

    raw = True

    @staticmethod
    def forward(ctx, grad, logp, forward_ctx):
        ctx.forward_ctx = forward_ctx
        ctx.save_for_backward(logp)
        targets = forward_ctx.targets
        xp = array_module(grad)
        scale = _row_scale(xp, grad, targets, forward_ctx.reduction, grad.dtype)
        if targets.row_weight is not None:
            scale = scale * targets.row_weight
            if targets.valid is not None:
                scale = xp.where(targets.valid, scale, 0)
        result = xp.zeros(forward_ctx.shape, grad.dtype)
        result.reshape(-1)[targets.flat] = -scale
        return result

    @staticmethod
    def backward(ctx, grad_out):
        forward_ctx = ctx.forward_ctx
        weight = forward_ctx.weight
        need_grad, need_logp = ctx.needs_input_grad[:2]
        grad_grad = None
        if need_grad:
            grad_grad = NLLLoss.apply(grad_out, forward_ctx.target,
                                      None if weight is None else Tensor._make(weight),
                                      forward_ctx.ignore_index, forward_ctx.reduction)
        return grad_grad, (_zeros_like(ctx.saved_tensors[0]) if need_logp else None)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
             size_average=None, ignore_index: int = -100, reduce=None,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood: ``loss_i = -w[t_i] * input[i, t_i]`` for log-probabilities.

    Args:
        input: log-probabilities ``(N, C)``, ``(C,)`` or ``(N, C, d1, ...)``.
        target: class indices ``(N,)``, ``()`` or ``(N, d1, ...)``.
        weight: optional per-class weights ``(C,)``.
        ignore_index: target value that contributes nothing.
        reduction: 'none' | 'mean' (weighted mean) | 'sum'.

    Example:
        >>> F.nll_loss(deepgrad.tensor([[-0.1, -2.3]]), deepgrad.tensor([0]))
        tensor(0.1000)
    """
    reduction = reduction_of(size_average, reduce, reduction)
    ndim = input._data.ndim
    if ndim == 0:
        raise _errors.op_error(RuntimeError, "nll_loss",
                               "expected input of shape (C,), (N, C) or (N, C, d1, ...)",
                               input=input, target=target)
    _check_weight("nll_loss", weight, input._data.shape[0 if ndim == 1 else 1])
    x, t = _fold("nll_loss", input, target)
    result = NLLLoss.apply(x, t, weight, ignore_index, reduction)
    if reduction == "none" and ndim != 2:
        result = result.reshape(target._data.shape)
    return result
