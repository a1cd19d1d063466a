"""cupy on a CUDA GPU.

Everything stays on the device: random numbers are drawn there, scatter-add uses
cupyx's atomic kernel, and nothing here copies to the host or waits on the device
except `to_numpy`, `item` and `synchronize`, which exist to do exactly that.
"""
from __future__ import annotations

import numpy as np

from .base import Backend, BackendUnavailable


def _import_cupy():
    """Import cupy and prove a device works, or say plainly why not."""
    try:
        import cupy
    except ImportError as exc:
        raise BackendUnavailable(
            "backend 'cupy' needs CuPy, which is not installed: "
            "pip install 'anygrad[cuda12]' (or [cuda13] for CUDA 13 drivers)"
        ) from exc
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDARuntimeError, driver missing or too old
        raise BackendUnavailable(f"backend 'cupy' is installed but CUDA cannot start: {exc}") from exc
    if count == 0:
        raise BackendUnavailable("backend 'cupy' is installed but no CUDA device is visible")
    return cupy


class CupyBackend(Backend):
    name = "cupy"
    multi_device = True

    def __init__(self, seed=None):
        self.cupy = _import_cupy()
        from array_api_compat import cupy as cupy_namespace

        super().__init__(cupy_namespace, seed)

    def owns(self, array):
        return isinstance(array, self.cupy.ndarray)

    def _is_own_dtype(self, spec):
        return isinstance(spec, np.dtype)

    def device(self, array):
        return array.device

    def default_device(self):
        return self.cupy.cuda.Device()

    def _device(self, device):
        if device is None or isinstance(device, self.cupy.cuda.Device):
            return device
        if isinstance(device, str):  # "cuda", "cuda:1", "gpu:0"
            _, _, index = device.partition(":")
            return self.cupy.cuda.Device(int(index or 0))
        return self.cupy.cuda.Device(int(device))

    def asarray(self, data, dtype=None, device=None):
        device = self._device(device)
        if device is None:
            return self.cupy.asarray(data, dtype=self.dtype(dtype))
        with device:
            return self.cupy.asarray(data, dtype=self.dtype(dtype))

    def to_device(self, array, device):
        # asarray would hand back an array that lives on another GPU unchanged.
        with self._device(device):
            return self.cupy.array(array, copy=True)

    def synchronize(self, device=None):
        with self._on(device):
            self.cupy.cuda.get_current_stream().synchronize()

    def memory_stats(self, device=None):
        # cupy's memory pool counts what is in use and reserved, but keeps no peak.
        pool = self.cupy.get_default_memory_pool()
        return {"in_use": pool.used_bytes(), "peak": None, "reserved": pool.total_bytes()}

    def item(self, array):
        return array.item()

    def to_numpy(self, array):
        return self.cupy.asnumpy(array)

    def from_numpy(self, array, device=None):
        return self.asarray(array, device=device)

    def host_view(self, array):
        return None

    def gpu_buffer(self, array):
        return array

    def scatter_add_1d(self, size, index, values):
        import cupyx

        out = self.cupy.zeros(size, dtype=values.dtype)
        cupyx.scatter_add(out, index, values)
        return out

    # Random numbers are drawn on the device: no host round trip per dropout mask.
    def seed(self, seed=None):
        self._rng = self.cupy.random.RandomState(seed)

    def _on(self, device):
        return self._device(device) or self.cupy.cuda.Device()

    def normal(self, shape, dtype, device=None, mean=0.0, std=1.0):
        with self._on(device):
            return self._rng.standard_normal(size=shape, dtype=self.dtype(dtype)) * std + mean

    def uniform(self, shape, dtype, device=None, low=0.0, high=1.0):
        with self._on(device):
            return self._rng.random_sample(size=shape, dtype=self.dtype(dtype)) * (high - low) + low

    def integers(self, low, high, shape, device=None):
        with self._on(device):
            return self._rng.randint(low, high, size=shape)

    def permutation(self, n, device=None):
        with self._on(device):
            return self._rng.permutation(n)

    def bernoulli(self, p, shape, dtype, device=None):
        with self._on(device):
            return (self._rng.random_sample(size=shape) < p).astype(self.dtype(dtype))

    def sliding_windows(self, x, window_shape, axes):
        from cupy.lib.stride_tricks import sliding_window_view

        return sliding_window_view(x, window_shape, axis=axes)
