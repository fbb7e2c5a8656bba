"""Dropout: zero elements (or whole channels) at random in training, scale the rest.

The mask is drawn from deepgrad's RNG (``backend.rng``), so ``manual_seed`` reproduces it,
and applied as one multiplication by a constant tensor (``keep / (1 - p)``); its gradient
is the same mask. In evaluation (``training=False``) or with ``p = 0`` the input itself is
returned, as torch does.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import backend
from .._tensor import Tensor

__all__: list = []  # torch exposes these under nn.functional

_ALPHA = 1.7580993408473766  # SELU's -scale * alpha: alpha dropout's saturation value


def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(input: Tensor, p: float, shape: tuple, generator=None):  # noqa: A002
    """Bool array of ``shape``: True with probability ``1 - p``, drawn on the CPU RNG."""
    draw_dtype = np.float64 if input._data.dtype == np.float64 else np.float32
    keep = backend.rng(generator).random(shape, draw_dtype) < (1 - p)
    return backend.move_array(keep, input.device)


def _apply_mask(input: Tensor, p: float, shape: tuple, inplace: bool, op: str) -> Tensor:  # noqa: A002
    dtype = input._data.dtype
    if p == 1:
        scale = np.zeros((), dtype)  # everything dropped (1 / (1 - p) would be inf)
        mask = Tensor._make(backend.move_array(np.broadcast_to(scale, shape), input.device))
    else:
        keep = _keep_mask(input, p, shape)
        mask = Tensor._make(keep * dtype.type(1.0 / (1.0 - p)))
    if inplace:
        return input._inplace(lambda old: old * mask, op=op)
    return input * mask


def dropout(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
            inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` in training and scale the rest by
    ``1 / (1 - p)``; identity in evaluation.

    Args:
        input: any tensor.
        p: drop probability in [0, 1].
        training: apply dropout (False: return ``input``).
        inplace: overwrite ``input``.

    Example:
        >>> deepgrad.manual_seed(0)
        >>> F.dropout(deepgrad.ones(4), 0.5)  # each element 0 or 2
    """
    _check_p(p)
    if not training or p == 0 or input._data.size == 0:
        return input
    return _apply_mask(input, p, input._data.shape, inplace, "dropout_")


def _feature_dropout(input: Tensor, p: float, training: bool, inplace: bool, op: str,  # noqa: A002
                     batched: bool = True):
    """Drop whole channels: one draw per (N, C) entry (per C entry when unbatched),
    broadcast over the rest."""
    if not training or p == 0 or input._data.size == 0:
        return input
    shape = input._data.shape
    if len(shape) < 2:
        raise RuntimeError(f"{op}: Feature dropout requires at least 2 dimensions in the input")
    lead = 2 if batched else 1
    return _apply_mask(input, p, shape[:lead] + (1,) * (len(shape) - lead), inplace, op + "_")


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """Channel-wise dropout of ``(N, C, L)`` or ``(C, L)`` inputs: whole channels are zeroed.

    Example:
        >>> F.dropout1d(deepgrad.ones(2, 3, 5), 0.5).shape
        deepgrad.Size([2, 3, 5])
    """
    _check_p(p)
    ndim = input._data.ndim
    if ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {ndim}D input. "
                           "Note that dropout1d exists to provide channel-wise dropout on inputs "
                           "with 1 spatial dimension, a channel dimension, and an optional batch "
                           "dimension (i.e. 2D or 3D inputs).")
    return _feature_dropout(input, p, training, inplace, "dropout1d", batched=ndim == 3)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """Channel-wise dropout of ``(N, C, H, W)`` inputs (a 3-D input is taken as ``(N, C, L)``
    with torch's warning).

    Example:
        >>> F.dropout2d(deepgrad.ones(2, 3, 4, 4), 0.5).shape
        deepgrad.Size([2, 3, 4, 4])
    """
    _check_p(p)
    ndim = input._data.ndim
    if ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {ndim}-D input to dropout2d, which is deprecated "
                      "and will result in an error in a future release. To retain the behavior "
                      "and silence this warning, please use dropout instead. Note that dropout2d "
                      "exists to provide channel-wise dropout on inputs with 2 spatial "
                      "dimensions, a channel dimension, and an optional batch dimension (i.e. 3D "
                      "or 4D inputs).", stacklevel=2)
    if ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                      "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
                      "where C is the channel dim. This behavior will change in a future release "
                      "to interpret the input as one without a batch dimension, i.e. shape (C, H, "
                      "W). To maintain the 1D channel-wise dropout behavior, please switch to "
                      "using dropout1d instead.", stacklevel=2)
    return _feature_dropout(input, p, training, inplace, "dropout2d")


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """Channel-wise dropout of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` inputs."""
    _check_p(p)
    ndim = input._data.ndim
    if ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {ndim}-D input to dropout3d, which is deprecated "
                      "and will result in an error in a future release. To retain the behavior "
                      "and silence this warning, please use dropout instead. Note that dropout3d "
                      "exists to provide channel-wise dropout on inputs with 3 spatial "
                      "dimensions, a channel dimension, and an optional batch dimension (i.e. 4D "
                      "or 5D inputs).", stacklevel=2)
    return _feature_dropout(input, p, training, inplace, "dropout3d", batched=ndim != 4)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,  # noqa: A002
                  inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: dropped elements take SELU's saturation value and an affine
    correction keeps the mean and variance.

    Example:
        >>> F.alpha_dropout(deepgrad.randn(1000), 0.2, training=True).std()  # close to 1
    """
    _check_p(p)
    if not training or p == 0 or input._data.size == 0:
        return input
    dtype = input._data.dtype
    if p == 1:
        return _apply_mask(input, 1.0, input._data.shape, inplace, "alpha_dropout_")
    keep = _keep_mask(input, p, input._data.shape).astype(dtype)
    a = 1.0 / np.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
    shift = Tensor._make(((keep - 1) * dtype.type(_ALPHA * a) + dtype.type(_ALPHA * a * p))
                         .astype(dtype, copy=False))
    scale = Tensor._make(keep * dtype.type(a))
    if inplace:
        return input._inplace(lambda old: old * scale + shift, op="alpha_dropout_")
    return input * scale + shift
