"""torch.autograd: ``backward``, ``grad``, ``Function``, grad modes, ``functional``, gradcheck."""

from __future__ import annotations

from ..backend import array_module
from .function import Function, once_differentiable, run_backward
from .grad_mode import (
    enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled,
)

__all__ = [
    "Function", "backward", "grad", "no_grad", "enable_grad", "set_grad_enabled",
    "inference_mode", "is_grad_enabled", "once_differentiable", "gradcheck", "gradgradcheck",
    "functional",
]


def _as_tuple(x):
    if x is None:
        return ()
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _default_grads(outputs, grad_outputs, create_graph):
    from .._tensor import Tensor  # noqa: PLC0415

    grads = list(_as_tuple(grad_outputs)) or [None] * len(outputs)
    if len(grads) != len(outputs):
        raise RuntimeError(f"grad_outputs has {len(grads)} entries but there are "
                           f"{len(outputs)} outputs")
    for i, (out, g) in enumerate(zip(outputs, grads)):
        if g is None:
            if out._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            xp = array_module(out._data)
            grads[i] = Tensor._make(xp.ones(out._data.shape, out._data.dtype))
        elif not isinstance(g, Tensor):
            grads[i] = Tensor._make(array_module(out._data).asarray(g, out._data.dtype))
        elif g.shape != out.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] "
                f"has a shape of {out.shape}.")
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate gradients of ``tensors`` into the ``.grad`` of graph leaves.

    Args:
        tensors: output tensor(s) to differentiate.
        grad_tensors: the gradient of something w.r.t. each output (None for scalars: 1).
        retain_graph: keep saved tensors for another backward (defaults to create_graph).
        create_graph: record the backward itself so gradients can be differentiated again.
        inputs: accumulate only into these tensors.
    """
    outputs = _as_tuple(tensors)
    grads = _default_grads(outputs, grad_tensors, create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    inputs = _as_tuple(inputs) or None
    run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs, accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Gradients of ``outputs`` w.r.t. ``inputs``, returned (``.grad`` is not touched).

    Example:
        >>> x = deepgrad.tensor(2.0, requires_grad=True)
        >>> (dx,) = deepgrad.autograd.grad(x ** 3, x, create_graph=True)
        >>> deepgrad.autograd.grad(dx, x)   # second derivative 6x = 12
    """
    outputs = _as_tuple(outputs)
    single = not isinstance(inputs, (tuple, list))
    inputs = _as_tuple(inputs)
    for t in inputs:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads = _default_grads(outputs, grad_outputs, create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    result = run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs,
                          accumulate=False, allow_unused=bool(allow_unused) or materialize_grads)
    if materialize_grads:
        from .._creation import zeros_like  # noqa: PLC0415

        result = tuple(zeros_like(t) if g is None else g for t, g in zip(inputs, result))
    return result
