"""Memory of a training step: the peak, and whether it stays flat over many steps.

Three instruments, chosen by where the arrays live:

* numpy reports every array buffer it allocates to `tracemalloc`, so for numpy
  (anygrad's numpy backend and the hand-written floor) tracing gives exact bytes:
  parameters, the batch, activations, gradients and anygrad's own Python objects
  (nodes, tensors), with a resettable peak;
* device libraries count their own allocations: `backend.memory_stats()` gives bytes
  in use and the peak since `reset_peak_memory()`;
* anything else on the CPU (torch's CPU allocator is invisible to tracemalloc) gets
  only the process's resident set size, good enough to see a leak, not a peak.

Flatness is measured as memory in use after step `early` against after step `steps`
(10 and 1,000 by default): a graph that is not freed, or an optimizer that keeps
history, grows with every step.
"""
from __future__ import annotations

import gc
import os
import tracemalloc


def _rss_bytes():
    """Resident set size of this process, from /proc (Linux); None elsewhere."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _run(contender, count):
    for _ in range(count):
        contender.step()  # the returned loss is dropped at once, as a training loop does


def traced_profile(make, steps=1000, early=10, flat=True):
    """Peak and flatness of `make()`'s step measured by tracemalloc (numpy arrays).

    `make` builds the contender (model and batch) while tracing is on, so its
    parameters and data count. Two warm-up steps create the gradients and any optimizer
    state first; the peak is then taken over one step. Returns a dict of bytes.
    """
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        contender = make()
        _run(contender, 2)
        gc.collect()
        resident, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        _run(contender, 1)
        _, peak = tracemalloc.get_traced_memory()
        result = {
            "instrument": "tracemalloc",
            "resident_bytes": resident,  # parameters, batch, persistent state
            "peak_bytes": peak,  # the whole footprint at the step's high point
            "step_peak_bytes": peak - resident,  # what the step itself adds at its peak
        }
        if flat:
            result.update(_flatness(contender, steps, early, tracemalloc_current))
        return result
    finally:
        if not was_tracing:
            tracemalloc.stop()


def tracemalloc_current():
    return tracemalloc.get_traced_memory()[0]


def device_profile(make, backend, steps=1000, early=10):
    """Peak and flatness from the backend's own counters (GPU libraries)."""
    contender = make()
    _run(contender, 2)
    contender.sync()
    resident = backend.memory_stats()["in_use"]
    backend.reset_peak_memory()
    _run(contender, 1)
    contender.sync()
    # Not every library keeps a peak counter (cupy's memory pool does not): then the
    # peak is reported as unmeasured rather than guessed from the bytes in use.
    peak = backend.memory_stats().get("peak")
    result = {"instrument": f"{backend.name}.memory_stats", "resident_bytes": resident,
              "peak_bytes": peak, "step_peak_bytes": None if peak is None else peak - resident}

    def in_use():
        contender.sync()
        return backend.memory_stats()["in_use"]

    result.update(_flatness(contender, steps, early, in_use))
    return result


def rss_profile(make, steps=1000, early=10):
    """Flatness only, from the resident set size (no peak is measurable this way)."""
    contender = make()
    _run(contender, 2)
    result = {"instrument": "rss", "resident_bytes": None, "peak_bytes": None,
              "step_peak_bytes": None}
    result.update(_flatness(contender, steps, early, _rss_bytes))
    return result


def cyclic_garbage(contender):
    """Objects one step leaves in reference cycles, which only the cycle collector frees.

    anygrad's graph is meant to be freed by reference counting alone (outputs are held
    weakly); a non-zero count here means some structure of a step lingers until the
    next garbage collection, and memory rises and falls with the collector's rhythm.
    """
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        contender.step()
        return gc.collect()
    finally:
        if enabled:
            gc.enable()


def _flatness(contender, steps, early, in_use):
    """Memory in use after step `early` and after step `steps` (counted from 1)."""
    done = 3  # the warm-up and peak steps above
    _run(contender, max(early - done, 0))
    gc.collect()
    at_early = in_use()
    _run(contender, steps - max(early, done))
    gc.collect()
    at_end = in_use()
    growth = None if at_early is None or at_end is None else at_end - at_early
    return {"steps": steps, "early_step": early, "in_use_early_bytes": at_early,
            "in_use_end_bytes": at_end, "growth_bytes": growth}
