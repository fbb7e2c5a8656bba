"""Gradient clipping: ``clip_grad_norm_`` (rescale all gradients so their joint norm is at
most ``max_norm``) and ``clip_grad_value_`` (clamp each element), as torch.nn.utils."""

from __future__ import annotations

import types
import warnings

import numpy as np

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ...ops.joining import stack
from ...ops.norm import vector_norm

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Tensor:
    """The ``norm_type`` norm of all ``tensors`` together (the norm of their norms).

    Example:
        >>> get_total_norm([deepgrad.tensor([3.]), deepgrad.tensor([4.])])
        tensor(5.)
    """
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return Tensor._make(np.asarray(0.0, np.float32))
    with no_grad():
        norms = [vector_norm(t, norm_type) for t in tensors]
        total = vector_norm(stack([n.to(tensors[0].device) for n in norms]), norm_type)
    if error_if_nonfinite and not bool(total.isfinite()):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the gradients "
            "by the non-finite norm anyway, set `error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters, max_norm: float, total_norm: Tensor,
                          foreach: bool | None = None) -> None:
    """Multiply every gradient by ``min(1, max_norm / (total_norm + 1e-6))`` in place."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return
    with no_grad(), np.errstate(invalid="ignore"):  # a non-finite norm gives nan, as torch
        coefficient = (float(max_norm) / (total_norm + 1e-6)).clamp(max=1.0)
        for grad in grads:
            grad.mul_(coefficient.to(grad.device))


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Rescale the gradients of ``parameters`` in place so their joint norm is at most
    ``max_norm``; the coefficient is ``min(1, max_norm / (total_norm + 1e-6))`` as torch.

    Args:
        parameters: a tensor or an iterable of tensors whose ``.grad`` is clipped.
        max_norm: the largest allowed total norm.
        norm_type: p of the p-norm (``float('inf')`` for the max norm).
        error_if_nonfinite: raise when the total norm is nan or inf.
        foreach: accepted for compatibility (deepgrad has one implementation).

    Returns:
        The total norm of the gradients before clipping (a 0-d tensor).

    Example:
        >>> loss.backward()
        >>> deepgrad.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if generator and not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.",
                          stacklevel=2)
    grads = [p.grad for p in parameters if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_value_(parameters, clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient element of ``parameters`` into ``[-clip_value, clip_value]``.

    Example:
        >>> deepgrad.nn.utils.clip_grad_value_(model.parameters(), 0.5)
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    clip_value = float(clip_value)
    with no_grad():
        for p in parameters:
            if p.grad is not None:
                p.grad.clamp_(min=-clip_value, max=clip_value)
