"""Timing: warm-up, device synchronisation, repeats, and robust summaries.

A benchmark on a shared machine sees noise from other processes and from the clock
speed drifting. Three choices keep the figures honest:

* warm-up runs are excluded: they pay for lazy imports, allocator growth and the first
  touch of fresh memory, none of which a training loop pays again;
* `synchronize()` is called before starting and before stopping the clock, so a device
  backend that queues work asynchronously is timed for the work, not for the queueing;
* the competitors of one comparison are timed *interleaved* (A, B, C, A, B, C, ...),
  so a burst of load from elsewhere slows all of them alike and their ratios stay
  meaningful; the median and the interquartile range summarise the repeats;
* but only competitors that compute with the same library are interleaved. numpy's
  OpenBLAS threads and PyTorch's OpenMP threads both spin for a while after their work
  is done; interleaving the two makes each one run on cores the other is still
  spinning on. Measured on 2 cores: the numpy floor's step at batch 64 took 13 ms
  right after a torch step and 7 ms after a numpy one. `measure_by_library` times
  each library's group interleaved, one group after another, with a pause between.
"""
from __future__ import annotations

import gc
import statistics
import time
from dataclasses import dataclass, field


def _noop():
    pass


@dataclass
class Timing:
    """The repeats of one measurement, in seconds, with the summaries reports show."""

    samples: list = field(default_factory=list)

    @property
    def median(self):
        return statistics.median(self.samples)

    @property
    def q1(self):
        return _quantile(self.samples, 0.25)

    @property
    def q3(self):
        return _quantile(self.samples, 0.75)

    @property
    def min(self):
        return min(self.samples)

    @property
    def max(self):
        return max(self.samples)

    def summary(self, scale=1e3, unit="ms"):
        """The figures JSON and tables carry, scaled (milliseconds by default)."""
        return {
            f"median_{unit}": self.median * scale,
            f"q1_{unit}": self.q1 * scale,
            f"q3_{unit}": self.q3 * scale,
            f"min_{unit}": self.min * scale,
            f"max_{unit}": self.max * scale,
            "repeats": len(self.samples),
        }


def _quantile(samples, q):
    """Linear-interpolated quantile (numpy's default), without importing numpy."""
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def time_once(fn, sync=_noop):
    """Seconds one call of `fn` takes, the device drained before and after."""
    sync()
    start = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - start


def measure(fn, sync=_noop, repeats=10, warmup=2):
    """Time `fn` alone: `warmup` untimed calls, then `repeats` timed ones."""
    return measure_interleaved({"only": (fn, sync)}, repeats, warmup)["only"]


def measure_interleaved(contenders, repeats=10, warmup=2):
    """Time several callables side by side, round-robin, one call of each per round.

    `contenders` maps a name to `(fn, sync)`. Returns a Timing per name. Garbage is
    collected once before the timed rounds so that a collection owed by set-up work
    does not land in the first sample; collections a step itself triggers are part of
    its cost and stay in.
    """
    for fn, sync in contenders.values():
        for _ in range(warmup):
            fn()
        sync()
    gc.collect()
    timings = {name: Timing() for name in contenders}
    for _ in range(repeats):
        for name, (fn, sync) in contenders.items():
            timings[name].samples.append(time_once(fn, sync))
    return timings


SETTLE_SECONDS = 0.2  # long enough for idle BLAS/OpenMP threads to stop spinning


def measure_by_library(contenders, library, repeats=10, warmup=2):
    """`measure_interleaved` within each group of contenders that compute with the same
    library (`library[name]`, e.g. "numpy" or "torch"), the groups one after another."""
    groups = {}
    for name, pair in contenders.items():
        groups.setdefault(library[name], {})[name] = pair
    timings = {}
    for i, group in enumerate(groups.values()):
        if i:
            time.sleep(SETTLE_SECONDS)
        timings.update(measure_interleaved(group, repeats, warmup))
    return {name: timings[name] for name in contenders}
