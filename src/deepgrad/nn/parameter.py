"""``Parameter``: the Tensor subclass that ``Module`` registers as a learnable weight.

Also ``Buffer`` (a tensor that registers itself as a module buffer when assigned),
``UninitializedParameter`` / ``UninitializedBuffer`` for the lazy modules, and
``is_lazy``. Operations on a Parameter return plain Tensors: every op builds its result
with ``Tensor._make``, so only the leaf itself is a Parameter, as in torch.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from .._tensor import Tensor

__all__ = ["Parameter", "UninitializedParameter", "UninitializedBuffer", "Buffer", "is_lazy"]


class Parameter(Tensor):
    """A tensor that is a module parameter: assigning one to a ``Module`` attribute adds it
    to ``parameters()`` and ``state_dict()``.

    Args:
        data: the tensor to wrap (shared, not copied; an empty tensor when None).
        requires_grad: whether the parameter requires gradient (default True, also under
            ``no_grad``).

    Example:
        >>> w = deepgrad.nn.Parameter(deepgrad.zeros(2))
        >>> w
        Parameter containing:
        tensor([0., 0.], requires_grad=True)
    """

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True):
        if data is None:
            array = np.empty((0,), backend.get_default_dtype().numpy)
        elif isinstance(data, Tensor):
            array = data._data
        else:
            raise TypeError(f"Parameter(): argument 'data' must be Tensor, not "
                            f"{type(data).__name__}")
        param = object.__new__(cls)
        Tensor._init_like(param, array, False)
        if requires_grad:
            param.requires_grad = True  # the setter refuses integer tensors, as torch
        return param

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True):
        pass  # __new__ did the work; Tensor.__init__ would rebuild the data

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (backend.move_array(self._data, backend.CPU),
                                     self._requires_grad, type(self)))


def _rebuild_parameter(array, requires_grad, cls=Parameter):
    return cls(Tensor._make(array), requires_grad)


class _BufferMeta(type):
    # Buffer(...) returns a plain Tensor flagged as a buffer; isinstance sees the flag.
    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)


class Buffer(metaclass=_BufferMeta):
    """A tensor that registers itself as a module buffer when assigned to a ``Module``.

    Args:
        data: the tensor (detached; an empty tensor when None).
        persistent: whether the buffer is part of the module's ``state_dict``.

    Example:
        >>> module.running_total = deepgrad.nn.Buffer(deepgrad.zeros(3))
    """

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True):
        if data is None:
            data = Tensor._make(np.empty((0,), backend.get_default_dtype().numpy))
        result = data.detach()
        result._requires_grad = data._requires_grad
        result.persistent = persistent
        result._is_buffer = True
        return result


class _Uninitialized:
    """Shared behaviour of the lazy placeholders: no shape until ``materialize``."""

    cls_to_become = Tensor

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Give the placeholder its shape (filled with zeros; the owning module then runs
        ``reset_parameters``) and turn it into a ``cls_to_become``."""
        if isinstance(shape, int):
            shape = (shape,)
        numpy_dtype = self._data.dtype if dtype is None else backend.to_numpy_dtype(dtype)
        array = np.zeros(tuple(shape), numpy_dtype)
        if device is not None:
            array = backend.move_array(array, backend.device(device))
        self._data = array
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error usually "
            "happens in `load_state_dict` when trying to load an uninitialized parameter into an "
            "initialized one. Call `forward` to initialize the parameters before accessing their "
            "attributes.")

    def numel(self) -> int:
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. Call `forward` to "
            "initialize the parameters before accessing their attributes.")

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    __str__ = __repr__


class UninitializedParameter(_Uninitialized, Parameter):
    """A parameter whose shape is not known yet (used by ``LazyLinear`` and friends).

    Example:
        >>> p = deepgrad.nn.parameter.UninitializedParameter()
        >>> p.materialize((2, 3))
        >>> type(p).__name__
        'Parameter'
    """

    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device=None, dtype=None):
        param = Parameter.__new__(cls, None, requires_grad)
        if dtype is not None:
            param._data = param._data.astype(backend.to_numpy_dtype(dtype))
        return param

    def __init__(self, requires_grad: bool = True, device=None, dtype=None):
        pass


class UninitializedBuffer(_Uninitialized, Tensor):
    """A buffer whose shape is not known yet (used by lazy normalization layers)."""

    cls_to_become = Tensor

    def __new__(cls, requires_grad: bool = False, device=None, dtype=None):
        buffer = object.__new__(cls)
        dtype = backend.get_default_dtype() if dtype is None else dtype
        Tensor._init_like(buffer, np.empty((0,), backend.to_numpy_dtype(dtype)), requires_grad)
        return buffer

    def __init__(self, requires_grad: bool = False, device=None, dtype=None):
        pass


def is_lazy(param) -> bool:
    """True for a parameter or buffer that has not been materialized yet."""
    return isinstance(param, _Uninitialized)
