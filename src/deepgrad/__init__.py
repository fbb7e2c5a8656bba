"""deepgrad: a deep-learning framework you can read end to end, with PyTorch's API.

``import deepgrad as torch`` runs PyTorch scripts for everything in the course notes: a
NumPy tensor with reverse-mode autograd (gradients of gradients included), nn, optim,
data loading and a vision model zoo.
"""

from __future__ import annotations

from . import backend
from ._creation import (
    arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, linspace,
    logspace, ones, ones_like, rand, rand_like, randint, randint_like, randn, randn_like,
    randperm, tensor, zeros, zeros_like,
)
from ._tensor import Size, Tensor
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .backend import (
    Generator, device, dtype, get_default_dtype, initial_seed, manual_seed, seed,
    set_default_dtype,
)
from . import autograd, ops  # noqa: E402,I001 - importing ops attaches the Tensor methods

# The torch-level functions (deepgrad.exp, deepgrad.cat, ...) are each family's __all__:
# an op is added in one place, its family file, and appears here.
for _family in (ops.conversion, ops.elementwise, ops.reduction, ops.shape, ops.linalg,
                ops.selection, ops.statistics, ops.softmax,
                ops.indexing, ops.scatter, ops.joining, ops.diagonal,
                ops.comparison, ops.piecewise, ops.transcendental, ops.trigonometric,
                ops.fill):
    globals().update({_name: getattr(_family, _name) for _name in _family.__all__})
del _family
from . import utils  # noqa: E402 - deepgrad.utils.data
from . import linalg  # noqa: E402,F401 - the torch.linalg namespace
from .serialization import load, save  # noqa: E402

from . import cuda  # noqa: E402
from . import nn  # noqa: E402 - torch.nn: modules, functional, init, utils
from . import optim  # noqa: E402

float16 = half = backend.float16
float32 = float = backend.float32  # noqa: A001 - torch's names
float64 = double = backend.float64
int8 = backend.int8
uint8 = backend.uint8
int16 = short = backend.int16
int32 = int = backend.int32  # noqa: A001
int64 = long = backend.int64
bool = backend.bool_  # noqa: A001

__version__ = "0.1.0"
