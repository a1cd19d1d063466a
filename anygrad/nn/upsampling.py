"""Resizing (N, C, *size) tensors: `interpolate` and `Upsample`, PyTorch-shaped.

Both modes are separable, one spatial axis at a time: "nearest" picks a source index
per output position; "linear"/"bilinear" blends the two neighbouring source positions.
The indices and blend weights are worked out on the host from the sizes alone, with
PyTorch's coordinate rules, and applied with `take` and products, so gradients (the
scatter-add of `take`) and gradients of gradients come for free on every backend.
"""
from __future__ import annotations

import math
import struct

import anygrad as ag

from .module import Module

__all__ = ["Upsample", "interpolate"]

_LINEAR = {"linear": 1, "bilinear": 2}


def _float32(value):
    """`value` rounded to single precision, the precision of PyTorch's nearest indices."""
    return struct.unpack("f", struct.pack("f", value))[0]


def _ratio(in_size, out_size, scale):
    """Source positions per output position: 1/scale_factor when one was given, else
    in/out."""
    return 1.0 / scale if scale is not None and scale > 0 else in_size / out_size


def _nearest(in_size, out_size, scale):
    ratio = _float32(_ratio(in_size, out_size, scale))
    return [min(int(math.floor(_float32(i * ratio))), in_size - 1) for i in range(out_size)]


def _linear(in_size, out_size, scale, align_corners):
    """(left indices, right indices, right weights) of linear interpolation."""
    if align_corners:
        ratio = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    else:
        ratio = _ratio(in_size, out_size, scale)
    left, right, weight = [], [], []
    for i in range(out_size):
        src = ratio * i if align_corners else max(ratio * (i + 0.5) - 0.5, 0.0)
        j = min(int(src), in_size - 1)
        left.append(j)
        right.append(min(j + 1, in_size - 1))
        weight.append(src - j)
    return left, right, weight


def _sizes(fn, x, size, scale_factor, nd):
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{fn}: give exactly one of size and scale_factor")
    if size is not None:
        sizes = (size,) * nd if isinstance(size, int) else tuple(size)
        if len(sizes) != nd or any(not isinstance(s, int) or s < 1 for s in sizes):
            raise ValueError(f"{fn}: size must be a positive int or {nd} of them for input of "
                             f"shape {x.shape}, got {size!r}")
        return sizes, (None,) * nd
    scales = (scale_factor,) * nd if isinstance(scale_factor, (int, float)) \
        else tuple(scale_factor)
    if len(scales) != nd or any(s <= 0 for s in scales):
        raise ValueError(f"{fn}: scale_factor must be a positive number or {nd} of them for "
                         f"input of shape {x.shape}, got {scale_factor!r}")
    sizes = tuple(int(math.floor(n * s)) for n, s in zip(x.shape[2:], scales))
    if any(s < 1 for s in sizes):
        raise ValueError(f"{fn}: scale_factor {scale_factor!r} gives an empty output for input "
                         f"of shape {x.shape}")
    return sizes, tuple(float(s) for s in scales)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None):
    """Resize the spatial axes of (N, C, *size) `input`, as torch.nn.functional.interpolate.

    mode "nearest" (any of 1-3 spatial axes), "linear" (N, C, L) or "bilinear"
    (N, C, H, W); align_corners (linear modes only, default False) maps the corner
    pixels' centres onto each other. With scale_factor, the source coordinates use
    1/scale_factor, as PyTorch does, unless recompute_scale_factor is True.
    """
    fn = "interpolate"
    nd = input.ndim - 2
    if nd < 1:
        raise ValueError(f"{fn}: expects an (N, C, *size) input, got shape {input.shape}")
    if mode == "nearest":
        if align_corners is not None:
            raise ValueError(f"{fn}: align_corners applies to the linear modes only, not "
                             f"{mode!r}")
    elif mode in _LINEAR:
        if nd != _LINEAR[mode]:
            raise ValueError(f"{fn}: mode {mode!r} expects a {_LINEAR[mode] + 2}-D input, got "
                             f"shape {input.shape}")
    else:
        raise ValueError(f"{fn}: mode must be 'nearest', 'linear' or 'bilinear', got {mode!r}")
    sizes, scales = _sizes(fn, input, size, scale_factor, nd)
    if recompute_scale_factor:
        scales = (None,) * nd
    out = input
    for axis, (n_in, n_out, scale) in enumerate(zip(input.shape[2:], sizes, scales), start=2):
        if mode == "nearest":
            out = ag.take(out, ag.tensor(_nearest(n_in, n_out, scale), dtype="int64",
                                         backend=input.backend, device=input.device), axis=axis)
            continue
        left, right, weight = _linear(n_in, n_out, scale, bool(align_corners))
        shape = (n_out,) + (1,) * (input.ndim - axis - 1)
        w = ag.reshape(ag.tensor(weight, dtype=input.dtype, backend=input.backend,
                                 device=input.device), shape)
        index = {"dtype": "int64", "backend": input.backend, "device": input.device}
        a = ag.take(out, ag.tensor(left, **index), axis=axis)
        b = ag.take(out, ag.tensor(right, **index), axis=axis)
        out = a + (b - a) * w
    return out


class Upsample(Module):
    """Upsample(size=None, scale_factor=None, mode="nearest", align_corners=None):
    `interpolate` as a layer."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.size = size
        self.scale_factor = scale_factor
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, x):
        return interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                           self.recompute_scale_factor)

    def extra_repr(self):
        what = f"size={self.size}" if self.size is not None \
            else f"scale_factor={self.scale_factor}"
        return f"{what}, mode={self.mode!r}"
