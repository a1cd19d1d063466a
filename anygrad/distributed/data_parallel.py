"""Data parallelism: the same model on every rank, each on its shard of every batch.

Rank 0's parameters and buffers are broadcast once, so every rank starts alike; after
each backward the gradients are averaged across ranks (summed in flat buckets, divided
by the number of ranks), so every rank takes the same step, the step one process would
take on the whole global batch: the mean over B samples is the mean of the ranks'
means over equal shards of B / N.
"""
from __future__ import annotations

from ..engine import _wrap
from ..modes import enable_grad
from ..nn.module import Module
from ..tensor import Tensor
from .buckets import DEFAULT_BUCKET_BYTES, ExchangeBuffers, plan_buckets
from .runtime import communicator

__all__ = ["broadcast_parameters", "allreduce_gradients", "DistributedOptimizer",
           "all_reduce", "save"]


def broadcast_parameters(model, root=0):
    """Make every rank's parameters and buffers equal to rank `root`'s.

    `model` is a Module (parameters and buffers), a state dict (name -> Tensor) or an
    iterable of Tensors. Ranks whose tensors differ in number, shape or dtype get a
    ValueError naming the first one that differs, on every rank, before any data moves.
    """
    comm = communicator()
    named = _named_tensors(model)
    layout = [(name, tuple(t.shape), str(t.dtype)) for name, t in named]
    layouts = comm.allgather_object(layout)
    _check_same_layout(layouts, root)
    if comm.size == 1 and comm.name == "mpi":
        return
    tensors = [t for _, t in named]
    arrays = [t.array for t in tensors]
    for bucket in plan_buckets(arrays, [t.backend for t in tensors]):
        flat = bucket.pack([arrays[i] for i in bucket.positions])
        flat = comm.broadcast(flat, bucket.backend, root)
        for i, array in zip(bucket.positions, bucket.unpack(flat)):
            tensors[i].array = array


_exchange = ExchangeBuffers()


def allreduce_gradients(model, average=True, bucket_bytes=DEFAULT_BUCKET_BYTES):
    """Sum (average=True: average) every parameter's gradient across ranks, in place of
    `.grad`. `model` is a Module or an iterable of parameters, the same on every rank.

    A parameter without a gradient on some ranks counts as zeros there; one without a
    gradient on every rank keeps None (so the optimizer skips it, as it would alone).
    """
    comm = communicator()
    params = [p for p in _parameters(model) if p.requires_grad]
    if not params or comm.size == 1 and comm.name == "mpi":
        return
    grads = [p.grad.array if p.grad is not None else
             p.backend.xp.zeros(p.shape, dtype=p.array.dtype, device=p.device) for p in params]
    buckets = plan_buckets(grads, [p.backend for p in params], bucket_bytes)
    # Which parameters have a gradient on some rank travels at the end of the first
    # bucket (one flag each, summed): no extra message, which on a busy network or an
    # oversubscribed machine costs as much as the gradients of a small model.
    first = buckets[0]
    like = grads[first.positions[0]]
    flags = first.backend.xp.asarray([float(p.grad is not None) for p in params],
                                     dtype=like.dtype, device=first.backend.device(like))
    averaged = [None] * len(params)
    present = None
    for k, bucket in enumerate(buckets):
        tail = flags if bucket is first else None
        like = grads[bucket.positions[0]]
        length = sum(bucket.sizes) + (len(params) if tail is not None else 0)
        kept = _exchange.get((id(comm), k, bucket.backend.name, str(bucket.backend.device(like)),
                              str(like.dtype)), bucket.backend, like, length)
        flat = bucket.pack([grads[i] for i in bucket.positions], tail, into=kept)
        flat = comm.allreduce(flat, bucket.backend)
        if bucket is first:
            present = first.backend.to_numpy(flat[flat.shape[0] - len(params):]).tolist()
        # A new array either way (the kept buffer is overwritten next step): the
        # gradients never alias it.
        flat = flat / comm.size if average else bucket.backend.xp.asarray(flat, copy=True)
        for i, g in zip(bucket.positions, bucket.unpack(flat)):
            averaged[i] = g
    for p, g, flag in zip(params, averaged, present):
        if flag:
            p.grad = _wrap(g, p.backend)


class DistributedOptimizer:
    """Wraps an optimizer: `step()` averages the gradients of its parameters across
    ranks, then takes the wrapped optimizer's step. Everything else (zero_grad,
    param_groups, state_dict, learning-rate schedulers) is the wrapped optimizer's."""

    def __init__(self, optimizer, bucket_bytes=DEFAULT_BUCKET_BYTES):
        self.optimizer = optimizer
        self.bucket_bytes = bucket_bytes

    def __repr__(self):
        return f"DistributedOptimizer({self.optimizer!r})"

    def __getattr__(self, name):
        return getattr(self.__dict__["optimizer"], name)

    @property
    def param_groups(self):
        return self.optimizer.param_groups

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        params = [p for group in self.optimizer.param_groups for p in group["params"]]
        allreduce_gradients(params, bucket_bytes=self.bucket_bytes)
        self.optimizer.step()
        return loss

    def zero_grad(self, set_to_none=True):
        self.optimizer.zero_grad(set_to_none)

    def state_dict(self):
        return self.optimizer.state_dict()

    def load_state_dict(self, state_dict):
        self.optimizer.load_state_dict(state_dict)


def all_reduce(value, op="mean"):
    """A metric combined across ranks: op "mean", "sum", "max" or "min" of a Python
    number (returns a float or int) or a Tensor (returns a Tensor of the same shape)."""
    comm = communicator()
    if op not in ("mean", "sum", "max", "min"):
        raise ValueError(f"all_reduce: unknown op {op!r}; choose mean, sum, max or min")
    reduce_op = "sum" if op == "mean" else op
    if isinstance(value, Tensor):
        backend = value.backend
        flat = backend.xp.reshape(backend.xp.asarray(value.array, copy=True), (-1,))
        flat = comm.allreduce(flat, backend, reduce_op)
        if op == "mean":
            flat = flat / comm.size
        return _wrap(backend.xp.reshape(flat, value.shape), backend)
    if not isinstance(value, (int, float)):
        raise TypeError(f"all_reduce: expected a Python number or a Tensor, got "
                        f"{type(value).__name__}")
    total = comm.allreduce_object(value, reduce_op)
    return total / comm.size if op == "mean" else total


def save(obj, path, root=0):
    """`ag.save` on rank `root` only, then wait for it on every rank, so that all ranks
    may `ag.load(path)` next (from a file system they share)."""
    from ..serialization import save as save_file

    comm = communicator()
    if comm.rank == root:
        save_file(obj, path)
    comm.barrier()


# ---------------------------------------------------------------- helpers
def _named_tensors(model):
    if isinstance(model, Module):
        return [*model.named_parameters(), *model.named_buffers()]
    if isinstance(model, dict):
        items = list(model.items())
    elif isinstance(model, Tensor):
        items = [("tensor 0", model)]
    else:
        items = [(f"tensor {i}", t) for i, t in enumerate(model)]
    for name, t in items:
        if not isinstance(t, Tensor):
            raise TypeError(f"broadcast_parameters: {name} is a {type(t).__name__}, not a Tensor")
    return items


def _parameters(model):
    if isinstance(model, Module):
        return list(model.parameters())
    if isinstance(model, Tensor):
        return [model]
    return list(model)


def _check_same_layout(layouts, root):
    want = layouts[root]
    for r, have in enumerate(layouts):
        if have == want:
            continue
        for (name, shape, dtype), (w_name, w_shape, w_dtype) in zip(have, want):
            if (name, shape, dtype) != (w_name, w_shape, w_dtype):
                raise ValueError(
                    f"broadcast_parameters: the models differ between ranks: rank {r}'s "
                    f"{name!r} has shape {shape} and dtype {dtype}, rank {root}'s "
                    f"{w_name!r} has shape {w_shape} and dtype {w_dtype}")
        extra = have[len(want):] or want[len(have):]
        owner = r if len(have) > len(want) else root
        raise ValueError(
            f"broadcast_parameters: the models differ between ranks: rank {r} has "
            f"{len(have)} parameters and buffers, rank {root} has {len(want)}; rank "
            f"{owner} alone has {extra[0][0]!r} (shape {extra[0][1]}, dtype {extra[0][2]})")
