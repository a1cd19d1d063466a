"""dask.array: lazy, chunked arrays, computed on a dask scheduler (threads, processes, or
a dask.distributed cluster) when a value is read.

Every op builds graph; nothing runs until `.numpy()`, `.item()` or `dask.compute`. The
standard functions dask lacks are filled in `DaskOps`, the namespace every forward and
rule sees, in forms that work chunk by chunk, so a batch chunked along axis 0 stays
chunked through a model and its gradient.
"""
from __future__ import annotations

import numpy as np

from .base import _RawOps
from .generic import ArrayAPIBackend
from .numpy_backend import NumpyBackend


def _one_hot_along(index, n, axis, xp):
    """`index == i` for every i in range(n), as a new axis after `axis` of `index` (whose
    entries along `axis` are counted from the end where negative)."""
    index = xp.where(index < 0, index + n, index)
    ndim = index.ndim
    positions = xp.reshape(xp.arange(n, dtype=index.dtype), (1,) * axis + (n,) + (1,) * (ndim - axis))
    return xp.expand_dims(index, axis=axis) == positions


class DaskOps(_RawOps):
    """dask's namespace, plus the standard functions dask does not have."""

    def take_along_axis(self, a, index, axis=-1):
        # One-hot select instead of a gather: elementwise and a reduction over `axis`,
        # so no chunk of `a` is ever indexed by values of another chunk.
        xp = self._backend.xp
        axis %= a.ndim
        picked = _one_hot_along(index, a.shape[axis], axis, xp)  # (..., n, k, ...)
        source = xp.expand_dims(a, axis=axis + 1)
        zero = xp.zeros((), dtype=a.dtype)
        return xp.sum(xp.where(picked, source, zero), axis=axis)


class DaskBackend(ArrayAPIBackend):
    """dask.array through array-api-compat's namespace, with its gaps filled in DaskOps."""

    # Reading a value computes the whole graph behind it: value checks (index ranges)
    # wait, queued, until something reads values anyway.
    defer_checks = True
    lazy = True

    def __init__(self, seed=None):
        super().__init__("dask", "dask.array", seed)
        self.ops = DaskOps(self)

    # Chunks are numpy arrays in host memory: devices as numpy has them.
    device = NumpyBackend.device
    default_device = NumpyBackend.default_device
    to_device = NumpyBackend.to_device

    def to_numpy(self, array):
        return np.array(self.library.asarray(array).compute(), copy=True)

    def scatter(self, spec, shape, values):
        if spec.kind != "take_along_axis":
            return super().scatter(spec, shape, values)
        # The gradient of DaskOps.take_along_axis, in the same chunk-wise form: each
        # picked value goes back where the one-hot mask says it came from.
        xp = self.xp
        axis = spec.axis % len(shape)
        picked = _one_hot_along(spec.index, shape[axis], axis, xp)
        spread = xp.where(picked, xp.expand_dims(values, axis=axis), xp.zeros((), dtype=values.dtype))
        return xp.sum(spread, axis=axis + 1)
