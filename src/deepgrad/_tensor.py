"""Tensor: an ``xp`` array plus what autograd needs (grad, requires_grad, grad_fn, version).

Only the core lives here: attributes, conversions, ``backward``, hooks and the one
in-place mechanism. Each op family in ``deepgrad.ops`` attaches its own methods
(``Tensor.exp = exp``) next to the op, so an op and its method are read together.
"""

from __future__ import annotations

import numpy as np

from . import backend
from .autograd import engine as _engine
from .autograd import function as _function
from .autograd import grad_mode
from .autograd import views as _views

_mode = grad_mode.state
_ndarray = np.ndarray
_new = object.__new__


class Size(tuple):
    """A tensor's shape: a tuple that prints like ``torch.Size([2, 3])``."""

    def __repr__(self) -> str:
        return f"deepgrad.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n


class Tensor:
    """An n-dimensional array that records operations for reverse-mode autodiff.

    Args:
        data: array-like; ``Tensor(data)`` always makes the default float dtype, as torch.

    Example:
        >>> x = deepgrad.tensor([1.0, 2.0], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad
        tensor([2., 4.])
    """

    __slots__ = (
        "_data", "grad", "_requires_grad", "grad_fn", "_output_nr", "_counter", "_base", "_hooks",
        "_retains_grad", "__weakref__", "__dict__",
    )
    __array_priority__ = 1000  # numpy_array * tensor dispatches to Tensor.__rmul__
    # Alias bookkeeping set per instance by autograd.views / detach (class defaults keep
    # _make lean): a view's differentiable base when it differs from _base, and whether this
    # tensor is a detached alias (shares the version counter but is not a view).
    _view_base = None
    # Graph epochs: a differentiable base counts the in-place ops that changed its graph
    # (on itself or through a view); a view records the count its grad_fn belongs to, and
    # is re-derived from the base when they differ (autograd/views.py, refresh).
    _epoch = 0
    _detached = False
    _post_accumulate_hooks = None

    def __init__(self, *args, **kwargs):
        from ._creation import _construct  # noqa: PLC0415 - creation imports Tensor

        _construct(self, *args, **kwargs)

    @staticmethod
    def _make(data, requires_grad=False, grad_fn=None, output_nr=0) -> Tensor:
        """Fast internal constructor around an existing array (no copy, no checks)."""
        if type(data) is not _ndarray and not hasattr(data, "__cuda_array_interface__"):
            data = np.asarray(data)  # NumPy returns scalars, not 0-d arrays, from reductions
        t = _new(Tensor)
        t._data = data
        t.grad = None
        t._requires_grad = requires_grad
        t.grad_fn = grad_fn
        t._output_nr = output_nr
        t._counter = 0
        t._base = None
        t._hooks = None
        t._retains_grad = False
        return t

    # ------------------------------------------------------------ attributes
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self.grad_fn is not None and not value:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if value and self._data.dtype.kind not in "fc":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        self.requires_grad = requires_grad
        return self

    @property
    def data(self) -> Tensor:
        """A detached tensor sharing this one's storage (torch's ``.data``)."""
        return Tensor._make(self._data)

    @data.setter
    def data(self, value: Tensor) -> None:
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim, "size")]

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def dtype(self) -> backend.dtype:
        return backend.from_numpy_dtype(self._data.dtype)

    @property
    def device(self) -> backend.device:
        return backend.device_of(self._data)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_contiguous(self) -> bool:
        return bool(self._data.flags.c_contiguous)

    @property
    def output_nr(self) -> int:
        return self._output_nr

    # ------------------------------------------------------------ conversions
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar"
            )
        return self._data.reshape(()).item()

    def tolist(self):
        return backend.move_array(self._data, backend.CPU).tolist()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The NumPy array behind this CPU tensor (shared memory, like torch)."""
        if self._requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        if not isinstance(self._data, _ndarray):
            if not force:
                raise TypeError(
                    "can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy "
                    "the tensor to host memory first."
                )
            return self._data.get()
        return self._data

    def __array__(self, dtype=None, copy=None):
        array = backend.move_array(self._data, backend.CPU)
        return array if dtype is None else array.astype(dtype)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with more than one value is ambiguous"
                f" (got shape {tuple(self._data.shape)})"
            )
        return bool(self._data.reshape(()))

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __complex__(self) -> complex:
        return complex(self.item())

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        from ._printing import tensor_repr  # noqa: PLC0415 - printing is not on the hot path

        return tensor_repr(self)

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return format(self.item(), spec)
        return repr(self)

    def __reduce_ex__(self, protocol):
        # Pickling (DataLoader workers, copy.deepcopy) keeps the array and requires_grad.
        return (_rebuild, (backend.move_array(self._data, backend.CPU), self._requires_grad))

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the "
                "deepcopy protocol at the moment."
            )
        result = type(self).__new__(type(self))
        Tensor._init_like(result, self._data.copy(), self._requires_grad)
        if self.grad is not None:
            result.grad = Tensor._make(self.grad._data.copy())
        memo[id(self)] = result
        result.__dict__.update({k: v for k, v in getattr(self, "__dict__", {}).items()
                                if k not in ("_view_base", "_detached")})  # nobody's alias
        return result

    @staticmethod
    def _init_like(t, data, requires_grad):
        t._data = data
        t.grad = None
        t._requires_grad = requires_grad
        t.grad_fn = None
        t._output_nr = 0
        t._counter = 0
        t._base = None
        t._hooks = None
        t._retains_grad = False

    # ------------------------------------------------------------ graph
    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data (and version counter), outside the graph."""
        t = Tensor._make(self._data)
        t._base = self if self._base is None else self._base
        t._detached = True
        return t

    @property
    def _version(self) -> int:
        """In-place modification count, shared by a tensor, its views and detached aliases
        (the counter lives on the root tensor) so a saved tensor changed through any alias
        is caught at backward."""
        base = self._base
        return self._counter if base is None else base._counter

    @_version.setter
    def _version(self, value: int) -> None:
        base = self._base
        if base is None:
            self._counter = value
        else:
            base._counter = value

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self._requires_grad = False
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (see ``autograd.backward``)."""
        _autograd_backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new one."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            node = self.grad_fn
            if node._tensor_hooks is None:
                node._tensor_hooks = {}
            hooks = node._tensor_hooks.setdefault(self._output_nr, [])
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(self)`` each time backward has accumulated into this leaf's ``.grad``
        (e.g. to step an optimizer per parameter during backward)."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = []
        self._post_accumulate_hooks.append(hook)
        return _RemovableHandle(self._post_accumulate_hooks, hook)

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        self._retains_grad = True
        import weakref  # noqa: PLC0415

        ref = weakref.ref(self)

        def keep(grad):
            t = ref()
            if t is not None:
                t._accumulate_grad(grad)

        keep.retains_grad = True  # the engine runs this hook after the user's hooks
        self.register_hook(keep)

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def _accumulate_grad(self, grad: Tensor) -> None:
        """Add ``grad`` into ``.grad`` as torch's AccumulateGrad does: the first gradient is
        copied (it may be shared with another input), later ones are added in place unless a
        graph is being recorded (``create_graph=True``)."""
        if grad._data.dtype != self._data.dtype:
            grad = grad.to(self.dtype)
        if self.grad is None:
            self.grad = grad if grad._requires_grad else Tensor._make(grad._data.copy())
        elif _mode.enabled:
            self.grad = self.grad + grad
        else:
            self.grad._data += grad._data
        if self._post_accumulate_hooks:
            for hook in list(self._post_accumulate_hooks):
                hook(self)

    # ------------------------------------------------------------ in place
    def _inplace(self, compute, *args, op: str = "inplace"):
        """The one in-place mechanism: ``compute(old_self, *args)`` builds the new value.

        Without a graph to record, the result is written straight into this tensor's array.
        With one, the op is recorded out of place on a snapshot of the old value, then the
        result is written into this tensor's array and this tensor takes over its grad_fn, so
        ``y += x`` on a non-leaf keeps the graph. The version counter lets backward detect
        that a saved tensor was changed.
        """
        record = _mode.enabled and (
            self._requires_grad or any(isinstance(a, Tensor) and a._requires_grad for a in args)
        )
        if record and self.grad_fn is None and self._requires_grad:
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation."
            )
        view_base = None if self._base is None else _views.view_base_of(self)
        if record and view_base is not None and view_base.grad_fn is None and \
                view_base._requires_grad:
            raise RuntimeError(
                "a view of a leaf Variable that requires grad is being used in an in-place "
                "operation."
            )
        if not record:
            _mode.enabled, previous = False, _mode.enabled
            try:
                result = compute(self, *args)
            finally:
                _mode.enabled = previous
            self._write(result._data, op)
            return self
        snapshot = Tensor._make(self._data.copy(), self._requires_grad, self.grad_fn,
                                self._output_nr)
        result = compute(snapshot, *args)
        self._write(result._data, op)
        self.grad_fn = result.grad_fn
        self._output_nr = result._output_nr
        self._requires_grad = result._requires_grad
        if view_base is not None:  # the write changed the base too: rebase its graph
            _views.rebase(self)
            view_base._epoch += 1  # other views of the base must be re-derived from it
            self._epoch = view_base._epoch
        else:
            self._epoch += 1  # this tensor's own views are now stale
        return self

    def _write(self, values, op: str) -> None:
        target = self._data
        if values.dtype != target.dtype and not np.can_cast(values.dtype, target.dtype,
                                                              "same_kind"):
            raise RuntimeError(
                f"{op}: result type {backend.from_numpy_dtype(values.dtype).name} can't be cast "
                f"to the desired output type {backend.from_numpy_dtype(target.dtype).name}"
            )
        if values.shape != target.shape:
            try:
                values = array_broadcast(values, target.shape)
            except ValueError:
                raise RuntimeError(
                    f"{op}: output with shape {list(target.shape)} doesn't match the broadcast "
                    f"shape {list(values.shape)}"
                ) from None
        if values is not target:
            target[...] = values
        self._version += 1


def array_broadcast(values, shape):
    from .backend import array_module  # noqa: PLC0415

    return array_module(values).broadcast_to(values, shape)


def _rebuild(array, requires_grad):
    return Tensor._make(array, requires_grad, None, 0)


class _RemovableHandle:
    __slots__ = ("hooks", "hook")

    def __init__(self, hooks, hook):
        self.hooks = hooks
        self.hook = hook

    def remove(self) -> None:
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


def _wrap_dim(dim: int, ndim: int, op: str) -> int:
    """Normalise a possibly negative dim; IndexError in torch's words when out of range."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"{op}: Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
            f"but got {dim})"
        )
    return dim % n if ndim else 0


wrap_dim = _wrap_dim
_function.Tensor = Tensor
_engine.Tensor = Tensor
from .autograd import backward as _autograd_backward  # noqa: E402
