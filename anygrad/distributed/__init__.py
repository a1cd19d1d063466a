"""Training one model in many processes: data parallelism over MPI, and NCCL on GPUs.

    import anygrad.distributed as dist
    dist.init()                                  # backend "mpi" (default) or "nccl"
    dist.broadcast_parameters(model)             # everyone starts from rank 0's weights
    opt = dist.DistributedOptimizer(SGD(model.parameters(), lr=0.1))
    loader = DataLoader(x, y, batch_size=32, shuffle=True, seed=0,
                        num_shards=dist.world_size(), shard_index=dist.rank())
    for xb, yb in loader:                        # this rank's part of each global batch
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad(); loss.backward(); opt.step()   # gradients averaged, then the step
    dist.all_reduce(loss.item())                 # a metric averaged over ranks

launched as `mpiexec -n 4 python -m mpi4py train.py`. Each rank holds the whole model
and works on `batch_size` samples of every global batch of `batch_size * world_size()`;
the averaged gradient is the one a single process would get on the global batch, so N
ranks take the steps one process takes (to float rounding).

The communication is MPI's (mpi4py) or NCCL's (`cupyx.distributed`); anygrad adds only
the packing of gradients into a few flat buckets and the bookkeeping around them.
Checkpoints: `dist.save` writes on rank 0 and waits; every rank then `ag.load`s.

BatchNorm keeps its running statistics per rank and normalises each rank's batch by
that batch's own statistics (as PyTorch's BatchNorm does under DDP): with small
per-rank batches the result differs from one process on the global batch, and the
running statistics of rank 0 are the ones a checkpoint keeps. A synchronised BatchNorm
is not provided.

Faults: an uncaught exception on any rank aborts the whole job (MPI_Abort) within a
moment; a collective that waits longer than `timeout` seconds (default 300) aborts it
too; ranks whose models differ raise at `broadcast_parameters`, naming the tensor.
"""
from .communicator import (
    Communicator, DistributedUnavailable, MPICommunicator, cuda_aware_mpi,
)
from .data_parallel import (
    DistributedOptimizer, all_reduce, allreduce_gradients, broadcast_parameters, save,
)
from .runtime import barrier, communicator, init, is_initialized, rank, world_size

__all__ = [
    "Communicator", "DistributedOptimizer", "DistributedUnavailable", "MPICommunicator",
    "all_reduce", "allreduce_gradients", "barrier", "broadcast_parameters", "communicator",
    "cuda_aware_mpi", "init", "is_initialized", "rank", "save", "world_size",
]
