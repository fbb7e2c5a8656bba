"""``Adagrad``: per-coordinate learning rates from the running sum of squared gradients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import backend
from .._tensor import Tensor
from .optimizer import (
    Optimizer,
    _check_lr,
    _check_unsupported,
    _grad_array,
    _group_hyper,
    _increment,
    _scalar_step_tensor,
)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad, as ``torch.optim.Adagrad``.

    With ``g`` the gradient (negated when ``maximize``) plus ``weight_decay * p``, at step t::

        clr = lr / (1 + (t - 1) * lr_decay)
        sum = sum + g * g
        p = p - clr * g / (sqrt(sum) + eps)

    Args:
        params: tensors or parameter-group dicts to optimize.
        lr: learning rate (default: 1e-2).
        lr_decay: learning-rate decay (default: 0).
        weight_decay: L2 penalty (default: 0).
        initial_accumulator_value: starting value of ``sum`` (default: 0).
        eps: added to the denominator for numerical stability (default: 1e-10).
        foreach, fused: accepted for compatibility; deepgrad has one implementation.
        maximize: maximize the objective instead of minimizing (default: False).
        differentiable: must be False (deepgrad steps run outside autograd).

    The state (``step``, ``sum``) is created for every parameter at construction, as torch.

    Example:
        >>> opt = deepgrad.optim.Adagrad([w], lr=0.1)
    """

    def __init__(self, params, lr: float | Tensor = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        _check_lr(lr)
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(
                f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {
            "lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
            "maximize": maximize, "differentiable": differentiable, "fused": fused,
        }
        super().__init__(params, defaults)
        _check_unsupported(fused, differentiable, foreach)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(self.state[p], p, initial_accumulator_value)

    @staticmethod
    def _init_state(state: dict, p: Tensor, initial_value: float) -> None:
        state["step"] = _scalar_step_tensor()
        xp = backend.array_module(p._data)
        state["sum"] = Tensor._make(xp.full_like(p._data, initial_value))

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("fused", None)

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one optimization step; ``closure`` re-evaluates the loss and returns it."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, lr_decay, weight_decay, eps = _group_hyper(
                group, "lr", "lr_decay", "weight_decay", "eps")
            maximize = group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:  # a group added after construction
                    self._init_state(state, p, self.defaults["initial_accumulator_value"])
                step = _increment(state["step"])
                grad = _grad_array(p, maximize, weight_decay)
                clr = lr / (1 + (step - 1) * lr_decay)
                xp = backend.array_module(p._data)
                state_sum = state["sum"]
                state_sum._data += grad * grad
                state_sum._version += 1
                std = xp.sqrt(state_sum._data)
                std += eps
                update = grad * -clr  # torch's addcdiv: (value * g) / std
                update /= std
                p._data += update
                p._version += 1
        return loss
