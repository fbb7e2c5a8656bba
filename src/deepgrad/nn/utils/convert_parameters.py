"""Flatten parameters into one vector and back (``parameters_to_vector``,
``vector_to_parameters``), as torch.nn.utils."""

from __future__ import annotations

from ..._tensor import Tensor
from ...ops.joining import cat
from ..modules.module import typename

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check_device(param: Tensor, device):
    if device is not None and param.device != device:
        raise TypeError("Found two parameters on different devices, this is currently not "
                        "supported.")
    return param.device


def parameters_to_vector(parameters) -> Tensor:
    """All ``parameters`` flattened and concatenated into one 1-D tensor (differentiable).

    Example:
        >>> deepgrad.nn.utils.parameters_to_vector(deepgrad.nn.Linear(3, 2).parameters()).shape
        deepgrad.Size([8])
    """
    device = None
    pieces = []
    for param in parameters:
        device = _check_device(param, device)
        pieces.append(param.reshape(-1))
    return cat(pieces)


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into ``parameters`` (their data then shares
    ``vec``'s memory, as torch's ``param.data = ...``).

    Example:
        >>> deepgrad.nn.utils.vector_to_parameters(deepgrad.zeros(8), layer.parameters())
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {typename(vec)}")
    device = None
    pointer = 0
    for param in parameters:
        device = _check_device(param, device)
        count = param.numel()
        param._data = vec._data[pointer:pointer + count].reshape(param._data.shape)
        pointer += count
