"""``SGD``: stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._tensor import Tensor
from .optimizer import Optimizer, _check_lr, _check_unsupported, _grad_array, _group_hyper

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum), as ``torch.optim.SGD``.

    With ``g`` the gradient (negated when ``maximize``) plus ``weight_decay * p``, and a
    momentum buffer ``b`` that starts as the first ``g`` (no dampening on that step)::

        b = momentum * b + (1 - dampening) * g
        g = g + momentum * b  if nesterov  else  b
        p = p - lr * g

    Args:
        params: tensors or parameter-group dicts to optimize.
        lr: learning rate (default: 1e-3).
        momentum: momentum factor (default: 0).
        dampening: dampening for momentum (default: 0).
        weight_decay: L2 penalty (default: 0).
        nesterov: enables Nesterov momentum; needs momentum > 0 and zero dampening.
        maximize: maximize the objective instead of minimizing (default: False).
        foreach, fused: accepted for compatibility; deepgrad has one implementation.
        differentiable: must be False (deepgrad steps run outside autograd).

    Example:
        >>> opt = deepgrad.optim.SGD([w], lr=0.1, momentum=0.9)
        >>> opt.zero_grad(); loss_fn(w).backward(); opt.step()
    """

    def __init__(self, params, lr: float | Tensor = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        _check_lr(lr)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr, "momentum": momentum, "dampening": dampening,
            "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
            "foreach": foreach, "differentiable": differentiable, "fused": fused,
        }
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        _check_unsupported(fused, differentiable, foreach)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("differentiable", False)
            group.setdefault("fused", False)

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one optimization step; ``closure`` re-evaluates the loss and returns it."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, momentum, dampening, weight_decay = _group_hyper(
                group, "lr", "momentum", "dampening", "weight_decay")
            nesterov, maximize = group["nesterov"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = _grad_array(p, maximize, weight_decay)
                if momentum != 0:
                    state = self.state[p]
                    buffer = state.get("momentum_buffer")
                    if buffer is None:
                        fresh = grad.copy() if grad is p.grad._data else grad
                        buffer = state["momentum_buffer"] = Tensor._make(fresh)
                    else:
                        buf = buffer._data
                        buf *= momentum
                        buf += grad if dampening == 0 else grad * (1 - dampening)
                        buffer._version += 1
                    grad = grad + buffer._data * momentum if nesterov else buffer._data
                p._data -= grad * lr  # p + (-lr) g, bit-identical to torch's add_(alpha=-lr)
                p._version += 1
        return loss
