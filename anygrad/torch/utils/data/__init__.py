"""`torch.utils.data`: Dataset, TensorDataset, Subset, random_split and DataLoader.

A loader over a `TensorDataset` with the default collation hands the work to
`anygrad.data.DataLoader` (the tensors stay on their device; a batch is one gather).
Other datasets are indexed sample by sample and collated as PyTorch's default_collate
does. `num_workers`, `pin_memory` and `persistent_workers` are accepted and change
nothing: batches are made in this process, in the same order.
"""
from __future__ import annotations

import math
import numbers

from .... import data as _data
from .... import ops as _ops
from ....creation import tensor as _tensor
from ....tensor import Tensor

__all__ = ["DataLoader", "Dataset", "Subset", "TensorDataset", "default_collate",
           "random_split"]


class Dataset:
    """Map-style dataset: subclasses define `__getitem__` and `__len__`."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Samples are the rows of tensors that share their first axis' length."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor")
        lengths = {t.shape[0] for t in tensors}
        if len(lengths) != 1:
            raise ValueError("TensorDataset: tensors differ in length along dim 0: "
                             + ", ".join(str(t.shape) for t in tensors))
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class Subset(Dataset):
    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = list(indices)

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset):
    def __init__(self, datasets):
        self.datasets = list(datasets)
        self.ends = []
        total = 0
        for d in self.datasets:
            total += len(d)
            self.ends.append(total)

    def __len__(self):
        return self.ends[-1] if self.ends else 0

    def __getitem__(self, index):
        if index < 0:
            index += len(self)
        for k, end in enumerate(self.ends):
            if index < end:
                return self.datasets[k][index - (self.ends[k - 1] if k else 0)]
        raise IndexError(f"ConcatDataset: index {index} out of range for length {len(self)}")


def random_split(dataset, lengths, generator=None):
    """Disjoint random Subsets of the given lengths (or fractions summing to 1)."""
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = [int(math.floor(n * f)) for f in lengths]
        for k in range(n - sum(counts)):  # the remainder, round-robin, as PyTorch does
            counts[k % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n:
        raise ValueError(f"random_split: lengths {list(lengths)} add up to {sum(lengths)}, "
                         f"but the dataset has {n} samples")
    from ... import randperm

    order = randperm(n, device="cpu").tolist()
    out, start = [], 0
    for length in lengths:
        out.append(Subset(dataset, order[start:start + length]))
        start += length
    return out


def default_collate(batch):
    """A batch from a list of samples: tensors and arrays stacked along a new first
    axis, numbers made a tensor (int64, float64, as PyTorch), tuples, lists and dicts
    collated field by field."""
    first = batch[0]
    if isinstance(first, Tensor):
        return _ops.stack(list(batch), axis=0)
    if isinstance(first, (bool, numbers.Integral)) and not hasattr(first, "shape"):
        return _tensor(list(batch), dtype="bool" if isinstance(first, bool) else "int64")
    if isinstance(first, numbers.Real) and not hasattr(first, "shape"):
        return _tensor(list(batch), dtype="float64")
    if hasattr(first, "shape") and hasattr(first, "dtype"):  # any library's array
        return _ops.stack([_tensor(a) for a in batch], axis=0)
    if isinstance(first, str):
        return list(batch)
    if isinstance(first, dict):
        return {key: default_collate([sample[key] for sample in batch]) for key in first}
    if isinstance(first, (tuple, list)):
        lengths = {len(sample) for sample in batch}
        if len(lengths) != 1:
            raise RuntimeError("default_collate: samples in a batch have different lengths "
                               f"{sorted(lengths)}")
        return [default_collate(list(field)) for field in zip(*batch)]
    raise TypeError(f"default_collate: cannot batch samples of type {type(first).__name__}; "
                    "pass collate_fn=")


class DataLoader:
    """PyTorch's DataLoader: batches of `batch_size` samples, shuffled each epoch when
    asked (from anygrad's seeded stream: `torch.manual_seed` makes it reproducible)."""

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False,
                 timeout=0, worker_init_fn=None, generator=None, prefetch_factor=None,
                 persistent_workers=False, pin_memory_device=""):
        if sampler is not None or batch_sampler is not None:
            raise NotImplementedError("DataLoader: sampler= and batch_sampler= are not "
                                      "supported; use shuffle= or make a Subset")
        if batch_size is None:
            raise NotImplementedError("DataLoader(batch_size=None) (unbatched loading) is not "
                                      "supported")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.num_workers = num_workers
        self.collate_fn = collate_fn
        self._fast = None
        if isinstance(dataset, TensorDataset) and collate_fn is None:
            first = dataset.tensors[0]
            self._fast = _data.DataLoader(*dataset.tensors, batch_size=batch_size,
                                          shuffle=shuffle, drop_last=drop_last,
                                          backend=first.backend, device=first.device)

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self):
        if self._fast is not None:
            for batch in self._fast:
                yield list(batch)
            return
        n = len(self.dataset)
        if self.shuffle:
            from ... import randperm

            order = randperm(n, device="cpu").tolist()
        else:
            order = range(n)
        collate = self.collate_fn or default_collate
        for start in range(0, n, self.batch_size):
            indices = order[start:start + self.batch_size]
            if len(indices) < self.batch_size and self.drop_last:
                break
            yield collate([self.dataset[i] for i in indices])
