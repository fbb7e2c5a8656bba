"""Differentiable primitives, one file per family; importing this package attaches each
family's Tensor methods."""

from . import conversion, elementwise, linalg, reduction, shape  # noqa: F401
from . import comparison, fill, piecewise, transcendental, trigonometric  # noqa: F401
from . import selection, softmax, statistics  # noqa: F401
from . import diagonal, indexing, joining, padding, scatter  # noqa: F401
