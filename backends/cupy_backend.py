"""cupy on CUDA GPUs.

Everything stays on the device: random numbers are drawn there, scatter-add uses CuPy's
atomic `add.at`, sliding windows are strided views laid out on the host, and nothing here
copies to the host or waits on the device except `to_numpy`, `item` and `synchronize`,
which exist to do exactly that, and the one-off check that the backend works at all.

Devices: `device=` takes a `cupy.cuda.Device`, an index, "cuda:1" / "gpu:1", or "cuda" /
"gpu" for the current device. Arrays are made, copied and drawn on the device asked for
(or the current one); with several GPUs visible, every op runs on the device its inputs
live on, and each device has its own random stream.
"""
from __future__ import annotations

import contextlib

import numpy as np

from .base import Backend, BackendUnavailable
from .gather_index import direct_index, one_pick_per_row
from .windows import window_view_geometry

_INSTALL = ("pip install cupy-cuda12x (cupy-cuda13x for CUDA 13 drivers); in a checkout of "
            "anygrad, pip install -e \".[cuda12]\" (or \".[cuda13]\")")


def cuda_device_index(spec):
    """The device index `spec` names: an int, None for the current device ("cuda",
    "gpu"), or a ValueError for anything that is not a CUDA device ("cpu")."""
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        return int(spec)
    if isinstance(spec, str):
        kind, colon, index = spec.strip().lower().partition(":")
        if kind in ("cuda", "gpu") and (not colon or index.isdigit()):
            return int(index) if colon else None
    raise ValueError(
        f"backend 'cupy' keeps arrays on CUDA devices: expected 'cuda', 'cuda:N', an index "
        f"or a cupy.cuda.Device, got {spec!r}; move to the host with .to(backend='numpy')"
    )


def drawn_float(dtype):
    """The dtype to draw `dtype` in: cuRAND draws float32 and float64 only, so others
    (float16) are drawn in float32 and cast, as the host stream does."""
    dtype = np.dtype(dtype)
    return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float32)


def _import_cupy():
    """Import cupy and prove it works once, or say plainly why not.

    A wheel without the CUDA toolkit imports fine and fails later, at the first random
    draw (cuRAND) or the first kernel compiled (NVRTC): try both here, so `auto` and
    `available_backends()` fall back instead of crashing mid-training.
    """
    try:
        import cupy
    except ImportError as exc:
        raise BackendUnavailable(
            f"backend 'cupy' needs CuPy, which is not installed: {_INSTALL}"
        ) from exc
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDARuntimeError, driver missing or too old
        raise BackendUnavailable(f"backend 'cupy' is installed but CUDA cannot start: {exc}") from exc
    if count == 0:
        raise BackendUnavailable("backend 'cupy' is installed but no CUDA device is visible")
    try:
        import array_api_compat.cupy  # noqa: F401  (the wrapper can fail to import too)

        cupy.random.RandomState(0).random_sample((2,), dtype=cupy.float32)  # cuRAND
        probe = cupy.ElementwiseKernel("T x", "T y", "y = x * 2 + 1", "anygrad_proof_of_life")
        if float(probe(cupy.arange(2, dtype=cupy.float32))[1]) != 3.0:  # NVRTC, one sync
            raise RuntimeError("a compiled test kernel returned a wrong value")
    except Exception as exc:
        raise BackendUnavailable(
            f"backend 'cupy' imports but cannot run ({type(exc).__name__}: {exc}); the CUDA "
            f"toolkit libraries (cuRAND, NVRTC) may be missing: pip install "
            f"'cupy-cuda12x[ctk]' (or cupy-cuda13x[ctk]), or {_INSTALL}"
        ) from exc
    return cupy, count


def _major_version(module):
    try:
        return int(str(module.__version__).split(".")[0])
    except ValueError:
        return 0


class CupyBackend(Backend):
    name = "cupy"
    multi_device = True
    numpy_indexing = True
    writable_views = True
    defer_checks = True  # a label check must not stall the GPU once per step

    def __init__(self, seed=None):
        self.cupy, self._device_count = _import_cupy()
        from array_api_compat import cupy as compat

        from .cupy_namespace import CupyNamespace

        self._streams = {}
        # CuPy 14's own sign returns NaN for NaN; older ones need the patch.
        namespace = CupyNamespace(
            compat, self.cupy, enter=self._on, enter_array=self._on_array_device,
            sign_keeps_nan=_major_version(self.cupy) >= 14,
        )
        super().__init__(namespace, seed)
        if self._device_count > 1:
            self.device_guard = self._on_array_device

    def owns(self, array):
        return isinstance(array, self.cupy.ndarray)

    def _is_own_dtype(self, spec):
        return isinstance(spec, np.dtype)

    # ----------------------------------------------------------- devices
    def device(self, array):
        return array.device

    def default_device(self):
        return self.cupy.cuda.Device()

    def _device(self, device):
        if device is None or isinstance(device, self.cupy.cuda.Device):
            return device
        index = cuda_device_index(device)
        if index is None:
            return self.cupy.cuda.Device()
        if not 0 <= index < self._device_count:
            raise ValueError(f"backend 'cupy': there is no device {device!r}; "
                             f"{self._device_count} CUDA device(s) visible")
        return self.cupy.cuda.Device(index)

    def _on(self, device):
        """A context in which `device` is current (None: the current one stays)."""
        device = self._device(device)
        return contextlib.nullcontext() if device is None else device

    def _on_array_device(self, arrays):
        """A context in which the device of the first cupy array in `arrays` is current."""
        if isinstance(arrays, self.cupy.ndarray):
            return arrays.device
        for a in arrays:
            if isinstance(a, self.cupy.ndarray):
                return a.device
        return contextlib.nullcontext()

    def asarray(self, data, dtype=None, device=None):
        return self.xp.asarray(data, dtype=self.dtype(dtype), device=device)

    def to_device(self, array, device):
        # asarray would hand back an array that lives on another GPU unchanged.
        with self._on(device):
            return self.cupy.array(array, copy=True)

    def synchronize(self, device=None):
        with self._on(device):
            self.cupy.cuda.get_current_stream().synchronize()

    def use_gpu_of_rank(self, local_rank):
        """Make the GPU numbered `local_rank` among this node's (modulo their count) the
        current one, for a process of a multi-GPU job; returns its index."""
        device = self.cupy.cuda.Device(local_rank % self.cupy.cuda.runtime.getDeviceCount())
        device.use()
        return device.id

    def nccl_communicator(self, size, rank):
        """cupyx.distributed's NCCL communicator for `rank` of `size`, its unique id
        handed round over MPI."""
        import cupyx.distributed

        return cupyx.distributed.NCCLBackend(size, rank, use_mpi=True)

    def memory_stats(self, device=None):
        # The pool counts per device, for the current one: enter the one asked about.
        # It keeps no peak.
        pool = self.cupy.get_default_memory_pool()
        with self._on(device):
            return {"in_use": pool.used_bytes(), "peak": None, "reserved": pool.total_bytes()}

    def item(self, array):
        return array.item()

    # ----------------------------------------------------------- transfers
    def to_numpy(self, array):
        return self.cupy.asnumpy(array)

    def from_numpy(self, array, device=None):
        # One host-to-device copy: asarray reads the numpy buffer directly.
        return self.asarray(array, device=device)

    def convert(self, array, source, device=None):
        if source is self:
            target = self._device(device)
            return array if target is None or target == array.device else self.to_device(array, target)
        name = getattr(source, "name", None)
        if name == "numpy":  # straight from the numpy buffer: no host copy first
            return self.asarray(array, device=device)
        # torch on CUDA shares memory through DLPack: no trip through the host.
        if name == "torch" and array.is_cuda:
            shared = self.cupy.from_dlpack(array.detach())
            return self.to_device(shared, device if device is not None else shared.device)
        return super().convert(array, source, device)

    # ----------------------------------------------------------- scatter (gather gradients)
    def scatter(self, spec, shape, values):
        with values.device:
            out = self.cupy.zeros(shape, dtype=values.dtype)
            if spec.basic:
                out[spec.index] = values
                return out
            index = direct_index(spec, shape, self.xp)
            if one_pick_per_row(spec, shape, values.shape):
                out[index] = values  # no element picked twice: put, not add
            else:
                # cupyx.scatter_add is deprecated (it warns on every call); this is its kernel.
                self.cupy.add.at(out, index, values)
            return out

    def host_view(self, array):
        return None

    def gpu_buffer(self, array):
        return array

    def fuse(self, function):
        # One kernel per group of elementwise operations; cupy traces `function` on its
        # first call for each combination of input dtypes and dimensions.
        return self.cupy.fuse(function)

    def scatter_add_1d(self, size, index, values):
        with values.device:
            out = self.cupy.zeros(size, dtype=values.dtype)
            self.cupy.add.at(out, index, values)
            return out

    # ----------------------------------------------------------- random numbers
    # Drawn on the device, from one cuRAND stream per device (a generator belongs to
    # the device it was made on), each seeded from the backend seed and the device index.
    def seed(self, seed=None):
        self._seed = seed
        self._streams = {}

    def rng_state(self):
        raise NotImplementedError(
            "the cupy backend cannot snapshot its cuRAND streams, so random draws cannot be "
            "replayed")

    def _stream(self):
        index = self.cupy.cuda.Device().id
        stream = self._streams.get(index)
        if stream is None:
            seed = self._seed
            if seed is not None:
                state = np.random.SeedSequence((int(seed), index)).generate_state(1, np.uint64)
                seed = int(state[0]) & 0x7FFF_FFFF_FFFF_FFFF
            stream = self._streams[index] = self.cupy.random.RandomState(seed)
        return stream

    def _float(self, dtype):
        dtype = np.dtype(self.dtype(dtype))
        return dtype, drawn_float(dtype)

    def normal(self, shape, dtype, device=None, mean=0.0, std=1.0):
        wanted, drawn = self._float(dtype)
        with self._on(device):
            out = self._stream().standard_normal(size=shape, dtype=drawn) * std + mean
            return out.astype(wanted, copy=False)

    def uniform(self, shape, dtype, device=None, low=0.0, high=1.0):
        wanted, drawn = self._float(dtype)
        with self._on(device):
            out = self._stream().random_sample(size=shape, dtype=drawn) * (high - low) + low
            return out.astype(wanted, copy=False)

    def integers(self, low, high, shape, device=None):
        # CuPy's randint redraws out-of-range samples, which waits on the host unless the
        # range is a power of two. floor(u * n) on a float64 uniform needs no wait; with at
        # least 32 random bits per uniform, its relative bias is under n / 2**32.
        low, high = int(low), int(high)
        if high <= low:
            raise ValueError(f"integers: empty range [{low}, {high})")
        with self._on(device):
            u = self._stream().random_sample(size=shape, dtype=np.float64)
            picks = self.cupy.minimum(self.cupy.floor(u * (high - low)), high - low - 1)
            return picks.astype(np.int64) + low

    def permutation(self, n, device=None):
        with self._on(device):
            # CuPy takes only a Python int as a length (a numpy integer is read as an array).
            return self._stream().permutation(int(n)).astype(np.int64, copy=False)

    def bernoulli(self, p, shape, dtype, device=None):
        with self._on(device):
            return (self._stream().random_sample(size=shape) < p).astype(self.dtype(dtype))

    # ----------------------------------------------------------- sliding windows
    def sliding_windows(self, x, window_shape, axes):
        # CuPy's sliding_window_view checks window_shape on the device (two waits per
        # call); the layout is host arithmetic on shape and strides.
        from cupy.lib.stride_tricks import as_strided

        shape, strides = window_view_geometry(x.shape, x.strides, window_shape, axes)
        return as_strided(x, shape=shape, strides=strides)
