"""``RMSprop``: gradients scaled by a running root-mean-square, optionally centered."""

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
    _lerp_,
    _scalar_step_tensor,
    _zeros_like,
)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop, as ``torch.optim.RMSprop``.

    With ``g`` the gradient (negated when ``maximize``) plus ``weight_decay * p``::

        v = alpha * v + (1 - alpha) * g * g
        avg = sqrt(v - ga * ga) + eps, ga = lerp(ga, g, 1 - alpha)  if centered
        avg = sqrt(v) + eps                                         otherwise
        b = momentum * b + g / avg; p = p - lr * b                  if momentum > 0
        p = p - lr * g / avg                                        otherwise

    Args:
        params: tensors or parameter-group dicts to optimize.
        lr: learning rate (default: 1e-2).
        alpha: smoothing constant (default: 0.99).
        eps: added to the denominator for numerical stability (default: 1e-8).
        weight_decay: L2 penalty (default: 0).
        momentum: momentum factor (default: 0).
        centered: normalise by the estimated variance of the gradient (default: False).
        capturable, foreach: accepted for compatibility; deepgrad has one implementation.
        maximize: maximize the objective instead of minimizing (default: False).
        differentiable: must be False (deepgrad steps run outside autograd).

    Example:
        >>> opt = deepgrad.optim.RMSprop([w], lr=1e-3, centered=True)
    """

    def __init__(self, params, lr: float | Tensor = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {
            "lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
            "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
            "maximize": maximize, "differentiable": differentiable,
        }
        super().__init__(params, defaults)
        _check_unsupported(None, differentiable, foreach)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("momentum", 0)
            group.setdefault("centered", False)
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one optimization step; ``closure`` re-evaluates the loss and returns it."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, alpha, eps, weight_decay, momentum = _group_hyper(
                group, "lr", "alpha", "eps", "weight_decay", "momentum")
            centered, maximize = group["centered"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _scalar_step_tensor()
                    state["square_avg"] = _zeros_like(p)
                    if momentum > 0:
                        state["momentum_buffer"] = _zeros_like(p)
                    if centered:
                        state["grad_avg"] = _zeros_like(p)
                _increment(state["step"])
                grad = _grad_array(p, maximize, weight_decay)
                xp = backend.array_module(p._data)
                square_avg = state["square_avg"]._data
                square_avg *= alpha
                # torch's addcmul: (value * g) * g; the scratch array is reused below
                update = xp.multiply(grad, 1 - alpha, out=xp.empty_like(grad))
                update *= grad
                square_avg += update
                if centered:
                    grad_avg = state["grad_avg"]._data
                    _lerp_(grad_avg, grad, 1 - alpha, xp)
                    avg = xp.sqrt(square_avg - grad_avg * grad_avg)
                else:
                    avg = xp.sqrt(square_avg)
                avg += eps
                if momentum > 0:
                    buf = state["momentum_buffer"]._data
                    buf *= momentum
                    buf += xp.divide(grad, avg, out=update)
                    p._data -= xp.multiply(buf, lr, out=update)
                else:
                    update = xp.multiply(grad, -lr, out=update)
                    update /= avg
                    p._data += update
                p._version += 1
        return loss
