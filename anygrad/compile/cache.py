"""The signature of a call, and the bounded cache of recordings keyed by it.

A signature holds what decides which ops a call runs: for each tensor argument its
shape, dtype, backend, device and requires_grad (and which arguments are the same
tensor); every other argument by value (the static arguments); the grad mode; and the
default backend. Calls with equal signatures replay one recording.
"""
from __future__ import annotations

from collections import OrderedDict

from ..modes import _grad_enabled
from ..tensor import Tensor

__all__ = ["SignatureCache", "signature"]


def signature(args, kwargs):
    """(the call's tensors in order, a hashable key)."""
    tensors = []
    key = [_grad_enabled.get()]
    _describe(args, tensors, key, {})
    if kwargs:
        _describe(kwargs, tensors, key, {})
    return tensors, tuple(key)


def _describe(obj, tensors, key, first):
    if isinstance(obj, Tensor):
        data = obj.data
        same = first.setdefault(id(obj), len(tensors))
        key.append((tuple(data.shape), data.dtype, obj.backend.name, _device(obj),
                    obj.requires_grad, same))
        tensors.append(obj)
    elif type(obj) in (tuple, list) or (isinstance(obj, tuple) and hasattr(obj, "_fields")):
        key.append((type(obj), len(obj)))
        for item in obj:
            _describe(item, tensors, key, first)
    elif type(obj) is dict:
        key.append((dict, tuple(obj)))
        for item in obj.values():
            _describe(item, tensors, key, first)
    else:
        try:
            hash(obj)
        except TypeError:
            raise TypeError(
                f"ag.compile: a static argument of type {type(obj).__name__} is not hashable; "
                "pass tensors, numbers, strings, tuples, lists or dicts of them"
            ) from None
        key.append((type(obj), obj))


def _device(t):
    return "cpu" if t.backend.name == "numpy" else str(t.backend.device(t.data))


class SignatureCache:
    """At most `size` signatures, least recently used dropped first; each keeps the few
    recordings made under different guard outcomes (module modes, outside tensors)."""

    PER_SIGNATURE = 4

    def __init__(self, size):
        if size < 1:
            raise ValueError(f"ag.compile: cache_size must be at least 1, got {size}")
        self.size = size
        self.entries = OrderedDict()
        self.evicted = 0

    def get(self, key):
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
        return entry

    def add(self, key, program):
        entry = self.entries.setdefault(key, [])
        self.entries.move_to_end(key)
        entry.insert(0, program)
        del entry[self.PER_SIGNATURE:]
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)
            self.evicted += 1

    def __len__(self):
        return len(self.entries)
