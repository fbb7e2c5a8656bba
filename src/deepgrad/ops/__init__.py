"""Differentiable primitives, one file per family; importing this package attaches each
family's Tensor methods."""

from . import (  # noqa: F401  # noqa: F401  # noqa: F401  # noqa: F401
    combination,
    comparison,
    conversion,
    diagonal,
    elementwise,
    fill,
    indexing,
    joining,
    linalg,
    padding,
    piecewise,
    reduction,
    scatter,
    selection,
    shape,
    softmax,
    statistics,
    transcendental,
    trigonometric,
)
