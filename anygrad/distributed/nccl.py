"""NCCL for cupy arrays on GPUs, through `cupyx.distributed`.

MPI still starts the job, says which rank this is, hands NCCL its unique id, and
carries small Python values; gradients and parameters on the GPU go through NCCL, which
moves them device to device (NVLink, InfiniBand with GPUDirect) without the host. Each
rank takes the GPU numbered by its rank among the ranks on its node. Arrays of other
backends fall back to MPI. cupy is reached through its adapter in anygrad.backends,
only when this backend is asked for.
"""
from __future__ import annotations

from ..backends import BackendUnavailable, get_backend
from .communicator import DistributedUnavailable, MPICommunicator

__all__ = ["NCCLCommunicator"]


class NCCLCommunicator(MPICommunicator):
    name = "nccl"

    def __init__(self, comm=None, timeout=300.0):
        super().__init__(comm, timeout)
        try:
            self.cupy = get_backend("cupy")
        except BackendUnavailable as exc:
            raise DistributedUnavailable(
                f"anygrad.distributed backend 'nccl' needs CuPy with NCCL: {exc}; or use "
                "backend 'mpi'") from exc
        node = self.comm.Split_type(self.MPI.COMM_TYPE_SHARED)
        self.local_rank = node.Get_rank()
        node.Free()
        self.device = self.cupy.use_gpu_of_rank(self.local_rank)
        with self.watchdog.watch("NCCL start-up"):
            self.nccl = self.cupy.nccl_communicator(self.size, self.rank)

    def __repr__(self):
        return f"NCCLCommunicator(rank={self.rank}, size={self.size}, device={self.device})"

    def _nccl_array(self, array, backend):
        return array if backend.name == "cupy" and backend.gpu_buffer(array) is not None else None

    def _finish(self, what):
        # NCCL queues its work on the stream; waiting here lets the watchdog see a hang.
        with self.watchdog.watch(what):
            self.cupy.synchronize()

    def allreduce(self, array, backend, op="sum"):
        gpu = self._nccl_array(array, backend)
        if gpu is None:
            return super().allreduce(array, backend, op)
        self.nccl.all_reduce(gpu, gpu, op=op)
        self._finish(f"NCCL all-reduce ({op}) of {array.shape[0]} elements")
        return gpu

    def broadcast(self, array, backend, root=0):
        gpu = self._nccl_array(array, backend)
        if gpu is None:
            return super().broadcast(array, backend, root)
        self.nccl.broadcast(gpu, root=root)
        self._finish(f"NCCL broadcast of {array.shape[0]} elements")
        return gpu
