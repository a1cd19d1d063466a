"""Where a replayed training step spends its time, instruction by instruction.

    python -m anygrad.bench.replay_profile                       # 784-1024-1024-10, batch 64, numpy
    python -m anygrad.bench.replay_profile --backend torch --batch 256

The compiled benchmark (compiled.py) says how a replay compares with eager execution and
the hand-written floor; this says where its time goes: the clock is read between the
instructions of real replays (`Program.line_times`), and the numpy floor's whole step is
timed in alternation with them, so both see the same machine.
"""
from __future__ import annotations

import time

import numpy as np

from . import references, workloads
from .compiled import FULL, _Compiled
from .runner import _host_batch, _host_weights

def profile_step(backend="numpy", sizes=FULL["large"][0], batch=FULL["large"][1], repeats=30,
                 dtype="float32", lr=0.01):
    """Where the replayed MLP step spends its time, instruction by instruction (the
    clock read between instructions of a timed replay), next to the numpy floor's whole
    step timed in alternation with it. Returns (lines, replay total, floor median)."""
    rng = np.random.default_rng(5)
    params = _host_weights(sizes, dtype, rng)
    x, y = _host_batch(sizes, batch, dtype, rng)
    step = _Compiled(workloads.MlpStep(sizes, backend, dtype, lr))
    floor = references.NumpyMlp(sizes, dtype, lr)
    for c in (step, floor):
        c.load_weights(params)
        c.set_batch(x, y)
    for _ in range(3):
        step.step()
    program = step.step.program
    samples, floor_times = [], []
    for _ in range(repeats):  # alternate one timed replay and one floor step
        samples.append(program.line_times([], program.guards.prepare(), repeats=1))
        start = time.perf_counter()
        floor.step()
        floor_times.append(time.perf_counter() - start)
    lines = [(text, float(np.median([s[i][1] for s in samples])))
             for i, (text, _) in enumerate(samples[0])]
    return lines, sum(t for _, t in lines), float(np.median(floor_times))


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m anygrad.bench.replay_profile",
        description="Profile the replayed MLP step instruction by instruction.")
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--sizes", default="784,1024,1024,10")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    sizes = tuple(int(s) for s in args.sizes.split(","))
    lines, total, floor = profile_step(args.backend, sizes, args.batch, args.repeats)
    print(f"replayed step {'-'.join(map(str, sizes))} batch {args.batch} on {args.backend}: "
          f"{total * 1e3:.3f} ms in {len(lines)} instructions (medians of {args.repeats}); "
          f"numpy floor {floor * 1e3:.3f} ms in alternation")
    matmul = sum(t for text, t in lines if "matmul(" in text or "linear(" in text)
    update = sum(t for text, t in lines if text.endswith(".step()"))
    print(f"  matmul and linear {matmul * 1e3:.3f} ms, optimizer step {update * 1e3:.3f} ms, "
          f"everything else {(total - matmul - update) * 1e3:.3f} ms")
    for text, t in sorted(lines, key=lambda line: -line[1])[:args.top]:
        print(f"  {t * 1e3:8.3f} ms  {text}")


if __name__ == "__main__":
    main()
