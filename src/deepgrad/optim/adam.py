"""``Adam`` and ``AdamW``: bias-corrected first and second moment estimates."""

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

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam`` (AMSGrad and decoupled weight decay included).

    With ``g`` the gradient (negated when ``maximize``), at step t::

        p = p * (1 - lr * weight_decay)   if decoupled_weight_decay  else  g = g + wd * p
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        vmax = max(vmax, v) and v := vmax                                   if amsgrad
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    Args:
        params: tensors or parameter-group dicts to optimize.
        lr: learning rate (default: 1e-3).
        betas: coefficients of the running averages of g and g * g (default: (0.9, 0.999)).
        eps: added to the denominator for numerical stability (default: 1e-8).
        weight_decay: weight decay (default: 0); an L2 penalty unless decoupled.
        amsgrad: use the AMSGrad variant (default: False).
        maximize: maximize the objective instead of minimizing (default: False).
        decoupled_weight_decay: decay the parameters directly, i.e. AdamW (default: False).
        foreach, capturable, fused: accepted for compatibility; one implementation here.
        differentiable: must be False (deepgrad steps run outside autograd).

    Example:
        >>> opt = deepgrad.optim.Adam([w], lr=1e-3, amsgrad=True)
    """

    def __init__(self, params, lr: float | Tensor = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= _value(betas[0]) < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= _value(betas[1]) < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, beta in enumerate(betas):
            if isinstance(beta, Tensor) and beta.numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")
        defaults = {
            "lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
            "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
            "capturable": capturable, "differentiable": differentiable, "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)
        _check_unsupported(fused, differentiable, foreach)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("amsgrad", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
            group.setdefault("fused", None)

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one optimization step; ``closure`` re-evaluates the loss and returns it."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, eps, weight_decay = _group_hyper(group, "lr", "eps", "weight_decay")
            beta1, beta2 = (float(b) for b in group["betas"])
            amsgrad, maximize = group["amsgrad"], group["maximize"]
            decoupled = group["decoupled_weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _scalar_step_tensor()
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                    if amsgrad:
                        state["max_exp_avg_sq"] = _zeros_like(p)
                step = _increment(state["step"])
                if decoupled:
                    grad = _grad_array(p, maximize, 0)
                    if weight_decay != 0:
                        p._data *= 1 - lr * weight_decay
                else:
                    grad = _grad_array(p, maximize, weight_decay)
                xp = backend.array_module(p._data)
                exp_avg = state["exp_avg"]._data
                exp_avg_sq = state["exp_avg_sq"]._data
                _lerp_(exp_avg, grad, 1 - beta1, xp)
                exp_avg_sq *= beta2
                # torch's addcmul: (value * g) * g; the scratch array is reused for denom
                scratch = xp.multiply(grad, 1 - beta2, out=xp.empty_like(grad))
                scratch *= grad
                exp_avg_sq += scratch
                bias_correction1 = 1 - beta1**step
                bias_correction2_sqrt = (1 - beta2**step) ** 0.5
                step_size = lr / bias_correction1
                if amsgrad:
                    max_exp_avg_sq = state["max_exp_avg_sq"]._data
                    xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
                    exp_avg_sq = max_exp_avg_sq
                denom = xp.sqrt(exp_avg_sq, out=scratch)
                denom /= bias_correction2_sqrt
                denom += eps
                update = exp_avg * -step_size  # torch's addcdiv: (value * m) / denom
                update /= denom
                p._data += update
                p._version += 1
        return loss


class AdamW(Adam):
    """AdamW, as ``torch.optim.AdamW``: Adam with decoupled weight decay
    (``p = p * (1 - lr * weight_decay)`` before the Adam update) and ``weight_decay=1e-2``.

    Args:
        params, lr, betas, eps, amsgrad, maximize, foreach, capturable, differentiable,
        fused: as for ``Adam``.
        weight_decay: decoupled weight decay coefficient (default: 1e-2).

    Example:
        >>> opt = deepgrad.optim.AdamW([w], lr=1e-3, weight_decay=0.05)
    """

    def __init__(self, params, lr: float | Tensor = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None,
                 capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True


def _value(beta) -> float:
    return float(beta) if isinstance(beta, Tensor) else beta
