"""deepgrad: a deep-learning framework you can read end to end, with PyTorch's API.

``import deepgrad as torch`` runs PyTorch scripts for everything in the course notes: a
NumPy tensor with reverse-mode autograd (gradients of gradients included), nn, optim,
data loading and a vision model zoo.
"""

from __future__ import annotations

# Importing ops attaches each family's Tensor methods (conv, pooling: the NN kernels).
from . import autograd, backend, ops
from ._creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from ._tensor import Size, Tensor
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .backend import (
    Generator,
    device,
    dtype,
    get_default_dtype,
    initial_seed,
    manual_seed,
    seed,
    set_default_dtype,
)
from .ops import conv, pooling  # noqa: F401 - pooling brings ops.adaptive_pooling

# The torch-level functions (deepgrad.exp, deepgrad.cat, ...) are each family's __all__:
# an op is added in one place, its family file, and appears here.
for _family in (ops.conversion, ops.elementwise, ops.combination, ops.reduction, ops.shape,
                ops.linalg, ops.selection, ops.statistics, ops.softmax,
                ops.indexing, ops.scatter, ops.joining, ops.diagonal,
                ops.comparison, ops.piecewise, ops.transcendental, ops.trigonometric,
                ops.fill, ops.conv, ops.pooling, ops.adaptive_pooling):
    globals().update({_name: getattr(_family, _name) for _name in _family.__all__})
del _family

# Namespaces built on the core: torch.cuda, torch.linalg, torch.nn, torch.optim,
# torch.utils.data, and save/load.
from . import cuda, linalg, nn, optim, utils  # noqa: E402,I001
from ._threads import get_num_threads, set_num_threads  # noqa: E402,I001
from .serialization import load, save  # noqa: E402,I001
from ._printing import get_printoptions, printoptions, set_printoptions  # noqa: E402,I001
from .autograd.anomaly_mode import is_anomaly_enabled  # noqa: E402,I001
from .autograd.grad_mode import is_inference_mode_enabled  # noqa: E402,I001

float16 = half = backend.float16
float32 = float = backend.float32  # noqa: A001 - torch's names
float64 = double = backend.float64
int8 = backend.int8
uint8 = backend.uint8
int16 = short = backend.int16
int32 = int = backend.int32  # noqa: A001
int64 = long = backend.int64
bool = backend.bool_  # noqa: A001
complex64 = cfloat = backend.complex64
complex128 = cdouble = backend.complex128

__version__ = "0.1.0"
