"""Where the elements of a take / take_along_axis came from, from the index alone.

The gradient of a gather adds each output element back at its source position. Those
positions follow from the index and the source shape: one small `arange` per source
axis, broadcast against the index, gives them without materialising anything the size
of the source.
"""
from __future__ import annotations

__all__ = ["direct_index", "flat_positions", "one_pick_per_row", "open_index"]


def _axis(spec, ndim):
    return spec.axis % ndim


def open_index(spec, shape, xp, device=None):
    """One integer array per source axis, broadcasting together to the gather's output
    shape: element k of the output came from source element (a[k] for a in the tuple).
    Negative indices are left as they are (they count from the end)."""
    ndim = len(shape)
    axis = _axis(spec, ndim)
    index = spec.index
    if spec.kind == "take":  # a 1-D index replaces the axis
        index = xp.reshape(index, (1,) * axis + (index.shape[0],) + (1,) * (ndim - axis - 1))
    mesh = []
    for d, n in enumerate(shape):
        if d == axis:
            mesh.append(index)
        else:
            mesh.append(xp.reshape(xp.arange(n, device=device), (1,) * d + (n,) + (1,) * (ndim - d - 1)))
    return tuple(mesh)


def direct_index(spec, shape, xp, device=None):
    """An index for `out[index] += values`-style scatters (numpy's and CuPy's `add.at`)
    that selects exactly what `spec` selected from an array of `shape`."""
    if spec.kind == "getitem":
        return spec.index
    if spec.kind == "take":
        return (slice(None),) * _axis(spec, len(shape)) + (spec.index,)
    return open_index(spec, shape, xp, device)


def flat_positions(spec, shape, xp, device=None):
    """The flat (C-order) source position of every output element of a take or
    take_along_axis, shaped like the output."""
    positions = None
    stride = 1
    mesh = open_index(spec, shape, xp, device)
    for d in reversed(range(len(shape))):
        a = mesh[d]
        if d == _axis(spec, len(shape)):
            a = xp.where(a < 0, a + shape[d], a)
        term = a * stride if stride != 1 else a
        positions = term if positions is None else positions + term
        stride *= shape[d]
    return positions


def one_pick_per_row(spec, shape, out_shape):
    """Whether a take_along_axis picks each source element at most once: one index per
    row along the axis, and no source axis of length 1 broadcast against the index.
    Such a gradient is an assignment, not an add."""
    if spec.kind != "take_along_axis":
        return False
    axis = _axis(spec, len(shape))
    return spec.index.shape[axis] == 1 and all(
        shape[d] == out_shape[d] for d in range(len(shape)) if d != axis
    )
