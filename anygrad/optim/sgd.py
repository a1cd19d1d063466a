"""Stochastic gradient descent with momentum, Nesterov momentum and weight decay."""
from __future__ import annotations

from .optimizer import Optimizer, _wrap

__all__ = ["SGD"]


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
        for p, g, state in self._updates(group):
            if group["maximize"]:
                g = -g
            if weight_decay:
                g = g + weight_decay * p.data
            if momentum:
                if state is None:
                    state = self.state[p] = {}
                buffer = state.get("momentum_buffer")
                if buffer is None:
                    # a copy: the buffer is updated in place and must not alias the grad
                    buffer = _wrap(p.backend.xp.asarray(g, copy=True), p.backend)
                    state["momentum_buffer"] = buffer
                else:
                    buffer.data *= momentum
                    buffer.data += (1.0 - dampening) * g
                g = g + momentum * buffer.data if group["nesterov"] else buffer.data
            # In place where the library allows it (no fresh parameter-sized allocation
            # per step); a new array where it does not (jax).
            p.data = p.backend.sub_scaled(p.data, g, lr)
