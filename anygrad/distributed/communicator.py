"""Collective operations over MPI (mpi4py): the communication engine of data parallelism.

A Communicator moves whole arrays between the processes of one job. Arrays of any
backend go through MPI as follows:

- host arrays (numpy, array_api_strict, torch on the CPU) are handed to MPI as a numpy
  view of their own memory (`Backend.host_view`, DLPack): no copy on the way in or out;
- arrays MPI cannot write in place (jax, whose arrays are immutable) are copied to the
  host and back;
- GPU arrays (cupy, torch on CUDA) are handed to MPI directly when the MPI library is
  CUDA-aware (see `cuda_aware_mpi`), else copied through the host. On GPUs the `nccl`
  backend (`nccl.py`) is the faster road.

Every collective runs under a watchdog (`watchdog.py`): one that has not finished after
`timeout` seconds aborts the whole job instead of waiting forever.
"""
from __future__ import annotations

import ctypes
import os
import sys
import time

from .watchdog import Watchdog

# Seconds an abort waits for the output printed just before it to leave the process.
ABORT_GRACE = 0.5

__all__ = ["Communicator", "MPICommunicator", "DistributedUnavailable", "cuda_aware_mpi",
           "import_mpi"]

_INSTALL = ("pip install mpi4py mpich (both wheels; in a checkout of anygrad, "
            "pip install -e \".[mpi]\"); on a "
            "cluster, load the site's MPI first (e.g. `module load openmpi`) and "
            "pip install mpi4py, which then builds against it")


class DistributedUnavailable(RuntimeError):
    """Multi-process training cannot start here; the message says what to install."""


def import_mpi():
    """mpi4py's MPI module, or a DistributedUnavailable naming what to install."""
    try:
        import mpi4py
    except ImportError as exc:
        raise DistributedUnavailable(
            f"anygrad.distributed needs mpi4py, which is not installed: {_INSTALL}") from exc
    try:
        from mpi4py import MPI
    except (ImportError, RuntimeError, OSError) as exc:
        raise DistributedUnavailable(
            f"mpi4py {mpi4py.__version__} is installed but cannot load an MPI library ({exc}): "
            f"{_INSTALL}") from exc
    return MPI


def cuda_aware_mpi():
    """Whether the MPI library reads and writes GPU memory itself.

    Decided, in order, by: the environment variable ANYGRAD_CUDA_AWARE_MPI (1 or 0), for
    libraries that cannot tell; then `MPIX_Query_cuda_support()`, which MPICH (4.0 and
    later) and Open MPI (built with CUDA) export from their shared library — it answers
    for the library actually loaded, not the one that was compiled against. Otherwise
    False: GPU arrays then go through host copies (or NCCL, with backend "nccl").
    """
    forced = os.environ.get("ANYGRAD_CUDA_AWARE_MPI")
    if forced is not None:
        return forced.strip().lower() in ("1", "true", "yes")
    import_mpi()  # loads the MPI library whose symbol is asked for
    query = _mpi_symbol("MPIX_Query_cuda_support")
    return bool(query()) if query is not None else False


def _mpi_symbol(name):
    """A function exported by the MPI library this process loaded, or None."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "libmpi" in line}
    except OSError:
        paths = set()
    for path in sorted(paths):
        try:
            return getattr(ctypes.CDLL(path), name)
        except (OSError, AttributeError):
            continue
    try:
        return getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None


class Communicator:
    """The operations data parallelism needs, on arrays of any backend.

    Array collectives take the backend that owns the array and return the result, which
    is the same array when the operation could work in place. Object collectives carry
    small Python values (metadata, metrics) by pickling.
    """

    name = "?"
    rank = 0
    size = 1

    def allreduce(self, array, backend, op="sum"):
        raise NotImplementedError

    def broadcast(self, array, backend, root=0):
        raise NotImplementedError

    def allreduce_object(self, value, op="sum"):
        raise NotImplementedError

    def allgather_object(self, value):
        raise NotImplementedError

    def broadcast_object(self, value, root=0):
        raise NotImplementedError

    def barrier(self):
        raise NotImplementedError

    def abort(self, code=1):
        raise NotImplementedError


class MPICommunicator(Communicator):
    """Collectives over an mpi4py communicator (COMM_WORLD by default)."""

    name = "mpi"

    def __init__(self, comm=None, timeout=300.0):
        self.MPI = import_mpi()
        self.comm = comm if comm is not None else self.MPI.COMM_WORLD
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        self.cuda_aware = cuda_aware_mpi()
        self._ops = {"sum": self.MPI.SUM, "max": self.MPI.MAX, "min": self.MPI.MIN}
        self.watchdog = Watchdog(timeout, self._expired)

    def __repr__(self):
        return f"MPICommunicator(rank={self.rank}, size={self.size})"

    def _op(self, op):
        try:
            return self._ops[op]
        except KeyError:
            raise ValueError(f"all-reduce: unknown op {op!r}; choose one of "
                             f"{', '.join(self._ops)}") from None

    def _expired(self, what, seconds):
        print(f"anygrad.distributed: rank {self.rank}: {what} did not finish within "
              f"{seconds:g} s: another rank has failed, hangs, or stopped calling it. "
              "Aborting the job.", file=sys.stderr, flush=True)
        self.abort(1)

    # ------------------------------------------------------------ arrays
    def _in_place(self, array, backend, what, call):
        """Run `call(buffer)` on a buffer MPI may write, and return the array holding the
        result: the array itself when MPI could use its memory, else a new one."""
        view = backend.host_view(array)
        if view is None and self.cuda_aware:
            view = backend.gpu_buffer(array)
            if view is not None:
                backend.synchronize()  # MPI reads the memory now, not in stream order
        if view is not None:
            with self.watchdog.watch(what):
                call(view)
            return array
        host = backend.to_numpy(array)
        with self.watchdog.watch(what):
            call(host)
        return backend.from_numpy(host, backend.device(array))

    def allreduce(self, array, backend, op="sum"):
        if self.size == 1:
            return array
        mpi_op = self._op(op)
        return self._in_place(array, backend, f"all-reduce ({op}) of {array.shape[0]} elements",
                              lambda buf: self.comm.Allreduce(self.MPI.IN_PLACE, buf, op=mpi_op))

    def broadcast(self, array, backend, root=0):
        if self.size == 1:
            return array
        return self._in_place(array, backend, f"broadcast of {array.shape[0]} elements",
                              lambda buf: self.comm.Bcast(buf, root=root))

    # ------------------------------------------------------------ Python objects
    def _objects(self, what, call):
        # mpi4py's pickling collectives wait holding the GIL, so the watchdog thread could
        # never run. A non-blocking barrier waited on without the GIL comes first: once
        # every rank has reached it, the pickling collective cannot wait for long.
        with self.watchdog.watch(what):
            self.comm.Ibarrier().Wait()
            return call()

    def allreduce_object(self, value, op="sum"):
        mpi_op = self._op(op)
        return self._objects(f"all-reduce ({op}) of a {type(value).__name__}",
                             lambda: self.comm.allreduce(value, op=mpi_op))

    def allgather_object(self, value):
        return self._objects("all-gather", lambda: self.comm.allgather(value))

    def broadcast_object(self, value, root=0):
        return self._objects("broadcast", lambda: self.comm.bcast(value, root=root))

    def barrier(self):
        with self.watchdog.watch("barrier"):
            self.comm.Barrier()

    def abort(self, code=1):
        # mpiexec forwards each rank's output through its own processes, which an abort
        # tears down at once: a moment's pause lets the reason just printed reach the
        # user rather than die in a pipe.
        sys.stdout.flush()
        sys.stderr.flush()
        time.sleep(ABORT_GRACE)
        self.comm.Abort(code)
