"""prod: the product over axes, composed from differentiable multiplies.

Composing the Array API's `prod` keeps the gradient exact
where elements are zero (the `prod / x` shortcut divides by zero there), and gives
gradients of every order for free. Pairwise halving needs log2(n) multiplies.
"""
from __future__ import annotations

import math

from ..creation import ones_like
from .registry import public
from .shape import concat, permute_dims, reshape
from .reductions import accumulating, scan_axis, sum

__all__ = ["prod"]


@public
def prod(x, axis=None, keepdims=False, dtype=None):
    """The product of x's elements over `axis` (an int, a tuple, or None for all), in
    `dtype` (by default integers widen: `anygrad.dtypes.accumulation_name`)."""
    x = accumulating(x, dtype)
    ndim = x.ndim
    axes = tuple(range(ndim)) if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
    axes = tuple(sorted({a % ndim for a in axes})) if ndim else ()
    kept = [a for a in range(ndim) if a not in axes]
    # Reduced axes last, merged into one: (kept..., n)
    moved = permute_dims(x, tuple(kept) + axes) if ndim else x
    kept_shape = tuple(x.shape[a] for a in kept)
    # the reduced length spelled out: -1 is ambiguous when a kept axis is empty
    flat = reshape(moved, kept_shape + (math.prod(x.shape[a] for a in axes),))
    while flat.shape[-1] > 1:
        n = flat.shape[-1]
        if n % 2:  # pad with a one so the halves match
            one = ones_like(flat[..., :1])
            flat = concat([flat, one], axis=-1)
            n += 1
        flat = flat[..., : n // 2] * flat[..., n // 2:]
    if flat.shape[-1] == 0:  # the empty product: 1, still computed from x (an empty
        flat = sum(flat, axis=-1, keepdims=True) + 1  # sum is exactly 0), so it keeps x's graph
    out = reshape(flat, kept_shape)
    if keepdims:
        out = reshape(out, tuple(1 if a in axes else n for a, n in enumerate(x.shape)))
    return out


@public
def cumulative_prod(x, axis=None, dtype=None, include_initial=False):
    """Running products along `axis` (optional for a 1-d x). A log-step scan of
    multiplies: exact gradients where elements are zero, and of every order."""
    axis = scan_axis("cumulative_prod", x, axis)
    x = accumulating(x, dtype)
    before = (slice(None),) * axis
    n = x.shape[axis]
    if include_initial:  # (a sum keeps the axis at length 1 where x has none)
        x = concat([ones_like(sum(x[before + (slice(0, 1), ...)], axis=axis, keepdims=True))
                    if n == 0 else ones_like(x[before + (slice(0, 1), ...)]), x], axis=axis)
        n += 1
    step = 1
    while step < n:  # Hillis-Steele: each element takes in the product `step` places back
        head = x[before + (slice(0, step), ...)]
        x = concat([head, x[before + (slice(step, None), ...)] * x[before + (slice(0, n - step),
                                                                          ...)]], axis=axis)
        step *= 2
    return x
