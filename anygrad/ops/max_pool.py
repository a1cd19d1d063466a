"""Max pooling as a running maximum over strided slices, and its gradient as slice adds.

The forward takes the elementwise maximum of the K kernel-offset slices of the padded
input (K - 1 passes over output-sized arrays; no window copy, no argmax). The gradient
goes to the first maximum of each window, as in PyTorch: offset by offset, the
positions that equal the window's maximum and were not taken by an earlier offset.
Those masks are recomputed from the saved input and output when the gradient is
needed, so nothing but the two is kept. A NaN is a window's maximum (the maximum
carries it) and takes the gradient; of several NaNs in one window the first does,
where PyTorch's CPU kernel picks the last.

Two linear ops carry the gradient and are each other's transpose, so gradients of
gradients come for free: `pool_scatter` sends an output-shaped cotangent to the first
maxima, `pool_pick` reads an input-shaped one there. Both take the input and the
output as fixed parameters: the selection does not change under a small change of x,
so it has no derivative of its own.
"""
from __future__ import annotations

import math

from ..engine import Op
from ..tensor import Tensor
from .conv_gemm import _run, kernel_offsets
from .windows import _pad

_ALL = (slice(None), slice(None))


def _raw(a):
    return a.array if isinstance(a, Tensor) else a


def _max_forward(xp, x, geo, backend):
    x = _pad(xp, x, geo.padding, -math.inf, backend)
    out = None
    for _, key in kernel_offsets(geo):
        piece = x[_ALL + key]
        out = piece if out is None else xp.maximum(out, piece)
    return out


def _first_maxima(xp, source, best, geo, backend):
    """Per kernel offset, its slice key and where it holds its window's first maximum."""
    source = _pad(xp, source, geo.padding, -math.inf, backend)
    keys = [key for _, key in kernel_offsets(geo)]
    free = None  # windows whose first maximum is still to come
    for i, key in enumerate(keys):
        piece = source[_ALL + key]
        hit = (piece == best) | (piece != piece)
        if free is not None:
            hit = hit & free
        if i + 1 < len(keys):
            free = ~hit if free is None else free ^ hit  # hit lies within free
        yield key, hit


# The two linear ops below take cotangents with any leading axes before (N, C): a
# batch of them (vmap's, a Jacobian's rows) broadcasts against the one selection.
def _scatter_forward(xp, g, source, best, geo, backend):
    """Output-shaped g (..., N, C, *out) onto the input's shape, at each window's first
    maximum."""
    nd = len(geo.kernel)
    lead = tuple(g.shape[:-nd])
    padded = tuple(size + lo + hi for size, (lo, hi) in zip(geo.size, geo.padding))
    # Channels outermost in memory, as convolutions lay out their results: the
    # gradients of the convolution that feeds a pooling then read it without a copy.
    out = xp.zeros(lead[-1:] + lead[:-1] + padded, dtype=g.dtype, device=backend.device(g))
    out = xp.permute_dims(out, tuple(range(1, len(lead))) + (0,)
                          + tuple(range(len(lead), len(lead) + nd)))
    zero = xp.zeros((), dtype=g.dtype, device=backend.device(g))
    for key, hit in _first_maxima(xp, source, best, geo, backend):
        out = backend.add_at(out, (Ellipsis,) + key, xp.where(hit, g, zero))
    if any(lo or hi for lo, hi in geo.padding):
        crop = tuple(slice(lo, lo + n) for n, (lo, _) in zip(geo.size, geo.padding))
        out = out[(Ellipsis,) + crop]
    return out


def _pick_forward(xp, u, source, best, geo, backend):
    """Input-shaped u (..., N, C, *size) read at each window's first maximum."""
    nd = len(geo.kernel)
    lead = tuple(u.shape[:-nd])
    u = _pad(xp, xp.reshape(u, (-1, 1) + tuple(u.shape[-nd:])), geo.padding, 0.0, backend)
    u = xp.reshape(u, lead + tuple(u.shape[-nd:]))
    zero = xp.zeros((), dtype=u.dtype, device=backend.device(u))
    out = None
    for key, hit in _first_maxima(xp, source, best, geo, backend):
        picked = xp.where(hit, u[(Ellipsis,) + key], zero)
        out = picked if out is None else out + picked
    return out


def _batch_in_front(op, values, batched, params, size):
    """vmap's rule for the two linear ops: they take the batch axis in front as it is."""
    return op(*values, **params)


pool_scatter = Op("max_pool_scatter", _scatter_forward,
                  lambda ns, u, ans, g, source, best, geo, backend:
                      _run(pool_pick, ns, u, source=source, best=best, geo=geo, backend=backend),
                  batch=_batch_in_front)
pool_pick = Op("max_pool_pick", _pick_forward,
               lambda ns, v, ans, u, source, best, geo, backend:
                   _run(pool_scatter, ns, v, source=source, best=best, geo=geo, backend=backend),
               batch=_batch_in_front)
max_pool = Op("max_pool", _max_forward,
              lambda ns, g, ans, x, geo, backend:
                  _run(pool_scatter, ns, g, source=_raw(x), best=_raw(ans), geo=geo,
                       backend=backend),
              batch="fold_batch")
