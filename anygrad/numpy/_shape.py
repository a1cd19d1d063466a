"""numpy's shape, joining, indexing and sorting functions over anygrad's ops."""
from __future__ import annotations

from .. import ops
from ._arrays import asarray, dtype_or_none, normalize_axis, refuse, tensors

__all__ = [
    "ravel", "reshape", "transpose", "swapaxes", "moveaxis", "squeeze", "expand_dims",
    "atleast_1d", "atleast_2d", "atleast_3d", "concatenate", "stack", "hstack", "vstack",
    "dstack", "column_stack", "row_stack", "split", "array_split", "flip", "fliplr", "flipud",
    "roll", "tile", "repeat", "broadcast_to", "broadcast_arrays", "where", "take",
    "take_along_axis", "sort", "argsort", "pad", "nonzero", "flatnonzero", "diff",
    "searchsorted", "isin", "unique", "diagonal", "concat", "permute_dims",
    "matrix_transpose", "unstack", "unique_values", "unique_counts", "unique_inverse",
    "unique_all", "astype",
]


def _order(order, where):
    if order not in ("C", "K", "A"):
        raise NotImplementedError(f"anygrad.numpy.{where}: order={order!r}; tensors are read "
                                  "in C order only (transpose first for Fortran order)")


def ravel(a, order="C"):
    _order(order, "ravel")
    return ops.reshape(asarray(a), (-1,))


def reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    _order(order, "reshape")
    shape = newshape if shape is None else shape
    return ops.reshape(asarray(a), (shape,) if isinstance(shape, int) else tuple(shape))


def transpose(a, axes=None):
    a = asarray(a)
    return ops.permute_dims(a, tuple(reversed(range(a.ndim))) if axes is None else tuple(axes))


def swapaxes(a, axis1, axis2):
    a = asarray(a)
    axes = list(range(a.ndim))
    i, j = normalize_axis(axis1, a.ndim, "swapaxes"), normalize_axis(axis2, a.ndim, "swapaxes")
    axes[i], axes[j] = axes[j], axes[i]
    return ops.permute_dims(a, tuple(axes))


def diagonal(a, offset=0, axis1=0, axis2=1):
    """The diagonal of the (axis1, axis2) planes, along a new last axis."""
    a = ops.moveaxis(asarray(a), (axis1, axis2), (-2, -1))
    return ops.diagonal(a, offset=offset)


def moveaxis(a, source, destination):
    return ops.moveaxis(asarray(a), source, destination)


def squeeze(a, axis=None):
    a = asarray(a)
    if axis is None:
        axis = tuple(i for i, n in enumerate(a.shape) if n == 1)
    return ops.squeeze(a, axis=axis)


def expand_dims(a, axis):
    a = asarray(a)
    if isinstance(axis, int):
        return ops.expand_dims(a, axis=axis)
    ndim = a.ndim + len(axis)
    positions = sorted(normalize_axis(ax, ndim, "expand_dims") for ax in axis)
    for p in positions:
        a = ops.expand_dims(a, axis=p)
    return a


def _at_least(n, make):
    def call(*arys):
        out = [a if a.ndim >= n else make(a) for a in map(asarray, arys)]
        return out[0] if len(out) == 1 else out
    call.__name__ = f"atleast_{n}d"
    return call


atleast_1d = _at_least(1, lambda a: ops.reshape(a, (1,)))
atleast_2d = _at_least(2, lambda a: ops.reshape(a, (1, -1) if a.ndim else (1, 1)))
# numpy's 3-D views: () -> (1, 1, 1), (N,) -> (1, N, 1), (M, N) -> (M, N, 1)
atleast_3d = _at_least(3, lambda a: ops.reshape(
    a, (1, 1, 1) if a.ndim == 0 else (1, a.shape[0], 1) if a.ndim == 1 else a.shape + (1,)))


def _joined(arrays, where):
    arrays = tensors(*arrays)
    if not arrays:
        raise ValueError(f"anygrad.numpy.{where}: needs at least one array")
    return arrays


def concatenate(arrays, axis=0, out=None, *, dtype=None, casting=None):
    refuse("concatenate", out=out)
    arrays = _joined(arrays, "concatenate")
    if axis is None:  # numpy joins the flattened arrays
        arrays, axis = [ops.reshape(a, (-1,)) for a in arrays], 0
    out = ops.concat(arrays, axis=axis)
    return out if dtype is None else asarray(out, dtype)


def stack(arrays, axis=0, out=None, *, dtype=None, casting=None):
    refuse("stack", out=out)
    out = ops.stack(_joined(arrays, "stack"), axis=axis)
    return out if dtype is None else asarray(out, dtype)


def hstack(tup, *, dtype=None, casting=None):
    arrays = [atleast_1d(a) for a in _joined(tup, "hstack")]
    return concatenate(arrays, axis=0 if arrays[0].ndim == 1 else 1, dtype=dtype)


def vstack(tup, *, dtype=None, casting=None):
    return concatenate([atleast_2d(a) for a in _joined(tup, "vstack")], axis=0, dtype=dtype)


row_stack = vstack


def dstack(tup):
    return concatenate([atleast_3d(a) for a in _joined(tup, "dstack")], axis=2)


def column_stack(tup):
    arrays = [ops.reshape(a, (-1, 1)) if a.ndim < 2 else a for a in _joined(tup, "column_stack")]
    return concatenate(arrays, axis=1)


def array_split(ary, indices_or_sections, axis=0):
    """Pieces of `ary` along `axis`, as slices (each carries its part of the gradient)."""
    ary = asarray(ary)
    n = ary.shape[axis]
    if isinstance(indices_or_sections, int):
        size, extra = divmod(n, indices_or_sections)
        bounds = [0]
        for i in range(indices_or_sections):
            bounds.append(bounds[-1] + size + (i < extra))
    else:
        bounds = [0, *indices_or_sections, n]
    lead = (slice(None),) * (axis % ary.ndim)
    return [ary[lead + (slice(lo, hi),)] for lo, hi in zip(bounds[:-1], bounds[1:])]


def split(ary, indices_or_sections, axis=0):
    ary = asarray(ary)
    if isinstance(indices_or_sections, int) and ary.shape[axis] % indices_or_sections:
        raise ValueError(f"anygrad.numpy.split: an axis of length {ary.shape[axis]} does not "
                         f"split into {indices_or_sections} equal parts; use array_split")
    return array_split(ary, indices_or_sections, axis)


def flip(m, axis=None):
    return ops.flip(asarray(m), axis=axis)


def fliplr(m):
    return flip(m, 1)


def flipud(m):
    return flip(m, 0)


def roll(a, shift, axis=None):
    return ops.roll(asarray(a), shift, axis=axis)


def tile(A, reps):
    return ops.tile(asarray(A), (reps,) if isinstance(reps, int) else tuple(reps))


def repeat(a, repeats, axis=None):
    return ops.repeat(asarray(a), repeats, axis=axis)


def broadcast_to(array, shape, subok=False):
    return ops.broadcast_to(asarray(array), (shape,) if isinstance(shape, int) else tuple(shape))


def broadcast_arrays(*args, subok=False):
    return list(ops.broadcast_arrays(*tensors(*args)))


def where(condition, x=None, y=None):
    """where(c, x, y) picks elementwise; where(c) alone is nonzero(c)."""
    if x is None and y is None:
        return nonzero(condition)
    if x is None or y is None:
        raise ValueError("anygrad.numpy.where: give both x and y, or neither")
    condition, x, y = tensors(condition, x, y)
    return ops.where(condition, x, y)


def take(a, indices, axis=None, out=None, mode=None):
    refuse("take", out=out)
    if mode not in (None, "raise"):
        raise NotImplementedError(f"anygrad.numpy.take: mode={mode!r} is not mapped; an "
                                  "index out of range is an error")
    a = asarray(a)
    if axis is None:  # numpy takes from the flattened array
        a, axis = ops.reshape(a, (-1,)), 0
    indices = asarray(indices, backend=a.backend.name)
    flat = ops.take(a, ops.reshape(indices, (-1,)), axis=axis)
    axis %= a.ndim
    return ops.reshape(flat, a.shape[:axis] + indices.shape + a.shape[axis + 1:])


def take_along_axis(arr, indices, axis=-1):
    arr = asarray(arr)
    if axis is None:
        arr, axis = ops.reshape(arr, (-1,)), 0
    return ops.take_along_axis(arr, asarray(indices, backend=arr.backend.name), axis=axis)


def _sorting(name, op):
    def call(a, axis=-1, kind=None, order=None, *, stable=None):
        refuse(name, order=order)
        a = asarray(a)
        if axis is None:  # numpy sorts the flattened array
            a, axis = ops.reshape(a, (-1,)), -1
        return op(a, axis=axis, stable=True)  # stable serves every `kind`
    call.__name__ = name
    return call


sort, argsort = _sorting("sort", ops.sort), _sorting("argsort", ops.argsort)


def pad(array, pad_width, mode="constant", **kwargs):
    return ops.pad(asarray(array), pad_width, mode=mode, **kwargs)


def nonzero(a):
    return tuple(ops.nonzero(asarray(a)))


def flatnonzero(a):
    return nonzero(ravel(a))[0]


def diff(a, n=1, axis=-1, prepend=None, append=None):
    return ops.diff(asarray(a), axis=axis, n=n, prepend=prepend, append=append)


def searchsorted(a, v, side="left", sorter=None):
    a = asarray(a)
    return ops.searchsorted(a, asarray(v, backend=a.backend.name), side=side, sorter=sorter)


def isin(element, test_elements, assume_unique=False, invert=False):
    element = asarray(element)
    return ops.isin(element, asarray(test_elements, backend=element.backend.name),
                    invert=invert)


def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None):
    """The sorted distinct values of the flattened array (and their counts / inverse)."""
    if return_index or axis is not None:
        raise NotImplementedError("anygrad.numpy.unique: return_index= and axis= are not "
                                  "mapped; anygrad's unique_all gives indices")
    ar = ravel(ar)
    if not (return_inverse or return_counts):
        return ops.unique_values(ar)
    found = ops.unique_all(ar)
    out = (found.values,)
    if return_inverse:
        out += (found.inverse_indices,)
    if return_counts:
        out += (found.counts,)
    return out


# numpy 2's Array API names
concat = concatenate


def permute_dims(a, /, axes):
    return transpose(a, axes)


def matrix_transpose(x, /):
    return ops.matrix_transpose(asarray(x))


def unstack(x, /, *, axis=0):
    return ops.unstack(asarray(x), axis=axis)


def astype(x, dtype, /, *, copy=True, device=None):
    refuse("astype", device=device)
    x = asarray(x)
    name = dtype_or_none(dtype)
    return ops.astype(x, name) if copy or x.dtype.name != name else x


def _unique(name):
    def call(x, /):
        return getattr(ops, name)(asarray(x))
    call.__name__ = name
    return call


unique_values, unique_counts = _unique("unique_values"), _unique("unique_counts")
unique_inverse, unique_all = _unique("unique_inverse"), _unique("unique_all")
