"""Mini-batches from arrays, kept on the training device."""
from __future__ import annotations

import math

from ..backends import get_backend
from ..creation import _to_array
from ..engine import _wrap
from ..ops import take


class DataLoader:
    """Iterate over aligned arrays in mini-batches of Tensors.

    The arrays (host numpy, any backend's arrays, or Tensors) are moved to `backend`
    and `device` once, when the loader is made: no batch crosses from host to device
    inside the training loop. Shuffling draws a permutation from the backend's seeded
    stream each epoch (`ag.manual_seed` makes it reproducible).
    """

    def __init__(self, *arrays, batch_size=32, shuffle=False, drop_last=False, backend=None,
                 device=None, dtype=None):
        if not arrays:
            raise ValueError("DataLoader: give at least one array")
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be positive, got {batch_size}")
        self.backend = get_backend(backend)
        self.device = device
        self.tensors = []
        for a in arrays:
            data, target = _to_array(a, None, self.backend, device)
            if dtype is not None and target.xp.isdtype(data.dtype, "real floating"):
                data = target.xp.astype(data, target.dtype(dtype))
            self.tensors.append(_wrap(data, target))
        lengths = {t.shape[0] for t in self.tensors}
        if len(lengths) != 1:
            shapes = ", ".join(str(t.shape) for t in self.tensors)
            raise ValueError(f"DataLoader: arrays differ in length along axis 0: {shapes}")
        self.n = lengths.pop()
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last

    def __len__(self):
        if self.drop_last:
            return self.n // self.batch_size
        return math.ceil(self.n / self.batch_size)

    def __iter__(self):
        order = self.backend.permutation(self.n, self.device) if self.shuffle else None
        for k in range(len(self)):
            start = k * self.batch_size
            stop = min(start + self.batch_size, self.n)
            if order is None:
                yield tuple(t[start:stop, ...] for t in self.tensors)
            else:
                index = order[start:stop]
                yield tuple(take(t, index, axis=0) for t in self.tensors)

    def __repr__(self):
        return (f"DataLoader(n={self.n}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"backend={self.backend.name!r})")
