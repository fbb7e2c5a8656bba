"""Higher-level autograd: ``jacobian``, ``hessian``, ``vjp``, ``jvp``, ``hvp``, ``vhp``.

The API and return structures are torch's (``torch.autograd.functional``): when
``inputs`` is a tuple the results are tuples (and Jacobians of tuple outputs are tuples of
tuples, ``J[i][j] = d output_i / d input_j``); a single Tensor gives a single Tensor.

Everything is built on reverse mode (``autograd.grad``). Forward-mode products (``jvp``,
``hvp``) use the double-vjp trick: ``g(u) = J^T u`` is linear in ``u``, so differentiating
``<g(u), v>`` with respect to ``u`` gives ``J v``. ``vectorize=True`` is accepted for
compatibility; rows are computed one backward at a time either way.
"""

from __future__ import annotations

from .. import _creation, _tensor
from ..backend import array_module
from . import grad_mode
from .function import run_backward

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


# ---------------------------------------------------------------- plumbing (as torch's)

def _as_tuple(value, arg_name: str, fn_name: str):
    """(was it a tuple, the value as a tuple of Tensors)."""
    is_tuple = isinstance(value, tuple)
    values = value if is_tuple else (value,)
    for i, v in enumerate(values):
        if not isinstance(v, _tensor.Tensor):
            where = f"the value at index {i}" if is_tuple else f"the given {arg_name}"
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a "
                            f"tuple of Tensors but {where} has type {type(v)}.")
    return is_tuple, values


def _unpack(result, was_tuple):
    """Undo ``_as_tuple``: ``was_tuple`` is one flag, or (outer, inner) for nested results."""
    if isinstance(was_tuple, tuple):
        outer, inner = was_tuple
        if not inner:
            result = tuple(r[0] for r in result)
        return result if outer else result[0]
    return result if was_tuple else result[0]


def _prepare(inputs, create_graph: bool, need_graph: bool):
    # Always a new Tensor object, so the inputs are told apart from the same tensors captured
    # by func's closure; with create_graph the new one stays linked to the caller's graph.
    return tuple(x.view_as(x) if create_graph and x._requires_grad
                 else x.detach().requires_grad_(need_graph) for x in inputs)


def _finish(values, create_graph: bool):
    """Detach results unless the caller asked to differentiate them again."""
    if create_graph:
        return values
    return tuple(_finish(v, False) if isinstance(v, tuple) else v.detach() for v in values)


def _validate_v(v, other, other_is_tuple: bool) -> None:
    if len(v) != len(other):
        if other_is_tuple:
            raise RuntimeError(
                f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(v, other, strict=False)):
        if a.shape != b.shape:
            where = f"Entry {i} in " if other_is_tuple else ""
            raise RuntimeError(
                f"{where}v has invalid size: should be {b.shape} but got {a.shape}.")


def _check_outputs(outputs, strict: bool) -> None:
    if strict:
        for i, out in enumerate(outputs):
            if not out._requires_grad:
                raise RuntimeError(
                    f"Output {i} of the user-provided function does not require gradients. The "
                    "outputs must be computed in a differentiable manner from the input when "
                    "running in strict mode.")


def _grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """``autograd.grad`` that skips outputs not requiring grad and returns None for inputs
    that do not influence the outputs."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs, strict=False)
             if o is not None and o._requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    from . import _default_grads  # noqa: PLC0415 - the package imports this module

    outs = tuple(o for o, _ in pairs)
    grads = _default_grads(outs, tuple(g for _, g in pairs))
    if retain_graph is None:
        retain_graph = create_graph
    return run_backward(outs, grads, retain_graph, create_graph, inputs=inputs,
                        accumulate=False, allow_unused=True)


def _zeros_for_none(grads, refs, strict: bool, independent: str):
    """Replace None gradients by zeros shaped like ``refs`` (or raise in strict mode)."""
    out = []
    for i, (g, ref) in enumerate(zip(grads, refs, strict=False)):
        if g is None:
            if strict:
                raise RuntimeError(independent.format(i=i))
            g = _creation.zeros_like(ref)
        out.append(g)
    return tuple(out)


def _single_element(v, inputs, what: str) -> None:
    if v is None and (len(inputs) != 1 or inputs[0].numel() != 1):
        raise RuntimeError(f"The vector v can only be None if {what} is a single Tensor with "
                           "a single element.")


def _scalar_output(outputs, is_tuple: bool, fn_name: str) -> None:
    if is_tuple:
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should "
                           "contain a single element")


# ---------------------------------------------------------------- products

def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """Vector-Jacobian product ``v^T J`` of ``func`` at ``inputs``.

    Args:
        func: takes the input Tensors, returns a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple of Tensors.
        v: shaped like func's output(s); may be None when the output has one element.
        create_graph: make the results differentiable.
        strict: raise if an input does not influence the outputs (instead of zeros).

    Returns:
        ``(func_output, vjp)``; ``vjp`` is shaped like ``inputs`` (tuple if inputs is).

    Example:
        >>> out, (gx, gy) = vjp(lambda x, y: 2 * x + 3 * y, (x, y), deepgrad.ones(2))
    """
    with grad_mode.enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided "
                                           "function", "vjp")
        _check_outputs(outputs, strict)
        if v is not None:
            v = _prepare(_as_tuple(v, "v", "vjp")[1], create_graph, need_graph=False)
            _validate_v(v, outputs, outputs_tuple)
        else:
            _single_element(v, outputs, "the user-provided function returns")
    with grad_mode.set_grad_enabled(create_graph or grad_mode.is_grad_enabled()):
        grads = _grad(outputs, inputs, v, create_graph=create_graph)
        result = _zeros_for_none(grads, inputs, strict, "The output of the user-provided "
                                 "function is independent of input {i}. This is not allowed "
                                 "in strict mode.")
    return (_unpack(_finish(outputs, create_graph), outputs_tuple),
            _unpack(_finish(result, create_graph), inputs_tuple))


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """Jacobian-vector product ``J v`` of ``func`` at ``inputs`` (by the double-vjp trick).

    Args:
        func: takes the input Tensors, returns a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple of Tensors.
        v: shaped like ``inputs``; may be None when the input has one element.
        create_graph: make the results differentiable.
        strict: raise on outputs or gradients independent of the inputs.

    Returns:
        ``(func_output, jvp)``; ``jvp`` is shaped like func's output(s).

    Example:
        >>> out, jv = jvp(lambda x: x.exp(), x, deepgrad.ones(3))   # jv == x.exp()
    """
    with grad_mode.enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        if v is not None:
            v = _prepare(_as_tuple(v, "v", "jvp")[1], create_graph, need_graph=False)
            _validate_v(v, inputs, inputs_tuple)
        else:
            _single_element(v, inputs, "the input to the user-provided function")
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided "
                                           "function", "jvp")
        _check_outputs(outputs, strict)
        # g(u) = J^T u is linear in the dummy u; d<g(u), v>/du = J v.
        dummies = tuple(_creation.zeros_like(out, requires_grad=True) for out in outputs)
        grad_inputs = _grad(outputs, inputs, dummies, create_graph=True)
        if strict:
            for i, g in enumerate(grad_inputs):
                if g is None or not g._requires_grad:
                    raise RuntimeError(f"The gradient with respect to input {i} is independent "
                                       "of the inputs of the user-provided function. This is "
                                       "not allowed in strict mode.")
    with grad_mode.set_grad_enabled(create_graph or grad_mode.is_grad_enabled()):
        grads = _grad(grad_inputs, dummies, v, create_graph=create_graph)
        result = _zeros_for_none(grads, outputs, strict, "The gradient with respect to the "
                                 "input is independent of entry {i} in the grad_outputs when "
                                 "using the double backward trick to compute forward mode "
                                 "gradients. This is not allowed in strict mode.")
    return (_unpack(_finish(outputs, create_graph), outputs_tuple),
            _unpack(_finish(result, create_graph), outputs_tuple))


def _second_order(fn_name, func, inputs, v, create_graph, strict, trick: bool):
    """Shared body of ``vhp`` (``trick=False``) and ``hvp`` (``trick=True``)."""
    with grad_mode.enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", fn_name)
        inputs = _prepare(inputs, create_graph, need_graph=True)
        if v is not None:
            v = _prepare(_as_tuple(v, "v", fn_name)[1], create_graph, need_graph=False)
            _validate_v(v, inputs, inputs_tuple)
        else:
            _single_element(v, inputs, "the input to the user-provided function")
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided "
                                           "function", fn_name)
        _check_outputs(outputs, strict)
        _scalar_output(outputs, outputs_tuple, fn_name)
        jac = _grad(outputs, inputs, create_graph=True)
        if strict:
            for i, g in enumerate(jac):
                if g is None or not g._requires_grad:
                    raise RuntimeError(
                        "While computing the hessian, found that the jacobian of the "
                        f"user-provided function with respect to input {i} is independent of "
                        "the input. This is not allowed in strict mode.")
        if trick:  # H symmetric is not assumed: H v = d<(v^T H)... via u -> H^T u, linear in u
            dummies = tuple(_creation.zeros_like(x, requires_grad=True) for x in inputs)
            jac = _grad(jac, inputs, dummies, create_graph=True)
            wrt = dummies
        else:
            wrt = inputs
    with grad_mode.set_grad_enabled(create_graph or grad_mode.is_grad_enabled()):
        grads = _grad(jac, wrt, v, create_graph=create_graph)
        result = _zeros_for_none(grads, inputs, strict, "The jacobian of the user-provided "
                                 "function is independent of input {i}. This is not allowed "
                                 "in strict mode.")
    return (_unpack(_finish(outputs, create_graph), outputs_tuple),
            _unpack(_finish(result, create_graph), inputs_tuple))


def vhp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """Vector-Hessian product ``v^T H`` of a scalar function at ``inputs``.

    Args:
        func: takes the input Tensors, returns a one-element Tensor.
        inputs: a Tensor or a tuple of Tensors.
        v: shaped like ``inputs``; may be None when the input has one element.
        create_graph: make the results differentiable.
        strict: raise when the Hessian is independent of an input.

    Returns:
        ``(func_output, vhp)``; ``vhp`` is shaped like ``inputs``.

    Example:
        >>> out, vh = vhp(lambda x: (x * x * x).sum(), x, deepgrad.ones(3))  # 6x
    """
    return _second_order("vhp", func, inputs, v, create_graph, strict, trick=False)


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """Hessian-vector product ``H v`` of a scalar function at ``inputs`` (double-vjp trick).

    Args and Returns as ``vhp``; for twice continuously differentiable functions the Hessian
    is symmetric and ``hvp`` equals ``vhp``.

    Example:
        >>> out, hv = hvp(lambda x: (x * x * x).sum(), x, deepgrad.ones(3))  # 6x
    """
    return _second_order("hvp", func, inputs, v, create_graph, strict, trick=True)


# ---------------------------------------------------------------- Jacobian and Hessian

def _stack(rows, shape):
    """Stack equally shaped rows along a new first dim, then view as ``shape``."""
    if len(rows) == 1:
        return rows[0].reshape(shape)
    if not any(r._requires_grad for r in rows):  # constants: stack the arrays directly
        xp = array_module(rows[0]._data)
        return _tensor.Tensor._make(xp.stack([r._data for r in rows]).reshape(shape))
    from .. import stack  # noqa: PLC0415 - the ops package imports autograd

    return stack(rows).reshape(shape)


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``.

    Args:
        func: takes the input Tensors, returns a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple of Tensors.
        create_graph: make the Jacobian differentiable (used by ``hessian``).
        strict: raise if an output is independent of an input (instead of zeros).
        vectorize: accepted for compatibility; deepgrad computes one row per backward.
        strategy: "reverse-mode" (one backward per output element) or "forward-mode"
            (one double-vjp product per input element).

    Shape:
        ``J[i][j]`` has shape ``output_i.shape + input_j.shape``.

    Returns:
        A Tensor for a single input and output; a tuple when one of them is a tuple; a tuple
        of tuples when both are.

    Example:
        >>> jacobian(lambda x: x.exp(), deepgrad.zeros(2))
        tensor([[1., 0.],
                [0., 1.]])
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError("jacobian: create_graph=True and strategy="
                                      '"forward-mode" are not supported together')
        return _jacobian_forward(func, inputs, strict)
    with grad_mode.enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided "
                                           "function", "jacobian")
        _check_outputs(outputs, strict)
        result = []
        for i, out in enumerate(outputs):
            rows = tuple([] for _ in inputs)
            xp = array_module(out._data)
            for k in range(out.numel()):
                # Row k of J_i is the vjp with the k-th unit vector shaped like the output.
                basis = xp.zeros(out._data.size, out._data.dtype)
                basis[k] = 1
                unit = _tensor.Tensor._make(basis.reshape(out._data.shape))
                grads = _grad((out,), inputs, (unit,), create_graph=create_graph,
                              retain_graph=True)
                for j, (g, x) in enumerate(zip(grads, inputs, strict=False)):
                    if g is None:
                        if strict:
                            raise RuntimeError(
                                f"Output {i} of the user-provided function is independent of "
                                f"input {j}. This is not allowed in strict mode.")
                        g = _creation.zeros_like(x)
                    elif strict and create_graph and not g._requires_grad:
                        raise RuntimeError(
                            f"The jacobian of the user-provided function is independent of "
                            f"input {i}. This is not allowed in strict mode when "
                            "create_graph=True.")
                    rows[j].append(g)
            result.append(tuple(
                _stack(r, tuple(out.shape) + tuple(x.shape)) if r
                else _creation.zeros(tuple(out.shape) + tuple(x.shape), dtype=x.dtype)
                for r, x in zip(rows, inputs, strict=False)))
    return _unpack(_finish(tuple(result), create_graph), (outputs_tuple, inputs_tuple))


def _jacobian_forward(func, inputs, strict):
    """Column by column: column k of J_ij is ``jvp`` with the k-th unit input direction."""
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs", "jacobian")
    columns = [[[] for _ in inputs] for _ in outputs]
    for j, x in enumerate(inputs):
        xp = array_module(x._data)
        for k in range(x.numel()):
            basis = [xp.zeros(t._data.shape, t._data.dtype) for t in inputs]
            basis[j].reshape(-1)[k] = 1
            v = tuple(_tensor.Tensor._make(b) for b in basis)
            _, jv = jvp(func, inputs, v, strict=strict)
            for i, col in enumerate(jv if outputs_tuple else (jv,)):
                columns[i][j].append(col._data)
    result = []
    for i, out in enumerate(outputs):
        row = []
        for j, x in enumerate(inputs):
            xp = array_module(out._data)
            cols = columns[i][j]  # each shaped like output i; stack on a new last axis
            jac = xp.stack(cols, axis=-1) if cols else xp.zeros(out._data.shape + (0,))
            row.append(_tensor.Tensor._make(jac.reshape(out._data.shape + x._data.shape)))
        result.append(tuple(row))
    return _unpack(tuple(result), (outputs_tuple, inputs_tuple))


def hessian(func, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):
    """The Hessian of a scalar function: the Jacobian of its gradient.

    Args:
        func: takes the input Tensors, returns a one-element Tensor.
        inputs: a Tensor or a tuple of Tensors.
        create_graph: make the Hessian differentiable.
        strict: raise if the Hessian is independent of an input.
        vectorize: accepted for compatibility.
        outer_jacobian_strategy: strategy of the outer Jacobian ("reverse-mode" or
            "forward-mode").

    Shape:
        ``H[i][j]`` has shape ``input_i.shape + input_j.shape``.

    Returns:
        A Tensor for a single input, a tuple of tuples for a tuple of inputs.

    Example:
        >>> f = lambda x, y: x * x * x - 3 * x * y + y * y * y
        >>> hessian(f, (deepgrad.tensor(1.), deepgrad.tensor(1.)))
        ((tensor(6.), tensor(-3.)), (tensor(-3.), tensor(6.)))
    """
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def scalar_func(*args):
        out = func(*args)
        out_tuple, outs = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_outputs(outs, strict)
        if out_tuple:
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should "
                               "contain a single element")
        return out.reshape(())

    def gradient(*args):
        jac = jacobian(scalar_func, args, create_graph=True)
        if strict:
            for i, g in enumerate(jac):
                if not g._requires_grad:
                    raise RuntimeError(
                        "While computing the hessian, found that the jacobian of the "
                        f"user-provided function with respect to input {i} is independent of "
                        "the input. This is not allowed in strict mode.")
        return jac

    result = jacobian(gradient, inputs, create_graph=create_graph, strict=strict,
                      vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _unpack(result, (inputs_tuple, inputs_tuple))
