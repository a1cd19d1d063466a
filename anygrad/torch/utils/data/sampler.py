"""`torch.utils.data.sampler`: the orders in which a DataLoader visits a dataset.

Random orders come from anygrad's seeded stream on the host (`torch.manual_seed` makes
them repeatable; they are other orders than PyTorch's generator draws). `generator=` is
accepted and not used.
"""
from __future__ import annotations

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler",
           "SubsetRandomSampler", "WeightedRandomSampler"]


def _torch():
    from .... import torch

    return torch


def _permutation(n):
    return _torch().randperm(n, device="cpu").tolist()


class Sampler:
    """Subclasses define `__iter__` over dataset indices (and `__len__`)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A fresh permutation each epoch; with `replacement`, `num_samples` uniform draws.
    Without replacement, more samples than the dataset holds are whole permutations one
    after another, as in PyTorch."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement must be a bool, got {replacement!r}")
        if num_samples is not None and (not isinstance(num_samples, int) or num_samples <= 0):
            raise ValueError(f"RandomSampler: num_samples must be a positive int, got "
                             f"{num_samples!r}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        # Drawn a chunk at a time: trainers ask for num_samples=10**10 and stop early.
        n, left = len(self.data_source), self.num_samples
        while left > 0:
            if self.replacement:
                chunk = _torch().randint(0, n, (min(left, 32),), device="cpu").tolist()
            else:
                chunk = _permutation(n)[:left]
            yield from chunk
            left -= len(chunk)

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a fresh random order each epoch."""

    def __init__(self, indices, generator=None):
        self.indices = list(indices)

    def __iter__(self):
        return iter([self.indices[i] for i in _permutation(len(self.indices))])

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """`num_samples` indices drawn with probability proportional to `weights`."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not replacement:
            raise NotImplementedError("WeightedRandomSampler(replacement=False) is not "
                                      "supported: torch.multinomial here draws with "
                                      "replacement only")
        self.weights = [float(w) for w in weights]
        self.num_samples = num_samples
        self.replacement = replacement

    def __iter__(self):
        torch = _torch()
        weights = torch.tensor(self.weights, dtype=torch.float64, device="cpu")
        return iter(torch.multinomial(weights, self.num_samples, True).tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Lists of `batch_size` indices from `sampler`; the last shorter one is kept unless
    `drop_last`."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"BatchSampler: batch_size must be a positive int, got "
                             f"{batch_size!r}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"BatchSampler: drop_last must be a bool, got {drop_last!r}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
