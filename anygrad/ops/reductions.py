"""Reductions and their derivatives.

Every rule first gives the output gradient back the reduced axes (as keepdims would),
then broadcasts it over the input.
"""
from __future__ import annotations

from ..dtypes import accumulation_name, as_dtype, get_default_dtype, is_complex, is_floating
from ..engine import Op
from .registry import op, public
from . import elementwise as ew


def _axes(axis, ndim):
    """The reduced axes as non-negative ints (all of them for axis=None)."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(a % ndim if ndim else a for a in axis)


def _restore(ns, g, x, axis, keepdims):
    """Reshape the reduced gradient `g` to keepdims form, ready to broadcast over x."""
    if keepdims or x.ndim == 0:
        return g
    axes = _axes(axis, x.ndim)
    shape = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
    return ns.reshape(g, shape)


def _count(x, axis):
    n = 1
    for a in _axes(axis, x.ndim):
        n *= x.shape[a]
    return n


def accumulator(xp, x, dtype=None):
    """The library's dtype a sum (product, ...) of x is computed in (see
    `anygrad.dtypes.accumulation_name`), or None where that is x's own floating dtype."""
    if dtype is None and is_floating(x.dtype):
        return None
    return getattr(xp, accumulation_name(as_dtype(x.dtype).name, dtype))


def _sum_forward(xp, x, axis=None, keepdims=False, dtype=None):
    # Cast first, then sum in that dtype: one result dtype on every backend (libraries
    # differ on what they widen to, and some ignore a narrower `dtype`).
    target = accumulator(xp, x, dtype)
    if target is None:
        return xp.sum(x, axis=axis, keepdims=keepdims)
    if x.dtype != target:
        x = xp.astype(x, target)
    return xp.sum(x, axis=axis, keepdims=keepdims, dtype=target)


def _sum_vjp(ns, g, ans, x, axis=None, keepdims=False, dtype=None):
    g = ns.broadcast_to(_restore(ns, g, x, axis, keepdims), tuple(x.shape))
    return g if dtype is None or g.dtype == x.dtype else ns.astype(g, x.dtype)


sum = op("sum", _sum_forward, _sum_vjp, complex=True, batch="reduce",
         doc=("The sum of x's elements along `axis` (default all). Integers and booleans sum in "
              "a wide integer dtype (`anygrad.dtypes` decides), or in `dtype` when given."))

mean = op("mean", lambda xp, x, axis=None, keepdims=False: xp.mean(x, axis=axis, keepdims=keepdims),
          lambda ns, g, ans, x, axis=None, keepdims=False:
              ns.broadcast_to(_restore(ns, g, x, axis, keepdims) / _count(x, axis), tuple(x.shape)),
          promotes=0, floating=True, complex=True, batch="reduce",
          doc=("The mean of x's elements along `axis` (default all); integers give the default "
               "float."))


def _extremum_vjp(ns, g, ans, x, axis=None, keepdims=False):
    # The gradient is shared evenly among the elements that attain the extremum.
    hit = x == _restore(ns, ans, x, axis, keepdims)
    share = ns.astype(hit, g.dtype)
    share = share / ns.sum(share, axis=axis, keepdims=True)
    return share * _restore(ns, g, x, axis, keepdims)


def _max_forward(xp, x, axis=None, keepdims=False):
    if x.dtype == xp.bool:  # the standard has no max of booleans: it is any
        return xp.any(x, axis=axis, keepdims=keepdims)
    return xp.max(x, axis=axis, keepdims=keepdims)


def _min_forward(xp, x, axis=None, keepdims=False):
    if x.dtype == xp.bool:
        return xp.all(x, axis=axis, keepdims=keepdims)
    return xp.min(x, axis=axis, keepdims=keepdims)


max = op("max", _max_forward, _extremum_vjp, batch="reduce",
         doc=("The largest element of x along `axis` (default all). At a tie the gradient is "
              "shared."))
min = op("min", _min_forward, _extremum_vjp, batch="reduce",
         doc=("The smallest element of x along `axis` (default all). At a tie the gradient is "
              "shared."))


@public
def var(x, axis=None, correction=0, keepdims=False):
    """Variance with `correction` degrees of freedom removed (0: population, 1: sample).
    Complex x has a real variance, the mean of |x - mean|^2, as in numpy."""
    if not x.dtype.is_floating:  # as mean: integers are taken as the default float
        x = x.astype(get_default_dtype().name)
    centred = x - mean(x, axis=axis, keepdims=True)
    if is_complex(x.dtype):
        centred = ew.abs(centred)
    n = _count(x, axis)
    return sum(centred * centred, axis=axis, keepdims=keepdims) / (n - correction)


# The square root inside std and vector_norm: where the variance (or the sum of squares)
# is 0 its derivative is taken as 0, not inf, as PyTorch does; the 1 swapped in there
# keeps every order finite. One op per caller, so that errors name the function called.
def _sqrt_flat_at_zero(name):
    return Op(name, lambda xp, v: xp.sqrt(v),
              lambda ns, g, ans, v: ew._mask(ns, ans != 0, g) / (ns.where(ans == 0, 1.0, ans) * 2),
              batch="elementwise")


_std_sqrt = _sqrt_flat_at_zero("std")
_norm_sqrt = _sqrt_flat_at_zero("vector_norm")


@public
def std(x, axis=None, correction=0, keepdims=False):
    """Standard deviation: the square root of `var` (same arguments). Its gradient is
    taken as 0 where the deviation is 0, as PyTorch does."""
    return _std_sqrt(var(x, axis=axis, correction=correction, keepdims=keepdims))


def safe_max(xp, x, axis):
    """The max over `axis` (keepdims) to shift exponentials by: 0 where it is not finite
    and where the axis is empty (a max of nothing is undefined)."""
    shape = x.shape
    # One axis (softmax's) is read directly: this runs once per small op.
    if type(axis) is int and -len(shape) <= axis < len(shape):
        empty = shape[axis] == 0
    else:
        empty = any(shape[a] == 0 for a in _axes(axis, x.ndim))
    if empty:
        return xp.sum(x, axis=axis, keepdims=True)  # zeros of the right shape and device
    m = xp.max(x, axis=axis, keepdims=True)
    return xp.where(xp.isfinite(m), m, 0.0)


def _logsumexp_forward(xp, x, axis=None, keepdims=False):
    # Shift by the max so exp never overflows; an all -inf slice stays -inf, not nan, and
    # an empty one gives log(0) = -inf.
    m = safe_max(xp, x, axis)
    out = xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True)) + m
    if not keepdims:
        out = xp.reshape(out, tuple(n for i, n in enumerate(out.shape) if i not in _axes(axis, x.ndim)))
    return out


logsumexp = op("logsumexp", _logsumexp_forward,
               lambda ns, g, ans, x, axis=None, keepdims=False:
                   _restore(ns, g, x, axis, keepdims) * ns.exp(x - _restore(ns, ans, x, axis, keepdims)),
               promotes=0, floating=True, batch="reduce",
               doc="log(sum(exp(x))) along `axis` (default all), without overflow.")


@public
def vector_norm(x, axis=None, keepdims=False, ord=2):
    """The `ord`-norm of x over `axis` (None: all of x). The 2-norm's gradient at 0 is
    taken as 0, as PyTorch does; ord=0 (a count) has none."""
    if not x.dtype.is_floating:
        x = x.astype(get_default_dtype().name)
    if is_complex(x.dtype):  # the norm of the moduli
        x = ew.abs(x)
    if ord == 2:
        return _norm_sqrt(sum(x * x, axis=axis, keepdims=keepdims))
    if ord == 1:
        return sum(ew.abs(x), axis=axis, keepdims=keepdims)
    if ord == float("inf"):
        return max(ew.abs(x), axis=axis, keepdims=keepdims)
    if ord == -float("inf"):
        return min(ew.abs(x), axis=axis, keepdims=keepdims)
    if ord == 0:
        return sum(x != 0, axis=axis, keepdims=keepdims).astype(x.dtype.name)
    return sum(ew.abs(x) ** ord, axis=axis, keepdims=keepdims) ** (1.0 / ord)


def _cumulative_sum_forward(xp, x, axis, include_initial=False):
    if is_floating(x.dtype):
        return xp.cumulative_sum(x, axis=axis, include_initial=include_initial)
    # In x's own dtype (`cumulative_sum` casts first): some libraries widen integers.
    return xp.cumulative_sum(x, axis=axis, dtype=x.dtype, include_initial=include_initial)


def _cumulative_sum_vjp(ns, g, ans, x, axis, include_initial=False):
    # Each x_i reaches every output from its own place on (one place later with the
    # initial zero in front): the gradient is the sum of g from there, a reversed
    # cumulative sum.
    if include_initial:
        g = g[(slice(None),) * axis + (slice(1, None), Ellipsis)]
    return ns.flip(ns.cumulative_sum(ns.flip(g, axis=axis), axis=axis), axis=axis)


_cumulative_sum = Op("cumulative_sum", _cumulative_sum_forward, _cumulative_sum_vjp,
                     complex=True, batch="axis")


@public
def cumulative_sum(x, axis=None, dtype=None, include_initial=False):
    """Running sums along `axis` (optional for a 1-d x); with `include_initial`, a zero
    first, so the result is one longer along the axis."""
    axis = scan_axis("cumulative_sum", x, axis)
    x = accumulating(x, dtype)
    return _cumulative_sum(x, axis=axis, include_initial=include_initial)


def accumulating(x, dtype=None):
    """x cast to the dtype its sums and products are computed in (differentiably, for
    floats): `dtype`, or by default integers widened (`anygrad.dtypes.accumulation_name`)."""
    name = accumulation_name(x.dtype.name, dtype)
    return x if name == x.dtype.name else x.astype(name)


def scan_axis(where, x, axis):
    """The axis of a cumulative function as a non-negative int (None only for 1-d x)."""
    if axis is None:
        if x.ndim != 1:
            raise ValueError(f"{where}: axis is required for a {x.ndim}-d input of "
                             f"shape {tuple(x.shape)}")
        return 0
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"{where}: axis {axis} is out of range for shape {tuple(x.shape)}")
    return axis % x.ndim
