"""Compiled against eager on a GPU: the MLP step at batch 16 ... 4096.

Side by side in one run, for 784-1024-1024-10 (float32, SGD): PyTorch's own eager
autograd on CUDA, anygrad on torch CUDA eager and compiled with `cuda_graph=True`, and
anygrad on cupy eager and compiled with `fuse=True`. Before timing, each compiled step
runs next to its eager twin from equal weights for enough steps to be captured (record,
confirm, warm up, capture, launch) and the largest difference is reported.

Without a GPU (no cupy, no torch with CUDA) the section says so and times nothing; this
module never makes a GPU figure it did not measure.
"""
from __future__ import annotations

import numpy as np

import anygrad as ag

from . import references, workloads
from .compiled import _agreement, _Compiled, _timed_rows
from .runner import _host_batch, _host_weights

__all__ = ["available", "run"]

SIZES = (784, 1024, 1024, 10)
FULL_BATCHES = (16, 64, 256, 1024, 4096)
QUICK_BATCHES = (16, 64)
AGREEMENT_STEPS = 10  # two recordings, three warm-ups, the capture, four launches


def available():
    """(the GPU contenders' backends here, the reason for each one missing)."""
    found, missing = [], []
    backends = ag.available_backends()
    if "cupy" in backends:
        found.append("cupy")
    else:
        missing.append("cupy is not available")
    if "torch" in backends and "cuda" in str(ag.get_backend("torch").default_device()):
        found.append("torch")
    else:
        missing.append("torch has no CUDA device" if "torch" in backends else "torch is not installed")
    return found, missing


def run(settings, quick=False):
    """Rows for every batch size, or {"skipped": reason} without a GPU."""
    found, missing = available()
    if not found:
        return {"skipped": "no GPU here (" + "; ".join(missing) + "): nothing timed"}
    rng = np.random.default_rng(settings.seed + 11)
    rows = []
    for batch in QUICK_BATCHES if quick else FULL_BATCHES:
        rows += _rows(batch, found, settings, rng)
    return {"rows": rows, "missing": missing}


def _rows(batch, backends, settings, rng):
    params = _host_weights(SIZES, settings.dtype, rng)
    x, y = _host_batch(SIZES, batch, settings.dtype, rng)
    contenders, checks, eager_of = [], {}, {}
    if "torch" in backends:
        contenders.append(references.TorchMlp(SIZES, settings.dtype, settings.lr, "cuda"))
    options = {"torch": ("compiled + cuda graph", {"cuda_graph": True}),
               "cupy": ("compiled + fused", {"fuse": True})}
    for b in backends:
        eager = workloads.MlpStep(SIZES, b, settings.dtype, settings.lr)
        label, kwargs = options[b]
        compiled = _Compiled(workloads.MlpStep(SIZES, b, settings.dtype, settings.lr),
                             label, **kwargs)
        for c in (eager, compiled):
            c.load_weights(params)
            c.set_batch(x, y)
        checks[compiled.name] = _agreement(eager, compiled, steps=AGREEMENT_STEPS)
        eager_of[compiled.name] = eager.name
        contenders += [eager, compiled]
    rows = _timed_rows(contenders, checks, params, x, y, settings,
                       f"gpu mlp {'-'.join(map(str, SIZES))} batch {batch}")
    times = {r["impl"]: r["median_ms"] for r in rows}
    torch_ms = times.get(references.TorchMlp.name)
    for r in rows:
        eager_ms = times.get(eager_of.get(r["impl"]))
        r["ratio_to_eager"] = r["median_ms"] / eager_ms if eager_ms else None
        r["ratio_to_torch"] = r["median_ms"] / torch_ms if torch_ms else None
        r["ratio_to_floor"] = r["ratio_to_jax_jit"] = None
    return rows


def notes(result):
    """The lines the report prints under the table."""
    if "skipped" in result:
        return [(f"GPU: {result['skipped']}. The GPU paths (cuda_graph=True on torch, fuse=True "
                 "on cupy) are unverified until this section runs on one.")]
    lines = [("GPU rows: x eager is the compiled step over eager anygrad on the same backend, "
              "x torch over PyTorch eager on CUDA; max |compiled - eager| after "
              f"{AGREEMENT_STEPS} steps, past the CUDA graph's capture")]
    lines += [f"GPU: {m}" for m in result.get("missing", ())]
    return lines
