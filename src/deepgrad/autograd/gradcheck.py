"""Numerical gradient checks: ``gradcheck`` and ``gradgradcheck``, as torch's.

``gradcheck`` compares the Jacobian backward computes (one vector-Jacobian product per
output element) with central differences ``(f(x + eps) - f(x - eps)) / (2 eps)``, element by
element, with ``|analytical - numerical| <= atol + rtol * |numerical|``. Use float64 inputs:
in float32 the differences are dominated by rounding (a warning says so, as torch's).
``gradgradcheck`` runs ``gradcheck`` on the function that computes the gradients with
``create_graph=True``, which checks second derivatives.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import _tensor, backend
from . import grad_mode
from .function import run_backward

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` / ``gradgradcheck`` when a check fails."""


def _as_tuple(x) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _is_tensor(x) -> bool:
    return isinstance(x, _tensor.Tensor)


def _func_name(func) -> str:
    owner = getattr(func, "__self__", None)
    if isinstance(owner, type):  # Function.apply bound to the user's class
        return f"{owner.__name__}.{func.__name__}"
    return getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)


def _differentiable_inputs(inputs):
    """Positions of inputs that require grad; warns about non-float64 ones as torch does."""
    positions = []
    for i, x in enumerate(inputs):
        if _is_tensor(x) and x._requires_grad:
            if x._data.dtype != np.float64:
                warnings.warn(
                    f"Input #{i} requires gradient and is not a double precision floating point "
                    "or complex. This check will likely fail if all the inputs are not of double "
                    "precision floating point or complex. ", stacklevel=3)
            positions.append(i)
    if not positions:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of them have requires_grad=True.")
    return positions


def _evaluate(func, inputs):
    """func's outputs as a tuple of host arrays (copied: outputs may be views of inputs)."""
    outputs = _as_tuple(func(*inputs))
    return [backend.move_array(o._data, backend.CPU).astype(np.float64, copy=True)
            if _is_tensor(o) else None for o in outputs]


def _numerical_jacobians(func, inputs, positions, eps):
    """``J[i][j]`` of shape (input_j.numel(), output_i.numel()), torch's layout."""
    with grad_mode.no_grad():
        outputs = _evaluate(func, inputs)
        jac = [[np.zeros((inputs[p]._data.size, 0 if o is None else o.size)) for p in positions]
               for o in outputs]
        for j, p in enumerate(positions):
            data = inputs[p]._data  # perturbed in place, as torch does, then restored
            for k in range(data.size):
                index = np.unravel_index(k, data.shape)
                original = data[index].item()
                data[index] = original + eps
                plus = _evaluate(func, inputs)
                data[index] = original - eps
                minus = _evaluate(func, inputs)
                data[index] = original
                for i, (a, b) in enumerate(zip(plus, minus, strict=False)):
                    if a is not None and outputs[i] is not None:
                        jac[i][j][k] = ((a - b) / (2 * eps)).reshape(-1)
    return jac


def _analytical_jacobians(outputs, inputs, positions):
    """Rows of J^T from one vector-Jacobian product per output element."""
    wrt = [inputs[p] for p in positions]
    jac = []
    for out in outputs:
        per_input = [np.zeros((inputs[p]._data.size, 0 if out is None else out._data.size))
                     for p in positions]
        jac.append(per_input)
        if out is None or not out._requires_grad:
            continue
        for k in range(out._data.size):
            unit = np.zeros(out._data.size, out._data.dtype)
            unit[k] = 1
            xp = backend.array_module(out._data)
            vector = _tensor.Tensor._make(xp.asarray(unit.reshape(out._data.shape)))
            grads = run_backward((out,), [vector], True, False, inputs=wrt, accumulate=False,
                                 allow_unused=True)
            for j, g in enumerate(grads):
                if g is not None:
                    if g._data.shape != wrt[j]._data.shape:
                        raise GradcheckError(
                            f"Gradient has incorrect size for input {positions[j]}: got "
                            f"{tuple(g.shape)}, expected {tuple(wrt[j].shape)}")
                    per_input[j][:, k] = backend.move_array(g._data, backend.CPU).reshape(-1)
    return jac


def _mismatch(name, out, i, p, input_shape, analytical, numerical, atol, rtol) -> str:
    bad = ~np.isclose(analytical, numerical, rtol=rtol, atol=atol)  # nan counts as bad
    k, m = np.argwhere(bad)[0]
    where_in = tuple(int(v) for v in np.unravel_index(k, input_shape))
    where_out = tuple(int(v) for v in np.unravel_index(m, out._data.shape))
    op = f" (grad_fn={out.grad_fn.name()})" if out.grad_fn is not None else ""
    message = (
        f"{name}: Jacobian mismatch for output {i}{op} with respect to input {p}: at input "
        f"element {where_in} and output element {where_out}, analytical "
        f"{analytical[k, m]:.6g} but numerical {numerical[k, m]:.6g} "
        f"(atol={atol}, rtol={rtol}; {int(bad.sum())} of {bad.size} entries differ)"
    )
    if analytical.size <= 400:  # the whole Jacobian, rows = input elements, as torch
        message += (f",\nnumerical:{_tensor.Tensor._make(numerical)}\n"
                    f"analytical:{_tensor.Tensor._make(analytical)}\n")
    return message


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0,
              check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
              check_batched_grad: bool = False, check_batched_forward_grad: bool = False,
              check_forward_ad: bool = False, check_backward_ad: bool = True,
              fast_mode: bool = False, masked: bool | None = None) -> bool:
    """Check backward's gradients against central finite differences.

    Args:
        func: takes the inputs, returns a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple of inputs; those with ``requires_grad`` are checked
            (use float64).
        eps: finite-difference step.
        atol, rtol: an entry passes when ``|analytical - numerical| <= atol + rtol *
            |numerical|``.
        raise_exception: raise ``GradcheckError`` on failure (else return False).
        nondet_tol: allowed difference between two backward runs (reentrancy check).
        check_forward_ad: not supported (deepgrad has no forward-mode AD): raises.
        The other flags are accepted for torch compatibility; ``fast_mode`` checks the full
        Jacobian anyway.

    Returns:
        True when every entry matches.

    Example:
        >>> x = deepgrad.randn(3, dtype=deepgrad.float64, requires_grad=True)
        >>> gradcheck(lambda t: (t * t).exp(), (x,))
        True
    """
    if check_forward_ad or check_batched_forward_grad:
        raise NotImplementedError("gradcheck: deepgrad has no forward-mode AD; use "
                                  "check_forward_ad=False")
    inputs = _as_tuple(inputs)
    name = f"gradcheck of {_func_name(func)}"
    positions = _differentiable_inputs(inputs)
    with grad_mode.enable_grad():
        outputs = [o if _is_tensor(o) and o._data.dtype.kind == "f" else None
                   for o in _as_tuple(func(*inputs))]
        analytical = _analytical_jacobians(outputs, inputs, positions)
        again = _analytical_jacobians(outputs, inputs, positions)
    numerical = _numerical_jacobians(func, inputs, positions, eps)
    for i, out in enumerate(outputs):
        if out is None:
            continue
        for j, p in enumerate(positions):
            a, n, r = analytical[i][j], numerical[i][j], again[i][j]
            if a.shape != n.shape or not np.allclose(a, n, rtol=rtol, atol=atol):
                if not raise_exception:
                    return False
                raise GradcheckError(_mismatch(name, out, i, p, inputs[p]._data.shape, a, n,
                                               atol, rtol))
            if np.abs(a - r).max(initial=0.0) > nondet_tol:
                if not raise_exception:
                    return False
                raise GradcheckError(
                    f"{name}: Backward is not reentrant, i.e., running backward with same input "
                    "and grad_output multiple times gives different values, although analytical "
                    f"gradient matches numerical gradient. The tolerance for nondeterminism was "
                    f"{nondet_tol}.")
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False,
                  raise_exception: bool = True, nondet_tol: float = 0.0,
                  check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
                  check_batched_grad: bool = False, check_fwd_over_rev: bool = False,
                  check_rev_over_rev: bool = True, fast_mode: bool = False,
                  masked: bool = False) -> bool:
    """Check second derivatives: ``gradcheck`` of the map (inputs, grad_outputs) -> grads.

    Args:
        func: takes the inputs, returns a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple of inputs (float64 for those requiring grad).
        grad_outputs: vectors for the vector-Jacobian product, one per output; random float64
            ones (fixed seed, requiring grad) when None.
        eps, atol, rtol, raise_exception, nondet_tol: as in ``gradcheck``.

    Returns:
        True when every entry matches.

    Example:
        >>> gradgradcheck(lambda t: t * t * t, (x,))
        True
    """
    inputs = _as_tuple(inputs)
    positions = _differentiable_inputs(inputs)
    with grad_mode.enable_grad():
        outputs = [o for o in _as_tuple(func(*inputs))
                   if _is_tensor(o) and o._data.dtype.kind == "f"]
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(
            _tensor.Tensor._make(backend.move_array(
                rng.uniform(-1.0, 1.0, o._data.shape).astype(o._data.dtype), o.device),
                True) for o in outputs)
    grad_outputs = _as_tuple(grad_outputs)
    count = len(inputs)

    def gradients(*args):
        values, vectors = args[:count], args[count:]
        with grad_mode.enable_grad():
            outs = [o for o in _as_tuple(func(*values))
                    if _is_tensor(o) and o._data.dtype.kind == "f"]
            pairs = [(o, v) for o, v in zip(outs, vectors, strict=False) if o._requires_grad]
            wrt = [values[p] for p in positions]
            if not pairs:
                return tuple(values[p] * 0 for p in positions)
            grads = run_backward(tuple(o for o, _ in pairs), [v for _, v in pairs], True, True,
                                 inputs=wrt, accumulate=False, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    gradients.__qualname__ = f"backward of {_func_name(func)}"
    return gradcheck(gradients, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol)
