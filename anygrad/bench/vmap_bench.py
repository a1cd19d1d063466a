"""Vectorising with ag.vmap: per-example gradients, and Jacobians built by vmap.

Per-example gradients of an MLP 784-256-10 with a cross-entropy loss (batch 64 by
default) four ways, side by side: `ag.vmap(ag.grad(loss))`, a Python loop of
`ag.grad` over the examples, `torch.func.vmap(torch.func.grad(...))` and
`jax.vmap(jax.grad(...))` (each where installed; JAX's without jit, as the others).
Then the Jacobian of a 100 -> 100 function by one vmap of pullbacks against the row
by row loop that `ag.jacobian` falls back to. The results are checked against each
other before they are timed.
"""
from __future__ import annotations

import numpy as np

import anygrad as ag
import anygrad.nn.functional as F

from . import blas, machine
from .report import Section, _f, _spread
from .timing import measure_by_library

FULL = {"sizes": (784, 256, 10), "batch": 64, "jacobian": 100}
QUICK = {"sizes": (32, 16, 4), "batch": 8, "jacobian": 12}


def _problem(sizes, batch, dtype, seed=0):
    rng = np.random.default_rng(seed)
    n_in, hidden, n_out = sizes
    weights = [rng.normal(size=(n_in, hidden)) / np.sqrt(n_in), np.zeros(hidden),
               rng.normal(size=(hidden, n_out)) / np.sqrt(hidden), np.zeros(n_out)]
    x = rng.normal(size=(batch, n_in))
    y = rng.integers(0, n_out, size=batch)
    return [w.astype(dtype) for w in weights], x.astype(dtype), y


def _loss(p, x, y):
    h = ag.relu(x @ p[0] + p[1])
    return F.cross_entropy(h @ p[2] + p[3], y)


class _Anygrad:
    def __init__(self, weights, x, y, vectorised):
        self.name = "anygrad vmap(grad)" if vectorised else "anygrad loop of grad"
        self.params = [ag.tensor(w) for w in weights]
        self.x, self.y = ag.tensor(x), ag.tensor(y)
        self.per_example = ag.vmap(ag.grad(_loss), in_axes=(None, 0, 0))
        self.step = self._vmapped if vectorised else self._looped

    def _vmapped(self):
        return self.per_example(self.params, self.x, self.y)

    def _looped(self):
        grads = [ag.grad(_loss)(self.params, self.x[i], self.y[i]) for i in range(len(self.y))]
        return [ag.stack([g[k] for g in grads]) for k in range(len(self.params))]

    def arrays(self, grads):
        return [g.numpy() for g in grads]

    def sync(self):
        pass


class _Torch:
    name = "torch.func vmap(grad)"

    def __init__(self, weights, x, y):
        import torch
        from torch.func import grad, vmap

        def loss(p, xi, yi):
            logits = torch.relu(xi @ p[0] + p[1]) @ p[2] + p[3]
            return torch.nn.functional.cross_entropy(logits[None], yi[None])

        self.params = [torch.tensor(w) for w in weights]
        self.x, self.y = torch.tensor(x), torch.tensor(y)
        self.fn = vmap(grad(loss), in_dims=(None, 0, 0))

    def step(self):
        return self.fn(self.params, self.x, self.y)

    def arrays(self, grads):
        return [g.numpy() for g in grads]

    def sync(self):
        pass


class _Jax:
    name = "jax vmap(grad)"

    def __init__(self, weights, x, y):
        import jax
        import jax.numpy as jnp

        def loss(p, xi, yi):
            logits = jax.nn.relu(xi @ p[0] + p[1]) @ p[2] + p[3]
            return -jax.nn.log_softmax(logits)[yi]

        self.params = [jnp.asarray(w) for w in weights]
        self.x, self.y = jnp.asarray(x), jnp.asarray(y)
        self.fn = jax.vmap(jax.grad(loss), in_axes=(None, 0, 0))

    def step(self):
        out = self.fn(self.params, self.x, self.y)
        for g in out:
            g.block_until_ready()
        return out

    def arrays(self, grads):
        return [np.asarray(g) for g in grads]

    def sync(self):
        pass


def _library(contender):
    return contender.name.split()[0].split(".")[0]


def _per_example_rows(shape, settings, references=True):
    weights, x, y = _problem(shape["sizes"], shape["batch"], settings.dtype)
    contenders = [_Anygrad(weights, x, y, True), _Anygrad(weights, x, y, False)]
    for make in (_Torch, _Jax) if references else ():
        try:
            contenders.append(make(weights, x, y))
        except ImportError:
            pass
    reference = contenders[0].arrays(contenders[0].step())
    errors = {}
    for c in contenders:
        found = c.arrays(c.step())
        errors[c.name] = max(float(np.max(np.abs(a - r))) / max(float(np.max(np.abs(r))), 1e-30)
                             for a, r in zip(found, reference))
    timings = measure_by_library({c.name: (c.step, c.sync) for c in contenders},
                                 {c.name: _library(c) for c in contenders},
                                 settings.repeats, settings.warmup)
    rows = [{"impl": c.name, **timings[c.name].summary(),
             "max_relative_difference": errors[c.name]} for c in contenders]
    ours = rows[0]["median_ms"]
    for r in rows:
        r["ratio_to_vmap"] = r["median_ms"] / ours
    return rows


def _jacobian_rows(n, settings):
    import anygrad.transforms as transforms

    rng = np.random.default_rng(1)
    a = ag.tensor((rng.normal(size=(n, n)) / np.sqrt(n)).astype(settings.dtype))
    x = ag.tensor(rng.normal(size=n).astype(settings.dtype))

    def f(v):
        return ag.tanh(a @ v) * ag.sum(v * v)

    jacobian = ag.jacobian(f)
    by_vmap = jacobian(x).numpy()
    vmappable = transforms._vmappable
    transforms._vmappable = lambda lin, mapped: False  # the row by row fallback
    try:
        by_rows = jacobian(x).numpy()
        timing = measure_by_library({"loop": (lambda: jacobian(x), _noop)}, {"loop": "numpy"},
                                    max(2, settings.repeats // 3), 1)["loop"]
    finally:
        transforms._vmappable = vmappable
    vmapped = measure_by_library({"vmap": (lambda: jacobian(x), _noop)}, {"vmap": "numpy"},
                                 settings.repeats, settings.warmup)["vmap"]
    difference = float(np.max(np.abs(by_vmap - by_rows)))
    return [{"impl": "ag.jacobian by vmap", **vmapped.summary(), "max_difference": difference},
            {"impl": "ag.jacobian row by row", **timing.summary(), "max_difference": 0.0}]


def _noop():
    pass


def run(settings, backends):
    quick = settings.repeats <= 3
    shape = QUICK if quick else FULL
    per_example = _per_example_rows(shape, settings, references=not quick)  # quick: no imports
    jac = _jacobian_rows(shape["jacobian"], settings)
    jac[1]["ratio_to_vmap"] = jac[1]["median_ms"] / jac[0]["median_ms"]
    jac[0]["ratio_to_vmap"] = 1.0
    return {"shape": dict(shape), "dtype": settings.dtype, "per_example": per_example,
            "jacobian": jac, "repeats": settings.repeats,
            "torch_threads": machine.torch_threads(), "blas_name": machine.blas_name(),
            "blas": blas.check(measure=False)}


def section(result):
    n_in, hidden, n_out = result["shape"]["sizes"]
    s = Section(f"Per-example gradients, MLP {n_in}-{hidden}-{n_out} with cross-entropy, batch "
                f"{result['shape']['batch']}, {result['dtype']}; and ag.jacobian of a "
                f"{result['shape']['jacobian']} -> {result['shape']['jacobian']} function",
                ["impl", "median ms", "IQR ms", "x vmap", "max rel. difference"])
    for r in result["per_example"]:
        s.rows.append([r["impl"], _f(r["median_ms"], 2), _spread(r),
                       _f(r["ratio_to_vmap"]), f"{r['max_relative_difference']:.1e}"])
    for r in result["jacobian"]:
        s.rows.append([r["impl"], _f(r["median_ms"], 2), _spread(r),
                       _f(r["ratio_to_vmap"]), f"{r['max_difference']:.1e}"])
    s.notes.append("targets: vmap(grad) at least 10x faster than the loop, within 1.5x of "
                   "torch.func; few repeats on a shared machine")
    s.notes += blas.describe(result["blas"])
    s.notes.append(f"numpy BLAS: {result['blas_name']}; torch threads: {result['torch_threads']}")
    return s
