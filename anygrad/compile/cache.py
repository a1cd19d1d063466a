"""The signature of a call, and the bounded cache of recordings keyed by it.

A signature holds what decides which ops a call runs: for each tensor argument its
shape, dtype, backend, device, requires_grad and whether it has gradient hooks (and
which arguments are the same tensor); for each array argument its shape, dtype, backend
and device; every other argument by value (the static arguments); the grad mode; and the
default backend. Calls with equal signatures replay one recording.
"""
from __future__ import annotations

from collections import OrderedDict

from ..coercion import is_array, python_scalar
from ..creation import as_tensor
from ..modes import _grad_enabled
from ..tensor import Tensor

__all__ = ["SignatureCache", "signature"]


def signature(args, kwargs):
    """(the call's tensors in order, a hashable key, args, kwargs). Arrays among the
    arguments are inputs, as tensors are: the function receives each as a constant
    tensor wrapping it (no copy), and the arguments returned are those given to it."""
    tensors = []
    key = [_grad_enabled.get()]
    first = {}
    args = _describe(args, tensors, key, first)
    if kwargs:
        kwargs = _describe(kwargs, tensors, key, first)
    return tensors, tuple(key), args, kwargs


def _describe(obj, tensors, key, first):
    """Add `obj`'s part of the key; returns `obj`, or a copy with arrays made tensors."""
    if isinstance(obj, Tensor):
        data = obj.array
        same = first.setdefault(id(obj), len(tensors))
        key.append((tuple(data.shape), data.dtype, obj.backend.name, _device(obj),
                    obj.requires_grad, same, bool(getattr(obj, "_hooks", None))))
        tensors.append(obj)
        return obj
    if type(obj) in (tuple, list) or (isinstance(obj, tuple) and hasattr(obj, "_fields")):
        key.append((type(obj), len(obj)))
        items = [_describe(item, tensors, key, first) for item in obj]
        if all(a is b for a, b in zip(items, obj)):
            return obj
        return type(obj)(items) if type(obj) in (tuple, list) else type(obj)(*items)
    if type(obj) is dict:
        key.append((dict, tuple(obj)))
        items = {k: _describe(item, tensors, key, first) for k, item in obj.items()}
        return obj if all(items[k] is v for k, v in obj.items()) else items
    if is_array(obj) and python_scalar(obj) is obj:
        wrapped = first.get(("array", id(obj)))
        if wrapped is None:
            wrapped = first[("array", id(obj))] = as_tensor(obj)
        same = first.setdefault(id(wrapped), len(tensors))
        data = wrapped.array
        key.append(("array", tuple(data.shape), data.dtype, wrapped.backend.name,
                    _device(wrapped), same))
        tensors.append(wrapped)
        return wrapped
    try:
        hash(obj)
    except TypeError:
        raise TypeError(
            f"ag.compile: a static argument of type {type(obj).__name__} is not hashable; "
            "pass tensors, arrays, numbers, strings, tuples, lists or dicts of them"
        ) from None
    key.append((type(obj), obj))
    return obj


def _device(t):
    return "cpu" if t.backend.name == "numpy" else str(t.backend.device(t.array))


class SignatureCache:
    """At most `size` signatures, least recently used dropped first; each keeps the few
    recordings made under different guard outcomes (module modes, outside tensors)."""

    PER_SIGNATURE = 4

    def __init__(self, size):
        if size < 1:
            raise ValueError(f"ag.compile: cache_size must be at least 1, got {size}")
        self.size = size
        self.entries = OrderedDict()
        self.counts = {}  # signature -> how many times it was recorded
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
            dropped, _ = self.entries.popitem(last=False)
            self.counts.pop(dropped, None)
            self.evicted += 1

    def recorded(self, key):
        self.counts[key] = self.counts.get(key, 0) + 1

    def count(self, key):
        return self.counts.get(key, 0)

    def __len__(self):
        return len(self.entries)
