"""What an example needs to train on several processes (`--distributed`), in one place.

    mpiexec -n 2 python -m mpi4py examples/train_mlp.py --distributed

A Job is the set of ranks training one model; without --distributed it is a job of one
and every method is the single-process behaviour, so the example's loop reads the same.
"""
from __future__ import annotations

from anygrad import data


class Job:
    def __init__(self, distributed=False, backend=None):
        self.dist = None
        self.rank, self.size = 0, 1
        if distributed:
            import anygrad.distributed as dist

            dist.init("nccl" if getattr(backend, "name", None) == "cupy" else "mpi")
            self.dist, self.rank, self.size = dist, dist.rank(), dist.world_size()

    @property
    def is_main(self):
        """Rank 0 prints, plots and writes checkpoints."""
        return self.rank == 0

    def loader(self, x, y, batch_size, seed, backend):
        """This rank's part of every global batch of `batch_size` (split across ranks)."""
        if batch_size % self.size:
            raise SystemExit(f"--batch-size {batch_size} must be a multiple of the {self.size} "
                             "ranks: it is the global batch, split evenly between them")
        shards = {} if self.dist is None else {"num_shards": self.size, "shard_index": self.rank,
                                               "seed": seed}
        return data.DataLoader(x, y, batch_size=batch_size // self.size, shuffle=True,
                               backend=backend, **shards)

    def prepare(self, model, optimizer):
        """Every rank starts from rank 0's weights; steps use the averaged gradients."""
        if self.dist is None:
            return optimizer
        self.dist.broadcast_parameters(model)
        return self.dist.DistributedOptimizer(optimizer)

    def mean(self, value):
        """A number averaged over the ranks."""
        return value if self.dist is None else self.dist.all_reduce(value)

    def evaluate(self, evaluate, model, x, y):
        """`evaluate(model, x, y)` -> (accuracy, mean loss), each rank on its slice of the
        test set, combined into the figures of the whole set."""
        if self.dist is None:
            return evaluate(model, x, y)
        n = x.shape[0]
        lo, hi = self.rank * n // self.size, (self.rank + 1) * n // self.size
        accuracy, loss = evaluate(model, x[lo:hi], y[lo:hi])
        share = (hi - lo) * self.size / n
        return self.mean(accuracy * share), self.mean(loss * share)

    def save(self, obj, path):
        import anygrad as ag

        if self.dist is None:
            ag.save(obj, path)
        else:
            self.dist.save(obj, path)

    def __str__(self):
        return "" if self.dist is None else f" on {self.size} ranks"
