"""Sorting, searching and set functions. Only `sort` has a gradient, and it needs no
rule: it is a gather at the positions `argsort` finds. The rest are constant ops, or
return several index arrays at once and so run outside the graph altogether."""
from __future__ import annotations

from collections import namedtuple

from ..engine import Op
from .registry import op, public
from .shape import take, take_along_axis

argsort = op("argsort", lambda xp, x, axis=-1, descending=False, stable=True: xp.argsort(
    x, axis=axis, descending=descending, stable=stable), batch="axis",
             doc="The indices that sort x along `axis` (default the last); stable by default.")
_searchsorted = Op("searchsorted", lambda xp, x1, x2, side="left": xp.searchsorted(
    x1, x2, side=side), promotes=0, batch="elementwise_last")
count_nonzero = op("count_nonzero", lambda xp, x, axis=None, keepdims=False: xp.count_nonzero(
    x, axis=axis, keepdims=keepdims), batch="reduce",
                   doc="The number of nonzero elements of x along `axis` (default all).")
unique_values = op("unique_values", lambda xp, x: xp.unique_values(x),
                   doc="The distinct elements of x, as a 1-d tensor. No gradient.")


@public(differentiable=False)
def searchsorted(x1, x2, side="left", sorter=None):
    """Where each of x2 would go in the 1-d x1 to keep it sorted (`side` of equal
    elements); x1 sorted or, with `sorter` (indices that sort it, a tensor or any
    array), read in that order."""
    if sorter is not None:
        x1 = take(x1, sorter, axis=0)
    return _searchsorted(x1, x2, side=side)


@public
def sort(x, axis=-1, descending=False, stable=True):
    """x sorted along `axis`; the gradient goes back to where each element came from."""
    order = argsort(x, axis=axis, descending=descending, stable=stable)
    return take_along_axis(x, order, axis=axis)


def _constants(x, arrays, what):
    from ..engine import _wrap
    from ..modes import _recording

    recorder = _recording.get()
    if recorder is not None:  # computed outside the graph, with a shape set by values
        recorder.shape_from_values(what)
    return tuple(_wrap(a, x.backend) for a in arrays)


@public(differentiable=False)
def nonzero(x):
    """The indices of x's nonzero elements, one index tensor per axis."""
    return _constants(x, x.backend.xp.nonzero(x.array), "computes nonzero")


UniqueCounts = namedtuple("UniqueCounts", ["values", "counts"])
UniqueInverse = namedtuple("UniqueInverse", ["values", "inverse_indices"])
UniqueAll = namedtuple("UniqueAll", ["values", "indices", "inverse_indices", "counts"])


@public(differentiable=False)
def unique_counts(x):
    """(values, counts): x's distinct elements and how often each occurs. No gradient."""
    arrays = x.backend.xp.unique_counts(x.array)
    return UniqueCounts(*_constants(x, arrays, "computes unique_counts"))


@public(differentiable=False)
def unique_inverse(x):
    """(values, inverse_indices): x's distinct elements, and for each element of x the
    index of its value among them (x's shape). No gradient."""
    arrays = x.backend.xp.unique_inverse(x.array)
    return UniqueInverse(*_constants(x, arrays, "computes unique_inverse"))


@public(differentiable=False)
def unique_all(x):
    """(values, indices, inverse_indices, counts): x's distinct elements, where each first
    occurs in flattened x, the index of each element's value, and the counts. No gradient."""
    return UniqueAll(*_constants(x, x.backend.xp.unique_all(x.array), "computes unique_all"))
