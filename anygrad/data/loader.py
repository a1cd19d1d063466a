"""Mini-batches from arrays, kept on the training device, optionally sharded across ranks."""
from __future__ import annotations

import numpy as np  # host side: the seeded epoch permutation every rank draws alike

from ..backends import get_backend
from ..creation import _to_array
from ..engine import _wrap
from ..ops import take


class DataLoader:
    """Iterate over aligned arrays in mini-batches of Tensors.

    The arrays (host numpy, any backend's arrays, or Tensors) are moved to `backend`
    and `device` once, when the loader is made: no batch crosses from host to device
    inside the training loop. Shuffling draws a permutation from the backend's seeded
    stream each epoch (`ag.manual_seed` makes it reproducible); with `seed`, epoch e
    uses a permutation drawn from (seed, e) alone, the same on every backend and process
    whatever else draws random numbers.

    Sharding, for data-parallel training: with `num_shards` N and `shard_index` r, each
    global batch of `batch_size * N` consecutive samples of the epoch's order is split
    into N equal parts and this loader yields part r. The shards are disjoint, together
    they are the whole epoch, and every shard has the same number of batches (so every
    rank takes the same number of steps). A short last global batch is split as evenly
    as possible (sizes differ by at most one), or dropped with `drop_last` or when it has
    fewer samples than shards. Sharded shuffling needs `seed`, the same on every rank.
    """

    def __init__(self, *arrays, batch_size=32, shuffle=False, drop_last=False, backend=None,
                 device=None, dtype=None, seed=None, num_shards=1, shard_index=0):
        if not arrays:
            raise ValueError("DataLoader: give at least one array")
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be positive, got {batch_size}")
        if num_shards < 1 or not 0 <= shard_index < num_shards:
            raise ValueError(f"DataLoader: shard_index must be in [0, num_shards), got "
                             f"shard_index={shard_index}, num_shards={num_shards}")
        if num_shards > 1 and shuffle and seed is None:
            raise ValueError("DataLoader: a sharded, shuffled loader needs seed= (the same on "
                             "every rank), so that all ranks split the same permutation")
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
        self.seed = seed
        self.num_shards = num_shards
        self.shard_index = shard_index
        self.epoch = 0  # which seeded permutation the next epoch uses; set it to resume

    def __len__(self):
        return len(self._spans())

    def _spans(self):
        """(start, stop) of this shard's batches in the epoch's order."""
        shards, step = self.num_shards, self.batch_size * self.num_shards
        spans = []
        for start in range(0, self.n, step):
            size = min(step, self.n - start)
            if size < step and self.drop_last:
                break
            part, extra = divmod(size, shards)
            if part == 0:  # fewer samples than shards: some rank would get none
                break
            lo = start + self.shard_index * part + min(self.shard_index, extra)
            spans.append((lo, lo + part + (self.shard_index < extra)))
        return spans

    def _order(self):
        if not self.shuffle:
            return None
        if self.seed is None:
            return self.backend.permutation(self.n, self.device)
        order = np.random.default_rng([self.seed, self.epoch]).permutation(self.n)
        return self.backend.from_numpy(order, self.device)

    def __iter__(self):
        order = self._order()
        self.epoch += 1
        for start, stop in self._spans():
            if order is None:
                yield tuple(t[start:stop, ...] for t in self.tensors)
            else:
                index = order[start:stop]
                yield tuple(take(t, index, axis=0) for t in self.tensors)

    def __repr__(self):
        shard = f", shard {self.shard_index} of {self.num_shards}" if self.num_shards > 1 else ""
        return (f"DataLoader(n={self.n}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"backend={self.backend.name!r}{shard})")
