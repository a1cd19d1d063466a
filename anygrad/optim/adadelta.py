"""Adadelta (Zeiler, 2012), as PyTorch computes it."""
from __future__ import annotations

from .optimizer import Optimizer, _wrap

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """PyTorch's Adadelta:

        g = -grad if maximize else grad;  g = g + weight_decay * p
        v = rho * v + (1 - rho) * g^2
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta^2
        p = p - lr * delta
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def _validate(self, group):
        super()._validate(group)
        if not 0.0 <= group["rho"] <= 1.0:
            raise ValueError(f"Adadelta: invalid rho {group['rho']} (must be in [0, 1])")
        for key in ("eps", "weight_decay"):
            if group[key] < 0:
                raise ValueError(f"Adadelta: invalid {key} {group[key]}")

    def _update_group(self, group):
        lr, rho, eps, weight_decay = group["lr"], group["rho"], group["eps"], group["weight_decay"]
        for p in self._trainable(group):
            xp = p.backend.xp
            state = self.state.get(p)
            if state is None:
                state = self.state[p] = {"step": 0, "square_avg": _zeros(p),
                                         "acc_delta": _zeros(p)}
            state["step"] += 1
            g = -p.grad.array if group["maximize"] else p.grad.array
            if weight_decay:
                g = g + weight_decay * p.array
            square_avg, acc_delta = state["square_avg"], state["acc_delta"]
            square_avg.array *= rho
            square_avg.array += (1.0 - rho) * (g * g)
            delta = xp.sqrt(acc_delta.array + eps) / xp.sqrt(square_avg.array + eps) * g
            acc_delta.array *= rho
            acc_delta.array += (1.0 - rho) * (delta * delta)
            p.array = p.backend.sub_scaled(p.array, delta, lr)


def _zeros(p):
    return _wrap(p.backend.xp.zeros_like(p.array), p.backend)
