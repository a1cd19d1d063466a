"""Optimization loops in HIPS autograd's form: `adam(grad_fn, init_params, ...)`.

    def grad_fn(params, i):
        return ag.grad(loss)(params, batches[i % len(batches)])

    params = optim.loops.adam(grad_fn, params, num_iters=500, step_size=1e-3)

`grad_fn(params, i)` gives the gradient (a pytree like `params`) at iteration i;
`callback(params, i, grads)`, if given, is called every iteration before the update.
The update rules are the functional optimizers' (functional.py), hence the optimizer
classes': PyTorch's arithmetic (SGD momentum is PyTorch's heavy ball, not HIPS's
velocity average). Returns the final parameters.
"""
from __future__ import annotations

from . import functional

__all__ = ["run", "sgd", "momentum", "adam"]


def run(transform, grad_fn, init_params, num_iters, callback=None):
    """`num_iters` steps of a functional optimizer (`functional.sgd(...)`, ...)."""
    params = init_params
    state = transform.init(params)
    for i in range(num_iters):
        grads = grad_fn(params, i)
        if callback is not None:
            callback(params, i, grads)
        params, state = transform.update(grads, state, params)
    return params


def sgd(grad_fn, init_params, num_iters=100, step_size=0.1, callback=None):
    return run(functional.sgd(step_size), grad_fn, init_params, num_iters, callback)


def momentum(grad_fn, init_params, num_iters=100, step_size=0.1, mass=0.9, callback=None):
    return run(functional.momentum(step_size, mass), grad_fn, init_params, num_iters, callback)


def adam(grad_fn, init_params, num_iters=100, step_size=0.001, b1=0.9, b2=0.999, eps=1e-8,
         callback=None):
    return run(functional.adam(step_size, (b1, b2), eps), grad_fn, init_params, num_iters,
               callback)
