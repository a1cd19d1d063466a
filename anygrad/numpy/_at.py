"""JAX's functional index updates, `x.at[key].set(v)` and kin: a new tensor, x unchanged.

Each is a copy of x with `copy[key] = ...` (anygrad's index assignment), so the
gradient reaches x's other elements and v. An integer-array key that names an element
twice is refused by that assignment (JAX would accumulate `add`s there)."""
from __future__ import annotations

from .. import ops


class At:
    """`x.at`: indexing it gives the updates of the elements `x[key]`."""

    __slots__ = ("_tensor",)

    def __init__(self, tensor):
        self._tensor = tensor

    def __getitem__(self, key):
        return _Update(self._tensor, key)


class _Update:
    __slots__ = ("_tensor", "_key")

    def __init__(self, tensor, key):
        self._tensor, self._key = tensor, key

    def get(self):
        return self._tensor[self._key]

    def _with(self, value):
        out = ops.astype(self._tensor, self._tensor.dtype.name)  # a copy in the graph
        out[self._key] = value
        return out

    def set(self, value):
        return self._with(value)

    def add(self, value):
        return self._with(self.get() + value)

    def subtract(self, value):
        return self._with(self.get() - value)

    def multiply(self, value):
        return self._with(self.get() * value)

    def divide(self, value):
        return self._with(self.get() / value)

    def power(self, value):
        return self._with(self.get() ** value)

    def min(self, value):
        return self._with(ops.minimum(self.get(), value))

    def max(self, value):
        return self._with(ops.maximum(self.get(), value))
