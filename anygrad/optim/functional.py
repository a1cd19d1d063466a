"""Optimizers as pure functions over pytrees of parameters, in optax's shape.

    opt = optim.functional.adam(lr=1e-3)
    state = opt.init(params)                      # params: a dict, a list of pairs, ...
    for x, y in batches:
        grads = ag.grad(loss)(params, x, y)
        params, state = opt.update(grads, state, params)

`update` returns the new parameters, not optax's additive updates: the step is the
optimizer classes' own rule (`sgd_update`, `adam_update`), PyTorch's arithmetic, run
once per leaf, so a functional step equals the class's step bitwise. Nothing is changed
in place: the parameters and the state passed in stay as they were (the rule runs on
copies), and the results are new tensors outside any graph. For the loop itself in
HIPS autograd's form (`adam(grad_fn, init_params, num_iters, ...)`) see loops.py.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

from .. import tree
from ..creation import as_tensor
from ..engine import _wrap
from .adam import adam_update
from .sgd import sgd_update

__all__ = ["Transform", "SGDState", "AdamState", "sgd", "momentum", "adam", "adamw"]


class Transform(NamedTuple):
    """`init(params) -> state` and `update(grads, state, params) -> (params, state)`."""

    init: Callable
    update: Callable


class SGDState(NamedTuple):
    momentum_buffer: tuple  # one per leaf, None before the first step or without momentum


class AdamState(NamedTuple):
    step: int
    exp_avg: tuple
    exp_avg_sq: tuple
    max_exp_avg_sq: tuple  # empty unless amsgrad


def _leaves(params, grads, where):
    """The parameters' and gradients' leaves as tensors, with one structure."""
    found, treedef = tree.flatten(params)
    gs, gdef = tree.flatten(grads)
    if gdef != treedef:
        raise ValueError(f"{where}: the gradients have structure {gdef}, but the parameters "
                         f"have {treedef}")
    return [as_tensor(p) for p in found], [as_tensor(g) for g in gs], treedef


def _copy(t):
    return None if t is None else t.backend.xp.asarray(t.array, copy=True)


def sgd(lr=1e-3, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0,
        maximize=False):
    """SGD with momentum, Nesterov momentum and weight decay: `optim.SGD`'s rule."""
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError("sgd: Nesterov momentum needs momentum > 0 and dampening = 0")

    def init(params):
        return SGDState((None,) * len(tree.leaves(params)))

    def update(grads, state, params):
        ps, gs, treedef = _leaves(params, grads, "sgd")
        new_params, buffers = [], []
        for p, g, held in zip(ps, gs, state.momentum_buffer):
            data, buffer = sgd_update(p.backend, _copy(p), g.array, _copy(held), lr, momentum,
                                      dampening, nesterov, weight_decay, maximize)
            new_params.append(_wrap(data, p.backend))
            buffers.append(None if buffer is None else _wrap(buffer, p.backend))
        return tree.unflatten(treedef, new_params), SGDState(tuple(buffers))

    return Transform(init, update)


def momentum(lr=1e-3, momentum=0.9, nesterov=False):
    """SGD with (PyTorch's) heavy-ball momentum: `sgd(lr, momentum, nesterov=...)`."""
    return sgd(lr, momentum=momentum, nesterov=nesterov)


def adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
         maximize=False, decoupled=False):
    """Adam: `optim.Adam`'s rule (AdamW's with `decoupled=True`)."""
    beta1, beta2 = betas

    def init(params):
        ps = [as_tensor(p) for p in tree.leaves(params)]

        def zeros():
            return tuple(_wrap(p.backend.xp.zeros_like(p.array), p.backend) for p in ps)

        return AdamState(0, zeros(), zeros(), zeros() if amsgrad else ())

    def update(grads, state, params):
        ps, gs, treedef = _leaves(params, grads, "adam")
        step = state.step + 1
        new = ([], [], [], [])
        maxima = state.max_exp_avg_sq or (None,) * len(ps)
        for p, g, m, v, most in zip(ps, gs, state.exp_avg, state.exp_avg_sq, maxima):
            results = adam_update(p.backend, _copy(p), g.array, _copy(m), _copy(v), _copy(most),
                                  step, lr, beta1, beta2, eps, weight_decay, decoupled, amsgrad,
                                  maximize)
            for kept, array in zip(new, results):
                kept.append(None if array is None else _wrap(array, p.backend))
        params_out, ms, vs, most = new
        return (tree.unflatten(treedef, params_out),
                AdamState(step, tuple(ms), tuple(vs), tuple(most) if amsgrad else ()))

    return Transform(init, update)


def adamw(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
          maximize=False):
    """AdamW: `optim.AdamW`'s rule (decoupled weight decay)."""
    return adam(lr, betas, eps, weight_decay, amsgrad, maximize, decoupled=True)
