"""``Optimizer``: parameter groups, per-parameter state and torch's ``state_dict`` layout.

Subclasses implement ``step`` on raw arrays: the update math runs in place on ``p._data``
with ``xp`` ufuncs and ``out=``, so a step costs one Python loop over the parameters and no
graph. Each subclass follows the operation order of torch's single-tensor ("for-loop")
implementation, so trajectories match torch's to rounding.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from copy import deepcopy
from itertools import chain
from typing import Any

import numpy as np

from .. import backend
from .._tensor import Tensor
from ..autograd import grad_mode

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Singleton marking a hyperparameter with no default (torch's ``optim.optimizer.required``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()

_TENSOR_TYPE_NAMES = {
    "float16": "HalfTensor", "float32": "FloatTensor", "float64": "DoubleTensor",
    "int8": "CharTensor", "uint8": "ByteTensor", "int16": "ShortTensor", "int32": "IntTensor",
    "int64": "LongTensor", "bool": "BoolTensor",
}


def _typename(obj) -> str:
    """``torch.typename``: ``deepgrad.FloatTensor`` for tensors, the class name otherwise."""
    if isinstance(obj, Tensor):
        return "deepgrad." + _TENSOR_TYPE_NAMES.get(obj._data.dtype.name, "Tensor")
    module = type(obj).__module__
    name = type(obj).__qualname__
    return name if module == "builtins" else f"{module}.{name}"


class Optimizer:
    """Base class of all optimizers, as ``torch.optim.Optimizer``.

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts each
            defining a parameter group (``{"params": [...], "lr": 0.1, ...}``).
        defaults: the default hyperparameters, filled into every group that does not set them.

    Attributes:
        param_groups: list of dicts, one per group, holding ``params`` and the hyperparameters.
        state: dict from parameter Tensor to that parameter's state dict
            (``momentum_buffer``, ``exp_avg``, ``step``, ...).

    Example:
        >>> opt = deepgrad.optim.SGD([w], lr=0.1)
        >>> opt.zero_grad(); loss_fn(w).backward(); opt.step()
    """

    def __init__(self, params, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                "dicts, but got " + _typename(params)
            )
        self.state: defaultdict[Tensor, Any] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    # ------------------------------------------------------------ pickling and printing
    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.defaults.setdefault("differentiable", False)

    def __repr__(self) -> str:
        lines = [self.__class__.__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group) if key != "params")
        return "\n".join(lines) + "\n)"

    # ------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (missing ones take
        ``defaults``); a parameter may belong to one group only.

        Args:
            param_group: ``{"params": tensors, **hyperparameters}``.

        Example:
            >>> opt.add_param_group({"params": head.parameters(), "lr": 1e-2})
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        tensors, names = [], []
        for param in params:
            if isinstance(param, tuple):
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some param "
                                 "names are missing")
            param_group["param_names"] = names
        for param in tensors:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(param))
            if not self.defaults.get("differentiable", None) and not (
                param.grad_fn is None or param._retains_grad
            ):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        if len(tensors) != len(set(tensors)):
            import warnings  # noqa: PLC0415 - rare path

            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, this "
                "will cause an error; see github.com/pytorch/pytorch/issues/40967 for more "
                "information", stacklevel=3,
            )
        param_set: set[Tensor] = set()
        for group in self.param_groups:
            param_set.update(group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                kind = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {kind} to the optimizer")
        if not param_set.isdisjoint(tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ------------------------------------------------------------ gradients and steps
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized tensors.

        Args:
            set_to_none: set ``.grad`` to None (default) instead of filling it with zeros; a
                parameter whose grad is None is skipped by ``step``, a zero grad is not.
        """
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    grad.detach_()
                    grad._data.fill(0)
                    grad._version += 1

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one optimization step; ``closure`` re-evaluates the loss and returns it."""
        raise NotImplementedError

    def _evaluate(self, closure):
        """Run ``closure`` with gradients enabled (torch calls it under ``enable_grad``)."""
        if closure is None:
            return None
        with grad_mode.enable_grad():
            return closure()

    # ------------------------------------------------------------ state dict
    def state_dict(self) -> dict[str, Any]:
        """The optimizer state as torch lays it out: ``{"state": {index: {...}},
        "param_groups": [{..., "params": [index, ...]}]}``, parameters replaced by their
        position across all groups. Tensors in it are the live state, not copies (as torch).
        """
        mapping: dict[int, int] = {}
        start = 0

        def pack_group(group):
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            mapping.update({id(p): i for i, p in enumerate(group["params"], start)
                            if id(p) not in mapping})
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {(mapping[id(k)] if isinstance(k, Tensor) else k): v
                        for k, v in self.state.items()}
        return {"state": packed_state, "param_groups": param_groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a ``state_dict()`` (from deepgrad or torch): groups must match in number and
        size; state tensors are cast to each parameter's dtype and device (``step`` kept)."""
        state_dict = state_dict.copy()
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"])
               for g, s in zip(groups, saved_groups, strict=True)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups), strict=True))
        state: defaultdict[Tensor, Any] = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in id_map:
                param = id_map[key]
                state[param] = _cast_state(param, value, key, state_dict["param_groups"])
            else:
                state[key] = value

        def update_group(group, new_group):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups, strict=True)]
        self.__setstate__({"state": state, "param_groups": param_groups})


def _cast_state(param: Tensor, value, param_id, param_groups, key=None):
    """Deep-copy containers of ``value``, moving tensors to ``param``'s device and floating
    dtype; ``step`` keeps its dtype unless the group is fused/capturable (torch's policy)."""
    if isinstance(value, Tensor):
        group = next((g for g in param_groups if param_id in g["params"]), {})
        if key == "step":
            if group.get("fused") or group.get("capturable"):
                return _converted(value, np.dtype(np.float32), param)
            return value
        dtype = param._data.dtype if param._data.dtype.kind == "f" else None
        return _converted(value, dtype, param)
    if isinstance(value, dict):
        return {k: _cast_state(param, v, param_id, param_groups, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(param, v, param_id, param_groups) for v in value)
    return value


def _converted(value: Tensor, dtype, param: Tensor) -> Tensor:
    """``value.to(dtype, param.device)``: the same tensor when nothing changes, as torch."""
    array = value._data
    if dtype is not None and array.dtype != dtype:
        array = array.astype(dtype)
    target = param.device
    if backend.device_of(array) != target:
        array = backend.move_array(array, target)
    return value if array is value._data else Tensor._make(array)


# ---------------------------------------------------------------- helpers for subclasses

def _scalar_step_tensor() -> Tensor:
    """A fresh ``step`` counter: a 0-d CPU tensor of the default float dtype (float32
    normally, float64 when that is the default), as torch's non-fused optimizers keep it."""
    dtype = np.float64 if backend.get_default_dtype() is backend.float64 else np.float32
    return Tensor._make(np.zeros((), dtype=dtype))


def _increment(step_t: Tensor) -> float:
    """``step_t += 1`` in the counter's own dtype; returns the new count as a Python float."""
    array = step_t._data
    array += 1
    step_t._version += 1
    return float(array)


def _zeros_like(p: Tensor) -> Tensor:
    return Tensor._make(backend.array_module(p._data).zeros_like(p._data))


def _grad_array(p: Tensor, maximize: bool, weight_decay: float):
    """The gradient torch's update uses: ``-grad`` when maximizing, plus ``weight_decay * p``
    (L2 penalty). Never modifies ``p.grad``: a new array is made when either applies."""
    grad = p.grad._data
    if maximize:
        grad = -grad
    if weight_decay != 0:
        decayed = p._data * weight_decay  # wd * p + g equals torch's g + wd * p exactly
        decayed += grad
        grad = decayed
    return grad


def _lerp_(target, end, weight: float, xp) -> None:
    """``target.lerp_(end, weight)`` with torch's two-sided formula: ``target + w(end -
    target)`` for ``w < 0.5``, ``end - (end - target)(1 - w)`` otherwise (exact at w = 1)."""
    diff = xp.subtract(end, target)
    if weight < 0.5:
        diff *= weight
        target += diff
    else:
        diff *= weight - 1
        xp.add(end, diff, out=target)


def _group_hyper(group: dict[str, Any], *names: str) -> tuple:
    """Hyperparameters as Python floats, so float32 arrays stay float32 (a NumPy float64
    scalar or a 1-element tensor lr would otherwise promote the update)."""
    return tuple(float(group[name]) for name in names)


def _check_lr(lr) -> None:
    if isinstance(lr, Tensor):
        if lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= float(lr):
            raise ValueError(f"Invalid learning rate: {lr}")
    elif not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def _check_unsupported(fused, differentiable, foreach) -> None:
    """torch's flag checks; ``differentiable=True`` (autograd through the step) would need
    the update built from Tensor ops, which deepgrad's raw-array steps are not."""
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
    if differentiable:
        raise NotImplementedError(
            "deepgrad.optim: differentiable=True is not supported; the step updates raw arrays "
            "outside autograd"
        )
