"""The shape and strides of a sliding-window view, computed on the host.

numpy's and CuPy's `sliding_window_view` give the same layout, but CuPy's copies
`window_shape` to the device and tests it there, so each call waits for the GPU. The
layout depends only on the array's shape and strides, which live on the host: compute
it here and hand it to the library's `as_strided`.
"""
from __future__ import annotations

__all__ = ["window_view_geometry"]


def window_view_geometry(shape, strides, window_shape, axes):
    """(shape, strides) of `sliding_window_view(x, window_shape, axis=axes)` for an
    array `x` of the given shape and byte strides: each windowed axis shrinks to the
    number of window positions, and one axis per window dimension is appended, with
    the stride of the axis it slides along (an axis may be windowed more than once)."""
    ndim = len(shape)
    window_shape = tuple(int(w) for w in window_shape)
    axes = tuple(int(a) for a in axes)
    if len(window_shape) != len(axes):
        raise ValueError(
            f"sliding_windows: {len(window_shape)} window sizes {window_shape} for "
            f"{len(axes)} axes {axes}"
        )
    positions = list(shape)
    normalised = []
    for axis, size in zip(axes, window_shape):
        if not -ndim <= axis < ndim:
            raise ValueError(f"sliding_windows: axis {axis} is out of range for shape {tuple(shape)}")
        if size < 0:
            raise ValueError(f"sliding_windows: window sizes {window_shape} must not be negative")
        axis %= ndim
        if positions[axis] < size:
            raise ValueError(
                f"sliding_windows: window {window_shape} over axes {axes} is larger than "
                f"shape {tuple(shape)}"
            )
        positions[axis] -= size - 1
        normalised.append(axis)
    out_shape = tuple(positions) + window_shape
    out_strides = tuple(strides) + tuple(strides[a] for a in normalised)
    return out_shape, out_strides
