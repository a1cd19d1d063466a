"""numpy on the CPU: the reference backend."""
from __future__ import annotations

import numpy as np
from array_api_compat import numpy as numpy_namespace

from .base import Backend


class NumpyBackend(Backend):
    name = "numpy"
    numpy_indexing = True
    writable_views = True

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

    def host_view(self, array):
        return array if array.flags.writeable and array.flags.c_contiguous else None

    # Elements per block: a 1 MiB float32 temporary (not a parameter-sized one), reused
    # from block to block while it stays in a core's L2 (1 MiB on the development
    # machine's EPYC: a 1024x1024 update took 0.33 ms so, 0.41 ms with 256 KiB blocks,
    # whose Python calls per block cost more than the cache saves).
    _BLOCK = 262144

    def sub_scaled(self, target, value, scale):
        # `target -= scale * value` would allocate `scale * value` whole: for a 1024x1024
        # layer that temporary is most of an MLP step's peak memory above the floor.
        if not (target.flags.c_contiguous and value.flags.c_contiguous and target.flags.writeable):
            return super().sub_scaled(target, value, scale)
        flat_target, flat_value = target.reshape(-1), value.reshape(-1)
        for start in range(0, flat_target.shape[0], self._BLOCK):
            stop = start + self._BLOCK
            flat_target[start:stop] -= scale * flat_value[start:stop]
        return target

    def scatter(self, spec, shape, values):
        # An index with one entry along the axis cannot repeat: put, not add. This is the
        # backward of cross-entropy's pick of each row's target class. (Not when x was
        # broadcast against the index: then rows of the index share x's elements.)
        if spec.kind == "take_along_axis" and spec.index.shape[spec.axis] == 1 and \
                _same_except(spec.index.shape, shape, spec.axis):
            out = np.zeros(shape, dtype=values.dtype)
            np.put_along_axis(out, spec.index, values, axis=spec.axis)
            return out
        return super().scatter(spec, shape, values)

    def scatter_add_1d(self, size, index, values):
        out = np.zeros(size, dtype=values.dtype)
        np.add.at(out, index, values)
        return out

    def add_at(self, out, index, values):
        view = out[index]  # a view: the sum lands in `out`, with no temporary
        np.add(view, values, out=view)
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


def _same_except(a, b, axis):
    """Whether shapes a and b agree on every axis but `axis`."""
    axis = axis % len(b)
    return len(a) == len(b) and all(m == n for i, (m, n) in enumerate(zip(a, b)) if i != axis)
