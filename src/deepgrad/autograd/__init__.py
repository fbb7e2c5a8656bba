"""torch.autograd: ``backward``, ``grad``, ``Function``, grad modes, ``functional``, gradcheck.

``deepgrad.autograd.gradcheck`` is the function (as ``torch.autograd.gradcheck``); its
module is ``deepgrad.autograd.gradcheck`` in ``sys.modules`` and defines ``gradcheck`` and
``gradgradcheck`` too.
"""

from __future__ import annotations

from ..backend import array_module
from . import function as _function
from .anomaly_mode import detect_anomaly, set_detect_anomaly
from .function import Function, once_differentiable, run_backward
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)

__all__ = [
    "Function", "backward", "grad", "no_grad", "enable_grad", "set_grad_enabled",
    "inference_mode", "is_grad_enabled", "is_inference_mode_enabled", "once_differentiable",
    "gradcheck", "gradgradcheck", "functional", "Variable", "detect_anomaly",
    "set_detect_anomaly",
]


def _as_tuple(x):
    if x is None:
        return ()
    if isinstance(x, dict):  # torch 2.x accepts {name: tensor}
        return tuple(x.values())
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _default_grads(outputs, grad_outputs):
    """One Tensor gradient per output: ones for one-element outputs when none is given."""
    Tensor = _function.Tensor  # noqa: N806 - set once _tensor is imported (import cycle)
    grads = list(_as_tuple(grad_outputs)) or [None] * len(outputs)
    if len(grads) != len(outputs):
        raise RuntimeError(f"grad requires one grad_output per output: got {len(grads)} "
                           f"grad_outputs and {len(outputs)} outputs")
    for i, (out, g) in enumerate(zip(outputs, grads, strict=False)):
        if g is None:
            if out._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            data = out._data
            # xp.array(1).reshape: a third of xp.ones' cost, paid on every backward()
            grads[i] = Tensor._make(array_module(data).array(1, data.dtype).reshape(data.shape))
        elif not isinstance(g, Tensor):
            grads[i] = Tensor._make(array_module(out._data).asarray(g, out._data.dtype))
        elif g._data.shape != out._data.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] "
                f"has a shape of {out.shape}.")
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None) -> None:
    """Accumulate gradients of ``tensors`` into the ``.grad`` of the graph's leaves.

    Args:
        tensors: output tensor(s) to differentiate.
        grad_tensors: the gradient of something w.r.t. each output (None for a one-element
            output: 1).
        retain_graph: keep saved tensors for another backward (defaults to create_graph).
        create_graph: record the backward itself so gradients can be differentiated again.
        inputs: accumulate only into these tensors (leaves or not).

    Example:
        >>> x = deepgrad.tensor([1.0, 2.0], requires_grad=True)
        >>> deepgrad.autograd.backward((x * x).sum())
        >>> x.grad
        tensor([2., 4.])
    """
    if grad_tensors is None:
        grad_tensors = grad_variables
    outputs = _as_tuple(tensors)
    grads = _default_grads(outputs, grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if not inputs:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs, accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Gradients of ``outputs`` w.r.t. ``inputs``, returned as a tuple (``.grad`` untouched).

    Args:
        outputs: tensor(s) to differentiate.
        inputs: tensor(s) (leaves or intermediate results) to differentiate with respect to.
        grad_outputs: the vector in the vector-Jacobian product, one per output (None for
            one-element outputs).
        retain_graph: keep saved tensors for another backward (defaults to create_graph).
        create_graph: record the gradient's graph, for higher-order derivatives.
        allow_unused: return None for inputs the outputs do not depend on, instead of raising.
        is_grads_batched: the first dim of each grad_output is a batch of vectors; the
            result has the same leading dim.
        materialize_grads: return zeros instead of None for unused inputs.

    Returns:
        A tuple with one gradient per input.

    Example:
        >>> x = deepgrad.tensor(2.0, requires_grad=True)
        >>> (dx,) = deepgrad.autograd.grad(x * x * x, x, create_graph=True)   # 3x^2 = 12
        >>> deepgrad.autograd.grad(dx, x)                                     # 6x = 12
        (tensor(12.),)
    """
    outputs = _as_tuple(outputs)
    names = list(inputs) if isinstance(inputs, dict) else None
    inputs = _as_tuple(inputs)
    for t in inputs:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    if retain_graph is None:
        retain_graph = create_graph
    if is_grads_batched:
        result = _batched_grad(outputs, inputs, grad_outputs, create_graph, allow_unused,
                               materialize_grads)
    else:
        grads = _default_grads(outputs, grad_outputs)
        result = run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs,
                              accumulate=False, allow_unused=allow_unused)
    if materialize_grads:
        from .._creation import zeros_like  # noqa: PLC0415

        result = tuple(zeros_like(t) if g is None else g
                       for t, g in zip(inputs, result, strict=False))
    return result if names is None else dict(zip(names, result, strict=True))


def _batched_grad(outputs, inputs, grad_outputs, create_graph, allow_unused, materialize):
    """``is_grads_batched``: one backward per vector of the batch, results stacked."""
    from .._creation import zeros_like  # noqa: PLC0415
    from .functional import _stack  # noqa: PLC0415

    batches = _as_tuple(grad_outputs)
    if len(batches) != len(outputs) or any(b is None for b in batches):
        raise RuntimeError("is_grads_batched=True needs one batched grad_output per output")
    count = batches[0].shape[0]
    per_input = [[] for _ in inputs]
    for k in range(count):
        vectors = [b[k] if b._requires_grad else type(b)._make(b._data[k]) for b in batches]
        result = grad(outputs, inputs, vectors, retain_graph=True, create_graph=create_graph,
                      allow_unused=allow_unused)
        for rows, g, t in zip(per_input, result, inputs, strict=False):
            rows.append(g if g is not None or not materialize else zeros_like(t))
    return tuple(None if any(r is None for r in rows) else _stack(rows, (count,) + tuple(t.shape))
                 for rows, t in zip(per_input, inputs, strict=False))


class Variable:
    """Legacy ``torch.autograd.Variable``: returns the tensor itself (``requires_grad`` set),
    since Variables and Tensors have been one type since PyTorch 0.4."""

    def __new__(cls, data, requires_grad: bool = False, volatile: bool = False):
        if requires_grad:
            data.requires_grad_(True)
        return data


from . import functional  # noqa: E402 - needs the names above
from .gradcheck import gradcheck, gradgradcheck  # noqa: E402 - binds the function over the module
