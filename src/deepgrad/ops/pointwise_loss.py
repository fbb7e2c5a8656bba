"""Losses computed element by element, then reduced: regression (mse, l1, smooth l1, huber),
binary classification (bce, bce with logits), kl_div, the multiclass hinge
(``multi_margin_loss``, one term per class) and the margin/embedding losses.

All are compositions of deepgrad ops (so twice differentiable), except
``binary_cross_entropy``: its elementwise kernel is one ``Function`` so that an input of
exactly 0 or 1 (a saturated sigmoid) gives torch's finite gradient ``(x - t) /
max(x (1 - x), 1e-12)`` instead of 0 / 0.
"""

from __future__ import annotations

import warnings

from .. import _errors
from .._tensor import Tensor
from ..autograd.function import Function
from ..backend import array_module
from .activation import logsigmoid
from .comparison import where
from .loss import reduce_loss, reduction_of

__all__: list = []  # torch exposes these under nn.functional


def _warn_broadcast(input: Tensor, target: Tensor) -> None:  # noqa: A002
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", stacklevel=3)


def _weighted(losses: Tensor, input: Tensor, weight, reduction: str) -> Tensor:  # noqa: A002
    """torch's weighted regression losses: 'mean' divides by the sum of the weights."""
    if weight is None:
        return reduce_loss(losses, reduction)
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    losses = losses * weight
    if reduction == "mean":
        return losses.sum() / weight.sum()
    return reduce_loss(losses, reduction)


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,  # noqa: A002
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean squared error ``(input - target) ** 2``, reduced.

    Args:
        input, target: tensors of one shape (broadcast with a warning otherwise).
        reduction: 'none' | 'mean' | 'sum'.
        weight: optional elementwise weights of ``input``'s shape ('mean' divides by their sum).

    Example:
        >>> F.mse_loss(deepgrad.tensor([1., 2.]), deepgrad.tensor([1., 4.]))
        tensor(2.)
    """
    _warn_broadcast(input, target)
    reduction = reduction_of(size_average, reduce, reduction)
    difference = input - target
    return _weighted(difference * difference, input, weight, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,  # noqa: A002
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean absolute error ``|input - target|``, reduced (gradient 0 where they are equal).

    Example:
        >>> F.l1_loss(deepgrad.tensor([1., 2.]), deepgrad.tensor([1., 4.]))
        tensor(1.)
    """
    _warn_broadcast(input, target)
    reduction = reduction_of(size_average, reduce, reduction)
    return _weighted((input - target).abs(), input, weight, reduction)


def _smooth(difference: Tensor, width: float, quadratic_scale: float, linear_scale: float):
    """``quadratic_scale * d**2 / 2`` where ``|d| < width``, else ``linear_scale * (|d| -
    width / 2)``: smooth l1 (scales 1/beta, 1) and huber (1, delta)."""
    magnitude = difference.abs()
    inside = Tensor._make(magnitude._data < width)
    quadratic = difference * difference * (0.5 * quadratic_scale)
    linear = (magnitude - 0.5 * width) * linear_scale if linear_scale != 1 else (
        magnitude - 0.5 * width)
    return where(inside, quadratic, linear)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,  # noqa: A002
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """``0.5 d**2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (l1 when beta = 0).

    Example:
        >>> F.smooth_l1_loss(deepgrad.tensor([0.5, 3.]), deepgrad.zeros(2), reduction="none")
        tensor([0.1250, 2.5000])
    """
    _warn_broadcast(input, target)
    reduction = reduction_of(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0:
        return reduce_loss((input - target).abs(), reduction)
    return reduce_loss(_smooth(input - target, beta, 1.0 / beta, 1.0), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean",  # noqa: A002
               delta: float = 1.0, weight: Tensor | None = None) -> Tensor:
    """``0.5 d**2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``.

    Example:
        >>> F.huber_loss(deepgrad.tensor([0.5, 3.]), deepgrad.zeros(2), reduction="none")
        tensor([0.1250, 2.5000])
    """
    _warn_broadcast(input, target)
    reduction = reduction_of(None, None, reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    losses = _smooth(input - target, delta, 1.0, delta)
    if weight is None:
        return reduce_loss(losses, reduction)
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    return reduce_loss(losses * weight, reduction)  # torch's weighted huber 'mean' is .mean()


class BinaryCrossEntropy(Function):
    """Elementwise ``-(t log x + (1 - t) log(1 - x))`` with each log clamped at -100."""

    raw = True

    @staticmethod
    def forward(ctx, x, t):
        xp = array_module(x)
        if ((x < 0) | (x > 1)).any():
            raise RuntimeError("binary_cross_entropy: all elements of input should be between 0 "
                               "and 1")
        with xp.errstate(divide="ignore"):
            log_x = xp.maximum(xp.log(x), -100)
            log_rest = xp.maximum(xp.log1p(-x), -100)
        ctx.save_for_backward(x, t)
        return (t - 1) * log_rest - t * log_x

    @staticmethod
    def backward(ctx, grad_out):
        x, t = ctx.saved_tensors
        need_x, need_t = ctx.needs_input_grad
        grad_x = grad_t = None
        if need_x:  # torch's formula: finite at x = 0 and x = 1
            grad_x = grad_out * (x - t) / (x * (1 - x)).clamp_min(1e-12)
        if need_t:  # -logit(x)
            grad_t = grad_out * ((-x).log1p() - x.log())
        return grad_x, grad_t


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of probabilities ``input`` in [0, 1] against ``target``.

    Args:
        input: probabilities; target: same shape, values in [0, 1].
        weight: optional rescaling weight broadcastable to ``target``.
        reduction: 'none' | 'mean' | 'sum'.

    Example:
        >>> F.binary_cross_entropy(deepgrad.tensor([0.9, 0.2]), deepgrad.tensor([1., 0.]))
        tensor(0.1643)
    """
    reduction = reduction_of(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input "
                         f"size ({input.shape}) is deprecated. Please ensure they have the same "
                         "size.")
    losses = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        losses = losses * weight
    return reduce_loss(losses, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,  # noqa: A002
                                     weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Binary cross-entropy of ``sigmoid(input)``, computed stably from the logits:
    ``(1 - t) x - (1 + (pos_weight - 1) t) logsigmoid(x)``.

    Args:
        input: logits; target: same shape.
        weight: optional rescaling weight broadcastable to ``input``.
        pos_weight: optional weight of positive examples, broadcast along the last dim.
        reduction: 'none' | 'mean' | 'sum'.

    Example:
        >>> F.binary_cross_entropy_with_logits(deepgrad.tensor([100.]), deepgrad.tensor([1.]))
        tensor(0.)
    """
    reduction = reduction_of(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    log_sigmoid = logsigmoid(input)
    if pos_weight is not None:
        log_sigmoid = ((pos_weight - 1) * target + 1) * log_sigmoid
    losses = (1 - target) * input - log_sigmoid
    if weight is not None:
        losses = losses * weight
    return reduce_loss(losses, reduction)


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,  # noqa: A002
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence ``target * (log(target) - input)`` for log-probabilities
    ``input`` (``exp(target) * (target - input)`` with ``log_target``).

    Args:
        reduction: 'none' | 'batchmean' (sum / batch size, the KL divergence) | 'sum' |
            'mean' (over every element, with torch's warning).

    Example:
        >>> p = deepgrad.tensor([[0.5, 0.5]])
        >>> F.kl_div(p.log(), p, reduction="batchmean")
        tensor(0.)
    """
    if size_average is not None or reduce is not None:
        reduction = reduction_of(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", stacklevel=2)
    if reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if log_target:
        losses = target.exp() * (target - input)
    else:  # xlogy(target, target): 0 where target is 0
        safe = where(Tensor._make(target._data == 0), 1.0, target)
        losses = target * safe.log() - target * input
    if reduction == "batchmean":
        total = losses.sum()
        return total / input.shape[0] if input.ndim else total
    return reduce_loss(losses, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``max(0, -target * (input1 - input2) + margin)`` with targets in {1, -1}.

    Example:
        >>> F.margin_ranking_loss(deepgrad.tensor([2.]), deepgrad.tensor([1.]),
        ...                       deepgrad.tensor([1.]))
        tensor(0.)
    """
    reduction = reduction_of(size_average, reduce, reduction)
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError("margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {input1.shape}, input2: {input2.shape}, "
                           f"target: {target.shape} ")
    return reduce_loss((-target * (input1 - input2) + margin).clamp_min(0), reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,  # noqa: A002
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``x`` where the target is 1 and ``max(0, margin - x)`` where it is -1.

    Example:
        >>> F.hinge_embedding_loss(deepgrad.tensor([0.3, 2.]), deepgrad.tensor([1., -1.]))
        tensor(0.1500)
    """
    reduction = reduction_of(size_average, reduce, reduction)
    t = target._data
    margin_part = where(Tensor._make(t != 1), (margin - input).clamp_min(0), 0.0)
    self_part = where(Tensor._make(t != -1), input, 0.0)
    return reduce_loss(margin_part + self_part, reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,  # noqa: A002
                     reduction: str = "mean") -> Tensor:
    """Two-class logistic loss ``log(1 + exp(-target * input))``.

    Example:
        >>> F.soft_margin_loss(deepgrad.tensor([0.]), deepgrad.tensor([1.]))
        tensor(0.6931)
    """
    reduction = reduction_of(size_average, reduce, reduction)
    return reduce_loss((-input * target).exp().log1p(), reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` where the target is 1, ``max(0, cos(x1, x2) - margin)`` where -1.

    Example:
        >>> x = deepgrad.tensor([[1., 0.]])
        >>> F.cosine_embedding_loss(x, x, deepgrad.tensor([1]))
        tensor(0.)
    """
    reduction = reduction_of(size_average, reduce, reduction)
    dim = 1 if input1.ndim == 2 else 0
    eps = 1e-12
    product = (input1 * input2).sum(dim)
    square1 = (input1 * input1).sum(dim) + eps
    square2 = (input2 * input2).sum(dim) + eps
    cosine = product / (square1 * square2).sqrt()
    t = target._data
    positive = where(Tensor._make(t == 1), 1 - cosine, 0.0)
    negative = where(Tensor._make(t == -1), (cosine - margin).clamp_min(0), 0.0)
    return reduce_loss(positive + negative, reduction)


# ---------------------------------------------------------------- multiclass hinge

def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,  # noqa: A002
                      weight: Tensor | None = None, size_average=None, reduce=None,
                      reduction: str = "mean") -> Tensor:
    """The multiclass SVM hinge loss: ``loss_i = sum_{j != y_i} max(0, margin - x[y_i] +
    x[j]) ** p / C`` (each term times ``weight[y_i]`` when given). A composition of
    gather, relu and sum; the gradient at a hinge kink is 0, as torch's.

    Args:
        input: scores ``(N, C)`` or ``(C,)``.
        target: class indices ``(N,)`` or ``()``.
        p: 1 or 2.
        margin: the required score gap.
        weight: optional per-class weights ``(C,)``.
        reduction: 'none' | 'mean' | 'sum'.

    Example:
        >>> F.multi_margin_loss(deepgrad.tensor([[0.1, 0.2, 0.4, 0.8]]), deepgrad.tensor([3]))
        tensor(0.3250)
    """
    reduction = reduction_of(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight._data.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    shape = input._data.shape
    if len(shape) not in (1, 2) or not input._data.size:
        raise _errors.op_error(RuntimeError, "multi_margin_loss",
                               "expected a non-empty input of shape (C,) or (N, C)", input=input)
    unbatched = len(shape) == 1
    x = input.reshape(1, shape[0]) if unbatched else input
    rows, classes = x._data.shape
    if target._data.shape not in (((), (1,)) if unbatched else ((rows,),)):
        raise _errors.op_error(RuntimeError, "multi_margin_loss",
                               "expected target with shape (N,) for input (N, C)",
                               input=input, target=target)
    t = target._data.reshape(rows)
    if t.size and (t.min() < 0 or t.max() >= classes):
        raise RuntimeError("multi_margin_loss: target out of range")
    if weight is not None and weight._data.shape != (classes,):
        raise RuntimeError(f"multi_margin_loss: inconsistent weight size, expected {classes} but "
                           f"got {list(weight._data.shape)}")
    xp = array_module(t)
    index = Tensor._make(t[:, None].astype(xp.int64, copy=False))
    hinge = (x - x.gather(1, index) + margin).relu()  # (N, C): max(0, margin - x_y + x_j)
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        hinge = hinge * Tensor._make(weight._data[t][:, None])
    others = xp.ones((rows, classes), x._data.dtype)
    others[xp.arange(rows), t] = 0  # the target's own term is not part of the sum
    losses = (hinge * Tensor._make(others)).sum(1) / classes
    if unbatched:
        losses = losses.reshape(())
    return reduce_loss(losses, reduction)
