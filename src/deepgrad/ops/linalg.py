"""Products: matmul and its 2-d/batched/vector forms (mm, bmm, mv, dot, inner, outer), the
fused ``add*`` products, einsum, tensordot, kron, trace and cross.

``MatMul`` is the one matrix-product primitive and ``Einsum`` (ops/einsum.py) covers every
other contraction; the rest are compositions, so their gradients (and gradients of
gradients) come from those primitives. Inverses and solves (ops/inverse.py),
factorizations (ops/factorization.py), pinv/rank/lstsq (ops/least_squares.py) and norms
and distances (ops/norm.py) belong to this family too: this module's ``__all__`` lists
their torch-level names, and ``deepgrad.linalg`` is their torch.linalg namespace.
"""

from __future__ import annotations

from .. import _errors
from .._tensor import Tensor, wrap_dim
from ..autograd.function import Function
from ..backend import array_module
from .einsum import cross, einsum
from .shape import sum_array_to_shape, sum_to_shape

__all__ = [
    "matmul", "mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm", "addmv",
    "addr", "baddbmm", "addbmm", "einsum", "tensordot", "kron", "trace", "cross",
]

_DTYPE_NAMES = {"float32": "float", "float64": "double", "float16": "half", "int64": "long",
                "int32": "int", "int16": "short", "int8": "char", "uint8": "unsigned char",
                "bool": "bool"}


def _check_dtypes(op: str, first: str, a: Tensor, second: str, b: Tensor) -> None:
    if a._data.dtype != b._data.dtype:
        raise _errors.op_error(
            RuntimeError, op,
            f"expected {first} and {second} to have the same dtype, but got: "
            f"{_DTYPE_NAMES.get(a.dtype.name, a.dtype.name)} != "
            f"{_DTYPE_NAMES.get(b.dtype.name, b.dtype.name)}", **{first: a, second: b})


class MatMul(Function):
    """``op(a) @ op(b)`` for operands with at least 2 dims, where ``op`` swaps the last two dims
    when its flag is set (1-d cases are reshaped by ``matmul``).

    The flags let backward form ``g @ b^T`` and ``a^T @ g`` as single products of the saved
    operands (an array transpose is a free view), so each gradient costs one node, not a
    transpose node plus a product. Batch dims broadcast; a broadcast batch dim's gradient is
    summed back.
    """

    raw = True

    @staticmethod
    def forward(ctx, a, b, transpose_a=False, transpose_b=False):
        ctx.save_for_backward(a, b)
        ctx.transposes = (transpose_a, transpose_b)
        return (a.swapaxes(-1, -2) if transpose_a else a) @ (
            b.swapaxes(-1, -2) if transpose_b else b)

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved_tensors
        return _matmul_grads(ctx, grad_out, a, b, MatMul.apply, sum_to_shape)

    @staticmethod
    def raw_backward(ctx, grad_out):
        a, b = ctx.saved_arrays
        return _matmul_grads(ctx, grad_out, a, b, _array_product, sum_array_to_shape)


def _matmul_grads(ctx, grad_out, a, b, product, sum_to):
    """MatMul's input gradients, on Tensors (``product`` = MatMul.apply, differentiable) or
    on arrays (the engine's first-order path); ``product(x, y, tx, ty)`` = op(x) @ op(y)."""
    ta, tb = ctx.transposes
    need = ctx.needs_input_grad
    grad_a = grad_b = None
    if need[0]:
        # d/d op(a) = g @ op(b)^T; when op(a) = a^T, transpose that: op(b) @ g^T.
        grad_a = product(b, grad_out, tb, True) if ta else product(grad_out, b, False, not tb)
        if grad_a.shape != a.shape:
            grad_a = sum_to(grad_a, tuple(a.shape))
    if need[1]:
        # d/d op(b) = op(a)^T @ g; when op(b) = b^T, transpose that: g^T @ op(a).
        grad_b = product(grad_out, a, True, ta) if tb else product(a, grad_out, not ta, False)
        if grad_b.shape != b.shape:
            grad_b = sum_to(grad_b, tuple(b.shape))
    return grad_a, grad_b, None, None  # None for the two flags


def _array_product(x, y, tx: bool, ty: bool):
    return _op(x, tx) @ _op(y, ty)


def _op(m, transpose: bool):
    return m.swapaxes(-1, -2) if transpose else m


def matmul(input: Tensor, other: Tensor, *, out=None) -> Tensor:  # noqa: A002
    """Matrix product with torch's rules: 1-d operands are promoted and squeezed back,
    batch dims broadcast.

    Args:
        input: tensor with at least 1 dim.
        other: tensor with at least 1 dim, same dtype.

    Shape:
        (n,) @ (n,) -> (); (m, n) @ (n,) -> (m,); (n,) @ (..., n, p) -> (..., p);
        (..., m, n) @ (..., n, p) -> (..., m, p) with the batch dims broadcast.

    Example:
        >>> deepgrad.matmul(deepgrad.ones(2, 3, 4), deepgrad.ones(4)).shape
        deepgrad.Size([2, 3])
    """
    a_shape, b_shape = input._data.shape, other._data.shape
    a_nd, b_nd = len(a_shape), len(b_shape)
    if a_nd == 0 or b_nd == 0:
        raise _errors.op_error(RuntimeError, "matmul", "both arguments need at least 1 dimension",
                               input=input, other=other)
    if a_shape[-1] != b_shape[0 if b_nd == 1 else -2]:
        raise _errors.op_error(
            RuntimeError, "matmul",
            f"mat1 and mat2 shapes cannot be multiplied ({a_shape[-1]} columns vs "
            f"{b_shape[0 if b_nd == 1 else -2]} rows)", input=input, other=other)
    if input._data.dtype != other._data.dtype:
        _check_dtypes("matmul", "input", input, "other", other)
    if a_nd > 2 and b_nd > 2 and a_shape[:-2] != b_shape[:-2]:
        _check_batch("matmul", a_shape[:-2], b_shape[:-2], input, other)
    if a_nd >= 2 and b_nd >= 2:
        return MatMul.apply(input, other)
    a = input.unsqueeze(0) if a_nd == 1 else input
    b = other.unsqueeze(-1) if b_nd == 1 else other
    result = MatMul.apply(a, b)
    shape = result._data.shape
    shape = shape[:-2] + (() if a_nd == 1 else shape[-2:-1]) + (() if b_nd == 1 else shape[-1:])
    return result.reshape(shape)


def _check_batch(op, a_batch, b_batch, input, other):  # noqa: A002
    for i, (x, y) in enumerate(zip(reversed(a_batch), reversed(b_batch), strict=False)):
        if x != y and x != 1 and y != 1:
            raise _errors.op_error(
                RuntimeError, op,
                f"the batch dims do not broadcast: size {x} of input and size {y} of other at "
                f"batch dimension {-1 - i}", input=input, other=other)


def mm(input: Tensor, mat2: Tensor, *, out=None) -> Tensor:  # noqa: A002
    """Product of two matrices (no broadcasting; see ``matmul`` for that).

    Shape:
        (n, m) @ (m, p) -> (n, p)

    Example:
        >>> deepgrad.mm(deepgrad.ones(2, 3), deepgrad.ones(3, 4)).shape
        deepgrad.Size([2, 4])
    """
    a, b = input._data.shape, mat2._data.shape
    if len(a) != 2 or len(b) != 2:
        raise _errors.op_error(RuntimeError, "mm", "both arguments must be matrices (2-D)",
                               input=input, mat2=mat2)
    if a[1] != b[0]:
        raise _errors.op_error(
            RuntimeError, "mm", f"mat1 and mat2 shapes cannot be multiplied ({a[0]}x{a[1]} and "
            f"{b[0]}x{b[1]})", input=input, mat2=mat2)
    if input._data.dtype != mat2._data.dtype:
        _check_dtypes("mm", "input", input, "mat2", mat2)
    return MatMul.apply(input, mat2)


def bmm(input: Tensor, mat2: Tensor, *, out=None) -> Tensor:  # noqa: A002
    """Batched matrix product of two 3-d tensors with the same batch size (no broadcasting).

    Shape:
        (b, n, m) @ (b, m, p) -> (b, n, p)

    Example:
        >>> deepgrad.bmm(deepgrad.ones(5, 2, 3), deepgrad.ones(5, 3, 4)).shape
        deepgrad.Size([5, 2, 4])
    """
    a, b = input._data.shape, mat2._data.shape
    if len(a) != 3 or len(b) != 3:
        raise _errors.op_error(RuntimeError, "bmm", "both arguments must be 3-D tensors",
                               input=input, mat2=mat2)
    if a[0] != b[0] or a[2] != b[1]:
        raise _errors.op_error(
            RuntimeError, "bmm", f"expected mat2 of size [{a[0]}, {a[2]}, *] for input of size "
            f"[{a[0]}, {a[1]}, {a[2]}]", input=input, mat2=mat2)
    if input._data.dtype != mat2._data.dtype:
        _check_dtypes("bmm", "input", input, "mat2", mat2)
    return MatMul.apply(input, mat2)


def mv(input: Tensor, vec: Tensor, *, out=None) -> Tensor:  # noqa: A002
    """Matrix-vector product.

    Shape:
        (n, m) @ (m,) -> (n,)

    Example:
        >>> deepgrad.mv(deepgrad.ones(2, 3), deepgrad.ones(3))
        tensor([3., 3.])
    """
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise _errors.op_error(RuntimeError, "mv", "expected a matrix and a vector",
                               input=input, vec=vec)
    if input._data.shape[1] != vec._data.shape[0]:
        raise _errors.op_error(RuntimeError, "mv", "size mismatch", input=input, vec=vec)
    if input._data.dtype != vec._data.dtype:
        _check_dtypes("mv", "input", input, "vec", vec)
    return matmul(input, vec)


def dot(input: Tensor, tensor: Tensor, *, out=None) -> Tensor:  # noqa: A002
    """Inner product of two 1-d tensors of the same size and dtype.

    Example:
        >>> deepgrad.dot(deepgrad.tensor([1, 2, 3]), deepgrad.tensor([2, 3, 4]))
        tensor(20)
    """
    if input._data.ndim != 1 or tensor._data.ndim != 1:
        raise _errors.op_error(
            RuntimeError, "dot", f"1D tensors expected, but got {input._data.ndim}D and "
            f"{tensor._data.ndim}D tensors", input=input, tensor=tensor)
    if input._data.shape != tensor._data.shape:
        raise _errors.op_error(RuntimeError, "dot", "inconsistent tensor size",
                               input=input, tensor=tensor)
    if input._data.dtype != tensor._data.dtype:
        _check_dtypes("dot", "input", input, "tensor", tensor)
    return matmul(input, tensor)


def vdot(input: Tensor, other: Tensor, *, out=None) -> Tensor:  # noqa: A002
    """``dot`` with the first argument conjugated (the same as ``dot`` for real tensors)."""
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise _errors.op_error(RuntimeError, "vdot", "1D tensors expected", input=input,
                               other=other)
    if input._data.shape != other._data.shape:
        raise _errors.op_error(RuntimeError, "vdot", "inconsistent tensor size", input=input,
                               other=other)
    if input._data.dtype != other._data.dtype:
        _check_dtypes("vdot", "input", input, "other", other)
    return matmul(input, other)


def inner(input: Tensor, other: Tensor, *, out=None) -> Tensor:  # noqa: A002
    """Sum of products over the last dim of both; a 0-d operand multiplies instead.

    Shape:
        (*a, n), (*b, n) -> (*a, *b)

    Example:
        >>> deepgrad.inner(deepgrad.ones(2, 3), deepgrad.ones(4, 3)).shape
        deepgrad.Size([2, 4])
    """
    if input._data.ndim == 0 or other._data.ndim == 0:
        return input * other
    if input._data.shape[-1] != other._data.shape[-1]:
        raise _errors.op_error(RuntimeError, "inner", "the last dimension must match on both "
                               "input tensors", input=input, other=other)
    if input._data.dtype != other._data.dtype:
        _check_dtypes("inner", "input", input, "other", other)
    return tensordot(input, other, ([-1], [-1]))


def outer(input: Tensor, vec2: Tensor, *, out=None) -> Tensor:  # noqa: A002
    """Outer product of two vectors (dtypes promote).

    Shape:
        (n,), (m,) -> (n, m)

    Example:
        >>> deepgrad.outer(deepgrad.tensor([1., 2.]), deepgrad.tensor([1., 10., 100.]))
        tensor([[  1.,  10., 100.],
                [  2.,  20., 200.]])
    """
    if input._data.ndim != 1 or vec2._data.ndim != 1:
        raise _errors.op_error(RuntimeError, "outer", "expected 1-D arguments", input=input,
                               vec2=vec2)
    return input.reshape(-1, 1) * vec2


ger = outer


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:  # noqa: A002
    """``beta * input + alpha * (mat1 @ mat2)``; ``input`` broadcasts to the product's shape.

    With ``beta=0`` the input is ignored (nan and inf in it do not propagate), as torch.

    Example:
        >>> deepgrad.addmm(deepgrad.zeros(3), deepgrad.ones(2, 4), deepgrad.ones(4, 3)).shape
        deepgrad.Size([2, 3])
    """
    return _add_product("addmm", input, mm(mat1, mat2), beta, alpha)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:  # noqa: A002
    """``beta * input + alpha * (mat @ vec)``."""
    return _add_product("addmv", input, mv(mat, vec), beta, alpha)


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:  # noqa: A002
    """``beta * input + alpha * outer(vec1, vec2)``."""
    return _add_product("addr", input, outer(vec1, vec2), beta, alpha)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1,  # noqa: A002
            out=None) -> Tensor:
    """``beta * input + alpha * bmm(batch1, batch2)``."""
    return _add_product("baddbmm", input, bmm(batch1, batch2), beta, alpha)


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1,  # noqa: A002
           out=None) -> Tensor:
    """``beta * input + alpha * sum_b batch1[b] @ batch2[b]``."""
    if batch1._data.ndim != 3 or batch2._data.ndim != 3:
        raise _errors.op_error(RuntimeError, "addbmm", "both batches must be 3-D tensors",
                               batch1=batch1, batch2=batch2)
    return _add_product("addbmm", input, einsum("bij,bjk->ik", batch1, batch2), beta, alpha)


class AddScaled(Function):
    """``beta * input + product``; with beta = 0 the input's values (nan, inf) are not read,
    but it still gets its (zero) gradient, as torch."""

    raw = True

    @staticmethod
    def forward(ctx, input, product, beta):  # noqa: A002
        ctx.beta = beta
        if beta == 0:
            return product  # a fresh array of the product's node, not shared with the user
        return product + (input if beta == 1 else beta * input)

    @staticmethod
    def backward(ctx, grad_out):
        need_input, need_product = ctx.needs_input_grad[:2]
        grad_input = grad_out * ctx.beta if need_input else None
        return grad_input, (grad_out if need_product else None)


def _add_product(op: str, input: Tensor, product: Tensor, beta, alpha) -> Tensor:  # noqa: A002
    if not isinstance(input, Tensor):
        from .._creation import tensor  # noqa: PLC0415

        input = tensor(input, dtype=product.dtype)  # noqa: A001
    if input._data.dtype != product._data.dtype:
        _check_dtypes(op, "input", input, "product", product)
    if input._data.shape != product._data.shape:
        input = input.expand(product._data.shape)  # noqa: A001 - torch's expand error
    if alpha != 1:
        product = product * alpha
    return AddScaled.apply(input, product, beta)


def tensordot(a: Tensor, b: Tensor, dims=2, out=None) -> Tensor:
    """Contract the last ``dims`` dims of ``a`` with the first ``dims`` of ``b``, or the
    listed dims: ``dims=([1, 0], [0, 1])`` pairs ``a``'s dim 1 with ``b``'s dim 0, ...

    Shape:
        (*a_free, *k), (*k, *b_free) -> (*a_free, *b_free)

    Example:
        >>> deepgrad.tensordot(deepgrad.ones(2, 3, 4), deepgrad.ones(3, 4, 5)).shape
        deepgrad.Size([2, 5])
    """
    a_nd, b_nd = a._data.ndim, b._data.ndim
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot: expects dims >= 0, but got dims={dims}")
        if dims > a_nd or dims > b_nd:
            raise RuntimeError(f"tensordot: expects dims < ndim_a or ndim_b, but got dims={dims}")
        dims_a, dims_b = list(range(a_nd - dims, a_nd)), list(range(dims))
    else:
        dims_a, dims_b = dims
        dims_a = [dims_a] if isinstance(dims_a, int) else list(dims_a)
        dims_b = [dims_b] if isinstance(dims_b, int) else list(dims_b)
        if len(dims_a) != len(dims_b):
            raise RuntimeError("tensordot: both dimension lists should have same length")
    if a._data.dtype != b._data.dtype:
        _check_dtypes("tensordot", "a", a, "b", b)
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    a_sub = list(letters[:a_nd])
    b_sub = list(letters[a_nd:a_nd + b_nd])
    for da, db in zip(dims_a, dims_b, strict=False):
        da, db = wrap_dim(da, a_nd, "tensordot"), wrap_dim(db, b_nd, "tensordot")
        if a._data.shape[da] != b._data.shape[db]:
            raise _errors.op_error(
                RuntimeError, "tensordot", f"contracted dimensions need to match, but first has "
                f"size {a._data.shape[da]} in dim {da} and second has size {b._data.shape[db]} "
                f"in dim {db}", a=a, b=b)
        b_sub[db] = a_sub[da]
    contracted = set(b_sub) & set(a_sub)
    output = [c for c in a_sub if c not in contracted] + [c for c in b_sub if c not in contracted]
    return einsum("".join(a_sub) + "," + "".join(b_sub) + "->" + "".join(output), a, b)


def kron(input: Tensor, other: Tensor, *, out=None) -> Tensor:  # noqa: A002
    """Kronecker product: blocks ``input[i] * other`` laid out on an enlarged grid.

    Shape:
        (a0, a1, ...), (b0, b1, ...) -> (a0 * b0, a1 * b1, ...) (shorter shapes padded with 1)

    Example:
        >>> deepgrad.kron(deepgrad.eye(2), deepgrad.ones(2, 2)).shape
        deepgrad.Size([4, 4])
    """
    ndim = max(input._data.ndim, other._data.ndim)
    a_shape = (1,) * (ndim - input._data.ndim) + input._data.shape
    b_shape = (1,) * (ndim - other._data.ndim) + other._data.shape
    # (a0, 1, a1, 1, ...) * (1, b0, 1, b1, ...) -> (a0, b0, a1, b1, ...)
    a = input.reshape(tuple(s for n in a_shape for s in (n, 1)))
    b = other.reshape(tuple(s for n in b_shape for s in (1, n)))
    return (a * b).reshape(tuple(x * y for x, y in zip(a_shape, b_shape, strict=False)))


def trace(input: Tensor) -> Tensor:  # noqa: A002
    """Sum of the main diagonal of a 2-d tensor (rectangular allowed); ints sum to int64.

    Example:
        >>> deepgrad.trace(deepgrad.eye(3))
        tensor(3.)
    """
    if input._data.ndim != 2:
        raise _errors.op_error(RuntimeError, "trace", "expected a matrix", input=input)
    rows, cols = input._data.shape
    xp = array_module(input._data)
    return (input * Tensor._make(xp.eye(rows, cols, dtype=input._data.dtype))).sum()


Tensor.matmul = matmul
Tensor.__matmul__ = matmul
Tensor.__rmatmul__ = lambda self, other: matmul(other, self)
Tensor.mm = mm
Tensor.bmm = bmm
Tensor.mv = mv
Tensor.dot = dot
Tensor.vdot = vdot
Tensor.inner = inner
Tensor.outer = outer
Tensor.ger = ger
Tensor.addmm = addmm
Tensor.addmv = addmv
Tensor.addr = addr
Tensor.baddbmm = baddbmm
Tensor.addbmm = addbmm
Tensor.kron = kron
Tensor.trace = trace
Tensor.cross = cross

# The torch-level names of the decomposition and norm families are this family's too.
from .factorization import cholesky, qr, svd  # noqa: E402
from .inverse import det, inverse, logdet, matrix_power, slogdet  # noqa: E402
from .least_squares import pinverse  # noqa: E402
from .norm import cdist, norm  # noqa: E402

__all__ += ["det", "logdet", "slogdet", "inverse", "matrix_power", "cholesky", "svd", "qr",
            "pinverse", "norm", "cdist"]
