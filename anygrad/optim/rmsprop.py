"""RMSprop (Hinton's lecture 6e) and Adagrad (Duchi et al., 2011), as PyTorch computes them."""
from __future__ import annotations

from .optimizer import Optimizer, _wrap

__all__ = ["Adagrad", "RMSprop"]


def _check_non_negative(name, group, *keys):
    for key in keys:
        if group[key] < 0:
            raise ValueError(f"{name}: invalid {key} {group[key]}")


class RMSprop(Optimizer):
    """PyTorch's RMSprop:

        g = -grad if maximize else grad;  g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g^2
        m_g = alpha * m_g + (1 - alpha) * g                  (centered)
        d = sqrt(v - m_g^2 if centered else v) + eps
        buf = momentum * buf + g / d;  p = p - lr * buf      (momentum > 0)
        p = p - lr * g / d                                   (otherwise)
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, maximize=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _validate(self, group):
        super()._validate(group)
        _check_non_negative("RMSprop", group, "alpha", "eps", "weight_decay", "momentum")

    def _update_group(self, group):
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        weight_decay, momentum = group["weight_decay"], group["momentum"]
        for p in self._trainable(group):
            xp = p.backend.xp
            state = self.state.get(p)
            if state is None:
                state = self.state[p] = {"step": 0, "square_avg": _zeros(p)}
                if momentum > 0:
                    state["momentum_buffer"] = _zeros(p)
                if group["centered"]:
                    state["grad_avg"] = _zeros(p)
            state["step"] += 1
            g = -p.grad.array if group["maximize"] else p.grad.array
            if weight_decay:
                g = g + weight_decay * p.array
            square_avg = state["square_avg"]
            square_avg.array *= alpha
            square_avg.array += (1.0 - alpha) * (g * g)
            if group["centered"]:
                grad_avg = state["grad_avg"]
                grad_avg.array += (1.0 - alpha) * (g - grad_avg.array)  # PyTorch's lerp
                avg = xp.sqrt(square_avg.array - grad_avg.array * grad_avg.array) + eps
            else:
                avg = xp.sqrt(square_avg.array) + eps
            if momentum > 0:
                buffer = state["momentum_buffer"]
                buffer.array *= momentum
                buffer.array += g / avg
                p.array = p.backend.sub_scaled(p.array, buffer.array, lr)
            else:
                p.array = p.backend.sub_scaled(p.array, g / avg, lr)


class Adagrad(Optimizer):
    """PyTorch's Adagrad:

        g = -grad if maximize else grad;  g = g + weight_decay * p
        s = s + g^2                       (s starts at initial_accumulator_value)
        p = p - lr / (1 + (t - 1) lr_decay) * g / (sqrt(s) + eps)
    """

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, maximize=False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))

    def _validate(self, group):
        super()._validate(group)
        _check_non_negative("Adagrad", group, "lr_decay", "weight_decay",
                            "initial_accumulator_value", "eps")

    def _update_group(self, group):
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        for p in self._trainable(group):
            xp = p.backend.xp
            state = self.state.get(p)
            if state is None:
                total = xp.full(p.shape, group["initial_accumulator_value"], dtype=p.array.dtype,
                                device=p.device)
                state = self.state[p] = {"step": 0, "sum": _wrap(total, p.backend)}
            state["step"] += 1
            g = -p.grad.array if group["maximize"] else p.grad.array
            if weight_decay:
                g = g + weight_decay * p.array
            clr = lr / (1.0 + (state["step"] - 1) * group["lr_decay"])
            state["sum"].array += g * g
            p.array = p.backend.sub_scaled(p.array, g / (xp.sqrt(state["sum"].array) + eps), clr)


def _zeros(p):
    return _wrap(p.backend.xp.zeros_like(p.array), p.backend)
