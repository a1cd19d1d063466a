"""Compiled against eager: the same workloads run through `ag.compile` and without it.

Three workloads, each timed side by side in one run (compiled, eager, and the references
where they exist): a 1,000-op elementwise chain with its backward (per-op dispatch cost),
a small MLP training step (64-32-10 at batch 16) and the large one (784-1024-1024-10 at
batch 64, against the hand-written numpy floor and PyTorch eager). The chain and the
small MLP are also run with only their forward compiled and backward called outside
(`compiled forward`, `compiled model`, `compiled loss`: the backward recorded ahead of
time), and the small MLP step over parameters held as plain tensors in a dict. Before
timing, the compiled step is run next to the eager one from the same weights and their
losses and parameters compared; the report says whether they agree bitwise.
"""
from __future__ import annotations

import re
import time

import numpy as np

import anygrad as ag
import anygrad.nn.functional as F

from . import blas, references, workloads
from .report import Section, _f, _spread
from .runner import _host_batch, _host_weights, _measure

__all__ = ["run", "section"]

FULL = {"chain_ops": 1000, "small": ((64, 32, 10), 16), "large": ((784, 1024, 1024, 10), 64)}
PER_PARAMETER = ", update per parameter"
QUICK = {"chain_ops": 100, "small": ((64, 32, 10), 16), "large": ((32, 64, 64, 10), 16)}


class _Compiled:
    """Any workload contender with its `step` compiled (with `options` of ag.compile)."""

    def __init__(self, inner, label="compiled", **options):
        self.inner = inner
        self.backend = inner.backend
        self.name = f"{inner.name} {label}"
        self.step = ag.compile(inner.step, **options)

    def __getattr__(self, name):
        return getattr(self.inner, name)


class _CompiledForward:
    """A workload whose forward alone is compiled, its backward (and update) run by the
    caller as eagerly: `loss = cforward(...); loss.backward()`, the backward recorded
    ahead of time (`part`: "model" compiles the model only, the loss stays eager;
    "loss" compiles model and loss; "forward" compiles a chain's forward)."""

    def __init__(self, inner, part):
        self.inner = inner
        self.backend = inner.backend
        self.part = part
        self.name = f"{inner.name} compiled {part}"
        if part == "forward":
            self.forward = ag.compile(inner.forward)
        elif part == "model":
            self.model = ag.compile(inner.model)
        else:
            self.loss = ag.compile(lambda x, y: F.cross_entropy(inner.model(x), y))

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def step(self):
        inner = self.inner
        if self.part == "forward":
            inner.x.grad = None
            self.forward().backward()
            return None
        inner.optimizer.zero_grad()
        if self.part == "model":
            loss = F.cross_entropy(self.model(inner.x), inner.y)
        else:
            loss = self.loss(inner.x, inner.y)
        loss.backward()
        inner.optimizer.step()
        return loss


class PlainTensorMlpStep:
    """The MLP step with its parameters plain tensors in a dict (the functional style of
    JAX and HIPS autograd users), reached from the step through `self`; SGD updates them.
    Eager, or compiled as a whole step."""

    def __init__(self, sizes, backend, dtype="float32", lr=0.01, compiled=False):
        self.backend = ag.get_backend(backend)
        self.name = f"anygrad:{self.backend.name} plain tensors" + (" compiled" if compiled else "")
        self.sizes, self.dtype, self.lr = sizes, dtype, lr
        self.params = self.optimizer = self.x = self.y = None
        self._step = ag.compile(self._eager_step) if compiled else self._eager_step

    def load_weights(self, host_params):
        self.params = {f"p{i}": ag.tensor(np.asarray(p, dtype=self.dtype), backend=self.backend,
                                          requires_grad=True)
                       for i, p in enumerate(host_params)}
        self.optimizer = ag.optim.SGD(list(self.params.values()), lr=self.lr)

    def parameters_host(self):
        return [p.numpy() for p in self.params.values()]

    def set_batch(self, host_x, host_y):
        self.x = ag.as_tensor(host_x, backend=self.backend)
        self.y = ag.as_tensor(host_y, backend=self.backend)

    def _eager_step(self, x, y):
        p = self.params
        h = x
        for i in range(0, len(p), 2):
            h = F.linear(h, p[f"p{i}"], p[f"p{i + 1}"])
            if i + 2 < len(p):
                h = ag.relu(h)
        loss = F.cross_entropy(h, y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss

    def step(self):
        return self._step(self.x, self.y)

    def loss_value(self, loss):
        return loss.item()

    def sync(self):
        self.backend.synchronize()


class FunctionalMlpStep:
    """The MLP step as a pure function of parameter tensors, with anygrad's own
    `value_and_grad` and an SGD update written as ops: what `ag.compile(jit=True)` can
    hand to jax.jit whole. Eager, compiled, or compiled and jitted."""

    def __init__(self, sizes, backend, dtype="float32", lr=0.01, mode="eager"):
        self.backend = ag.get_backend(backend)
        self.name = f"anygrad:{self.backend.name} functional" + (
            "" if mode == "eager" else " compiled" + (" + jit" if mode == "jit" else ""))
        self.dtype = dtype
        self.params = self.x = self.y = None

        def step(params, x, y):
            def loss(*ps):
                h = x
                for i in range(0, len(ps), 2):
                    h = F.linear(h, ps[i], ps[i + 1])
                    if i + 2 < len(ps):
                        h = ag.relu(h)
                return F.cross_entropy(h, y)

            value, grads = ag.value_and_grad(loss, argnums=tuple(range(len(params))))(*params)
            return value, [p - lr * g for p, g in zip(params, grads)]

        self._step = step if mode == "eager" else ag.compile(step, jit=mode == "jit")

    def load_weights(self, host_params):
        self.params = [ag.tensor(np.asarray(p, dtype=self.dtype), backend=self.backend)
                       for p in host_params]

    def parameters_host(self):
        return [p.numpy() for p in self.params]

    def set_batch(self, host_x, host_y):
        self.x = ag.as_tensor(host_x, backend=self.backend)
        self.y = ag.as_tensor(host_y, backend=self.backend)

    def step(self):
        loss, self.params = self._step(self.params, self.x, self.y)
        return loss

    def loss_value(self, loss):
        return loss.item()

    def sync(self):
        for p in self.params:
            wait = getattr(p.array, "block_until_ready", None)  # jax runs asynchronously
            if wait is not None:
                wait()


def _backend_compiler_rows(backend, sizes, batch, settings, rng):
    """The functional step on jax or torch: eager, compiled, and compiled with the
    recording handed to the backend's compiler (jax.jit, torch.compile), against the
    step written directly in that library (under jax.jit; PyTorch eager autograd)."""
    params = _host_weights(sizes, settings.dtype, rng)
    x, y = _host_batch(sizes, batch, settings.dtype, rng)
    eager = FunctionalMlpStep(sizes, backend, settings.dtype, settings.lr)
    direct = references.JaxJitMlp if backend == "jax" else references.TorchMlp
    contenders = [direct(sizes, settings.dtype, settings.lr), eager]
    checks, notes = {}, []
    for mode in ("compiled", "jit"):
        c = FunctionalMlpStep(sizes, backend, settings.dtype, settings.lr, mode)
        reference = FunctionalMlpStep(sizes, backend, settings.dtype, settings.lr)
        for each in (c, reference):
            each.load_weights(params)
            each.set_batch(x, y)
        start = time.perf_counter()
        checks[c.name] = _agreement(reference, c)
        if mode == "jit":  # the compiler runs at the first replay, inside these 4 steps
            notes.append(f"{c.name}: first 4 steps (recording twice, the backend's compile, "
                         f"one replay) took {time.perf_counter() - start:.1f} s")
        contenders.append(c)
    rows = _timed_rows(contenders, checks, params, x, y, settings,
                       f"{backend} step {'-'.join(map(str, sizes))} batch {batch}")
    return rows, notes


def _timed_rows(contenders, checks, params, x, y, settings, workload):
    """Load equal weights and the batch into every contender, time them side by side."""
    for c in contenders:
        c.load_weights(params)
        c.set_batch(x, y)
    timings = _measure(contenders, settings)
    return [{"impl": c.name, "workload": workload, **timings[c.name].summary(),
             "max_difference": checks.get(c.name)} for c in contenders]


def _agreement(eager, compiled, steps=4):
    """Max |difference| of losses and parameters over a few steps from equal weights."""
    worst = 0.0
    for _ in range(steps):
        a = eager.loss_value(eager.step())
        b = compiled.loss_value(compiled.step())
        worst = max(worst, abs(a - b))
    for p, q in zip(eager.parameters_host(), compiled.parameters_host()):
        worst = max(worst, float(np.max(np.abs(p - q))))
    return worst


def _mlp_rows(sizes, batch, backends, settings, rng, forward_rows=False):
    params = _host_weights(sizes, settings.dtype, rng)
    x, y = _host_batch(sizes, batch, settings.dtype, rng)
    contenders = [references.NumpyMlp(sizes, settings.dtype, settings.lr)]
    if references.torch_available():
        contenders.append(references.TorchMlp(sizes, settings.dtype, settings.lr))
    checks = {}
    for b in backends:
        eager = workloads.MlpStep(sizes, b, settings.dtype, settings.lr)
        compiled = [_Compiled(workloads.MlpStep(sizes, b, settings.dtype, settings.lr))]
        if forward_rows:  # the forward compiled, backward and update outside
            compiled += [_CompiledForward(workloads.MlpStep(sizes, b, settings.dtype,
                                                            settings.lr), part)
                         for part in ("model", "loss")]
        contenders.append(eager)
        for c in compiled:
            reference = workloads.MlpStep(sizes, b, settings.dtype, settings.lr)
            for each in (reference, c):
                each.load_weights(params)
                each.set_batch(x, y)
            checks[c.name] = _agreement(reference, c)
            contenders.append(c)
    return _timed_rows(contenders, checks, params, x, y, settings,
                       f"mlp {'-'.join(map(str, sizes))} batch {batch}")


def _plain_tensor_rows(sizes, batch, backends, settings, rng):
    """The MLP step over parameters that are plain tensors in a dict: eager and compiled
    (a step that replays, as one over a Module's parameters does)."""
    params = _host_weights(sizes, settings.dtype, rng)
    x, y = _host_batch(sizes, batch, settings.dtype, rng)
    contenders, checks = [], {}
    for b in backends:
        eager = PlainTensorMlpStep(sizes, b, settings.dtype, settings.lr)
        compiled = PlainTensorMlpStep(sizes, b, settings.dtype, settings.lr, compiled=True)
        reference = PlainTensorMlpStep(sizes, b, settings.dtype, settings.lr)
        for c in (reference, compiled):
            c.load_weights(params)
            c.set_batch(x, y)
        checks[compiled.name] = _agreement(reference, compiled)
        contenders += [eager, compiled]
    return _timed_rows(contenders, checks, params, x, y, settings,
                       f"mlp {'-'.join(map(str, sizes))} batch {batch} plain tensors")


def _adam_step(sizes, backend, settings, flat=True):
    step = workloads.MlpStep(sizes, backend, settings.dtype, settings.lr)
    step.optimizer = ag.optim.Adam(step.model.parameters(), lr=settings.lr)
    if not flat:  # what a compiled step did before the flat update, for comparison
        step.optimizer.use_flat_buffers = lambda: None
    return step


def _flat_update_rows(sizes, batch, backends, settings, rng):
    """The small MLP with Adam (about ten array operations per parameter and step):
    eager, compiled with the flat update, compiled updating parameter by parameter."""
    params = _host_weights(sizes, settings.dtype, rng)
    x, y = _host_batch(sizes, batch, settings.dtype, rng)
    contenders, checks = [], {}
    for b in backends:
        eager = _adam_step(sizes, b, settings)
        for flat in (True, False):
            compiled = _Compiled(_adam_step(sizes, b, settings, flat))
            if not flat:
                compiled.name += PER_PARAMETER
            reference = _adam_step(sizes, b, settings)
            for c in (reference, compiled):
                c.load_weights(params)
                c.set_batch(x, y)
            checks[compiled.name] = _agreement(reference, compiled)
            contenders.append(compiled)
        contenders.insert(len(contenders) - 2, eager)
    return _timed_rows(contenders, checks, params, x, y, settings,
                       f"mlp {'-'.join(map(str, sizes))} batch {batch} Adam")


class _UpdateOnly:
    """`opt.step()` alone over the parameters of an MLP with fixed gradients: the
    optimizer's own cost, flat or parameter by parameter."""

    def __init__(self, sizes, backend, make, flat, rng):
        self.backend = ag.get_backend(backend)
        self.name = f"anygrad:{self.backend.name} {'flat' if flat else 'per parameter'}"
        params = []
        for host in _host_weights(sizes, "float32", rng):
            p = ag.tensor(host, backend=self.backend, requires_grad=True)
            p.grad = ag.tensor(host * 1e-3, backend=self.backend)
            params.append(p)
        self.optimizer = make(params)
        if flat:
            self.optimizer.use_flat_buffers()
        self.step = self.optimizer.step
        for _ in range(3):  # state made, laid out flat
            self.step()

    def sync(self):
        self.backend.synchronize()


def _update_rows(sizes, backends, settings):
    """SGD with momentum and Adam updating the parameters of the small MLP, flat and
    parameter by parameter: what the flat update saves per step."""
    rows = []
    optimizers = {"SGD momentum": lambda ps: ag.optim.SGD(ps, lr=1e-3, momentum=0.9),
                  "Adam": lambda ps: ag.optim.Adam(ps, lr=1e-3)}
    for label, make in optimizers.items():
        contenders = [_UpdateOnly(sizes, b, make, flat, np.random.default_rng(0))
                      for b in backends for flat in (True, False)]
        timings = _measure(contenders, settings)
        for c in contenders:
            r = {"impl": c.name, "workload": f"{label} update of {'-'.join(map(str, sizes))}",
                 **timings[c.name].summary(), "max_difference": None}
            r["us_per_op"] = None
            rows.append(r)
    return rows


def _chain_rows(n_ops, backends, settings):
    contenders = []
    if references.torch_available():
        contenders.append(references.TorchChain(n_ops, settings.dtype))
    checks = {}
    for b in backends:
        eager = workloads.TinyChain(b, n_ops, settings.dtype)
        contenders.append(eager)
        for compiled in (_Compiled(workloads.TinyChain(b, n_ops, settings.dtype)),
                         _CompiledForward(workloads.TinyChain(b, n_ops, settings.dtype),
                                          "forward")):
            for _ in range(3):  # recorded, confirmed, replayed
                compiled.step()
            eager.step()
            checks[compiled.name] = float(np.max(np.abs(eager.x.grad.numpy() -
                                                        compiled.inner.x.grad.numpy())))
            contenders.append(compiled)
    timings = _measure(contenders, settings)
    rows = []
    for c in contenders:
        row = {"impl": c.name, "workload": f"chain {n_ops} ops", **timings[c.name].summary()}
        row["us_per_op"] = row["median_ms"] * 1e3 / n_ops
        row["max_difference"] = checks.get(c.name)
        rows.append(row)
    return rows


def run(settings, backends):
    """Every workload on every timed backend; rows carry the ratio to eager anygrad on
    the same backend, to the numpy floor and to PyTorch eager."""
    quick = settings.repeats <= 3  # --quick: check that everything runs, on small shapes
    shapes = QUICK if quick else FULL
    rng = np.random.default_rng(settings.seed + 5)
    notes = []
    lazy = [b for b in backends if ag.get_backend(b).lazy]
    if lazy:
        # A replay of a lazy library only describes the step again (and a 1,000-op
        # chain described at once is deeper than dask's graph tools recurse).
        notes.append(f"not timed here: {', '.join(lazy)} (lazy: a step builds a task graph; "
                     "compiling does not change how it is computed)")
        backends = [b for b in backends if b not in lazy]
    rows = _chain_rows(shapes["chain_ops"], backends, settings)
    for sizes, batch in (shapes["small"], shapes["large"]):
        rows += _mlp_rows(sizes, batch, backends, settings, rng,
                          forward_rows=(sizes, batch) == shapes["small"])
    rows += _plain_tensor_rows(*shapes["small"], backends, settings, rng)
    rows += _flat_update_rows(*shapes["small"], backends, settings, rng)
    rows += _update_rows(shapes["small"][0], backends, settings)
    for backend, available in (("jax", references.jax_available),
                               ("torch", references.torch_available)):
        if backend in backends and available():
            more, said = _backend_compiler_rows(backend, *shapes["large"], settings, rng)
            rows += more
            notes += said
    by_workload = {}
    for r in rows:
        by_workload.setdefault(r["workload"], {})[r["impl"]] = r["median_ms"]
    for r in rows:
        times = by_workload[r["workload"]]
        base = re.sub(r" compiled.*$", "", r["impl"].removesuffix(PER_PARAMETER))
        eager = times.get(base.replace(" flat", " per parameter"))
        r["ratio_to_eager"] = r["median_ms"] / eager if eager else None
        jit = times.get(references.JaxJitMlp.name)
        r["ratio_to_jax_jit"] = r["median_ms"] / jit if jit else None
        floor = times.get(references.NumpyMlp.name)
        r["ratio_to_floor"] = r["median_ms"] / floor if floor else None
        torch = times.get(references.TorchMlp.name) or times.get(references.TorchChain.name)
        r["ratio_to_torch"] = r["median_ms"] / torch if torch else None
    from . import compiled_gpu  # it builds on this module's contenders

    return {"rows": rows, "blas": blas.check(measure=not quick), "notes": notes,
            "gpu": compiled_gpu.run(settings, quick)}


def section(result):
    s = Section("Compiled (ag.compile) against eager, side by side",
                ["workload", "impl", "median ms", "IQR ms", "us/op", "x eager", "x floor",
                 "x torch", "x jax.jit", "max |compiled - eager|"])
    from . import compiled_gpu

    gpu = result.get("gpu", {"skipped": "not run"})
    for r in result["rows"] + gpu.get("rows", []):
        diff = r["max_difference"]
        s.rows.append([r["workload"], r["impl"], _f(r["median_ms"], 3), _spread(r, digits=3),
                       _f(r.get("us_per_op")), _f(r["ratio_to_eager"]), _f(r["ratio_to_floor"]),
                       _f(r["ratio_to_torch"]), _f(r.get("ratio_to_jax_jit")),
                       "-" if diff is None else f"{diff:.1e}"])
    s.notes += blas.describe(result["blas"])
    s.notes += result.get("notes", [])
    s.notes.append("x eager: the compiled step's median over eager anygrad's on the same "
                   "backend (for the update rows: flat over parameter by parameter); max "
                   "|compiled - eager|: losses and parameters after 4 steps from equal "
                   "weights (0 = bitwise equal)")
    s.notes += compiled_gpu.notes(gpu)
    return s

