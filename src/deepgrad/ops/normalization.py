"""Normalisation: batch_norm (one fused kernel), layer_norm, group_norm, local_response_norm.

``batch_norm`` is a fused ``Function``: a composition would make about ten full passes
over the activations in each direction, the fused forward about five, and the closed-form
backward below four. That backward uses raw array kernels (design principle 4), so batch
norm is once-differentiable. ``layer_norm`` and ``group_norm`` are compositions of
differentiable ops (twice differentiable); ``local_response_norm`` follows torch's own
composition of pad and avg_pool.
"""

from __future__ import annotations

from .. import _errors
from .._tensor import Tensor
from ..autograd.function import Function, backward_from_raw
from ..backend import array_module
from .padding import pad
from .pooling import avg_pool2d
from .statistics import var_mean

__all__ = ["batch_norm", "layer_norm", "group_norm"]


def _as_3d(x):
    """(N, C, *) -> (N, C, L) view (explicit L so empty batches reshape too)."""
    length = 1
    for n in x.shape[2:]:
        length *= n
    return x.reshape(x.shape[0], x.shape[1], length)


def _channel_sum(x3, xp):
    """Per-channel sum of an (N, C, L) array (reduced over the contiguous L first)."""
    return x3.sum(2).sum(0) if x3.shape[2] > 1 else x3.sum((0, 2))


def _channel_dot(a3, b3, xp):
    """Per-channel sum of a3 * b3 without a full-size temporary."""
    return xp.einsum("ncl,ncl->c", a3, b3)


class BatchNorm(Function):
    """Fused batch normalisation over the channel dim 1 of an (N, C, *) input.

    Training: normalises with the batch statistics and updates ``running_mean`` /
    ``running_var`` in place (the latter with the unbiased variance), as torch. Evaluation:
    uses the running statistics.
    """

    raw = True

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps):
        xp = array_module(x)
        n, c = x.shape[:2]
        x3 = _as_3d(x)
        count = n * x3.shape[2]
        if count == 0:  # an empty batch: empty output, running statistics untouched
            ctx.save_for_backward(x, weight)
            ctx.stats, ctx.count = None, 0
            return xp.empty(x.shape, x.dtype)
        if training:
            mean = _channel_sum(x3, xp) / count
            centered = x3 - mean[:, None]  # (N, C, L), kept for backward: xhat = centered*invstd
            var = _channel_dot(centered, centered, xp) / count
            invstd = 1 / xp.sqrt(var + eps)
            if running_mean is not None:
                running_mean *= 1 - momentum
                running_mean += momentum * mean
                running_var *= 1 - momentum
                running_var += (momentum * count / max(count - 1, 1)) * var
            scale = invstd if weight is None else weight * invstd
            result = centered * scale[:, None]
            shift = bias
        else:
            invstd = 1 / xp.sqrt(running_var + eps)
            scale = invstd if weight is None else weight * invstd
            centered = None
            result = x3 * scale[:, None]
            shift = -running_mean * scale if bias is None else bias - running_mean * scale
        if shift is not None:
            result += shift[:, None]
        ctx.save_for_backward(x, weight)
        ctx.stats = (centered, invstd, scale, None if training else running_mean)
        ctx.count = count
        return result.reshape(x.shape)

    @staticmethod
    def raw_backward(ctx, g):
        x, weight = ctx.saved_arrays
        if ctx.stats is None:
            zero = lambda shape: array_module(g).zeros(shape, g.dtype)  # noqa: E731
            return (zero(g.shape), None if weight is None else zero(weight.shape),
                    None if weight is None else zero(weight.shape))
        centered, invstd, scale, running_mean = ctx.stats
        xp = array_module(g)
        g3 = _as_3d(g)
        need_input, need_weight, need_bias = ctx.needs_input_grad[:3]
        training = centered is not None
        if not training:  # evaluation: the running statistics are constants
            centered = _as_3d(x) - running_mean[:, None]
        sum_g = _channel_sum(g3, xp) if need_bias or need_weight or training else None
        sum_gxhat = None  # sum of g * xhat per channel
        if need_weight or need_input and training:
            sum_gxhat = _channel_dot(g3, centered, xp) * invstd
        grad_input = None
        if need_input and not training:
            grad_input = (g3 * scale[:, None]).reshape(g.shape)
        elif need_input:
            # d/dx of BN: scale * (g - mean(g) - xhat * mean(g * xhat)), per channel, in
            # four passes over one new array (xhat = centered * invstd)
            grad_input = centered * (invstd * sum_gxhat / ctx.count)[:, None]
            grad_input += (sum_g / ctx.count)[:, None]
            xp.subtract(g3, grad_input, out=grad_input)
            grad_input *= scale[:, None]
            grad_input = grad_input.reshape(g.shape)
        return grad_input, sum_gxhat if need_weight else None, sum_g if need_bias else None

    backward = staticmethod(backward_from_raw(raw_backward.__func__))

    def name(self) -> str:
        return "NativeBatchNormBackward0"


def _check_channels(name: str, t, channels: int) -> None:
    if t is not None and t._data.size != channels:
        raise RuntimeError(f"{name} should contain {channels} elements not {t._data.size}")


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,  # noqa: A002
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalisation over dim 1 of an (N, C, *) input, as torch.nn.functional.

    Args:
        input: (N, C) or (N, C, *).
        running_mean, running_var: (C,) running statistics, updated in place when
            ``training`` (``running_var`` with the unbiased batch variance); may be None in
            training (then nothing is tracked).
        weight, bias: optional (C,) affine parameters.
        training: use batch statistics (True) or the running ones (False).
        momentum: running = (1 - momentum) * running + momentum * batch statistic.
        eps: added to the variance for stability.

    Returns:
        The normalised tensor, shaped like ``input``. Its backward is once-differentiable.

    Example:
        >>> x = deepgrad.randn(8, 3, 4, 4)
        >>> mean, var = deepgrad.zeros(3), deepgrad.ones(3)
        >>> batch_norm(x, mean, var, training=True).shape
        deepgrad.Size([8, 3, 4, 4])
    """
    shape = input._data.shape
    if len(shape) < 2:
        raise _errors.op_error(RuntimeError, "batch_norm",
                               "expected an input with at least 2 dims (N, C, *)", input=input)
    channels = shape[1]
    if training:
        count = shape[0]
        for n in shape[2:]:
            count *= n
        if count == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got "
                             f"input size {input.shape}")
    elif running_mean is None or running_var is None:
        raise RuntimeError(f"running_{'mean' if running_mean is None else 'var'} must be "
                           "defined in evaluation mode")
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        _check_channels(name, t, channels)
    result = BatchNorm.apply(input, weight, bias, running_mean, running_var, bool(training),
                             momentum, eps)
    if training and running_mean is not None:
        running_mean._version += 1
        running_var._version += 1
    return result


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` dims (biased variance), then an
    optional elementwise affine map. Twice differentiable (a composition).

    Args:
        input: (*, *normalized_shape).
        normalized_shape: int or tuple, the trailing shape normalised over.
        weight, bias: optional tensors of shape ``normalized_shape``.
        eps: added to the variance.

    Example:
        >>> layer_norm(deepgrad.tensor([[1., 2., 3.]]), (3,))
        tensor([[-1.2247,  0.0000,  1.2247]])
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[len(input.shape) - len(shape):]) != shape or len(shape) > input.dim():
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size"
                           f"{list(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but "
                               f"got {name} of shape {list(t.shape)} and normalized_shape = "
                               f"{list(shape)}")
    dims = tuple(range(input.dim() - len(shape), input.dim()))
    var, mean = var_mean(input, dims, keepdim=True, correction=0)
    result = (input - mean) * (var + eps).rsqrt()
    if weight is not None:
        result = result * weight
    if bias is not None:
        result = result + bias
    return result


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise each group of ``C / num_groups`` channels of every sample, then an
    optional per-channel affine map. Twice differentiable (a composition).

    Args:
        input: (N, C, *).
        num_groups: number of groups; must divide C.
        weight, bias: optional (C,) tensors.
        eps: added to the variance.

    Example:
        >>> group_norm(deepgrad.randn(2, 6, 5), 3).shape
        deepgrad.Size([2, 6, 5])
    """
    shape = tuple(input.shape)
    if len(shape) < 2 or shape[1] % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(shape)} and num_groups="
                           f"{num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        _check_channels(name, t, shape[1])
    grouped = input.reshape(shape[0], num_groups, -1)
    var, mean = var_mean(grouped, 2, keepdim=True, correction=0)
    result = ((grouped - mean) * (var + eps).rsqrt()).reshape(shape)
    affine = (shape[1],) + (1,) * (len(shape) - 2)
    if weight is not None:
        result = result * weight.reshape(affine)
    if bias is not None:
        result = result + bias.reshape(affine)
    return result


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,  # noqa: A002
                        k: float = 1.0) -> Tensor:
    """Normalise each value by the squares of its ``size`` neighbouring channels:
    ``x / (k + alpha * mean_window(x**2)) ** beta`` (zero-padded windows, as torch).

    Args:
        input: (N, C, *) with at least 3 dims.
        size: number of neighbouring channels in the window.
        alpha, beta, k: the formula's constants.

    Example:
        >>> local_response_norm(deepgrad.ones(1, 4, 2, 2), 2).shape
        deepgrad.Size([1, 4, 2, 2])
    """
    if input.dim() < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.dim()} "
                         "dimensions)")
    if input.numel() == 0:
        return input
    shape = tuple(input.shape)
    # (N, 1, C, rest): average the squares over a (size, 1) window sliding along channels
    div = (input * input).reshape(shape[0], 1, shape[1], -1)
    div = pad(div, (0, 0, size // 2, (size - 1) // 2))
    div = avg_pool2d(div, (size, 1), stride=1).reshape(shape)
    return input / (div * alpha + k) ** beta
