"""Convolution as one large matrix product per pass, and its two transposes.

A convolution of x (N, C, *size) by w (O, C/groups, *kernel) is three products:

    forward       out = w @ cols(x)              (O, C*K) @ (C*K, N*P)
    input grad    dx  = col2im(w.T @ g)          (C*K, O) @ (O, N*P)
    weight grad   dw  = g @ cols(x).T            (O, N*P) @ (N*P, C*K)

(K kernel elements, P output positions, per group). The columns are laid out channel
and kernel offset first, batch and position last, so each pass is a single contiguous
2-D GEMM (one per group) over the whole batch: BLAS gets one large product instead of
a batched product of N small, strided ones, whose threads stalled for seconds per step
on a loaded machine. The
output comes back as (N, O, *out) over (O, N, *out) memory; the next layer's columns
and the weight gradient read that layout without a copy.

Each product is an op whose rules are the other two, as JAX relates a convolution to
its transposes, so gradients of gradients cost nothing more:

    conv(x, w)          dx: input_grad(g, w)     dw: weight_grad(x, g)
    input_grad(g, w)    dg: conv(u, w)           dw: weight_grad(u, g)
    weight_grad(x, g)   dx: input_grad(g, v)     dg: conv(x, v)

Only the Array API and two backend hooks are used: `sliding_windows` (strided views,
where the library has them) to gather the columns in one copy, and `add_at` to sum the
overlapping windows of col2im.
"""
from __future__ import annotations

import itertools
import math

from .. import ops
from ..batching import rules as batching
from ..engine import Op
from ..tensor import Tensor
from .windows import _pad


# ---------------------------------------------------------------- columns and their transpose
def _spatial(nd, first=2):
    return tuple(range(first, first + nd))


def kernel_offsets(geo):
    """Per kernel offset (a tuple of ints), the strided slices of the padded input that
    it reads at every output position."""
    for offset in itertools.product(*(range(k) for k in geo.kernel)):
        yield offset, tuple(
            slice(j * d, j * d + (o - 1) * s + 1, s)
            for j, d, o, s in zip(offset, geo.dilation, geo.out, geo.stride)
        )


def im2col(xp, x, geo, backend):
    """x (N, C, *size) as the contiguous matrix (C * K, N * P): row c*K + k holds kernel
    offset k of channel c (the order of a flattened (C, *kernel) weight), column
    n*P + p output position p of example n."""
    n, c = x.shape[:2]
    nd = len(geo.kernel)
    x = xp.permute_dims(_pad(xp, x, geo.padding, 0.0, backend), (1, 0) + _spatial(nd))
    spans = tuple(d * (k - 1) + 1 for k, d in zip(geo.kernel, geo.dilation))
    view = backend.sliding_windows(x, spans, _spatial(nd))
    if view is not None:  # (C, N, *starts, *spans): strided starts, dilated offsets
        key = tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(geo.out, geo.stride))
        key += tuple(slice(None, None, d) for d in geo.dilation)
        cols = xp.permute_dims(view[(slice(None), slice(None)) + key],
                               (0,) + _spatial(nd, 2 + nd) + (1,) + _spatial(nd))
    else:  # one strided slice per kernel offset, stacked after the channel
        cols = xp.stack([x[(slice(None), slice(None)) + key] for _, key in kernel_offsets(geo)],
                        axis=1)
    return xp.reshape(cols, (c * geo.windows, n * geo.positions))


def col2im(xp, cols, geo, n, backend):
    """The transpose of `im2col`: (C * K, N * P) columns summed back into
    (N, C, *size), overlapping windows adding up. Returned over (C, N, *size) memory."""
    nd = len(geo.kernel)
    c = cols.shape[0] // geo.windows
    cols = xp.reshape(cols, (c,) + geo.kernel + (n,) + geo.out)
    padded = tuple(size + lo + hi for size, (lo, hi) in zip(geo.size, geo.padding))
    out = xp.zeros((c, n) + padded, dtype=cols.dtype, device=backend.device(cols))
    for offset, key in kernel_offsets(geo):
        out = backend.add_at(out, (slice(None), slice(None)) + key,
                             cols[(slice(None),) + offset + (Ellipsis,)])
    crop = tuple(slice(lo, lo + size) for size, (lo, _) in zip(geo.size, geo.padding))
    if any(lo or hi for lo, hi in geo.padding):
        out = out[(slice(None), slice(None)) + crop]
    return xp.permute_dims(out, (1, 0) + _spatial(nd))


def _by_channel(xp, a, groups):
    """(N, C, *space) as (groups, C / groups, N * prod(space)), channel first."""
    n, c = a.shape[:2]
    a = xp.permute_dims(a, (1, 0) + _spatial(a.ndim - 2))
    return xp.reshape(a, (groups, c // groups, n * math.prod(a.shape[2:])))


def _grouped(xp, a, groups, rows):
    """A flat (rows*groups, cols) matrix as (groups, rows, cols): one GEMM per group."""
    return xp.reshape(a, (groups, rows, a.shape[-1]))


def _matmul(xp, a, b):
    # One group: a plain 2-D product, which every library hands to BLAS whole.
    if a.shape[0] == 1:
        return xp.expand_dims(xp.matmul(a[0, ...], b[0, ...]), axis=0)
    return xp.matmul(a, b)


# ---------------------------------------------------------------- the three products
def _conv_forward(xp, x, w, geo, groups, backend):
    n = x.shape[0]
    out_channels = w.shape[0]
    cols = im2col(xp, x, geo, backend)
    cols = _grouped(xp, cols, groups, cols.shape[0] // groups)
    w = xp.reshape(w, (groups, out_channels // groups, cols.shape[1]))
    out = xp.reshape(_matmul(xp, w, cols), (out_channels, n) + geo.out)
    return xp.permute_dims(out, (1, 0) + _spatial(len(geo.kernel)))


def _input_grad_forward(xp, g, w, geo, groups, backend):
    """(N, O, *out) by weight (O, C/groups, *kernel) into (N, C, *size)."""
    out_channels = w.shape[0]
    w = xp.reshape(w, (groups, out_channels // groups, w.shape[1] * geo.windows))
    cols = _matmul(xp, xp.matrix_transpose(w), _by_channel(xp, g, groups))
    return col2im(xp, xp.reshape(cols, (-1, cols.shape[-1])), geo, g.shape[0], backend)


def _weight_grad_forward(xp, x, g, geo, groups, backend):
    """(N, C, *size) and (N, O, *out) into the weight's (O, C/groups, *kernel)."""
    cols = im2col(xp, x, geo, backend)
    cols = _grouped(xp, cols, groups, cols.shape[0] // groups)
    gw = _matmul(xp, _by_channel(xp, g, groups), xp.matrix_transpose(cols))
    return xp.reshape(gw, (g.shape[1], x.shape[1] // groups) + geo.kernel)


def _run(op, ns, a, *args, **params):
    """Apply `op` inside a rule: recorded on Tensors (create_graph), raw on arrays."""
    if isinstance(a, Tensor):
        return op(a, *args, **params)
    return op.forward(ns, a, *args, **params)


def _batch(kind):
    """vmap's rule for one of the three ops (`kind` names which).

    With only the batch-carrying argument batched (the data, not the weight), the batch
    joins N. Otherwise each example is its own group: channels and groups multiply by
    the batch size, so per-example weights and per-example weight gradients stay one
    product too.
    """
    def rule(op, values, batched, params, size):
        if kind != "weight_grad" and not batched[1]:
            return batching.fold_batch(op, values, batched, params, size)
        a, b = (v if flag else ops.broadcast_to(v, (size,) + tuple(v.shape))
                for v, flag in zip(values, batched))
        if kind == "weight_grad":
            out = op(_merge(a), _merge(b), **_more_groups(params, size))
            return ops.reshape(out, (size, out.shape[0] // size) + tuple(out.shape[1:]))
        w = ops.reshape(b, (size * b.shape[1],) + tuple(b.shape[2:]))
        out = op(_merge(a), w, **_more_groups(params, size))
        return _split(out, size)
    return rule


def _merge(a):
    """(B, N, C, *space) as (N, B * C, *space): the examples side by side as groups."""
    a = ops.permute_dims(a, (1, 0) + _spatial(a.ndim - 2))
    return ops.reshape(a, (a.shape[0], a.shape[1] * a.shape[2]) + tuple(a.shape[3:]))


def _split(a, size):
    """The inverse of `_merge`: (N, B * C, *space) as (B, N, C, *space)."""
    a = ops.reshape(a, (a.shape[0], size, a.shape[1] // size) + tuple(a.shape[2:]))
    return ops.permute_dims(a, (1, 0) + _spatial(a.ndim - 2))


def _more_groups(params, size):
    return {**params, "groups": params["groups"] * size}


conv = Op("conv", _conv_forward,
          lambda ns, g, ans, x, w, **p: _run(input_grad, ns, g, w, **p),
          lambda ns, g, ans, x, w, **p: _run(weight_grad, ns, x, g, **p),
          batch=_batch("conv"))
input_grad = Op("conv_input_grad", _input_grad_forward,
                lambda ns, u, ans, g, w, **p: _run(conv, ns, u, w, **p),
                lambda ns, u, ans, g, w, **p: _run(weight_grad, ns, u, g, **p),
                batch=_batch("input_grad"))
weight_grad = Op("conv_weight_grad", _weight_grad_forward,
                 lambda ns, v, ans, x, g, **p: _run(input_grad, ns, g, v, **p),
                 lambda ns, v, ans, x, g, **p: _run(conv, ns, x, v, **p),
                 batch=_batch("weight_grad"))
