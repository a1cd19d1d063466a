"""Stochastic gradient descent with momentum, Nesterov momentum and weight decay."""
from __future__ import annotations

from .optimizer import Optimizer, _wrap

__all__ = ["SGD", "sgd_update"]


def sgd_update(backend, p, g, buffer, lr, momentum, dampening, nesterov, weight_decay,
               maximize):
    """One SGD step on arrays: `(new p, new momentum buffer or None)`. `buffer` is None
    at the first step. `p` and `buffer` are updated in place where the library allows
    it (and rebound where it does not: jax); the optimizer classes and the functional
    form (functional.py) both call this one rule."""
    if maximize:
        g = -g
    if weight_decay:
        g = g + weight_decay * p
    if momentum:
        if buffer is None:
            # a copy: the buffer is updated in place and must not alias the grad
            buffer = backend.xp.asarray(g, copy=True)
        else:
            buffer *= momentum
            buffer += (1.0 - dampening) * g
        g = g + momentum * buffer if nesterov else buffer
    # In place where the library allows it (no fresh parameter-sized allocation per
    # step); a new array where it does not (jax).
    return backend.sub_scaled(p, g, lr), buffer


class SGD(Optimizer):
    """PyTorch's SGD, step for step:

        g = -grad if maximize else grad
        g = g + weight_decay * p
        buf = g                                  (first step)
        buf = momentum * buf + (1 - dampening) * g   (later steps)
        g = g + momentum * buf   if nesterov   else   buf
        p = p - lr * g
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, nesterov=False,
                 weight_decay=0.0, maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      nesterov=nesterov, weight_decay=weight_decay,
                                      maximize=maximize))

    def _validate(self, group):
        super()._validate(group)
        if group["momentum"] < 0:
            raise ValueError(f"SGD: invalid momentum {group['momentum']}")
        if group["weight_decay"] < 0:
            raise ValueError(f"SGD: invalid weight_decay {group['weight_decay']}")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0")

    def _flat_ready(self, group, states):
        return not group["momentum"] or all(s is not None and "momentum_buffer" in s
                                            for s in states)

    def _update_group(self, group):
        lr, momentum = group["lr"], group["momentum"]
        dampening, weight_decay = group["dampening"], group["weight_decay"]
        nesterov, maximize = group["nesterov"], group["maximize"]
        for p, g, state in self._updates(group):
            held = None
            if momentum:
                if state is None:
                    state = self.state[p] = {}
                held = state.get("momentum_buffer")
            p.array, buffer = sgd_update(p.backend, p.array, g, None if held is None else held.array,
                                        lr, momentum, dampening, nesterov, weight_decay,
                                        maximize)
            if held is not None:
                held.array = buffer
            elif momentum:
                state["momentum_buffer"] = _wrap(buffer, p.backend)
