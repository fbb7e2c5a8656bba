"""``Adadelta``: step sizes from running averages of squared gradients and squared updates."""

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
    _zeros_like,
)

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta, as ``torch.optim.Adadelta``.

    With ``g`` the gradient (negated when ``maximize``) plus ``weight_decay * p``::

        v = rho * v + (1 - rho) * g * g
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p = p - lr * delta

    Args:
        params: tensors or parameter-group dicts to optimize.
        lr: coefficient that scales delta before it is applied (default: 1.0).
        rho: coefficient of the running averages (default: 0.9).
        eps: added inside the square roots for numerical stability (default: 1e-6).
        weight_decay: L2 penalty (default: 0).
        foreach, capturable: accepted for compatibility; deepgrad has one implementation.
        maximize: maximize the objective instead of minimizing (default: False).
        differentiable: must be False (deepgrad steps run outside autograd).

    Example:
        >>> opt = deepgrad.optim.Adadelta([w])
    """

    def __init__(self, params, lr: float | Tensor = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
            "maximize": maximize, "capturable": capturable, "foreach": foreach,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)
        _check_unsupported(None, differentiable, foreach)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one optimization step; ``closure`` re-evaluates the loss and returns it."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, rho, eps, weight_decay = _group_hyper(group, "lr", "rho", "eps", "weight_decay")
            maximize = group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _scalar_step_tensor()
                    state["square_avg"] = _zeros_like(p)
                    state["acc_delta"] = _zeros_like(p)
                _increment(state["step"])
                grad = _grad_array(p, maximize, weight_decay)
                xp = backend.array_module(p._data)
                square_avg = state["square_avg"]._data
                acc_delta = state["acc_delta"]._data
                square_avg *= rho
                # torch's addcmul: (value * g) * g; the scratch array is reused below
                scratch = xp.multiply(grad, 1 - rho, out=xp.empty_like(grad))
                scratch *= grad
                square_avg += scratch
                std = xp.add(square_avg, eps, out=scratch)
                xp.sqrt(std, out=std)
                delta = xp.add(acc_delta, eps, out=xp.empty_like(acc_delta))
                xp.sqrt(delta, out=delta)
                delta /= std
                delta *= grad
                acc_delta *= rho
                scratch = xp.multiply(delta, 1 - rho, out=scratch)
                scratch *= delta
                acc_delta += scratch
                p._data -= xp.multiply(delta, lr, out=scratch)
                p._version += 1
        return loss
