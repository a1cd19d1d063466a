"""CuPy's Array API namespace, without the host waits and with `device=` honoured.

array-api-compat's cupy namespace is correct but, for a training loop, costly in three
places and careless in one:

- its `clip` assigns through boolean masks, and its `sign` patches NaNs the same way;
  each masked assignment counts the mask on the host, so the GPU pipeline drains once
  per bound (CuPy's own `clip` and, from CuPy 14, `sign` need no such patch);
- its creation functions accept `device=` and ignore it, so everything is made on the
  current device;
- `take` and `take_along_axis` wrap out-of-range indices (CuPy's kernels have no way to
  raise), so a bad class label silently picks another class.

`CupyNamespace` forwards every other name to the compat namespace. It is written
against a bare module (`cupy`) and its compat namespace, so the same logic runs, and is
tested, on numpy.
"""
from __future__ import annotations

import contextlib
import math

__all__ = ["CupyNamespace"]

_CREATION = ("zeros", "ones", "empty", "full", "arange", "eye", "linspace")
_LIKE = ("zeros_like", "ones_like", "empty_like", "full_like")


def _no_device(_):
    return contextlib.nullcontext()


class CupyNamespace:
    """The compat namespace `compat` of bare module `bare`, with the overrides above.

    `enter(device)` returns a context manager that makes `device` current (`None`: stay
    on the current one); `enter_array(x)` does the same for the device `x` lives on.
    `sign_keeps_nan` says whether the bare `sign` already returns NaN for NaN.
    """

    def __init__(self, compat, bare, enter=_no_device, enter_array=_no_device,
                 sign_keeps_nan=True):
        self._compat = compat
        self._bare = bare
        self._enter = enter
        self._enter_array = enter_array
        self._sign_keeps_nan = sign_keeps_nan
        self.__name__ = getattr(compat, "__name__", "cupy_namespace")
        for name in _CREATION:
            setattr(self, name, self._made_on_device(getattr(compat, name)))
        for name in _LIKE:
            setattr(self, name, self._made_beside(getattr(compat, name)))

    def __getattr__(self, name):
        value = getattr(self._compat, name)
        setattr(self, name, value)  # cache: later lookups skip __getattr__
        return value

    def __repr__(self):
        return f"<CupyNamespace over {self.__name__}>"

    # ------------------------------------------------------------------ devices
    def _made_on_device(self, make):
        enter = self._enter

        def on_device(*args, device=None, **kwargs):
            with enter(device):
                return make(*args, **kwargs)

        on_device.__name__ = make.__name__
        on_device.__doc__ = make.__doc__
        return on_device

    def _made_beside(self, make):
        enter, enter_array = self._enter, self._enter_array

        def beside(x, /, *args, device=None, **kwargs):
            with enter(device) if device is not None else enter_array(x):
                return make(x, *args, **kwargs)

        beside.__name__ = make.__name__
        beside.__doc__ = make.__doc__
        return beside

    def asarray(self, obj, /, *, dtype=None, device=None, copy=None, **kwargs):
        # A copy of an array is made where the array lives unless `device` says otherwise.
        if device is not None:
            scope = self._enter(device)
        elif isinstance(obj, self._bare.ndarray):
            scope = self._enter_array(obj)
        else:
            scope = contextlib.nullcontext()
        with scope:
            return self._compat.asarray(obj, dtype=dtype, copy=copy, **kwargs)

    # ------------------------------------------------------------------ no host waits
    def clip(self, x, /, min=None, max=None):
        bare = self._bare
        if min is None and max is None:
            return bare.array(x, copy=True)
        low, high = _open_bounds(bare, x.dtype)
        out = bare.clip(x, low if min is None else min, high if max is None else max)
        # The standard keeps x's dtype; array bounds of a wider dtype would promote.
        return out if out.dtype == x.dtype else out.astype(x.dtype)

    def sign(self, x, /):
        bare = self._bare
        if bare.issubdtype(x.dtype, bare.complexfloating):
            return self._compat.sign(x)
        out = bare.sign(x)
        if self._sign_keeps_nan or not bare.issubdtype(x.dtype, bare.floating):
            return out
        return bare.where(bare.isnan(x), x, out)

    # ------------------------------------------------------------------ gathers
    # Out-of-range indices cannot raise without a host wait, so a floating result is
    # NaN wherever its index was out of range: the loss turns NaN instead of training
    # on another class. Negative indices count from the end, as in numpy.
    def take(self, x, indices, /, *, axis=None):
        bare = self._bare
        if axis is None:
            if x.ndim != 1:
                return self._compat.take(x, indices)
            axis = 0
        axis %= max(x.ndim, 1)
        if not _floating(bare, x.dtype):
            return bare.take(x, indices, axis=axis)
        inside, safe = _in_range(bare, indices, x.shape[axis], "take", x.shape)
        out = bare.take(x, safe, axis=axis)
        inside = bare.reshape(inside, inside.shape + (1,) * (x.ndim - axis - 1))
        return _poisoned(bare, inside, out, x.dtype)

    def take_along_axis(self, x, indices, /, *, axis=-1):
        bare = self._bare
        if not _floating(bare, x.dtype):
            return bare.take_along_axis(x, indices, axis=axis)
        size = x.shape[axis % x.ndim]
        inside, safe = _in_range(bare, indices, size, "take_along_axis", x.shape)
        out = bare.take_along_axis(x, safe, axis=axis)
        return _poisoned(bare, inside, out, x.dtype)


def _open_bounds(bare, dtype):
    """The bounds that clip nothing, for a dtype."""
    if bare.issubdtype(dtype, bare.integer):
        info = bare.iinfo(dtype)
        return int(info.min), int(info.max)
    return -math.inf, math.inf


def _floating(bare, dtype):
    return bare.issubdtype(dtype, bare.floating) or bare.issubdtype(dtype, bare.complexfloating)


def _poisoned(bare, inside, out, dtype):
    """`out` with NaN where `inside` is False. NaN goes in as a Python scalar: a device
    array made from it would be one more host-to-device copy per gather."""
    out = bare.where(inside, out, math.nan)
    return out if out.dtype == dtype else out.astype(dtype)


def _in_range(bare, indices, size, op, shape):
    """(mask of valid indices, indices with the invalid ones replaced by 0)."""
    indices = bare.asarray(indices)
    if size == 0:
        if indices.size:
            raise IndexError(f"{op}: indices into an empty axis of an array of shape {tuple(shape)}")
        return bare.ones(indices.shape, dtype=bool), indices
    inside = (indices >= -size) & (indices < size)
    return inside, bare.where(inside, indices, 0)
