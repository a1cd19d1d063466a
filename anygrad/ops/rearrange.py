"""Rearrangements composed from permutes, reshapes, broadcasts, slices and joins: no
rules of their own, so their gradients (of every order) come from those ops."""
from __future__ import annotations

from numbers import Integral

from .registry import public
from .shape import broadcast_to, concat, flip, getitem, permute_dims, reshape, take


def _axis(where, axis, ndim):
    if not -ndim <= axis < max(ndim, 1):
        raise ValueError(f"{where}: axis {axis} is out of range for a {ndim}-d input")
    return axis % ndim if ndim else 0


@public
def moveaxis(x, source, destination):
    """x with the axes `source` moved to the positions `destination` (ints or tuples)."""
    source = (source,) if isinstance(source, int) else tuple(source)
    destination = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(source) != len(destination):
        raise ValueError(f"moveaxis: source {source} and destination {destination} differ "
                         "in length")
    source = tuple(_axis("moveaxis", a, x.ndim) for a in source)
    destination = tuple(_axis("moveaxis", a, x.ndim) for a in destination)
    order = [a for a in range(x.ndim) if a not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return permute_dims(x, tuple(order))


@public
def tile(x, repetitions):
    """x repeated `repetitions[i]` times along each axis (shapes padded with leading 1s).
    Interleaving a new axis before each axis and broadcasting over it: one copy."""
    repetitions = tuple(repetitions)
    ndim = max(x.ndim, len(repetitions))
    shape = (1,) * (ndim - x.ndim) + tuple(x.shape)
    repetitions = (1,) * (ndim - len(repetitions)) + repetitions
    spread = reshape(x, tuple(d for n in shape for d in (1, n)))
    spread = broadcast_to(spread, tuple(d for r, n in zip(repetitions, shape) for d in (r, n)))
    return reshape(spread, tuple(r * n for r, n in zip(repetitions, shape)))


@public
def repeat(x, repeats, axis=None):
    """Each element of x repeated `repeats` times along `axis` (None: x flattened).
    `repeats` is an int, or one count per element along the axis (a list or array)."""
    if axis is None:
        x = reshape(x, (-1,))
        axis = 0
    axis = _axis("repeat", axis, x.ndim)
    n = x.shape[axis]
    if isinstance(repeats, int):
        shape = tuple(x.shape)
        spread = reshape(x, shape[:axis + 1] + (1,) + shape[axis + 1:])
        spread = broadcast_to(spread, shape[:axis + 1] + (repeats,) + shape[axis + 1:])
        return reshape(spread, shape[:axis] + (n * repeats,) + shape[axis + 1:])
    counts = _host_ints(x, repeats)
    if len(counts) == 1:  # one count for every element, as an int is
        counts = counts * n
    if len(counts) != n:
        raise ValueError(f"repeat: {len(counts)} counts for an axis of length {n} "
                         f"(input shape {tuple(x.shape)})")
    return take(x, [i for i, c in enumerate(counts) for _ in range(c)], axis=axis)


def _host_ints(x, values):
    from ..tensor import Tensor

    if isinstance(values, Tensor):
        values = values.tolist()  # a host read, which ag.compile must hear of
    elif not isinstance(values, (list, tuple)):
        values = x.backend.to_numpy(values).tolist()  # another library's array
    return [int(v) for v in values]


@public
def roll(x, shift, axis=None):
    """x shifted by `shift` places along `axis`, elements wrapping round (None: x
    flattened, then shifted). Two slices joined the other way round per axis."""
    if axis is None:
        return reshape(roll(reshape(x, (-1,)), shift, axis=0), tuple(x.shape))
    shifts = (shift,) if isinstance(shift, int) else tuple(shift)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    if len(shifts) != len(axes):
        raise ValueError(f"roll: {len(shifts)} shifts for {len(axes)} axes")
    for s, a in zip(shifts, axes):
        a = _axis("roll", a, x.ndim)
        n = x.shape[a]
        s = s % n if n else 0
        if s:
            before = (slice(None),) * a
            # getitem, not x[...]: the slices are roll's own temporaries, not views the
            # caller holds, so x's in-place updates need not keep them current.
            x = concat([getitem(x, before + (slice(n - s, None), ...)),
                        getitem(x, before + (slice(0, n - s), ...))], axis=a)
    return x


@public
def diff(x, axis=-1, n=1, prepend=None, append=None):
    """The n-th forward difference along `axis`, after joining `prepend` and `append`."""
    axis = _axis("diff", axis, x.ndim)
    if prepend is not None or append is not None:
        parts = [p for p in (prepend, x, append) if p is not None]
        x = concat(parts, axis=axis)
    before = (slice(None),) * axis
    for _ in range(n):
        x = x[before + (slice(1, None), ...)] - x[before + (slice(None, -1), ...)]
    return x


def _broadcast_shape(shapes, where):
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for sizes in zip(*[(1,) * (ndim - len(s)) + tuple(s) for s in shapes]):
        wide = {n for n in sizes if n != 1}
        if len(wide) > 1:
            raise ValueError(f"{where}: shapes {[tuple(s) for s in shapes]} do not broadcast")
        out.append(wide.pop() if wide else 1)
    return tuple(out)


@public
def broadcast_arrays(*arrays):
    """The arrays broadcast to one shape (a list)."""
    shape = _broadcast_shape([a.shape for a in arrays], "broadcast_arrays")
    return [broadcast_to(a, shape) for a in arrays]


@public
def unstack(x, axis=0):
    """The slices of x along `axis`, as a tuple."""
    axis = _axis("unstack", axis, x.ndim)
    return tuple(x[(slice(None),) * axis + (i, ...)] for i in range(x.shape[axis]))


@public
def meshgrid(*arrays, indexing="xy"):
    """Coordinate grids from 1-d arrays ("xy": the first two axes swapped, as numpy)."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    sizes = [a.shape[0] for a in arrays]
    if indexing == "xy" and len(arrays) > 1:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    grids = []
    for k, a in enumerate(arrays):
        place = (1 - k if k < 2 else k) if indexing == "xy" and len(arrays) > 1 else k
        shape = [1] * len(arrays)
        shape[place] = a.shape[0]
        grids.append(broadcast_to(reshape(a, tuple(shape)), tuple(sizes)))
    return grids


# numpy's mode names, and PyTorch's for the same modes.
_PAD_MODES = {"constant": "constant", "edge": "edge", "replicate": "edge",
              "reflect": "reflect", "symmetric": "symmetric", "wrap": "wrap",
              "circular": "wrap"}


@public
def pad(x, pad_width, mode="constant", constant_values=0):
    """x extended along each axis, as numpy.pad. `pad_width` is numpy's: an int, one
    (before, after) pair for every axis, or a pair per axis. Modes, by numpy's names
    with PyTorch's in brackets:

    - "constant": `constant_values` around x;
    - "edge" ("replicate"): the first and last values repeated;
    - "reflect": mirrored about the first and last values, which are not repeated; a
      pad width is at most the axis length - 1 (as PyTorch; numpy reflects again);
    - "symmetric": mirrored including the edge values; a pad width is at most the axis
      length;
    - "wrap" ("circular"): the axis repeated periodically, any width (as numpy).

    Built from slices, flips, broadcasts and concatenation, so the gradient is theirs."""
    from ..creation import full

    kind = _PAD_MODES.get(mode)
    if kind is None:
        raise ValueError(f"pad: mode={mode!r} is not one of {', '.join(map(repr, _PAD_MODES))}")
    if kind != "constant" and constant_values != 0:
        raise ValueError(f"pad: constant_values applies to mode='constant', not mode={mode!r}")
    for axis, (before, after) in enumerate(_pad_pairs(pad_width, x.ndim)):
        if not before and not after:
            continue
        if kind != "constant":
            x = _extend(x, axis, before, after, kind, mode)
            continue
        parts = []
        for n in (before, None, after):
            if n is None:
                parts.append(x)
            elif n:
                shape = tuple(x.shape[:axis]) + (n,) + tuple(x.shape[axis + 1:])
                parts.append(full(shape, constant_values, dtype=x.dtype.name, backend=x.backend,
                                  device=x.device))
        x = concat(parts, axis=axis)
    return x


def _pad_pairs(pad_width, ndim):
    """numpy's pad_width as one (before, after) pair of non-negative ints per axis."""
    def pair(w):
        w = (int(w),) if isinstance(w, Integral) else tuple(int(v) for v in w)
        return (w[0], w[0]) if len(w) == 1 else w

    if isinstance(pad_width, Integral) or all(isinstance(w, Integral) for w in pad_width):
        pairs = (pair(pad_width),) * ndim  # an int, or one pair for every axis
    else:
        pairs = tuple(pair(w) for w in pad_width)
        if len(pairs) == 1:
            pairs = pairs * ndim
    if len(pairs) != ndim or any(len(w) != 2 or min(w) < 0 for w in pairs):
        raise ValueError(f"pad: pad_width {pad_width} for a {ndim}-d input; give one "
                         "(before, after) pair of non-negative ints per axis")
    return pairs


def _along(x, axis, start, stop):
    return x[(slice(None),) * axis + (slice(start, stop),)]


def _extend(x, axis, before, after, kind, mode):
    """x padded along one axis by copying its own values (every mode but constant)."""
    n = x.shape[axis]
    if n == 0:
        raise ValueError(f"pad: mode={mode!r} cannot extend axis {axis} of length 0 (input "
                         f"shape {tuple(x.shape)})")
    if kind == "wrap":  # the periodic sequence from position -before, before + n + after long
        start, total = -before % n, before + n + after
        parts = [_along(x, axis, start, None)]
        have = n - start
        while have < total:
            parts.append(x)
            have += n
        joined = concat(parts, axis=axis) if len(parts) > 1 else parts[0]
        return _along(joined, axis, 0, total)
    if kind == "edge":
        def side(width, at):
            shape = tuple(x.shape[:axis]) + (width,) + tuple(x.shape[axis + 1:])
            return broadcast_to(_along(x, axis, at, at + 1), shape)
    else:
        limit = n - 1 if kind == "reflect" else n
        widest = max(before, after)
        if widest > limit:
            raise ValueError(f"pad: mode={mode!r} pads axis {axis} of length {n} by {widest}; "
                             f"mirroring allows a pad width of at most {limit} there (input "
                             f"shape {tuple(x.shape)})")
        skip = 1 if kind == "reflect" else 0  # reflect leaves out the edge value itself

        def side(width, at):
            lo = skip if at == 0 else n - skip - width
            return flip(_along(x, axis, lo, lo + width), axis=axis)
    parts = ([side(before, 0)] if before else []) + [x] + ([side(after, n - 1)] if after else [])
    return concat(parts, axis=axis)
