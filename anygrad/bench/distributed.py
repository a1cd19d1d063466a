"""`python -m anygrad.bench.distributed`: the cost of data parallelism, 1, 2, ... ranks.

For each rank count it launches `mpiexec -n N python -m anygrad.bench.distributed
--worker ...`, which trains an MLP with a fixed batch per rank (weak scaling: the global
batch grows with N) and times each step in three parts, the ranks meeting at a barrier
before each so that no part counts another rank's lateness: compute (forward and
backward), all-reduce of the gradients (`allreduce_gradients`: packing into buckets,
MPI, unpacking), and the optimizer's update. A step is the sum of the three, each taken
on its slowest rank. It prints one table:

- all-reduce ms: median time per step spent averaging gradients, and the rate at which
  the gradient bytes moved (bytes / time); MPI alone ms: MPI's all-reduce of a buffer of
  the same size, reused from step to step (what packing and averaging add to);
- samples/s: global batch / median step time;
- efficiency: samples/s of N ranks / (N x samples/s of one rank); 100 % is perfect.

On a machine with fewer cores than ranks x BLAS threads, ranks compete for cores and
the efficiency measures that contention, not the method: such a machine shows
correctness and communication cost only.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

MODELS = {"mlp-small": (784, 128, 10), "mlp-large": (784, 1024, 1024, 10)}


# ---------------------------------------------------------------- one rank's part
def _worker(args):
    import numpy as np

    import anygrad as ag
    import anygrad.distributed as dist
    import anygrad.nn as nn
    import anygrad.nn.functional as F
    from anygrad import optim

    dist.init()
    rank, size = dist.rank(), dist.world_size()
    backend = ag.get_backend(args.backend)
    sizes = MODELS[args.model]
    ag.manual_seed(0)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b, dtype="float32", backend=backend))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    dist.broadcast_parameters(model)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(rank)
    x = ag.tensor(rng.normal(size=(args.batch, sizes[0])).astype("float32"), backend=backend)
    y = ag.tensor(rng.integers(0, sizes[-1], size=args.batch), backend=backend)
    grad_bytes = 4 * sum(p.size for p in model.parameters())
    times = {"compute": [], "allreduce": [], "update": [], "mpi": []}
    def timed(fn):
        dist.barrier()  # all ranks start together: waiting for a slow rank is not counted
        start = time.perf_counter()
        fn()
        backend.synchronize()
        return time.perf_counter() - start

    def compute():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()

    # MPI alone on a buffer of the gradients' size, kept from step to step: the floor
    # that packing, unpacking and averaging in allreduce_gradients add to.
    comm, host = dist.communicator(), ag.get_backend("numpy")
    floor = host.from_numpy(np.zeros(grad_bytes // 4, dtype="float32"))

    for step in range(args.warmup + args.steps):
        parts = {"compute": timed(compute),
                 "allreduce": timed(lambda: dist.allreduce_gradients(model)),
                 "update": timed(opt.step), "mpi": timed(lambda: comm.allreduce(floor, host))}
        if step >= args.warmup:
            for key, value in parts.items():
                times[key].append(value)
    # A step lasts as long as its slowest rank: take each step's maximum over ranks.
    every = dist.communicator().allgather_object(times)
    if rank == 0:
        slowest = {k: [max(r[k][i] for r in every) for i in range(args.steps)] for k in times}
        slowest["step"] = [a + b + c for a, b, c in
                           zip(slowest["compute"], slowest["allreduce"], slowest["update"])]
        print("RESULT " + json.dumps({
            "ranks": size, "model": args.model, "batch": args.batch, "grad_bytes": grad_bytes,
            **{k: statistics.median(v) for k, v in slowest.items()}}), flush=True)


# ---------------------------------------------------------------- the driver
def _run(ranks, args):
    mpiexec = Path(sys.executable).with_name("mpiexec")
    mpiexec = str(mpiexec) if mpiexec.exists() else shutil.which("mpiexec")
    if mpiexec is None:
        raise SystemExit("no mpiexec found: pip install mpi4py mpich "
                         "(in a checkout of anygrad: pip install -e \".[mpi]\")")
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(args.threads),
               OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    cmd = [mpiexec, "-n", str(ranks), sys.executable, "-m", "anygrad.bench.distributed",
           "--worker", "--model", args.model, "--batch", str(args.batch), "--steps",
           str(args.steps), "--warmup", str(args.warmup), "--backend", args.backend]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")


def table(rows):
    head = ("| model | ranks | batch/rank | grad MiB | compute ms | all-reduce ms | "
            "MPI alone ms | all-reduce MB/s | update ms | step ms | samples/s | efficiency |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    base = {}
    for r in rows:
        rate = r["ranks"] * r["batch"] / r["step"]
        base.setdefault(r["model"], rate)
        eff = rate / (r["ranks"] * base[r["model"]])
        bw = f"{r['grad_bytes'] / r['allreduce'] / 1e6:.0f}" if r["ranks"] > 1 else "-"
        lines.append(
            f"| {r['model']} | {r['ranks']} | {r['batch']} | {r['grad_bytes'] / 2**20:.2f} | "
            f"{1e3 * r['compute']:.2f} | {1e3 * r['allreduce']:.3f} | {1e3 * r['mpi']:.3f} | "
            f"{bw} | "
            f"{1e3 * r['update']:.2f} | {1e3 * r['step']:.2f} | {rate:.0f} | {eff:.0%} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ranks", default="1,2", help="rank counts to run, e.g. 1,2,4")
    p.add_argument("--models", default="mlp-small,mlp-large", help=", ".join(MODELS))
    p.add_argument("--batch", type=int, default=64, help="samples per rank per step")
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--threads", type=int, default=1, help="BLAS threads per rank")
    p.add_argument("--backend", default="numpy")
    p.add_argument("--model", default="mlp-small", help=argparse.SUPPRESS)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return _worker(args)
    rows = []
    for model in args.models.split(","):
        args.model = model
        for ranks in (int(v) for v in args.ranks.split(",")):
            rows.append(_run(ranks, args))
    print(f"weak scaling, {args.backend}, float32, {args.batch} samples per rank, "
          f"{args.threads} BLAS thread(s) per rank, {os.cpu_count()} cores, "
          f"medians of {args.steps} steps, each part timed on its slowest rank")
    print(table(rows))
    return rows


if __name__ == "__main__":
    main()
