"""numpy's reductions and scans: axis=None means every axis (scans and arg-reductions
flatten first), `ddof` is the subtracted degrees of freedom, `out=`/`where=` refused."""
from __future__ import annotations

from .. import creation, ops
from ._arrays import asarray, dtype_or_none, refuse

__all__ = [
    "sum", "mean", "prod", "max", "amax", "min", "amin", "std", "var", "argmax", "argmin",
    "cumsum", "cumprod", "all", "any", "count_nonzero", "average", "median", "ptp", "trace",
    "cumulative_sum", "cumulative_prod", "nansum", "nanmean", "nanmax", "nanmin",
]


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _check(where, out, where_mask, initial=None):
    refuse(where, out=out, where=None if where_mask is True else where_mask, initial=initial)


def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True):
    _check("sum", out, where, initial)
    return ops.sum(asarray(a), axis=_axis(axis), keepdims=keepdims, dtype=dtype_or_none(dtype))


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True):
    _check("prod", out, where, initial)
    return ops.prod(asarray(a), axis=_axis(axis), keepdims=keepdims, dtype=dtype_or_none(dtype))


def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    _check("mean", out, where)
    a = asarray(a, dtype)
    if not a.dtype.is_floating:  # numpy averages integers in float64
        a = asarray(a, "float64")
    return ops.mean(a, axis=_axis(axis), keepdims=keepdims)


def _extreme(name, op):
    def call(a, axis=None, out=None, keepdims=False, initial=None, where=True):
        _check(name, out, where, initial)
        return op(asarray(a), axis=_axis(axis), keepdims=keepdims)
    call.__name__ = name
    return call


max = amax = _extreme("max", ops.max)
min = amin = _extreme("min", ops.min)


def _spread(name, op):
    def call(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True,
             mean=None, correction=None):
        _check(name, out, where)
        refuse(name, mean=mean)
        a = asarray(a, dtype)
        if not a.dtype.is_floating:
            a = asarray(a, "float64")
        return op(a, axis=_axis(axis), correction=ddof if correction is None else correction,
                  keepdims=keepdims)
    call.__name__ = name
    return call


std, var = _spread("std", ops.std), _spread("var", ops.var)


def _arg(name, op):
    def call(a, axis=None, out=None, *, keepdims=False):
        refuse(name, out=out)
        return op(asarray(a), axis=axis, keepdims=keepdims)
    call.__name__ = name
    return call


argmax, argmin = _arg("argmax", ops.argmax), _arg("argmin", ops.argmin)


def _scan(name, op):
    def call(a, axis=None, dtype=None, out=None):
        refuse(name, out=out)
        a = asarray(a)
        if axis is None:  # numpy scans the flattened array
            a, axis = ops.reshape(a, (-1,)), 0
        return op(a, axis=axis, dtype=dtype_or_none(dtype))
    call.__name__ = name
    return call


cumsum = _scan("cumsum", ops.cumulative_sum)
cumprod = _scan("cumprod", ops.cumulative_prod)


def all(a, axis=None, out=None, keepdims=False, *, where=True):
    _check("all", out, where)
    return ops.all(asarray(a), axis=_axis(axis), keepdims=keepdims)


def any(a, axis=None, out=None, keepdims=False, *, where=True):
    _check("any", out, where)
    return ops.any(asarray(a), axis=_axis(axis), keepdims=keepdims)


def count_nonzero(a, axis=None, *, keepdims=False):
    return ops.count_nonzero(asarray(a), axis=_axis(axis), keepdims=keepdims)


def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """The mean, or the `weights`-weighted mean (1-D weights lie along `axis`); with
    `returned`, also the sum of the weights (the count when there are none)."""
    a = asarray(a)
    if not a.dtype.is_floating:
        a = asarray(a, "float64")
    if weights is None:
        w = creation.ones_like(a)
    else:
        w = asarray(weights, backend=a.backend.name)
        if w.shape != a.shape:
            if not isinstance(axis, int) or w.ndim != 1:
                raise ValueError(f"anygrad.numpy.average: weights of shape {w.shape} need "
                                 f"one axis to lie along (a has shape {a.shape})")
            w = ops.reshape(w, tuple(-1 if i == axis % a.ndim else 1 for i in range(a.ndim)))
            w = ops.broadcast_to(w, a.shape)
    total = ops.sum(w, axis=_axis(axis), keepdims=keepdims)
    out = ops.sum(a * w, axis=_axis(axis), keepdims=keepdims) / total
    return (out, total) if returned else out


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """The middle value (the mean of the two middle ones for an even count), through sort."""
    refuse("median", out=out)
    a = asarray(a)
    if axis is None:
        flat = median(ops.reshape(a, (-1,)), 0)
        return ops.reshape(flat, (1,) * a.ndim) if keepdims else flat
    s = ops.sort(a, axis=axis)
    n = a.shape[axis]
    middle = ops.take(s, asarray([(n - 1) // 2, n // 2], backend=a.backend.name), axis=axis)
    return ops.mean(middle, axis=axis, keepdims=keepdims)


def ptp(a, axis=None, out=None, keepdims=False):
    return max(a, axis, out, keepdims) - min(a, axis, out, keepdims)


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    refuse("trace", out=out)
    a = ops.moveaxis(asarray(a), (axis1, axis2), (-2, -1))
    return ops.trace(a, offset=offset, dtype=dtype_or_none(dtype))


def _cumulative(name, op):
    """numpy 2's cumulative_sum / cumulative_prod: the standard's signature."""
    def call(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
        refuse(name, out=out)
        return op(asarray(x), axis=axis, dtype=dtype_or_none(dtype),
                  include_initial=include_initial)
    call.__name__ = name
    return call


cumulative_sum = _cumulative("cumulative_sum", ops.cumulative_sum)
cumulative_prod = _cumulative("cumulative_prod", ops.cumulative_prod)


def _ignoring_nan(name, fill, reduce):
    """A reduction over the elements that are not NaN (`fill` stands in for them)."""
    def call(a, axis=None, dtype=None, out=None, keepdims=False):
        refuse(name, out=out)
        a = asarray(a, dtype)
        nan = ops.isnan(a)
        return reduce(ops.where(nan, fill, a), nan, _axis(axis), keepdims)
    call.__name__ = name
    return call


nansum = _ignoring_nan("nansum", 0.0,
                       lambda a, nan, axis, keepdims: sum(a, axis, keepdims=keepdims))
nanmean = _ignoring_nan("nanmean", 0.0, lambda a, nan, axis, keepdims: (
    sum(a, axis, keepdims=keepdims) / sum(ops.logical_not(nan), axis, keepdims=keepdims)))
nanmax = _ignoring_nan("nanmax", -float("inf"),
                       lambda a, nan, axis, keepdims: max(a, axis, keepdims=keepdims))
nanmin = _ignoring_nan("nanmin", float("inf"),
                       lambda a, nan, axis, keepdims: min(a, axis, keepdims=keepdims))
