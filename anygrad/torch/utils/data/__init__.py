"""`torch.utils.data`: datasets (map-style and iterable), samplers, random_split and
DataLoader.

A loader over a `TensorDataset` with the default collation and no sampler hands the
work to `anygrad.data.DataLoader` (the tensors stay on their device; a batch is one
gather). Other datasets are indexed sample by sample, in the order of the sampler, and
collated as PyTorch's default_collate does. `num_workers`, `pin_memory` and
`persistent_workers` are accepted and change nothing: batches are made in this
process, in the same order (so `get_worker_info()` is None).
"""
from __future__ import annotations

import math
import numbers

from .... import data as _data
from .... import ops as _ops
from ....creation import tensor as _tensor
from ....tensor import Tensor
from .sampler import (
    BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset",
           "IterableDataset", "RandomSampler", "Sampler", "SequentialSampler", "Subset",
           "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler", "default_collate",
           "default_convert", "get_worker_info", "random_split"]


class Dataset:
    """Map-style dataset: subclasses define `__getitem__` and `__len__`."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: subclasses define `__iter__` (and `__len__` if they know
    it). A DataLoader batches it in the order it yields."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __add__(self, other):
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """Iterable datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)

    def __iter__(self):
        for d in self.datasets:
            yield from d

    def __len__(self):
        return sum(len(d) for d in self.datasets)


def get_worker_info():
    """None: batches are made in the calling process, never in workers."""
    return None


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


def default_convert(sample):
    """An unbatched sample as a DataLoader with batch_size=None gives it: arrays made
    tensors, containers converted field by field, everything else as it is."""
    if isinstance(sample, Tensor) or isinstance(sample, (str, bytes)):
        return sample
    if hasattr(sample, "shape") and hasattr(sample, "dtype"):
        return _tensor(sample)
    if isinstance(sample, dict):
        return {key: default_convert(value) for key, value in sample.items()}
    if isinstance(sample, (tuple, list)):
        return type(sample)(default_convert(value) for value in sample)
    return sample


class DataLoader:
    """PyTorch's DataLoader: batches of `batch_size` samples in the order of `sampler`
    (or a sequential or, with `shuffle`, a random one), or the index lists of
    `batch_sampler`; an `IterableDataset` is batched in the order it yields. Random
    orders come from anygrad's seeded stream: `torch.manual_seed` makes them repeatable.
    `batch_size=None` gives samples one by one, unbatched."""

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False,
                 timeout=0, worker_init_fn=None, generator=None, prefetch_factor=None,
                 persistent_workers=False, pin_memory_device="", in_order=True):
        self.dataset = dataset
        self.num_workers = num_workers
        self._iterable = isinstance(dataset, IterableDataset)
        own_order = sampler is None and batch_sampler is None
        if self._iterable and (shuffle or sampler is not None or batch_sampler is not None):
            raise ValueError("DataLoader: an IterableDataset yields its own order; shuffle=, "
                             "sampler= and batch_sampler= apply to map-style datasets only")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler= and shuffle=True are mutually exclusive "
                             "(the sampler decides the order)")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler= is mutually exclusive with "
                                 "batch_size, shuffle, sampler and drop_last")
            batch_size, drop_last = None, False
        elif not self._iterable:
            if sampler is None:
                sampler = RandomSampler(dataset) if shuffle else SequentialSampler(dataset)
            if batch_size is not None:
                batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.shuffle = bool(shuffle)
        self.collate_fn = collate_fn or (default_convert if batch_size is None and
                                         batch_sampler is None else default_collate)
        self._fast = None
        if (isinstance(dataset, TensorDataset) and collate_fn is None and own_order
                and batch_size is not None):
            first = dataset.tensors[0]
            self._fast = _data.DataLoader(*dataset.tensors, batch_size=batch_size,
                                          shuffle=bool(shuffle), drop_last=drop_last,
                                          backend=first.backend, device=first.device)

    def __len__(self):
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        if self._iterable and self.batch_size is not None:
            n = len(self.dataset)
            return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
        return len(self.sampler) if self.sampler is not None else len(self.dataset)

    def __iter__(self):
        if self._fast is not None:
            for batch in self._fast:
                yield list(batch)
        elif self._iterable:
            yield from self._iterate_stream()
        elif self.batch_sampler is not None:
            for indices in self.batch_sampler:
                yield self.collate_fn([self.dataset[i] for i in indices])
        else:
            for index in self.sampler:
                yield self.collate_fn(self.dataset[index])

    def _iterate_stream(self):
        if self.batch_size is None:
            for sample in self.dataset:
                yield self.collate_fn(sample)
            return
        batch = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)
