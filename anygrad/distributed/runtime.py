"""The job this process belongs to: starting it, its rank and size, and its communicator."""
from __future__ import annotations

import os

from .communicator import Communicator, MPICommunicator
from .watchdog import abort_on_uncaught_exception

__all__ = ["init", "is_initialized", "communicator", "rank", "world_size", "barrier",
           "DEFAULT_TIMEOUT"]

DEFAULT_TIMEOUT = 300.0  # seconds a collective may wait for the slowest rank
BACKENDS = ("mpi", "nccl")

_current: Communicator | None = None


def init(backend="mpi", timeout=None, abort_on_exception=True):
    """Join the job that `mpiexec` started and return its Communicator.

    backend: "mpi" (any array; host buffers, or GPU memory where the MPI library is
    CUDA-aware) or "nccl" (cupy arrays through NCCL; MPI still starts the job and carries
    small Python values). timeout: seconds after which a collective that has not finished
    aborts the job (default 300, or the ANYGRAD_DISTRIBUTED_TIMEOUT variable; 0 waits
    forever). abort_on_exception: an uncaught exception on any rank aborts every rank,
    as `python -m mpi4py` does, instead of leaving the others waiting.

    Calling it again returns the same communicator. Run alone (no mpiexec), a process is
    a job of one rank.
    """
    global _current
    if backend not in BACKENDS:
        raise ValueError(f"anygrad.distributed.init: unknown backend {backend!r}; choose one "
                         f"of {', '.join(BACKENDS)}")
    if _current is not None:
        if _current.name != backend:
            raise RuntimeError(f"anygrad.distributed.init: already started with backend "
                               f"{_current.name!r}, cannot switch to {backend!r}")
        return _current
    if timeout is None:
        timeout = float(os.environ.get("ANYGRAD_DISTRIBUTED_TIMEOUT", DEFAULT_TIMEOUT))
    if backend == "nccl":
        from .nccl import NCCLCommunicator

        comm = NCCLCommunicator(timeout=timeout)
    else:
        comm = MPICommunicator(timeout=timeout)
    if abort_on_exception and comm.size > 1:
        abort_on_uncaught_exception(lambda: comm.abort(1))
    _current = comm
    return comm


def is_initialized():
    return _current is not None


def communicator() -> Communicator:
    """The communicator `init` started; an error saying to call `init` if none."""
    if _current is None:
        raise RuntimeError("anygrad.distributed: call anygrad.distributed.init() first "
                           "(and launch with `mpiexec -n N python -m mpi4py script.py`)")
    return _current


def rank():
    """This process's number in the job, 0 to world_size() - 1."""
    return communicator().rank


def world_size():
    """How many processes the job has."""
    return communicator().size


def barrier():
    """Wait until every rank has reached this point."""
    communicator().barrier()
