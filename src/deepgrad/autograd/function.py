"""The autograd mechanism: ``Function`` (one differentiable op, its ctx and its graph node
in one object) and the reverse-mode engine that runs ``backward``.

A ``Function`` subclass defines ``forward(ctx, *inputs, **params)`` and
``backward(ctx, *grad_outs)``. Built-in ops set ``raw = True``: their forward receives raw
``xp`` arrays and returns arrays. User subclasses (torch's ``autograd.Function``) receive
Tensors. Either way backward receives and returns Tensors and is written with deepgrad
ops, so running it with grad mode on (``create_graph=True``) records a graph of the
gradient itself: that is how Hessians work.

Graph edges: each node keeps ``next_edges``, one per input: ``(node, output_nr)`` for an
input produced by another op, ``(tensor, 0)`` for a leaf that requires grad, ``None``
otherwise. Edges are captured when the op runs, so later in-place changes that rebind a
tensor's ``grad_fn`` do not rewire old nodes.
"""

from __future__ import annotations

from .. import _errors
from ..backend import array_module
from . import grad_mode

_mode = grad_mode.state
Tensor = None  # set by deepgrad._tensor to break the import cycle

_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)


class Function:
    """Base class of every differentiable op; also usable as ``torch.autograd.Function``.

    Example:
        >>> class Cube(Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x ** 3
        ...     @staticmethod
        ...     def backward(ctx, grad_out):
        ...         (x,) = ctx.saved_tensors
        ...         return grad_out * 3 * x ** 2
        >>> y = Cube.apply(x)
    """

    raw = False  # True for built-ins: forward works on raw arrays
    once_differentiable = False

    def __init__(self):
        self.next_edges = ()
        self.needs_input_grad = ()
        self._saved = ()
        self._saved_versions = ()
        self._non_differentiable = None
        self._tensor_hooks = None  # {output_nr: [hook, ...]} for non-leaf tensor hooks
        self.input_shapes = ()
        self.materialize_grads = True

    # ------------------------------------------------------------ ctx API
    def save_for_backward(self, *values) -> None:
        """Keep tensors (or, in a raw forward, arrays) for backward; versions are checked."""
        self._saved = values

    @property
    def saved_tensors(self) -> tuple:
        saved = self._saved
        if saved is None:
            raise RuntimeError(_FREED)
        versions = self._saved_versions
        for i, t in enumerate(saved):
            if t is not None and versions and t._version != versions[i]:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified "
                    f"by an inplace operation: [{t.dtype.name} {list(t.shape)}] is at version "
                    f"{t._version}; expected version {versions[i]} instead (op {self.name()})."
                )
        return saved

    def mark_non_differentiable(self, *outputs) -> None:
        """Outputs passed here get ``requires_grad=False`` (e.g. argmax indices)."""
        self._non_differentiable = outputs

    def mark_dirty(self, *tensors) -> None:  # accepted for API compatibility
        pass

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = value

    # ------------------------------------------------------------ graph API
    def name(self) -> str:
        return type(self).__name__ + "Backward0"

    def __repr__(self) -> str:
        return f"<{self.name()} object>"

    @property
    def next_functions(self) -> tuple:
        return tuple((None, 0) if e is None else e for e in self.next_edges)

    def register_hook(self, hook):
        raise NotImplementedError("hooks on graph nodes are not supported; use Tensor.register_hook")

    # ------------------------------------------------------------ op API
    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("Function subclasses must implement forward")

    @staticmethod
    def backward(ctx, *grad_outs):
        raise NotImplementedError("Function subclasses must implement backward")

    @classmethod
    def apply(cls, *args, **params):
        """Run forward; when a gradient is needed, link the output into the graph."""
        ctx = cls()
        record = _mode.enabled
        needs = []
        edges = []
        any_grad = False
        for a in args:
            if isinstance(a, Tensor) and a._requires_grad and record:
                any_grad = True
                needs.append(True)
                fn = a.grad_fn
                edges.append((a, 0) if fn is None else (fn, a._output_nr))
            else:
                needs.append(False)
                edges.append(None)
        ctx.needs_input_grad = tuple(needs)
        if cls.raw:
            inputs = [a._data if isinstance(a, Tensor) else a for a in args]
            result = cls.forward(ctx, *inputs, **params)
        else:
            _mode.enabled = False
            try:
                result = cls.forward(ctx, *args, **params)
            finally:
                _mode.enabled = record
        if not any_grad:
            return _wrap_outputs(result, None)
        ctx.next_edges = tuple(edges)
        ctx.input_shapes = tuple(a.shape if e is not None else None for a, e in zip(args, edges))
        outputs = _wrap_outputs(result, ctx)
        if ctx._saved:
            _resolve_saved(ctx, args, result, outputs)
        return outputs


def _wrap_outputs(result, node):
    """Turn forward's result (array, Tensor, or tuple of them) into output Tensors."""
    make = Tensor._make
    if isinstance(result, tuple):
        nondiff = node._non_differentiable if node is not None else None
        if node is not None:  # lets the engine fill in zeros for outputs that got no grad
            node._output_meta = [
                (r.shape, r.dtype, array_module(getattr(r, "_data", r))) for r in result
            ]
        outs = []
        for i, r in enumerate(result):
            data = r._data if isinstance(r, Tensor) else r
            diff = node is not None and _differentiable(data, r, nondiff)
            outs.append(make(data, diff, node if diff else None, i))
        return tuple(outs)
    data = result._data if isinstance(result, Tensor) else result
    if node is None:
        return make(data, False, None, 0)
    diff = _differentiable(data, result, node._non_differentiable)
    return make(data, diff, node if diff else None, 0)


def _differentiable(data, original, nondiff) -> bool:
    if data.dtype.kind != "f":
        return False
    return not nondiff or not any(original is n or data is getattr(n, "_data", n) for n in nondiff)


def _resolve_saved(ctx, args, result, outputs) -> None:
    """Map what forward saved to Tensors: inputs and outputs keep their graph identity."""
    resolved = []
    results = result if isinstance(result, tuple) else (result,)
    outs = outputs if isinstance(outputs, tuple) else (outputs,)
    for value in ctx._saved:
        if value is None or isinstance(value, Tensor) and not ctx.raw:
            resolved.append(value)
            continue
        match = None
        for a in args:
            if isinstance(a, Tensor) and (value is a._data or value is a):
                match = a
                break
        if match is None:
            for r, o in zip(results, outs):
                if value is r or value is getattr(r, "_data", None):
                    match = o
                    break
        if match is None:
            match = value if isinstance(value, Tensor) else Tensor._make(value, False, None, 0)
        resolved.append(match)
    ctx._saved = tuple(resolved)
    ctx._saved_versions = tuple(t._version if t is not None else 0 for t in resolved)


def once_differentiable(backward):
    """Decorator for a backward that is not itself differentiable (as torch's)."""

    def wrapper(ctx, *grad_outs):
        with grad_mode.no_grad():
            result = backward(ctx, *grad_outs)
        if _mode.enabled and any(g is not None and g._requires_grad for g in grad_outs):
            # Outputs of a once-differentiable backward raise if differentiated again.
            result = _poison(result, ctx.name())
        return result

    return wrapper


def _poison(result, op_name):
    single = not isinstance(result, tuple)
    results = (result,) if single else result
    out = tuple(None if r is None else _NotDifferentiable.apply(r, op=op_name) for r in results)
    return out[0] if single else out


class _NotDifferentiable(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, op):
        ctx.op = op
        return x

    @staticmethod
    def backward(ctx, grad_out):
        raise RuntimeError(
            f"{ctx.op}: this backward is once-differentiable (a fused raw-array kernel); "
            "double backward (create_graph=True through it) is not supported"
        )


# ---------------------------------------------------------------- the engine

def _topological_order(roots):
    """Nodes and leaves reachable from roots, consumers before producers (reverse
    post-order of an iterative DFS, so a 10,000-op chain does not hit the recursion limit)."""
    order = []
    seen = set()
    stack = [(node, False) for node in roots]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        if isinstance(node, Function):
            for edge in node.next_edges:
                if edge is not None and id(edge[0]) not in seen:
                    stack.append((edge[0], False))
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
    """
    buffers = {}  # id(node or leaf) -> [gradient per output_nr]
    roots = []
    for out, grad in zip(outputs, grad_outputs):
        if not out._requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn"
            )
        target = out if out.grad_fn is None else out.grad_fn
        _add_grad(buffers, target, out._output_nr, grad)
        roots.append(target)
    order = _topological_order(roots)

    slots = None  # (id(node or leaf), output_nr) -> position in inputs
    if inputs is not None:
        slots = {}
        for i, t in enumerate(inputs):
            slots[(id(t if t.grad_fn is None else t.grad_fn), t._output_nr)] = i
        run = _upstream_of(order, {key[0] for key in slots})
    captured = [None] * (len(inputs) if inputs is not None else 0)

    previous = _mode.enabled
    _mode.enabled = bool(create_graph)
    try:
        for node in order:
            grads = buffers.pop(id(node), None)
            if grads is None:
                continue
            if isinstance(node, Function):
                if node._tensor_hooks:
                    _run_tensor_hooks(node, grads)
                if slots is not None:
                    for nr, g in enumerate(grads):
                        if (id(node), nr) in slots:
                            captured[slots[(id(node), nr)]] = g
                    if id(node) not in run:
                        continue
                _call_backward(node, grads, buffers, retain_graph)
            else:
                grad = _run_leaf_hooks(node, grads[0])
                if slots is None:
                    node._accumulate_grad(grad)
                elif (id(node), 0) in slots:
                    captured[slots[(id(node), 0)]] = grad
    finally:
        _mode.enabled = previous

    if accumulate:
        if inputs is not None:
            for t, g in zip(inputs, captured):
                if g is not None:
                    t._accumulate_grad(g)
        return None
    if not allow_unused and any(g is None for g in captured):
        raise RuntimeError(
            "One of the differentiated Tensors appears to not have been used in the graph. "
            "Set allow_unused=True if this is the desired behavior."
        )
    return tuple(captured)


def _call_backward(node, grads, buffers, retain_graph):
    if node._saved is None:
        raise RuntimeError(_FREED)
    if node.materialize_grads and None in grads:
        grads = _materialize(node, grads)
    result = type(node).backward(node, *grads)
    if not isinstance(result, tuple):
        result = (result,)
    edges = node.next_edges
    if len(result) < len(edges) and any(e is not None for e in edges[len(result):]):
        raise RuntimeError(
            f"function {node.name()} returned an incorrect number of gradients "
            f"(expected {len(edges)}, got {len(result)})"
        )
    for i, g in enumerate(result[:len(edges)]):
        edge = edges[i]
        if edge is None or g is None:
            continue
        if not isinstance(g, Tensor):
            g = Tensor._make(g, False, None, 0)
        if g.shape != node.input_shapes[i]:
            raise _errors.op_error(
                RuntimeError, node.name(),
                f"backward returned a gradient of the wrong shape for input {i}",
                gradient=g, input=_Shape(node.input_shapes[i]),
            )
        _add_grad(buffers, edge[0], edge[1], g)
    if not retain_graph:
        node._saved = None


class _Shape:
    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = shape


def _materialize(node, grads):
    """Replace missing output gradients with zeros shaped like those outputs."""
    metas = getattr(node, "_output_meta", None)
    if metas is None:
        return grads
    out = list(grads)
    for i, g in enumerate(out):
        if g is None and i < len(metas):
            shape, dtype, xp = metas[i]
            out[i] = Tensor._make(xp.zeros(shape, dtype), False, None, 0)
    return tuple(out)


def _add_grad(buffers, target, nr, grad):
    slot = buffers.get(id(target))
    if slot is None:
        slot = [None] * max(nr + 1, len(getattr(target, "_output_meta", None) or ()))
        buffers[id(target)] = slot
    elif nr >= len(slot):
        slot.extend([None] * (nr + 1 - len(slot)))
    current = slot[nr]
    slot[nr] = grad if current is None else current + grad


def _run_tensor_hooks(node, grads):
    for nr, hooks in node._tensor_hooks.items():
        if nr < len(grads) and grads[nr] is not None:
            for hook in hooks:
                new = hook(grads[nr])
                if new is not None:
                    grads[nr] = new


def _run_leaf_hooks(leaf, grad):
    for hook in leaf._hooks or ():
        new = hook(grad)
        if new is not None:
            grad = new
    return grad
