"""Where an anygrad step spends its time: cProfile over many steps, top functions.

    python -m anygrad.bench.profiling --workload mlp --batch 64 --steps 50
    python -m anygrad.bench.profiling --workload overhead --steps 200

The benchmark says *how far* anygrad is from the floor; this says *where*. Shares are
of the profiled total (own time, "tottime"), so BLAS kernels show up under the numpy
function that called them (e.g. `numpy.matmul`), and the engine's Python bookkeeping
under its own names. cProfile inflates Python-level costs relative to C ones, so read
the shares as a ranking rather than as exact fractions.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats

import numpy as np

from . import workloads


def profile(fn, steps):
    """Run `fn` `steps` times under cProfile; returns pstats.Stats."""
    fn()  # warm-up outside the profile
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        fn()
    profiler.disable()
    return pstats.Stats(profiler)


def top(stats, limit=20, key="tottime"):
    """[(share of total, calls per step, seconds, 'file:line(function)')], heaviest first."""
    total = stats.total_tt
    rows = []
    for (filename, line, name), (_, calls, tottime, cumtime, _) in stats.stats.items():
        seconds = tottime if key == "tottime" else cumtime
        rows.append((seconds / total, calls, seconds, f"{_short(filename)}:{line}({name})"))
    rows.sort(reverse=True)
    return rows[:limit]


def _short(filename):
    for marker in ("anygrad/", "site-packages/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def make_workload(name, backend, batch, sizes):
    if name == "mlp":
        rng = np.random.default_rng(0)
        step = workloads.MlpStep(sizes, backend)
        step.set_batch(rng.standard_normal((batch, sizes[0])).astype("float32"),
                       rng.integers(0, sizes[-1], batch))
        return step.step
    if name == "overhead":
        return workloads.TinyChain(backend, 1000).step
    raise ValueError(f"unknown workload {name!r}; choose mlp or overhead")


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m anygrad.bench.profiling")
    p.add_argument("--workload", default="mlp", choices=("mlp", "overhead"))
    p.add_argument("--backend", default="numpy")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--sizes", default="784,1024,1024,10")
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--sort", default="tottime", choices=("tottime", "cumtime"))
    p.add_argument("--limit", type=int, default=25)
    args = p.parse_args(argv)
    sizes = tuple(int(v) for v in args.sizes.split(","))
    stats = profile(make_workload(args.workload, args.backend, args.batch, sizes), args.steps)
    print(f"{args.workload} on {args.backend}, {args.steps} steps, profiled total "
          f"{stats.total_tt:.3f} s ({stats.total_tt / args.steps * 1e3:.2f} ms/step)")
    print(f"{'share':>6} {'calls/step':>10} {'ms/step':>8}  function")
    for share, calls, seconds, where in top(stats, args.limit, args.sort):
        print(f"{share:6.1%} {calls / args.steps:10.1f} {seconds / args.steps * 1e3:8.3f}  {where}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
