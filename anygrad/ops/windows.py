"""Sliding windows: `unfold` (im2col) and its transpose `fold` (col2im), over 1-, 2- and
3-D spatial inputs in PyTorch's (N, C, *size) layout and argument names.

`unfold` copies every window of the padded input into a column, so a convolution
becomes one matrix product and a pooling one reduction over the window axis
(`anygrad.nn.convolution`). `fold` sums columns back into the input's shape: it is the
transpose of `unfold`, hence its derivative, and `unfold` is the derivative of `fold`.
Both rules go through the other op, so gradients of gradients come for free.

Both forwards use only the Array API (strided slices, `stack`, `concat`, `reshape`,
`matmul`; no item assignment), so they run unchanged on numpy, cupy, torch, jax and
array_api_strict; a backend with strided views (`sliding_windows`) makes unfold one
copy.
"""
from __future__ import annotations

import itertools
import math

from ..engine import Op
from ..tensor import Tensor
from .registry import public


# ---------------------------------------------------------------- window geometry
class Geometry:
    """Where the windows of one unfold lie: per spatial axis, the input length, kernel,
    stride, dilation, (before, after) padding, and the resulting number of windows."""

    __slots__ = ("size", "kernel", "stride", "dilation", "padding", "out")

    def __init__(self, size, kernel, stride, dilation, padding):
        self.size = tuple(size)
        self.kernel = tuple(kernel)
        self.stride = tuple(stride)
        self.dilation = tuple(dilation)
        self.padding = tuple(padding)
        self.out = tuple(
            (n + lo + hi - d * (k - 1) - 1) // s + 1
            for n, k, s, d, (lo, hi) in zip(size, kernel, stride, dilation, padding)
        )

    @property
    def windows(self):
        """Elements per window (the product of the kernel's sizes)."""
        return math.prod(self.kernel)

    @property
    def positions(self):
        """Windows per channel (the product of the output's spatial sizes)."""
        return math.prod(self.out)

    def __repr__(self):
        return (f"Geometry(size={self.size}, kernel={self.kernel}, stride={self.stride}, "
                f"dilation={self.dilation}, padding={self.padding})")


def ints(value, nd, what, fn):
    """An int or a length-`nd` sequence of ints, as a tuple of `nd` ints."""
    values = (value,) * nd if isinstance(value, int) else tuple(value)
    if len(values) != nd or not all(isinstance(v, int) for v in values):
        raise ValueError(f"{fn}: {what} must be an int or {nd} ints, got {value!r}")
    return values


def _padding(padding, nd, kernel, stride, dilation, fn):
    """Per-axis (before, after) padding from an int, ints, "valid" or "same"."""
    if padding == "valid":
        return ((0, 0),) * nd
    if padding == "same":
        if any(s != 1 for s in stride):
            raise ValueError(f"{fn}: padding='same' needs stride 1, got stride={stride}")
        # The total d*(k-1) split with the extra element after, as PyTorch does.
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    if isinstance(padding, str):
        raise ValueError(f"{fn}: padding must be an int, ints, 'same' or 'valid', got {padding!r}")
    pads = ints(padding, nd, "padding", fn)
    if any(p < 0 for p in pads):
        raise ValueError(f"{fn}: padding must be non-negative, got {padding!r}")
    return tuple((p, p) for p in pads)


def geometry(fn, x, kernel, stride, padding, dilation):
    """Check the window arguments against x and say where the windows lie."""
    nd = len(kernel)
    stride = ints(stride, nd, "stride", fn)
    dilation = ints(dilation, nd, "dilation", fn)
    if any(v < 1 for v in kernel + stride + dilation):
        raise ValueError(
            f"{fn}: kernel size, stride and dilation must be positive, got kernel={kernel}, "
            f"stride={stride}, dilation={dilation}"
        )
    pads = _padding(padding, nd, kernel, stride, dilation, fn)
    size = x.shape[2:]
    for n, k, d, (lo, hi) in zip(size, kernel, dilation, pads):
        if n + lo + hi < d * (k - 1) + 1:
            raise ValueError(
                f"{fn}: kernel {kernel} (dilation {dilation}) is larger than the padded input: "
                f"input shape {x.shape}, padding {pads}"
            )
    return Geometry(size, kernel, stride, dilation, pads)


# ---------------------------------------------------------------- unfold (im2col) and fold (col2im)
def _filled(xp, x, axis, width, fill, backend):
    """An array like x but `width` long on `axis`, full of `fill`."""
    shape = tuple(width if i == axis else n for i, n in enumerate(x.shape))
    return xp.full(shape, fill, dtype=x.dtype, device=backend.device(x))


def _pad(xp, x, padding, fill, backend):
    """x with `fill` added before and after each spatial axis."""
    for axis, (lo, hi) in enumerate(padding, start=2):
        if lo or hi:
            parts = [_filled(xp, x, axis, lo, fill, backend)] if lo else []
            parts.append(x)
            if hi:
                parts.append(_filled(xp, x, axis, hi, fill, backend))
            x = xp.concat(parts, axis=axis)
    return x


def _unfold_forward(xp, x, geo, fill, backend):
    """(N, C, *size) -> (N, C * windows, positions). Column c*windows + w holds window
    offset w of channel c, as in torch's unfold, so (C, *kernel) weights flatten onto it."""
    n, c = x.shape[:2]
    nd = len(geo.kernel)
    x = _pad(xp, x, geo.padding, fill, backend)
    spans = tuple(d * (k - 1) + 1 for k, d in zip(geo.kernel, geo.dilation))
    view = backend.sliding_windows(x, spans, tuple(range(2, 2 + nd)))
    if view is not None:  # (N, C, *starts, *spans): pick strided starts and dilated offsets
        key = tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(geo.out, geo.stride))
        key += tuple(slice(None, None, d) for d in geo.dilation)
        cols = xp.permute_dims(view[(slice(None), slice(None)) + key],
                               (0, 1) + tuple(range(2 + nd, 2 + 2 * nd)) + tuple(range(2, 2 + nd)))
    else:  # one strided slice per window offset
        pieces = []
        for offset in itertools.product(*(range(k) for k in geo.kernel)):
            key = tuple(
                slice(j * d, j * d + (o - 1) * s + 1, s)
                for j, d, o, s in zip(offset, geo.dilation, geo.out, geo.stride)
            )
            pieces.append(x[(slice(None), slice(None)) + key])
        cols = xp.stack(pieces, axis=2)
    return xp.reshape(cols, (n, c * geo.windows, geo.positions))


def _placement(xp, k, o, stride, dilation, before, size, dtype, device):
    """The 0/1 matrix (k*o, size) with a 1 where element j of window o reads input
    position p = j*dilation + o*stride - before (positions in the padding have none)."""
    offsets = xp.reshape(xp.arange(k, device=device), (k, 1)) * dilation
    starts = xp.reshape(xp.arange(o, device=device), (1, o)) * stride - before
    reads = xp.reshape(offsets + starts, (k * o, 1))
    return xp.astype(reads == xp.reshape(xp.arange(size, device=device), (1, size)), dtype)


def _fold_forward(xp, cols, geo, backend):
    """(N, C * windows, positions) -> (N, C, *size): the transpose of `_unfold_forward`,
    so windows that overlap add up.

    One spatial axis at a time, the last first, as a product with that axis's
    placement matrix: a matrix product sums the few overlapping windows far faster than
    slice-by-slice adds or concatenations of short rows, needs no item assignment, and
    handles stride, dilation and padding alike. (Being a product, an inf in the
    cotangent spreads nan along its row, where slice adds would keep the inf.)
    """
    nd = len(geo.kernel)
    n = cols.shape[0]
    c = cols.shape[1] // geo.windows
    device = backend.device(cols)
    a = xp.reshape(cols, (n, c) + geo.kernel + geo.out)
    if nd > 1:  # each kernel axis next to its output axis: (N, C, k1, O1, k2, O2, ...)
        a = xp.permute_dims(a, (0, 1) + sum(((2 + i, 2 + nd + i) for i in range(nd)), ()))
    tail = 1
    for i in reversed(range(nd)):
        k, o, size = geo.kernel[i], geo.out[i], geo.size[i]
        place = _placement(xp, k, o, geo.stride[i], geo.dilation[i], geo.padding[i][0], size,
                           cols.dtype, device)
        lead = n * c * math.prod(geo.kernel[:i]) * math.prod(geo.out[:i])
        if tail == 1:  # (lead, k*o) @ (k*o, size)
            a = xp.matmul(xp.reshape(a, (lead, k * o)), place)
        else:  # (size, k*o) @ (lead, k*o, tail)
            a = xp.matmul(xp.matrix_transpose(place), xp.reshape(a, (lead, k * o, tail)))
        tail *= size
    return xp.reshape(a, (n, c) + geo.size)


def _run(op, ns, a, **params):
    """Apply `op` inside a rule: recorded on Tensors (create_graph), raw on arrays."""
    if isinstance(a, Tensor):
        return op(a, **params)
    return op.forward(ns, a, **params)


# Each is the other's transpose, hence its derivative.
_unfold = Op("unfold", _unfold_forward,
             lambda ns, g, ans, x, geo, fill, backend: _run(_fold, ns, g, geo=geo, backend=backend),
             batch="fold_batch")
_fold = Op("fold", _fold_forward,
           lambda ns, g, ans, cols, geo, backend:
               _run(_unfold, ns, g, geo=geo, fill=0.0, backend=backend), batch="fold_batch")


def columns(x, geo, fill=0.0):
    """x's windows where `geo` says they lie, padding with `fill`: the unfold op itself,
    for the convolutions and poolings that have already checked their arguments."""
    return _unfold(x, geo=geo, fill=fill, backend=x.backend)


@public
def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding windows as columns, as torch.nn.functional.unfold: (N, C, *size) ->
    (N, C * prod(kernel_size), windows), for 1-D, 2-D or 3-D spatial inputs."""
    if x.ndim not in (3, 4, 5):
        raise ValueError(f"unfold: expects a 3-D, 4-D or 5-D input (N, C, ...), got shape {x.shape}")
    nd = x.ndim - 2
    kernel = ints(kernel_size, nd, "kernel_size", "unfold")
    return columns(x, geometry("unfold", x, kernel, stride, padding, dilation))


@public
def fold(cols, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Columns summed back into an image, as torch.nn.functional.fold: the transpose of
    `unfold` with the same arguments, (N, C * prod(kernel_size), windows) -> (N, C, *size)."""
    size = (output_size,) * 2 if isinstance(output_size, int) else tuple(output_size)
    nd = len(size)
    kernel = ints(kernel_size, nd, "kernel_size", "fold")
    if cols.ndim != 3 or cols.shape[1] % math.prod(kernel):
        raise ValueError(
            f"fold: expects (N, C * {math.prod(kernel)}, windows) columns for kernel {kernel}, "
            f"got shape {cols.shape}"
        )
    probe = _Shape((cols.shape[0], cols.shape[1] // math.prod(kernel)) + size)
    geo = geometry("fold", probe, kernel, stride, padding, dilation)
    if cols.shape[2] != geo.positions:
        raise ValueError(
            f"fold: columns of shape {cols.shape} hold {cols.shape[2]} windows, but output size "
            f"{size} with kernel {kernel} has {geo.positions}"
        )
    return _fold(cols, geo=geo, backend=cols.backend)


class _Shape:
    """Stands in for a tensor where only its shape is checked."""

    def __init__(self, shape):
        self.shape = shape
