"""The benchmark: how fast anygrad trains, against a hand-written floor and PyTorch.

    python -m anygrad.bench                      # defaults: a few minutes on 2 CPU cores
    python -m anygrad.bench --quick --json r.json
    python -m anygrad.bench --markdown results.md --plot mlp.png --full

Workloads: an MLP training step swept over batch sizes (`mlp`), per-op overhead of a
tiny chain (`overhead`), backward through deep chains (`chain`), peak memory and its
flatness over many steps (`memory`), and one conv layer (`conv`). Every MLP contender
is checked against the hand-written numpy step before anything is timed.

Modules, one job each: `timing` (repeats, sync, summaries), `workloads` (anygrad's
side, public API only), `references` (the numpy floor, PyTorch), `memory`, `verify`,
`runner` (one function per workload), `targets` (the performance targets, as ratios), `report` (tables,
JSON, plot), `machine` (what it ran on), `cli` (`main(argv)`) and `profiling`
(`python -m anygrad.bench.profiling`: cProfile of a step, for finding where time goes).
"""
from .cli import main

__all__ = ["main"]
