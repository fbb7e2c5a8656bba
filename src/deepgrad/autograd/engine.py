"""The reverse-mode engine: ``run_backward`` behind ``Tensor.backward`` and
``autograd.grad``.

Gradients flow from the outputs along each node's ``next_edges``. Nodes run newest first (a
heap on their creation sequence, as torch's engine does): every consumer of a node's
outputs was created after it, so when a node runs its gradient is complete. Leaves are
finished last, so their hooks and ``.grad`` see the total gradient. The loop is iterative,
so a 10,000-op chain needs no recursion.
"""

from __future__ import annotations

import sys
from heapq import heappop, heappush

import numpy as np

from .. import _errors
from . import anomaly_mode, grad_mode
from .function import _FREED, Function

_mode = grad_mode.state
_anomaly = anomaly_mode.state
Tensor = None  # set by deepgrad._tensor to break the import cycle


def _topological_order(roots):
    """Nodes and leaves reachable from roots, consumers before producers (reverse
    post-order of an iterative DFS, so a 10,000-op chain does not hit the recursion limit)."""
    order = []
    seen = set()
    stack = [(node, False) for node in roots]
    push, pop, mark = stack.append, stack.pop, seen.add
    while stack:
        node, done = pop()
        if done:
            order.append(node)
            continue
        key = id(node)
        if key in seen:
            continue
        mark(key)
        push((node, True))
        if isinstance(node, Function):
            for edge in node.next_edges:
                if edge is not None and id(edge[0]) not in seen:
                    push((edge[0], False))
    order.reverse()
    return order


def _upstream_of(order, wanted):
    """ids of nodes with a wanted node or leaf somewhere among their inputs' history."""
    reach = set()
    for node in reversed(order):  # producers before consumers
        if isinstance(node, Function):
            for edge in node.next_edges:
                if edge is not None and (id(edge[0]) in reach or id(edge[0]) in wanted):
                    reach.add(id(node))
                    break
    return reach


def run_backward(outputs, grad_outputs, retain_graph, create_graph, inputs=None,
                 accumulate=True, allow_unused=False):
    """Propagate ``grad_outputs`` from ``outputs`` back through the graph.

    ``accumulate=True`` (``Tensor.backward``): add gradients to the ``.grad`` of leaves, or
    only of ``inputs`` when given. ``accumulate=False`` (``autograd.grad``): return the
    gradients of ``inputs`` and touch no ``.grad``.

    Nodes run newest first (a heap on creation order, as torch's engine does); a node's
    gradient is complete when it runs because every consumer of its outputs is newer.
    Leaves are finished last, so their hooks see the total gradient.

    Without ``create_graph`` the buffers hold raw arrays, not Tensors: nodes with a
    ``raw_backward`` then run on arrays alone, and Tensors are built only at the edges
    (hooks, a Tensor-level ``backward``, leaves, returned gradients).
    """
    raw = not create_graph
    buffers = {}  # id(node or leaf) -> [gradient per output_nr]
    heap = []  # (-_seq, node) of nodes holding a gradient
    leaves = []  # leaves holding a gradient, in first-reached order
    roots = []
    for i, (out, grad) in enumerate(zip(outputs, grad_outputs, strict=False)):
        if not out._requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn"
            )
        target = out if out.grad_fn is None else out.grad_fn
        _route(buffers, heap, leaves, target, out._output_nr, grad._data if raw else grad)
        roots.append(target)

    slots = None  # (id(node or leaf), output_nr) -> positions in inputs
    if inputs is not None:
        slots = {}
        for i, t in enumerate(inputs):
            key = (id(t if t.grad_fn is None else t.grad_fn), t._output_nr)
            slots.setdefault(key, []).append(i)
        run = _upstream_of(_topological_order(roots), {key[0] for key in slots})
    captured = [None] * (len(inputs) if inputs is not None else 0)

    previous = _mode.enabled
    _mode.enabled = bool(create_graph)
    pop = buffers.pop
    try:
        while heap:
            node = heappop(heap)[1]
            grads = pop(id(node))
            if node._tensor_hooks:
                if raw:
                    grads = _wrap(grads)
                _run_tensor_hooks(node, grads)
                if raw:
                    grads = _unwrap(grads)
            if slots is not None:
                for nr, g in enumerate(grads):
                    for i in slots.get((id(node), nr), ()):
                        captured[i] = g
                if id(node) not in run:
                    continue
            _call_backward(node, grads, buffers, heap, leaves, retain_graph, raw)
        for leaf in leaves:
            grad = pop(id(leaf))[0]
            if raw:
                if (slots is None and leaf._hooks is None and grad.dtype == leaf._data.dtype
                        and not leaf._post_accumulate_hooks):
                    _accumulate_array(leaf, grad)
                    continue
                grad = Tensor._make(grad, False, None, 0)
            if leaf._hooks:
                grad = _run_leaf_hooks(leaf, grad)
            if slots is None:
                leaf._accumulate_grad(grad)
            else:
                for i in slots.get((id(leaf), 0), ()):
                    captured[i] = grad
        if accumulate and inputs is not None:  # backward(inputs=...), in the engine's mode
            for t, g in zip(inputs, captured, strict=False):
                if g is not None:
                    t._accumulate_grad(Tensor._make(g, False, None, 0) if raw else g)
    finally:
        _mode.enabled = previous

    if raw:
        captured = [g if g is None or isinstance(g, Tensor) else Tensor._make(g, False, None, 0)
                    for g in captured]
    if accumulate:
        return None
    if not allow_unused:
        for i, g in enumerate(captured):
            if g is None:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in "
                    "the graph. Set allow_unused=True if this is the desired behavior."
                )
    return tuple(captured)


def _call_backward(node, grads, buffers, heap, leaves, retain_graph, raw):
    """Run one node's backward and route each input gradient along its edge. ``raw``: the
    gradients are arrays, and so must be what is routed on."""
    if node._saved is None:
        raise RuntimeError(_FREED)
    if node._output_meta is not None:  # multi-output: every output gets a gradient slot
        grads = _fill_missing(node, grads, raw)
    hooks = node._node_hooks
    cls = type(node)
    if raw and cls.raw_backward is not None and hooks is None and not _anomaly.enabled:
        result = cls.raw_backward(node, *grads)
        if type(result) is not tuple:
            result = (result,)
    else:
        if raw:
            grads = _wrap(grads)
        if hooks is not None:
            grads = _run_prehooks(hooks["pre"], grads)
        result = cls.backward(node, *grads)
        if type(result) is not tuple:
            result = (result,)
        if hooks is not None:
            result = _run_posthooks(hooks["post"], result, grads)
        if _anomaly.enabled:
            anomaly_mode.check_gradients(node, result)
        if raw:  # back to arrays (a user backward may also return Python numbers)
            result = tuple(g if g is None else g._data if isinstance(g, Tensor)
                           else Tensor._make(g, False, None, 0)._data for g in result)
    edges = node.next_edges
    if len(result) != len(edges) and not cls.raw:  # built-ins may omit trailing Nones
        _check_count(node, result, edges)
    for edge, g, shape in zip(edges, result, node.input_shapes, strict=False):
        if edge is None or g is None:
            continue
        if not raw and not isinstance(g, Tensor):
            g = Tensor._make(g, False, None, 0)
        if g.shape != shape:
            _wrong_shape(node, edges.index(edge), g, shape)
        _route(buffers, heap, leaves, edge[0], edge[1], g)
    if not retain_graph and node._saved:  # as torch: only nodes that saved tensors refuse
        node._saved = None  # a second backward; the others can run again


def _accumulate_array(leaf, grad) -> None:
    """``leaf._accumulate_grad`` for an array of the leaf's dtype, outside create_graph: the
    first gradient becomes ``.grad``, later ones are added in place. Like torch, the first
    one is taken over when nothing else can see it (a writeable array owning its memory,
    referenced only by the engine's locals: here, the caller's and getrefcount's argument),
    and copied otherwise: a weight gradient fresh from its GEMM is not copied again
    (MLP 784-256-256-10: 1 MB a step)."""
    current = leaf.grad
    if current is None:
        if (type(grad) is np.ndarray and grad.base is None and grad.flags.writeable
                and sys.getrefcount(grad) <= _UNSHARED_REFS):
            leaf.grad = Tensor._make(grad, False, None, 0)
        else:
            leaf.grad = Tensor._make(grad.copy(), False, None, 0)
    else:
        current._data += grad


_UNSHARED_REFS = 3  # the caller's local, this function's argument, getrefcount's argument


def _route(buffers, heap, leaves, target, nr, grad):
    """Add ``grad`` to output ``nr`` of ``target``; the first gradient a node gets queues it."""
    key = id(target)
    slot = buffers.get(key)
    if slot is None:
        if isinstance(target, Function):
            meta = target._output_meta
            slot = [None] * (nr + 1 if meta is None else max(nr + 1, len(meta)))
            heappush(heap, (-target._seq, target))
        else:
            slot = [None]
            leaves.append(target)
        buffers[key] = slot
        slot[nr] = grad
    elif nr < len(slot):
        current = slot[nr]
        slot[nr] = grad if current is None else current + grad
    else:
        slot.extend([None] * (nr - len(slot)))
        slot.append(grad)


def _wrong_shape(node, i, g, shape):
    raise _errors.op_error(
        RuntimeError, node.name(), f"backward returned a gradient of the wrong shape for input {i}",
        gradient=g if isinstance(g, Tensor) else _Shape(g.shape), input=_Shape(shape))


def _check_count(node, result, edges) -> None:
    # Missing trailing gradients are fine for inputs that need none (non-tensor params);
    # extra ones must be None, as torch.
    if len(result) < len(edges):
        missing = edges[len(result):]
        bad = any(e is not None for e in missing)
    else:
        bad = any(g is not None for g in result[len(edges):])
    if bad:
        raise RuntimeError(
            f"function {node.name()} returned an incorrect number of gradients "
            f"(expected {len(edges)}, got {len(result)})"
        )


class _Shape:
    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = shape


def _fill_missing(node, grads, raw):
    """Pad a multi-output node's gradients to one per output; with materialize_grads (the
    default) outputs that got no gradient get zeros shaped like them."""
    metas = node._output_meta
    grads = list(grads) + [None] * (len(metas) - len(grads))
    if node.materialize_grads:
        for i, g in enumerate(grads):
            if g is None:
                shape, dtype, xp = metas[i]
                zeros = xp.zeros(shape, dtype)
                grads[i] = zeros if raw else Tensor._make(zeros, False, None, 0)
    return grads


def _wrap(grads):
    return [g if g is None or isinstance(g, Tensor) else Tensor._make(g, False, None, 0)
            for g in grads]


def _unwrap(grads):
    return [g._data if isinstance(g, Tensor) else g for g in grads]


def _run_tensor_hooks(node, grads):
    # retain_grad's hook runs after the user's hooks, as in torch 2.x, so .grad shows the
    # gradient they produced.
    for nr, hooks in node._tensor_hooks.items():
        if nr < len(grads) and grads[nr] is not None:
            ordered = [h for h in hooks if not getattr(h, "retains_grad", False)]
            ordered += [h for h in hooks if getattr(h, "retains_grad", False)]
            for hook in ordered:
                new = hook(grads[nr])
                if new is not None:
                    grads[nr] = new


def _run_prehooks(hooks, grads):
    grads = tuple(grads)
    for hook in list(hooks):
        new = hook(grads)
        if new is not None:
            grads = tuple(new)
    return grads


def _run_posthooks(hooks, result, grads):
    for hook in list(hooks):
        new = hook(result, tuple(grads))
        if new is not None:
            result = tuple(new)
    return result


def _run_leaf_hooks(leaf, grad):
    for hook in leaf._hooks:
        new = hook(grad)
        if new is not None:
            grad = new
    return grad
