"""``Upsample``: a module over ``deepgrad.nn.functional.interpolate``."""

from __future__ import annotations

from ..._tensor import Tensor
from ...ops.interpolate import interpolate
from .module import Module

__all__ = ["Upsample"]


class Upsample(Module):
    """Resize 1-d signals or 2-d images by a size or a scale factor.

    Args:
        size: output spatial size; exclusive with ``scale_factor``.
        scale_factor: multiplier(s) of the spatial size.
        mode: 'nearest' (default), 'nearest-exact', 'linear' or 'bilinear'.
        align_corners: linear modes only (see ``interpolate``).
        recompute_scale_factor: derive the coordinate scale from the output size.

    Example:
        >>> deepgrad.nn.Upsample(scale_factor=2, mode="bilinear")(deepgrad.ones(1, 1, 2, 2)).shape
        deepgrad.Size([1, 1, 4, 4])
    """

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest",
                 align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(factor) for factor in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                           recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = "scale_factor=" + repr(self.scale_factor)
        else:
            info = "size=" + repr(self.size)
        return info + ", mode=" + repr(self.mode)
