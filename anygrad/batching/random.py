"""Random draws inside vmap, as its `randomness` says: "error" refuses them,
"different" gives each example its own numbers, "same" gives every example the same."""
from __future__ import annotations

from ..engine import _wrap
from .tensor import BatchedTensor, _active, active_levels


def draw(sample, shape, backend, what, requires_grad=False):
    """`sample(shape)` (a raw array of the shape asked for) for one example, drawn for
    every vmap level in progress: a batched tensor where a level wants different
    numbers per example."""
    levels = active_levels()
    different = []
    for level in levels:
        size, randomness = _active[level]
        if randomness == "error":
            raise RuntimeError(
                f"vmap: {what} draws random numbers inside ag.vmap(randomness='error'); pass "
                "randomness='different' (each example its own numbers) or 'same' (one draw "
                "shared by every example)"
            )
        if randomness == "different":
            different.append((level, size))
    t = _wrap(sample(tuple(size for _, size in different) + tuple(shape)), backend)
    if requires_grad:
        t.requires_grad_(True)
    for level, _ in different:
        t = BatchedTensor(t, level)
    return t
