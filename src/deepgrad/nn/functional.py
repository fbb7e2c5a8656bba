"""``torch.nn.functional``: the functional form of every layer, activation and loss.

The kernels live in ``deepgrad.ops`` (dense, activation, dropout, loss, pointwise_loss,
softmax, padding, conv, pooling, normalization, interpolate); this module gathers them
under torch's names and adds the small compositions that have no op family of their own
(``one_hot``, ``normalize``, ``cosine_similarity``, ``pairwise_distance``, ``embedding``).

Example:
    >>> import deepgrad.nn.functional as F
    >>> F.cross_entropy(F.relu(x @ w1) @ w2, labels)
"""

from __future__ import annotations

from .. import backend
from .._tensor import Tensor
from ..autograd.function import Function
from ..ops.activation import (  # noqa: F401 - re-exported
    celu,
    elu,
    gelu,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    leaky_relu,
    logsigmoid,
    mish,
    prelu,
    relu6,
    selu,
    silu,
    softmin,
    softplus,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
)
from ..ops.comparison import where
from ..ops.conv import conv1d, conv2d, fold, unfold  # noqa: F401
from ..ops.dense import bilinear, linear  # noqa: F401
from ..ops.dropout import (  # noqa: F401
    alpha_dropout,
    dropout,
    dropout1d,
    dropout2d,
    dropout3d,
)
from ..ops.interpolate import interpolate  # noqa: F401
from ..ops.loss import cross_entropy, nll_loss  # noqa: F401
from ..ops.norm import vector_norm
from ..ops.normalization import (  # noqa: F401
    batch_norm,
    group_norm,
    layer_norm,
    local_response_norm,
)
from ..ops.padding import pad  # noqa: F401
from ..ops.piecewise import relu
from ..ops.pointwise_loss import (  # noqa: F401
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cosine_embedding_loss,
    hinge_embedding_loss,
    huber_loss,
    kl_div,
    l1_loss,
    margin_ranking_loss,
    mse_loss,
    multi_margin_loss,
    smooth_l1_loss,
    soft_margin_loss,
)
from ..ops.pooling import (  # noqa: F401
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)
from ..ops.softmax import log_softmax, softmax  # noqa: F401
from ..ops.transcendental import sigmoid
from ..ops.trigonometric import tanh


def relu_(input: Tensor) -> Tensor:  # noqa: A002
    """In-place ``relu``."""
    return relu(input, inplace=True)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    """In-place ``elu``."""
    return elu(input, alpha, inplace=True)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:  # noqa: A002
    """In-place ``leaky_relu``."""
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:  # noqa: A002
    """In-place ``hardtanh``."""
    return hardtanh(input, min_val, max_val, inplace=True)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding: ``result[..., tensor[...]] = 1``.

    Args:
        tensor: int64 class indices of any shape.
        num_classes: number of classes; -1 infers ``tensor.max() + 1``.

    Shape:
        ``(*)`` -> ``(*, num_classes)``.

    Example:
        >>> F.one_hot(deepgrad.tensor([0, 2]), 3)
        tensor([[1, 0, 0],
                [0, 0, 1]])
    """
    data = tensor._data
    if data.dtype.name != "int64":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    xp = backend.array_module(data)
    if num_classes == -1:
        if data.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(data.max()) + 1
    if data.size:
        if data.min() < 0:
            raise RuntimeError("Class values must be non-negative.")
        if data.max() >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    result = xp.zeros(data.shape + (num_classes,), xp.int64)
    xp.put_along_axis(result, data[..., None], 1, axis=-1)
    return Tensor._make(result)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,  # noqa: A002
              out: Tensor | None = None) -> Tensor:
    """``input / max(||input||_p, eps)`` along ``dim``.

    Example:
        >>> F.normalize(deepgrad.tensor([[3., 4.]]))
        tensor([[0.6000, 0.8000]])
    """
    denominator = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    result = input / denominator
    if out is not None:
        out.copy_(result)
        return out
    return result


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim`` (broadcasting). Each is
    divided by its norm first (clamped to ``eps``, as torch, outside the graph), so the result
    stays in [-1, 1].

    Example:
        >>> F.cosine_similarity(deepgrad.tensor([[1., 0.]]), deepgrad.tensor([[1., 1.]]))
        tensor([0.7071])
    """
    from ..ops.shape import broadcast_tensors  # noqa: PLC0415

    x1, x2 = broadcast_tensors(x1, x2)
    norms = []
    for x in (x1, x2):
        norm = vector_norm(x, 2, dim, keepdim=True).clone()
        xp = backend.array_module(norm._data)
        xp.maximum(norm._data, norm._data.dtype.type(eps), out=norm._data)  # torch's no-grad clamp
        norms.append(norm)
    return ((x1 / norms[0]) * (x2 / norms[1])).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """``||x1 - x2 + eps||_p`` over the last dim.

    Example:
        >>> F.pairwise_distance(deepgrad.tensor([[0., 0.]]), deepgrad.tensor([[3., 4.]]))
        tensor([5.0000])
    """
    dim = max(x1.ndim, x2.ndim) - 1
    return vector_norm(x1 - x2 + eps, p, dim, keepdim)


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,  # noqa: A002
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` at the indices ``input``; the ``padding_idx`` row gets no gradient.

    Args:
        max_norm: first renormalise (in place, without gradient) the rows looked up whose
            ``norm_type`` norm exceeds it, as torch's ``embedding_renorm_``.
        scale_grad_by_freq: divide each looked-up row's gradient by its index's count in
            ``input``.
        sparse: sparse gradients; not supported (deepgrad has no sparse tensors).

    Shape:
        input ``(*)`` int64, weight ``(num_embeddings, dim)`` -> ``(*, dim)``.

    Example:
        >>> F.embedding(deepgrad.tensor([1, 0]), deepgrad.eye(2))
        tensor([[0., 1.],
                [1., 0.]])
    """
    if sparse:
        raise NotImplementedError("embedding: sparse=True needs sparse gradients, which "
                                  "deepgrad does not have; use sparse=False")
    if input._data.dtype.kind not in "iu":
        raise RuntimeError("embedding: Expected tensor for argument #1 'indices' to have one "
                           f"of the following scalar types: Long, Int; but got {input.dtype} "
                           "instead")
    if max_norm is not None:
        _renorm_rows(weight, input, max_norm, norm_type)
    rows = weight[input]
    if scale_grad_by_freq and rows._requires_grad:
        xp = backend.array_module(input._data)
        _, inverse, counts = xp.unique(input._data.reshape(-1), return_inverse=True,
                                       return_counts=True)
        scale = (1 / counts[inverse]).astype(weight._data.dtype).reshape(input._data.shape)
        rows = _ScaleGradient.apply(rows, scale[..., None])
    if padding_idx is not None:
        if padding_idx < 0:
            padding_idx += weight.shape[0]
        padding = Tensor._make((input._data == padding_idx)[..., None])
        rows = where(padding, rows.detach(), rows)
    return rows


def _renorm_rows(weight: Tensor, input: Tensor, max_norm: float, norm_type: float) -> None:  # noqa: A002
    """torch's embedding_renorm_: rows of ``weight`` used by ``input`` scaled in place to a
    ``norm_type`` norm of at most ``max_norm`` (scale max_norm / (norm + 1e-7))."""
    xp = backend.array_module(weight._data)
    used = xp.unique(input._data.reshape(-1))
    table = weight._data
    norms = xp.linalg.norm(table[used].astype(xp.float64), ord=norm_type, axis=1)
    over = norms > max_norm
    if over.any():
        rows = used[over]
        table[rows] *= (max_norm / (norms[over] + 1e-7)).astype(table.dtype)[:, None]
        weight._version += 1


class _ScaleGradient(Function):
    """Identity forward; the gradient times ``scale`` (embedding's scale_grad_by_freq)."""

    raw = True

    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.reshape(x.shape)  # a view: no copy

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out * Tensor._make(ctx.scale), None


__all__ = [
    "linear", "bilinear", "relu", "relu_", "relu6", "elu", "elu_", "selu", "celu",
    "leaky_relu", "leaky_relu_", "gelu", "silu", "mish", "sigmoid", "tanh", "hardtanh",
    "hardtanh_", "hardsigmoid", "hardswish", "softplus", "softsign", "softshrink", "hardshrink",
    "tanhshrink", "threshold", "logsigmoid", "glu", "prelu", "softmax", "softmin",
    "log_softmax", "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
    "cross_entropy", "nll_loss", "multi_margin_loss", "mse_loss", "l1_loss", "smooth_l1_loss",
    "huber_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
    "margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss", "cosine_embedding_loss",
    "one_hot", "pad", "normalize", "cosine_similarity", "pairwise_distance", "embedding",
    # NN-B's kernels, from ops/conv.py, ops/pooling.py, ops/normalization.py, ops/interpolate.py
    "conv1d", "conv2d", "unfold", "fold", "max_pool1d", "max_pool2d", "avg_pool1d",
    "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool2d",
    "batch_norm", "layer_norm", "group_norm", "local_response_norm", "interpolate",
]
