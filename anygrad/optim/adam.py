"""Adam and AdamW (Kingma & Ba, 2015; Loshchilov & Hutter, 2019), as PyTorch computes them."""
from __future__ import annotations

import math

from .optimizer import Optimizer, _wrap

__all__ = ["Adam", "AdamW", "adam_update"]


def adam_update(backend, p, g, m, v, v_max, step, lr, beta1, beta2, eps, weight_decay,
                decoupled, amsgrad, maximize):
    """One Adam (AdamW with `decoupled`) step on arrays, `step` counting from 1:
    `(new p, m, v, v_max)`, `v_max` None unless `amsgrad`. Arrays are updated in place
    where the library allows it and rebound where it does not (jax); the optimizer
    classes and the functional form (functional.py) both call this one rule."""
    if maximize:
        g = -g
    if weight_decay and decoupled:
        p *= 1.0 - lr * weight_decay
    elif weight_decay:
        g = g + weight_decay * p
    m += (1.0 - beta1) * (g - m)  # PyTorch's lerp form of b1 m + (1 - b1) g
    v *= beta2
    v += (1.0 - beta2) * (g * g)
    second = v
    if amsgrad:
        second = v_max = backend.xp.maximum(v_max, v)
    step_size = lr / (1.0 - beta1 ** step)
    denominator = backend.xp.sqrt(second) / math.sqrt(1.0 - beta2 ** step) + eps
    p -= step_size * (m / denominator)
    return p, m, v, v_max


class Adam(Optimizer):
    """Adam with bias correction, eps added after the square root (PyTorch's placement):

        g = -grad if maximize else grad
        g = g + weight_decay * p                 (L2 penalty; AdamW decays p instead)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        v_hat = max(v_hat, v) if amsgrad else v
        p = p - lr / (1 - beta1^t) * m / (sqrt(v_hat) / sqrt(1 - beta2^t) + eps)
    """

    # AdamW sets this: weight decay shrinks the parameter instead of joining the gradient.
    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, maximize=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    def _validate(self, group):
        super()._validate(group)
        name = type(self).__name__
        beta1, beta2 = group["betas"]
        if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0):
            raise ValueError(f"{name}: betas must be in [0, 1), got {group['betas']}")
        if group["eps"] < 0:
            raise ValueError(f"{name}: invalid eps {group['eps']}")
        if group["weight_decay"] < 0:
            raise ValueError(f"{name}: invalid weight_decay {group['weight_decay']}")

    def _flat_ready(self, group, states):
        return all(s is not None for s in states)

    def _update_group(self, group):
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        amsgrad, maximize = group["amsgrad"], group["maximize"]
        for p, g, state in self._updates(group):
            if state is None:
                state = self.state[p] = self._initial_state(p, amsgrad)
            state["step"] += 1
            m, v = state["exp_avg"], state["exp_avg_sq"]
            v_max = state["max_exp_avg_sq"] if amsgrad else None
            p.array, m.array, v.array, most = adam_update(
                p.backend, p.array, g, m.array, v.array, v_max.array if amsgrad else None,
                state["step"], lr, beta1, beta2, eps, weight_decay, self._decoupled, amsgrad,
                maximize)
            if amsgrad:
                v_max.array = most

    @staticmethod
    def _initial_state(p, amsgrad):
        xp = p.backend.xp
        state = {"step": 0,
                 "exp_avg": _wrap(xp.zeros_like(p.array), p.backend),
                 "exp_avg_sq": _wrap(xp.zeros_like(p.array), p.backend)}
        if amsgrad:
            state["max_exp_avg_sq"] = _wrap(xp.zeros_like(p.array), p.backend)
        return state


class AdamW(Adam):
    """Adam with decoupled weight decay: p = p * (1 - lr * weight_decay) before the
    Adam step, instead of adding weight_decay * p to the gradient."""

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize)
