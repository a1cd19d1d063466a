"""numpy on the CPU: the reference backend."""
from __future__ import annotations

import numpy as np
from array_api_compat import numpy as numpy_namespace

from .base import Backend


class NumpyBackend(Backend):
    name = "numpy"

    def __init__(self, seed=None):
        super().__init__(numpy_namespace, seed)

    def owns(self, array):
        return isinstance(array, (np.ndarray, np.generic))

    def _is_own_dtype(self, spec):
        return isinstance(spec, np.dtype)

    def asarray(self, data, dtype=None, device=None):
        return np.asarray(data, dtype=self.dtype(dtype))

    def device(self, array):
        return "cpu"

    def default_device(self):
        return "cpu"

    def to_device(self, array, device):
        if device not in (None, "cpu"):
            raise ValueError(f"numpy arrays live on 'cpu', not {device!r}")
        return array

    def item(self, array):
        return array.item()

    def to_numpy(self, array):
        return np.array(array, copy=True)

    def from_numpy(self, array, device=None):
        self.to_device(None, device)
        return np.array(array, copy=True)

    def convert(self, array, source, device=None):
        if source is self:
            self.to_device(None, device)
            return array
        return source.to_numpy(array)

    def scatter_add_1d(self, size, index, values):
        out = np.zeros(size, dtype=values.dtype)
        np.add.at(out, index, values)
        return out

    def normal(self, shape, dtype, device=None, mean=0.0, std=1.0):
        return self._rng.normal(mean, std, size=shape).astype(self.dtype(dtype))

    def uniform(self, shape, dtype, device=None, low=0.0, high=1.0):
        return self._rng.uniform(low, high, size=shape).astype(self.dtype(dtype))

    def integers(self, low, high, shape, device=None):
        return self._rng.integers(low, high, size=shape)

    def permutation(self, n, device=None):
        return self._rng.permutation(n)

    def bernoulli(self, p, shape, dtype, device=None):
        return (self._rng.random(size=shape) < p).astype(self.dtype(dtype))

    def sliding_windows(self, x, window_shape, axes):
        # Copying windows out of this view is ~2x faster than stacking one slice per offset.
        return np.lib.stride_tricks.sliding_window_view(x, window_shape, axis=axes)
