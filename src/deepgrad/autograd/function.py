"""The autograd mechanism: ``Function``, one differentiable op, its ctx and its graph node in
one object (the engine that runs ``backward`` is ``engine.py``).

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

import functools
import itertools
import weakref

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
    # Defaults live on the class so creating a node (once per op call) sets nothing extra.
    next_edges = ()
    needs_input_grad = ()
    _saved = ()
    _saved_versions = ()
    _non_differentiable = None
    _dirty = None  # inputs a user forward modified in place (mark_dirty)
    _tensor_hooks = None  # {output_nr: [hook, ...]} for non-leaf tensor hooks
    _node_hooks = None  # {"pre": [...], "post": [...]} from register_prehook / register_hook
    _output_meta = None
    input_shapes = ()
    materialize_grads = True
    # Optional ``raw_backward(ctx, *grad_arrays) -> arrays``: the same gradients as
    # ``backward`` computed on raw arrays, for a first-order backward (no create_graph, no
    # hooks) where building Tensors and graph nodes for the gradient's own ops is wasted
    # work. ``backward`` stays the differentiable definition; the torch oracle checks both
    # (first-order gradients take this path, second-order ones ``backward``). It must not
    # modify the incoming gradient arrays, which may be shared.
    raw_backward = None

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
        if not versions:  # never linked into a graph: nothing to check
            return tuple(saved)
        result = []
        for t, expected in zip(saved, versions, strict=True):
            if type(t) is _SavedOutput:
                t = t.unpack(self)
            elif t is not None:
                base = t._base  # t._version without the property call
                if (t._counter if base is None else base._counter) != expected:
                    _raise_modified(self, t, expected)
            result.append(t)
        return tuple(result)

    @property
    def saved_arrays(self) -> tuple:
        """``saved_tensors`` as raw arrays, version-checked the same way (for
        ``raw_backward``: no Tensor is built)."""
        saved = self._saved
        if saved is None:
            raise RuntimeError(_FREED)
        versions = self._saved_versions
        result = []
        for i, t in enumerate(saved):
            if t is None:
                result.append(None)
            elif type(t) is _SavedOutput:
                live = t.ref()
                if live is not None and live._version != t.version:
                    _raise_modified(self, live, t.version)
                result.append(t.data)
            else:
                if versions:
                    base = t._base
                    if (t._counter if base is None else base._counter) != versions[i]:
                        _raise_modified(self, t, versions[i])
                result.append(t._data if isinstance(t, Tensor) else t)
        return tuple(result)

    def mark_non_differentiable(self, *outputs) -> None:
        """Outputs passed here get ``requires_grad=False`` (e.g. argmax indices)."""
        self._non_differentiable = outputs

    def mark_dirty(self, *tensors) -> None:
        """Declare inputs that forward modified in place; they are returned as the outputs."""
        self._dirty = tensors

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = value

    # ------------------------------------------------------------ graph API
    def name(self) -> str:
        return type(self).__name__ + "Backward0"

    def __repr__(self) -> str:
        return f"<{self.name()} object>"

    @property
    def next_functions(self) -> tuple:
        """``(node, output_nr)`` per input; a leaf shows as an ``AccumulateGrad`` node."""
        return tuple((None, 0) if e is None else
                     (AccumulateGrad(e[0]), 0) if isinstance(e[0], Tensor) else e
                     for e in self.next_edges)

    def register_prehook(self, hook):
        """Call ``hook(grad_outputs)`` before this node's backward; returning a tuple
        replaces the gradients it receives."""
        return self._add_node_hook("pre", hook)

    def register_hook(self, hook):
        """Call ``hook(grad_inputs, grad_outputs)`` after this node's backward; returning a
        tuple replaces the gradients it passes on."""
        return self._add_node_hook("post", hook)

    def _add_node_hook(self, kind, hook):
        from .._tensor import _RemovableHandle  # noqa: PLC0415 - _tensor imports this module

        if self._node_hooks is None:
            self._node_hooks = {"pre": [], "post": []}
        self._node_hooks[kind].append(hook)
        return _RemovableHandle(self._node_hooks[kind], hook)

    # ------------------------------------------------------------ op API
    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("Function subclasses must implement forward")

    @staticmethod
    def backward(ctx, *grad_outs):
        raise NotImplementedError("Function subclasses must implement backward")

    @classmethod
    def compute(cls, *args, **params):
        """A raw built-in's forward on arrays, returning arrays: no Tensor, no graph node, a
        throwaway ctx (for ``raw_backward`` of ops whose gradient is another op)."""
        ctx = _new(cls)
        ctx.needs_input_grad = _NO_GRAD_NEEDED[len(args)] if len(args) < 8 else (
            (False,) * len(args))
        return cls.forward(ctx, *args, **params)

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Optional (torch 2 style): when defined, ``forward`` takes no ctx and this fills it."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **params):
        """Run forward; when a gradient is needed, link the output into the graph."""
        ctx = _new(cls)
        edges = None
        arrays = [a._data if isinstance(a, Tensor) else a for a in args]
        if _mode.enabled:
            i = 0
            for a in args:
                if isinstance(a, Tensor) and (a._requires_grad or a._base is not None):
                    base = a._base
                    if base is not None and a._epoch != (
                            base if a._view_base is None else a._view_base)._epoch:
                        _views.refresh(a)  # a view whose base's graph changed in place
                    if not a._requires_grad:
                        i += 1
                        continue
                    if edges is None:
                        n = len(args)
                        edges, needs, shapes = [None] * n, [False] * n, [None] * n
                    fn = a.grad_fn
                    edges[i] = (a, 0) if fn is None else (fn, a._output_nr)
                    needs[i] = True
                    shapes[i] = arrays[i].shape
                i += 1
        if edges is not None:
            ctx.needs_input_grad = needs
        else:
            ctx.needs_input_grad = _NO_GRAD_NEEDED[len(args)] if len(args) < 8 else (
                (False,) * len(args))
        if not cls.raw:  # a user-defined Function (kept off the built-ins' path)
            return _apply_user(cls, ctx, args, params, edges, None if edges is None else shapes)
        result = cls.forward(ctx, *arrays, **params)
        if edges is None:
            return _wrap_outputs(result, None, args)
        ctx.next_edges = edges
        ctx.input_shapes = shapes
        ctx._seq = next(_sequence)
        outputs = _wrap_outputs(result, ctx, args)
        if ctx._saved:
            _resolve_saved(ctx, args, result, outputs)
        return outputs


_NO_GRAD_NEEDED = [(False,) * n for n in range(8)]


class AccumulateGrad:
    """How ``next_functions`` shows a leaf (torch's AccumulateGrad node): ``.variable`` is
    the leaf tensor; the engine accumulates into its ``.grad``."""

    __slots__ = ("variable",)
    next_functions = ()

    def __init__(self, variable):
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return "<AccumulateGrad object>"


def _apply_user(cls, ctx, args, params, edges, shapes):
    """``apply`` for user-defined Functions: forward gets Tensors and runs with grad mode
    off; torch 2's ``setup_context``; ``mark_dirty`` for forwards that modify an input."""
    record, _mode.enabled = _mode.enabled, False
    try:
        if cls.setup_context is Function.setup_context:
            result = cls.forward(ctx, *args, **params)
        else:  # torch 2 style: forward(*args) without ctx, then setup_context
            result = cls.forward(*args, **params)
            cls.setup_context(ctx, args, result)
    finally:
        _mode.enabled = record
    if edges is None:
        outputs = _wrap_outputs(result, None, args)
        return outputs if ctx._dirty is None else _rebind_dirty(ctx, result, outputs)
    ctx.next_edges = edges
    ctx.input_shapes = shapes
    ctx._seq = next(_sequence)
    outputs = _wrap_outputs(result, ctx, args)
    if ctx._dirty is not None:
        outputs = _rebind_dirty(ctx, result, outputs)
    if ctx._saved:
        _resolve_saved(ctx, args, result, outputs)
    return outputs


def _rebind_dirty(ctx, result, outputs):
    """An input modified in place by forward (``ctx.mark_dirty``) is returned as itself and
    takes the new node as its grad_fn, as torch does."""
    results = result if type(result) is tuple else (result,)
    outs = list(outputs) if type(outputs) is tuple else [outputs]
    for i, (r, out) in enumerate(zip(results, outs, strict=False)):
        if not any(r is d for d in ctx._dirty):
            continue
        if out.grad_fn is not None:
            if r.grad_fn is None and r._requires_grad:
                raise RuntimeError("a leaf Variable that requires grad has been used in an "
                                   "in-place operation.")
            r.grad_fn, r._output_nr, r._requires_grad = out.grad_fn, out._output_nr, True
        r._version += 1
        outs[i] = r
    return tuple(outs) if type(outputs) is tuple else outs[0]
# Creation order of graph nodes. A node's inputs always exist before it, so running nodes
# newest first (a heap on -_seq) is a topological order, found without walking the graph.
_sequence = itertools.count()
_new = object.__new__


def _wrap_outputs(result, node, args):
    """Turn forward's result (array, Tensor, or tuple of them) into output Tensors; those
    aliasing an input's memory become views of it (see ``autograd.views``)."""
    make = Tensor._make
    if isinstance(result, tuple):
        nondiff = node._non_differentiable if node is not None else None
        if node is not None:  # lets the engine fill in zeros for outputs that got no grad
            node._output_meta = [
                (d.shape, d.dtype, array_module(d))
                for d in (getattr(r, "_data", r) for r in result)
            ]
        outs = []
        for i, r in enumerate(result):
            data = r._data if isinstance(r, Tensor) else r
            if not hasattr(data, "dtype"):  # a user forward may also return non-tensors
                outs.append(r)
                continue
            diff = node is not None and _differentiable(data, r, nondiff)
            outs.append(make(data, diff, node if diff else None, i))
        outs = tuple(outs)
        _views.link_views(args, outs)
        return outs
    data = result._data if isinstance(result, Tensor) else result
    if node is None:
        out = make(data, False, None, 0)
    elif data.dtype.kind != "f" or node._non_differentiable and not _differentiable(
            data, result, node._non_differentiable):
        out = make(data, False, None, 0)
    else:
        out = make(data, True, node, 0)
    base = data.base
    if base is not None:  # fresh results own their memory; views have a base
        source = args[0] if args else None
        if isinstance(source, Tensor) and base is source._data and source._base is None:
            out._base = source  # the usual view: of the first input, itself not an alias
        else:
            _views.link_views(args, out)
    return out


def _differentiable(data, original, nondiff) -> bool:
    if data.dtype.kind != "f":
        return False
    return not nondiff or not any(original is n or data is getattr(n, "_data", n) for n in nondiff)


def _resolve_saved(ctx, args, result, outputs) -> None:
    """Map what forward saved to Tensors: an input's or an output's array becomes that very
    Tensor, so saved values keep their place in the graph (needed for double backward)."""
    resolved = []
    results = result if type(result) is tuple else (result,)
    for value in ctx._saved:
        if isinstance(value, Tensor) and any(value is r for r in results):
            value = value._data  # a user forward saved its own output: map it like an array
        if value is None or isinstance(value, Tensor):
            resolved.append(value)
            continue
        match = None
        for a in args:
            if isinstance(a, Tensor) and value is a._data:
                match = a
                break
        else:
            outs = outputs if type(outputs) is tuple else (outputs,)
            for o in outs:
                if value is o._data:
                    match = _SavedOutput(o) if o.grad_fn is ctx else o
                    break
        resolved.append(match if match is not None else Tensor._make(value, False, None, 0))
    ctx._saved = resolved
    # t._version, read without the property call (a view's counter lives on its base)
    ctx._saved_versions = [0 if t is None or type(t) is _SavedOutput
                           else t._counter if t._base is None else t._base._counter
                           for t in resolved]


class _SavedOutput:
    """An op's own output, saved without a strong reference to the output Tensor.

    Holding the Tensor would make a cycle (tensor -> grad_fn -> saved tensor) that only the
    garbage collector frees, so every dead graph's memory would linger and each new op would
    get fresh pages. Like torch's SavedVariable, keep the array and rebuild a Tensor with the
    same graph identity (grad_fn, output_nr) on access; a weak reference still lets us catch
    an in-place change of the live output.
    """

    __slots__ = ("data", "output_nr", "ref", "version")

    def __init__(self, output):
        self.data = output._data
        self.output_nr = output._output_nr
        self.ref = weakref.ref(output)
        base = output._base  # output._version without the property call
        self.version = output._counter if base is None else base._counter

    def unpack(self, node):
        live = self.ref()
        if live is not None and live._version != self.version:
            _raise_modified(node, live, self.version)
        return Tensor._make(self.data, True, node, self.output_nr)


def _raise_modified(node, t, expected):
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{t.dtype.name} {list(t.shape)}] is at version {t._version}; expected "
        f"version {expected} instead (op {node.name()})."
    )


def once_differentiable(backward):
    """Decorator for a ``backward`` that is not itself differentiable (as torch's).

    It runs under no_grad. When the gradient's own graph is being recorded
    (``create_graph=True``), its outputs hang off a node that raises a clear error if a
    later backward (a Hessian, ``gradgradcheck``) reaches it, instead of silently treating
    the second derivative as zero.
    """

    @functools.wraps(backward)
    def wrapper(ctx, *grad_outs):
        with grad_mode.no_grad():
            result = backward(ctx, *grad_outs)
        if not _mode.enabled:
            return result
        return _poison(ctx, result, grad_outs)

    return wrapper


def backward_from_raw(raw_backward):
    """The Tensor-level ``backward`` of an op whose gradient exists only on arrays: unwraps
    the output gradients, runs ``raw_backward`` and wraps its arrays; not differentiable
    again (``once_differentiable``). Use as ``backward = staticmethod(backward_from_raw(f))``
    where ``f`` is the op's ``raw_backward`` function."""

    @once_differentiable
    def backward(ctx, *grad_outs):
        grads = raw_backward(ctx, *(None if g is None else g._data for g in grad_outs))
        if type(grads) is not tuple:
            grads = (grads,)
        return tuple(None if g is None else Tensor._make(g) for g in grads)

    return backward


def _poison(ctx, result, grad_outs):
    # The true second derivative depends on the incoming gradients and on the op's inputs,
    # so the error node is linked to both: any backward that needs it reaches it.
    edges = [(g, 0) if g.grad_fn is None else (g.grad_fn, g._output_nr)
             for g in grad_outs if g is not None and g._requires_grad]
    edges += [e for e in ctx.next_edges if e is not None]
    node = _new(_OnceDifferentiableError)
    node._seq = next(_sequence)
    node.op = ctx.name()
    node.next_edges = tuple(edges)
    single = not isinstance(result, tuple)
    out = tuple(None if r is None else Tensor._make(getattr(r, "_data", r), True, node, i)
                for i, r in enumerate((result,) if single else result))
    return out[0] if single else out


class _OnceDifferentiableError(Function):
    """Graph node standing for the derivative of a once-differentiable backward."""

    def name(self) -> str:
        return "OnceDifferentiableError"

    @staticmethod
    def backward(ctx, *grad_outs):
        raise RuntimeError(
            f"{ctx.op}: trying to differentiate twice a function that was marked with "
            "@once_differentiable; its backward is not itself differentiable, so double "
            "backward (create_graph=True, hessian, gradgradcheck) through it is not supported"
        )


from . import views as _views  # noqa: E402 - views builds on Function
from .engine import run_backward  # noqa: E402,F401 - the engine, re-exported
