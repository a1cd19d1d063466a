"""Run each workload: build the contenders, check them, time them, return plain dicts.

One function per workload. Each returns a JSON-ready dict; nothing here prints a
table (that is `report.py`) or parses arguments (that is `cli.py`). Progress goes to
stderr so a user watching a long sweep sees where it is.
"""
from __future__ import annotations

import gc
import math
import sys
import time
from dataclasses import dataclass, field

import numpy as np

import anygrad as ag

from . import memory, references, verify, workloads
from .timing import Timing, measure_by_library, time_once

FLOOR = references.NumpyMlp.name
TORCH = references.TorchMlp.name


@dataclass
class Settings:
    """Everything a run depends on; `cli.py` fills it from the command line."""

    backends: list
    sizes: tuple = (784, 1024, 1024, 10)
    batch_sizes: tuple = (64, 256, 1024)
    widths: tuple = ()
    width_batch: int = 256
    dtype: str = "float32"
    repeats: int = 10
    warmup: int = 2
    lr: float = 0.01
    verify_backends: list = field(default_factory=list)
    overhead_ops: int = 1000
    chain_lengths: tuple = (50_000, 100_000, 200_000)
    chain_repeats: int = 3
    memory_batch: int = 64
    memory_steps: int = 1000
    memory_early: int = 10
    conv_input: tuple = (32, 16, 28, 28)
    conv_weight: tuple = (32, 16, 3, 3)
    seed: int = 0


def progress(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _device_of(backend):
    device = backend.default_device()
    return "cpu" if device is None else str(device)


def library_of(contender):
    """The array library a contender computes with: contenders of one library are
    timed interleaved, different libraries apart (see `timing`)."""
    backend = getattr(contender, "backend", None)
    if backend is not None:
        return backend.name
    return "torch" if contender.name.startswith("torch") else "numpy"


def _measure(contenders, settings, method="step"):
    pairs = {c.name: (getattr(c, method), c.sync) for c in contenders}
    libraries = {c.name: library_of(c) for c in contenders}
    return measure_by_library(pairs, libraries, settings.repeats, settings.warmup)


def on_gpu(backend_name):
    """Whether a backend computes on a GPU here (decides the crossover report)."""
    backend = ag.get_backend(backend_name)
    return backend.name == "cupy" or "cuda" in _device_of(backend)


# ----------------------------------------------------------------- MLP training step
def _host_weights(sizes, dtype, rng):
    """PyTorch's default Linear initialisation, drawn once on the host for everyone."""
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / math.sqrt(fan_in)
        params.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(dtype))
        params.append(rng.uniform(-bound, bound, fan_out).astype(dtype))
    return params


def _host_batch(sizes, batch, dtype, rng):
    x = rng.standard_normal((batch, sizes[0])).astype(dtype)
    y = rng.integers(0, sizes[-1], batch).astype(np.int64)
    return x, y


def _mlp_contenders(settings, sizes, backends):
    contenders = [references.NumpyMlp(sizes, settings.dtype, settings.lr)]
    if references.torch_available():
        # On the device anygrad's torch backend uses (CUDA when visible): like for like.
        device = _device_of(ag.get_backend("torch"))
        contenders.append(references.TorchMlp(sizes, settings.dtype, settings.lr, device))
    contenders += [workloads.MlpStep(sizes, b, settings.dtype, settings.lr) for b in backends]
    return contenders


def verify_mlp(settings):
    """The correctness gate: every backend (array_api_strict included) and PyTorch
    against the floor, on the smallest batch of the sweep."""
    rng = np.random.default_rng(settings.seed)
    sizes = settings.sizes
    params = _host_weights(sizes, settings.dtype, rng)
    x, y = _host_batch(sizes, min(settings.batch_sizes), settings.dtype, rng)
    contenders = _mlp_contenders(settings, sizes, settings.verify_backends)
    floor, others = contenders[0], contenders[1:]
    progress(f"verifying the MLP step of {', '.join(c.name for c in others)} against {FLOOR}")
    report = verify.check_mlp(others, floor, params, x, y)
    return {"batch": len(y), "steps": 3, "rtol": verify.RTOL, "results": report,
            "ok": all(r["ok"] for r in report.values())}


def run_mlp(settings, backends):
    """Time the training step of every contender over the batch sizes (and widths)."""
    rng = np.random.default_rng(settings.seed + 1)
    rows, transfers = [], []
    shapes = [(settings.sizes, b) for b in settings.batch_sizes]
    for width in settings.widths:
        sizes = (settings.sizes[0], width, width, settings.sizes[-1])
        shapes.append((sizes, settings.width_batch))
    for sizes, batch in shapes:
        progress(f"mlp {'-'.join(map(str, sizes))} batch {batch}")
        contenders = _mlp_contenders(settings, sizes, backends)
        params = _host_weights(sizes, settings.dtype, rng)
        x, y = _host_batch(sizes, batch, settings.dtype, rng)
        for c in contenders:
            c.load_weights(params)
            if c.name != FLOOR:
                transfers.append(_transfer_row(c, x, y, settings.repeats, batch))
            c.set_batch(x, y)
        timings = _measure(contenders, settings)
        for c in contenders:
            row = {"impl": c.name, "sizes": list(sizes), "batch": batch,
                   "device": _contender_device(c), **timings[c.name].summary()}
            row["steps_per_s"] = 1e3 / row["median_ms"]
            rows.append(row)
        del contenders
        gc.collect()
    _add_ratios(rows)
    gpu = [b for b in backends if on_gpu(b)]
    return {"sizes": list(settings.sizes), "dtype": settings.dtype, "lr": settings.lr,
            "rows": rows, "transfers": transfers, "crossover": _crossover(rows, gpu)}


def _contender_device(contender):
    backend = getattr(contender, "backend", None)
    if backend is not None:
        return _device_of(backend)
    return str(getattr(contender, "device", "cpu"))


def _transfer_row(contender, x, y, repeats, batch):
    """Host-to-device time of one batch (inputs and labels), reported apart from the step."""
    timing = Timing([time_once(lambda: contender.set_batch(x, y), contender.sync)
                     for _ in range(max(repeats, 3))])
    return {"impl": contender.name, "batch": batch, "bytes": x.nbytes + y.nbytes,
            "device": _contender_device(contender), **timing.summary()}


def _add_ratios(rows):
    """Ratio to the numpy floor and speedup over anygrad:numpy, within each shape."""
    by_shape = {}
    for row in rows:
        by_shape.setdefault((tuple(row["sizes"]), row["batch"]), {})[row["impl"]] = row
    for group in by_shape.values():
        floor = group.get(FLOOR)
        base = group.get("anygrad:numpy")
        for row in group.values():
            row["ratio_to_floor"] = row["median_ms"] / floor["median_ms"] if floor else None
            row["speedup_over_anygrad_numpy"] = (
                base["median_ms"] / row["median_ms"] if base else None)


def _crossover(rows, gpu_backends):
    """The smallest batch from which each GPU backend beats anygrad on numpy."""
    if not gpu_backends:
        return {"note": "no GPU backend present; no crossover measured"}
    result = {}
    default = [r for r in rows if r["sizes"] == rows[0]["sizes"]]
    cpu = {r["batch"]: r["median_ms"] for r in default if r["impl"] == "anygrad:numpy"}
    for name in gpu_backends:
        gpu = {r["batch"]: r["median_ms"] for r in default if r["impl"] == f"anygrad:{name}"}
        faster = sorted(b for b in gpu if b in cpu and gpu[b] < cpu[b])
        result[name] = faster[0] if faster else None
    return result


# ----------------------------------------------------------------- per-op overhead
def run_overhead(settings, backends):
    """Microseconds per op of a tiny elementwise chain, forward and forward+backward."""
    n = settings.overhead_ops
    progress(f"overhead: {n} elementwise ops on a 4-element vector")
    contenders = [workloads.TinyChain(b, n, settings.dtype) for b in backends]
    if references.torch_available():
        contenders.append(references.TorchChain(n, settings.dtype))
    both = _measure(contenders, settings)
    forward = _measure(contenders, settings, "forward")
    rows = []
    for c in contenders:
        total = both[c.name].median / n * 1e6
        ahead = forward[c.name].median / n * 1e6
        rows.append({"impl": c.name, "n_ops": n, "us_per_op": total,
                     "forward_us_per_op": ahead, "backward_us_per_op": total - ahead,
                     **both[c.name].summary(1e6 / n, "us_per_op")})
    torch_row = next((r for r in rows if r["impl"] == references.TorchChain.name), None)
    for row in rows:
        row["ratio_to_torch"] = row["us_per_op"] / torch_row["us_per_op"] if torch_row else None
    return {"n_ops": n, "vector_size": 4, "ops": ["multiply", "add", "tanh"], "rows": rows}


# ----------------------------------------------------------------- deep chain backward
def run_chain(settings, backends):
    """Backward over chains of growing length: time per op, and a linear fit."""
    rows = []
    for n in settings.chain_lengths:
        progress(f"chain: backward through {n} ops")
        contenders = [workloads.DeepChain(b, n, settings.dtype) for b in backends]
        if references.torch_available():
            contenders.append(references.TorchDeepChain(n, settings.dtype))
        build = {c.name: Timing() for c in contenders}
        walk = {c.name: Timing() for c in contenders}
        for _ in range(settings.chain_repeats):
            for c in contenders:  # interleaved, as everywhere
                build[c.name].samples.append(time_once(c.prepare, c.sync))
                gc.collect()  # the build's own garbage is not the walk's cost
                walk[c.name].samples.append(time_once(c.backward, c.sync))
        for c in contenders:
            rows.append({"impl": c.name, "n_ops": n,
                         "forward_us_per_op": build[c.name].median / n * 1e6,
                         "backward_us_per_op": walk[c.name].median / n * 1e6,
                         **walk[c.name].summary()})
        del contenders
        gc.collect()
    return {"lengths": list(settings.chain_lengths), "rows": rows,
            "linearity": _linearity(rows)}


def _linearity(rows):
    """Per contender: least-squares line time = a n + b, its R^2, and per-op time at
    the longest chain over the shortest (1.0 is perfectly linear)."""
    result = {}
    for impl in dict.fromkeys(r["impl"] for r in rows):
        points = sorted((r["n_ops"], r["median_ms"]) for r in rows if r["impl"] == impl)
        if len(points) < 2:
            continue
        ns = np.array([p[0] for p in points], dtype=float)
        ts = np.array([p[1] for p in points], dtype=float)
        slope, intercept = np.polyfit(ns, ts, 1)
        fitted = slope * ns + intercept
        spread = float(np.sum((ts - ts.mean()) ** 2))
        r2 = 1.0 - float(np.sum((ts - fitted) ** 2)) / spread if spread else 1.0
        per_op = ts / ns
        result[impl] = {"us_per_op_fit": slope * 1e3, "intercept_ms": intercept, "r2": r2,
                        "per_op_longest_over_shortest": float(per_op[-1] / per_op[0])}
    return result


# ----------------------------------------------------------------- memory
def run_memory(settings, backends):
    """Peak memory of one step against the floor's, and flatness over many steps."""
    sizes, batch = settings.sizes, settings.memory_batch
    rng = np.random.default_rng(settings.seed + 2)
    params = _host_weights(sizes, settings.dtype, rng)
    x, y = _host_batch(sizes, batch, settings.dtype, rng)

    def maker(factory):
        def make():
            contender = factory()
            contender.load_weights(params)
            contender.set_batch(x, y)
            return contender
        return make

    rows = []
    progress(f"memory: {FLOOR} peak at batch {batch}")
    floor = memory.traced_profile(
        maker(lambda: references.NumpyMlp(sizes, settings.dtype, settings.lr)), flat=False)
    rows.append({"impl": FLOOR, "batch": batch, **floor})
    for name in backends:
        progress(f"memory: anygrad:{name} peak, and flatness over {settings.memory_steps} steps")
        backend = ag.get_backend(name)
        make = maker(lambda: workloads.MlpStep(sizes, name, settings.dtype, settings.lr))
        steps, early = settings.memory_steps, settings.memory_early
        if name == "numpy":
            profile = memory.traced_profile(make, steps, early)
        elif backend.memory_stats() is not None:
            profile = memory.device_profile(make, backend, steps, early)
        else:
            profile = memory.rss_profile(make, steps, early)
        profile["cyclic_garbage_per_step"] = memory.cyclic_garbage(make())
        row = {"impl": f"anygrad:{name}", "batch": batch, **profile}
        if profile["peak_bytes"] is not None and profile["instrument"] == "tracemalloc":
            row["peak_ratio_to_floor"] = profile["peak_bytes"] / floor["peak_bytes"]
            row["step_peak_ratio_to_floor"] = profile["step_peak_bytes"] / floor["step_peak_bytes"]
        rows.append(row)
    return {"batch": batch, "sizes": list(sizes), "rows": rows}


# ----------------------------------------------------------------- convolution
def run_conv(settings, backends):
    """One conv2d layer forward and backward, checked against PyTorch, then timed."""
    if not workloads.has_conv2d():
        return {"skipped": "anygrad.nn.functional.conv2d does not exist yet"}
    rng = np.random.default_rng(settings.seed + 3)
    x = rng.standard_normal(settings.conv_input).astype(settings.dtype)
    w = (rng.standard_normal(settings.conv_weight) * 0.1).astype(settings.dtype)
    b = rng.standard_normal(settings.conv_weight[0]).astype(settings.dtype)
    progress(f"conv: input {settings.conv_input}, weight {settings.conv_weight}, padding 1")
    contenders = [workloads.ConvStep(name, x, w, b) for name in backends]
    checks = {}
    if references.torch_available():
        reference = references.TorchConv(x, w, b)
        for c in contenders:
            checks[c.name] = verify.check_grads(c, reference)
        contenders.append(reference)
    timings = _measure(contenders, settings)
    rows = [{"impl": c.name, **timings[c.name].summary()} for c in contenders]
    torch_row = next((r for r in rows if r["impl"] == references.TorchConv.name), None)
    for row in rows:
        row["ratio_to_torch"] = row["median_ms"] / torch_row["median_ms"] if torch_row else None
    return {"input": list(settings.conv_input), "weight": list(settings.conv_weight),
            "padding": 1, "checks": checks, "rows": rows}


def timestamp():
    return time.strftime("%Y-%m-%d %H:%M:%S %Z")
