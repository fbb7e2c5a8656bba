"""Einstein summation: ``einsum`` with torch's equation rules (implicit and explicit output,
``...``, size-1 broadcasting of any subscript), forward by ``xp.einsum`` and backward by
einsum again, so gradients of gradients come free.

The equation is parsed once per (equation, shapes) into a normalised plan: one letter per
dimension, no ellipsis, and no broadcasting left (a size-1 dim that broadcasts gets a fresh
letter of its own, which its operand sums over trivially). On such a plan the gradient of
operand k is one einsum of the output gradient with the other operands, written to operand
k's letters; letters only operand k has become a ``ones`` operand (the gradient is constant
along them) and a repeated letter (a diagonal, ``"ii->i"``) becomes an identity operand.

``cross`` is an einsum with the Levi-Civita symbol, c_i = eps_ijk a_j b_k.
"""

from __future__ import annotations

import functools
import string
import warnings

import numpy as np

from .. import _errors
from .._tensor import Tensor, wrap_dim
from ..autograd.function import Function
from ..backend import array_module

__all__ = ["einsum", "cross"]

_LETTERS = string.ascii_letters
_OPTIMIZE_MIN_COST = 1 << 12  # below this naive cost, numpy's path search costs more than it saves


class _Plan:
    """A normalised equation: ``inputs`` (one letter per dim), ``output``, label ``sizes``."""

    __slots__ = ("inputs", "output", "sizes", "equation", "optimize")

    def __init__(self, inputs, output, sizes):
        self.inputs = tuple(inputs)
        self.output = output
        self.sizes = sizes
        self.equation = ",".join(self.inputs) + "->" + output
        self.optimize = False
        if len(self.inputs) >= 2:
            cost = 1
            for size in sizes.values():
                cost *= max(size, 1)
            if cost >= _OPTIMIZE_MIN_COST:
                dummies = [np.broadcast_to(np.zeros((), np.float64), tuple(sizes[c] for c in s))
                           for s in self.inputs]
                self.optimize = np.einsum_path(self.equation, *dummies, optimize="greedy")[0]


class Einsum(Function):
    """``xp.einsum`` on a normalised plan; the gradient of each operand is another einsum."""

    raw = True

    @staticmethod
    def forward(ctx, *arrays, plan):
        ctx.plan = plan
        ctx.save_for_backward(*arrays)
        xp = array_module(arrays[0])
        optimize = plan.optimize
        if optimize is not False and xp is not np:  # CuPy takes a strategy name, not a path
            optimize = "greedy"
        return xp.einsum(plan.equation, *arrays, optimize=optimize)

    @staticmethod
    def backward(ctx, grad_out):
        plan = ctx.plan
        operands = ctx.saved_tensors
        grads = []
        for k, need in enumerate(ctx.needs_input_grad):
            grads.append(_operand_grad(plan, k, grad_out, operands) if need else None)
        return tuple(grads)


def _operand_grad(plan: _Plan, k: int, grad_out: Tensor, operands) -> Tensor:
    grad_plan, constants = _grad_plan(plan, k)
    xp = array_module(grad_out._data)
    dtype = grad_out._data.dtype
    extra = []
    for kind, size in constants:
        array = xp.ones(size, dtype) if kind == "ones" else xp.eye(size, dtype=dtype)
        extra.append(Tensor._make(array))
    others = [t for j, t in enumerate(operands) if j != k]
    return Einsum.apply(grad_out, *others, *extra, plan=grad_plan)


@functools.lru_cache(maxsize=1024)
def _grad_plan_cached(inputs, output, sizes_items, k):
    sizes = dict(sizes_items)
    target = inputs[k]
    subs = [output] + [s for j, s in enumerate(inputs) if j != k]
    available = set("".join(subs))
    fresh = iter(c for c in _LETTERS if c not in sizes)
    constants = []
    seen = set()
    out = []
    for label in target:
        if label in seen:  # repeated label: the gradient lives on the diagonal
            twin = next(fresh)
            sizes[twin] = sizes[label]
            subs.append(label + twin)
            constants.append(("eye", sizes[label]))
            out.append(twin)
            continue
        seen.add(label)
        if label not in available:  # only this operand has it: the gradient is constant along it
            subs.append(label)
            constants.append(("ones", sizes[label]))
            available.add(label)
        out.append(label)
    return _Plan(subs, "".join(out), sizes), tuple(constants)


def _grad_plan(plan: _Plan, k: int):
    return _grad_plan_cached(plan.inputs, plan.output, tuple(sorted(plan.sizes.items())), k)


def _error(problem: str) -> RuntimeError:
    return RuntimeError(f"einsum(): {problem}")


def _split_operand(term: str, ndim: int, position: int):
    """Explicit labels before and after an optional ellipsis, and the ellipsis width."""
    if "..." in term:
        head, _, tail = term.partition("...")
        if "." in head or "." in tail:
            raise _error(f"found '.' for operand {position} that is not part of any ellipsis")
        width = ndim - len(head) - len(tail)
        if width < 0:
            raise _error(
                f"the number of subscripts in the equation ({len(head) + len(tail)}) is more than "
                f"the number of dimensions ({ndim}) for operand {position}")
        return head, tail, width
    if len(term) != ndim:
        raise _error(
            f"the number of subscripts in the equation ({len(term)}) does not match the number "
            f"of dimensions ({ndim}) for operand {position} and no ellipsis was given")
    return term, "", None


@functools.lru_cache(maxsize=1024)
def _parse(equation: str, shapes: tuple) -> _Plan:
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) > len(shapes):
        raise _error("fewer operands were provided than specified in the equation")
    if len(terms) < len(shapes):
        raise _error("more operands were provided than specified in the equation")
    for c in lhs + rhs:
        if c not in _LETTERS and c not in ".,":
            raise _error(f"invalid subscript given at index {equation.index(c)} in the equation "
                         f"string, subscripts must be in [a-zA-Z]")

    # Pass 1: label sizes (with size-1 broadcasting) and the ellipsis' broadcast shape.
    parts = [_split_operand(term, len(shape), i)
             for i, (term, shape) in enumerate(zip(terms, shapes, strict=False))]
    sizes = {}
    ellipsis = []  # broadcast sizes of the ellipsis dims, right-aligned
    for i, ((head, tail, width), shape) in enumerate(zip(parts, shapes, strict=False)):
        n_head = len(head)
        dims = list(zip(head, shape[:n_head], strict=False))
        dims += list(zip(tail, shape[len(shape) - len(tail):], strict=False))
        own = {}
        for label, size in dims:
            if own.setdefault(label, size) != size:
                raise _error(f"subscript {label} is repeated for operand {i} but the sizes don't "
                             f"match, {own[label]} != {size}")
            seen = sizes.get(label)
            if seen is None or seen == 1:
                sizes[label] = size
            elif size not in (1, seen):
                raise _error(f"subscript {label} has size {size} for operand {i} which does not "
                             f"broadcast with previously seen size {seen}")
        if width:
            middle = shape[n_head:n_head + width]
            ellipsis = [1] * (width - len(ellipsis)) + ellipsis
            for j, size in enumerate(middle):
                at = len(ellipsis) - width + j
                if ellipsis[at] == 1:
                    ellipsis[at] = size
                elif size not in (1, ellipsis[at]):
                    raise _error(
                        f"dimension {j} covered by ellipsis in operand {i} has size {size} which "
                        f"does not broadcast with previously seen ellipsis with size "
                        f"{ellipsis[at]} for the respective dimension")

    # Output labels.
    has_ellipsis = any(width is not None for _, _, width in parts)
    if arrow:
        if rhs.count("...") > 1 or "." in rhs.replace("...", ""):
            raise _error("found '.' for output that is not part of any ellipsis")
        for label in rhs.replace("...", ""):
            if label not in sizes:
                raise _error(f"output subscript {label} does not appear in the equation for any "
                             "input operand")
            if rhs.count(label) > 1:
                raise _error(f"output subscript {label} appears more than once in the output")
        out_head, dots, out_tail = rhs.partition("...")
        out_ellipsis = bool(dots)
    else:
        counts = {}
        for head, tail, _ in parts:
            for label in head + tail:
                counts[label] = counts.get(label, 0) + 1
        # Implicit output: the ellipsis dims, then the labels used once, alphabetically.
        out_head = ""
        out_tail = "".join(sorted(label for label, n in counts.items() if n == 1))
        out_ellipsis = has_ellipsis

    # Pass 2: relabel everything with fresh letters, one per broadcast-free dimension.
    letters = iter(_LETTERS)
    name = {label: next(letters) for label in sizes}
    ell_names = [next(letters) for _ in ellipsis]
    plan_sizes = {name[label]: size for label, size in sizes.items()}
    plan_sizes.update(zip(ell_names, ellipsis, strict=False))
    inputs = []
    for (head, tail, width), shape in zip(parts, shapes, strict=False):
        labels = []
        own_fresh = {}
        middle = [] if not width else list(zip(ell_names[len(ellipsis) - width:],
                                                shape[len(head):len(head) + width], strict=False))
        dims = [(name[c], s) for c, s in zip(head, shape, strict=False)] + middle + [
            (name[c], s) for c, s in zip(tail, shape[len(shape) - len(tail):], strict=False)]
        for letter, size in dims:
            if size != plan_sizes[letter]:  # a broadcast size-1 dim: its own letter
                if letter not in own_fresh:
                    own_fresh[letter] = next(letters, None)
                    if own_fresh[letter] is None:
                        raise _error("too many subscripts after broadcasting (at most 52)")
                    plan_sizes[own_fresh[letter]] = size
                letter = own_fresh[letter]
            labels.append(letter)
        inputs.append("".join(labels))
    output = "".join(name[c] for c in out_head)
    if out_ellipsis:
        output += "".join(ell_names)
    output += "".join(name[c] for c in out_tail)
    return _Plan(inputs, output, plan_sizes)


def einsum(equation: str, *operands) -> Tensor:
    """Sum of products over the subscripts of ``equation``, in Einstein notation.

    Args:
        equation: subscripts per operand separated by commas, optionally ``->`` and the output
            subscripts; ``...`` stands for broadcast batch dims. Without ``->`` the output is
            the ellipsis dims then the subscripts used exactly once, in alphabetical order.
        *operands: tensors (or one list of tensors), one per comma-separated term.

    Returns:
        The contraction; dims of size 1 broadcast against the same subscript elsewhere.

    Example:
        >>> a, b = deepgrad.randn(2, 3), deepgrad.randn(3, 4)
        >>> deepgrad.einsum("ij,jk->ik", a, b).shape      # a @ b
        deepgrad.Size([2, 4])
        >>> deepgrad.einsum("ii", deepgrad.eye(3))         # trace
        tensor(3.)
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise _error("must provide at least one operand")
    plan = _parse(equation, tuple(t._data.shape for t in operands))
    dtype = operands[0]._data.dtype
    if any(t._data.dtype != dtype for t in operands):
        operands = _promote(plan, operands)
    return Einsum.apply(*operands, plan=plan)


def _promote(plan: _Plan, operands):
    """torch promotes mixed dtypes in pure products but not in a contraction (a sum)."""
    from .promotion import cast, result_type  # noqa: PLC0415

    summed = set("".join(plan.inputs)) - set(plan.output)
    if summed:
        first = operands[0]._data.dtype
        other = next(t._data.dtype for t in operands if t._data.dtype != first)
        from .inverse import _TORCH_NAMES  # noqa: PLC0415

        names = [_TORCH_NAMES.get(str(d), str(d)) for d in (first, other)]
        raise _error(f"expected scalar type {names[0]} but found {names[1]}")
    dtype = result_type(*operands)
    return [cast(t, dtype) for t in operands]


# ---------------------------------------------------------------- cross product

_LEVI_CIVITA = {}


def _levi_civita(xp, dtype):
    key = (xp.__name__, dtype)
    if key not in _LEVI_CIVITA:
        eps = xp.zeros((3, 3, 3), dtype)
        for i, j, k in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
            eps[i, j, k], eps[i, k, j] = 1, -1
        _LEVI_CIVITA[key] = eps
    return _LEVI_CIVITA[key]


def cross(input: Tensor, other: Tensor, dim=None, *, out=None) -> Tensor:  # noqa: A002
    """Cross product of 3-vectors along ``dim``; ``dim=None`` (deprecated in torch, warns)
    takes the first dim of size 3. ``linalg.cross`` defaults to the last dim.

    Example:
        >>> deepgrad.cross(deepgrad.tensor([1., 0, 0]), deepgrad.tensor([0., 1, 0]), dim=0)
        tensor([0., 0., 1.])
    """
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.",
                      UserWarning, stacklevel=2)
        from .promotion import broadcast_shapes  # noqa: PLC0415

        shape = broadcast_shapes("cross", input._data.shape, other._data.shape)
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise _errors.op_error(RuntimeError, "cross", "no dimension of size 3 in input",
                                   input=input, other=other)
    return _cross("cross", input, other, dim)


def _cross(op: str, input: Tensor, other: Tensor, dim: int) -> Tensor:  # noqa: A002
    ndim = input._data.ndim
    if other._data.ndim != ndim:
        raise _errors.op_error(RuntimeError, op, "inputs must have the same number of "
                               "dimensions", input=input, other=other)
    d = wrap_dim(dim, ndim, op)
    if input._data.shape[d] != 3 or other._data.shape[d] != 3:
        raise _errors.op_error(
            RuntimeError, op, f"inputs dimension {dim} must have length 3. Got "
            f"{input._data.shape[d]} and {other._data.shape[d]}", input=input, other=other)
    if input._data.dtype != other._data.dtype:
        from .linalg import _check_dtypes  # noqa: PLC0415

        _check_dtypes(op, "input", input, "other", other)
    eps = Tensor._make(_levi_civita(array_module(input._data), input._data.dtype))
    if d == ndim - 1:
        return einsum("...j,...k,ijk->...i", input, other, eps)
    # put dim last, contract, put it back: c_i = eps_ijk a_j b_k
    order = [i for i in range(ndim) if i != d] + [d]
    back = list(range(ndim - 1))
    back.insert(d, ndim - 1)
    result = einsum("...j,...k,ijk->...i", input.permute(order), other.permute(order), eps)
    return result.permute(back)


def linalg_cross(input: Tensor, other: Tensor, *, dim: int = -1, out=None) -> Tensor:  # noqa: A002
    """``linalg.cross``: cross product of 3-vectors along ``dim`` (default the last); the
    other dims broadcast (both inputs need the same number of dims, as torch).

    Shape:
        (*, 3), (*, 3) -> (*, 3)

    Example:
        >>> deepgrad.linalg.cross(deepgrad.tensor([0., 1, 0]), deepgrad.tensor([0., 0, 1]))
        tensor([1., 0., 0.])
    """
    return _cross("linalg.cross", input, other, dim)
