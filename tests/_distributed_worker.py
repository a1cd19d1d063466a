"""The program each rank runs in tests/test_distributed.py (`mpiexec -n 2 python this.py`).

    train BACKENDS CKPT   data-parallel training against one process on the global batch,
                          broadcast, metrics, gradients missing on some ranks, checkpoints
    mismatch              ranks whose models differ must fail at broadcast_parameters
    raise                 rank 1 raises while rank 0 waits in a collective
    hang                  rank 1 stops calling collectives; the watchdog must end the job
    nccl                  backend "nccl" on cupy arrays (any number of ranks, one GPU each)

Rank 0 prints one line `RESULT <json>` for the test to read.
"""
from __future__ import annotations

import json
import sys
import time

import numpy as np

import anygrad as ag
import anygrad.distributed as dist
import anygrad.nn as nn
import anygrad.nn.functional as F
from anygrad import data, optim

SIZES = (784, 128, 10)  # the MLP of the main example on MNIST
GLOBAL_BATCH = 64
STEPS_PER_EPOCH = 10
EPOCHS = 2


def dataset():
    rng = np.random.default_rng(0)
    n = GLOBAL_BATCH * STEPS_PER_EPOCH
    return rng.normal(size=(n, SIZES[0])), rng.integers(0, SIZES[-1], size=n)


def build(backend, dtype, seed):
    ag.manual_seed(seed)
    return nn.Sequential(nn.Linear(SIZES[0], SIZES[1], backend=backend, dtype=dtype), nn.ReLU(),
                         nn.Linear(SIZES[1], SIZES[2], backend=backend, dtype=dtype))


def fit(model, loader, optimizer):
    for _ in range(EPOCHS):
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return [p.backend.to_numpy(p.array) for p in model.parameters()]


def sgd(model):
    return optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)


def data_parallel_against_one_process(backend, dtype):
    """Max |difference| between the parameters N ranks reach on shards of each global
    batch and those one process reaches on the global batch, and between ranks."""
    rank, size = dist.rank(), dist.world_size()
    x, y = dataset()
    model = build(backend, dtype, seed=100 + rank)  # different on each rank until broadcast
    dist.broadcast_parameters(model)
    loader = data.DataLoader(x, y, batch_size=GLOBAL_BATCH // size, shuffle=True, seed=7,
                             num_shards=size, shard_index=rank, backend=backend, dtype=dtype)
    ours = fit(model, loader, dist.DistributedOptimizer(sgd(model)))
    everyone = dist.communicator().allgather_object(ours)
    between_ranks = max(float(np.max(np.abs(a - b))) for other in everyone
                        for a, b in zip(everyone[0], other))
    alone = build(backend, dtype, seed=100)  # rank 0's initial weights
    loader = data.DataLoader(x, y, batch_size=GLOBAL_BATCH, shuffle=True, seed=7,
                             backend=backend, dtype=dtype)
    reference = fit(alone, loader, sgd(alone))
    scale = max(float(np.max(np.abs(r))) for r in reference)
    diff = max(float(np.max(np.abs(a - b))) for a, b in zip(ours, reference))
    start = [p.backend.to_numpy(p.array) for p in build(backend, dtype, seed=100).parameters()]
    moved = max(float(np.max(np.abs(a - b))) for a, b in zip(reference, start))
    return {"diff": diff, "between_ranks": between_ranks, "scale": scale, "moved": moved,
            "steps": EPOCHS * len(loader)}


def missing_gradients(backend):
    """A parameter with a gradient on rank 1 only is averaged with zeros from rank 0; one
    with a gradient nowhere keeps None."""
    rank = dist.rank()
    a, b, c = (ag.tensor(np.zeros(3), requires_grad=True, backend=backend) for _ in range(3))
    a.grad = ag.tensor(np.full(3, 1.0 + rank), backend=backend)
    if rank == 1:
        b.grad = ag.tensor(np.full(3, 4.0), backend=backend)
    dist.allreduce_gradients([a, b, c])
    host = a.backend.to_numpy
    return {"a": host(a.grad.array).tolist(), "b": host(b.grad.array).tolist(),
            "c_is_none": c.grad is None}


def metrics(backend):
    rank = dist.rank()
    t = ag.tensor([float(rank), 2.0 * rank], backend=backend)
    return {"mean": dist.all_reduce(float(rank)), "sum": dist.all_reduce(rank + 1, op="sum"),
            "max": dist.all_reduce(float(rank), op="max"),
            "tensor_mean": t.backend.to_numpy(dist.all_reduce(t).array).tolist()}


def checkpoint(backend, path):
    """Rank 0 writes, every rank reads the same values back."""
    model = build(backend, "float64", seed=3)
    dist.broadcast_parameters(model)
    dist.save({"model": model.state_dict()}, path)
    state = ag.load(path, backend=backend)["model"]
    return all(np.array_equal(state[k].backend.to_numpy(state[k].array), p.backend.to_numpy(p.array))
               for k, p in model.state_dict().items())


def train(backends, path):
    dist.init(timeout=120)
    result = {}
    for backend in backends:
        result[backend] = {
            "float32": data_parallel_against_one_process(backend, "float32"),
            "float64": data_parallel_against_one_process(backend, "float64"),
            "missing": missing_gradients(backend),
            "metrics": metrics(backend),
            "checkpoint": checkpoint(backend, f"{path}.{backend}.npz"),
        }
    report(result)


def mismatch():
    dist.init(timeout=60)
    rank = dist.rank()
    errors = []
    for model in (nn.Linear(4, 5 + rank), nn.Linear(4, 5, dtype="float32" if rank else "float64"),
                  nn.Sequential(*[nn.Linear(4, 4) for _ in range(1 + rank)])):
        try:
            dist.broadcast_parameters(model)
            errors.append(None)
        except ValueError as exc:
            errors.append(str(exc))
    report(errors)


def raise_on_one_rank():
    dist.init(timeout=120)  # long: it must be the exception, not the watchdog, that ends it
    if dist.rank() == 1:
        time.sleep(0.5)
        raise RuntimeError("rank 1 fails on purpose")
    print("rank 0 waits in a barrier", flush=True)
    dist.barrier()
    print("rank 0 passed the barrier: the failure did not end the job", flush=True)


def hang_on_one_rank():
    dist.init(timeout=3)
    if dist.rank() == 1:
        time.sleep(600)  # stuck, as a rank in a deadlock or an endless loop would be
    dist.all_reduce(1.0)
    print("rank 0 finished a collective without rank 1", flush=True)


def nccl():
    """All-reduce, broadcast and a data-parallel step through NCCL on cupy arrays."""
    comm = dist.init("nccl", timeout=120)
    rank, size = dist.rank(), dist.world_size()
    backend = ag.get_backend("cupy")
    summed = comm.allreduce(backend.asarray([1.0 + rank, 2.0]), backend)
    sent = comm.broadcast(backend.asarray([10.0 * (rank + 1)]), backend)
    model = build(backend, "float32", seed=100 + rank)
    dist.broadcast_parameters(model)
    x, y = dataset()
    loader = data.DataLoader(x, y, batch_size=GLOBAL_BATCH // size, shuffle=True, seed=7,
                             num_shards=size, shard_index=rank, backend=backend, dtype="float32")
    params = fit(model, loader, dist.DistributedOptimizer(sgd(model)))
    everyone = comm.allgather_object(params)
    report({"sum": backend.to_numpy(summed).tolist(), "broadcast": backend.to_numpy(sent).tolist(),
            "expected_sum": [sum(1.0 + r for r in range(size)), 2.0 * size],
            "between_ranks": max(float(np.max(np.abs(a - b))) for other in everyone
                                 for a, b in zip(everyone[0], other))})


def report(value):
    if dist.rank() == 0:
        print("RESULT " + json.dumps(value), flush=True)


if __name__ == "__main__":
    scenario = sys.argv[1]
    if scenario == "train":
        train(sys.argv[2].split(","), sys.argv[3])
    elif scenario == "mismatch":
        mismatch()
    elif scenario == "raise":
        raise_on_one_rank()
    elif scenario == "hang":
        hang_on_one_rank()
    elif scenario == "nccl":
        nccl()
    else:
        raise SystemExit(f"unknown scenario {scenario!r}")
