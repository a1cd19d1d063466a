"""The standard's `fft` extension, differentiable: `ag.fft.fft`, `ag.fft.rfft`, ...

This module is also the `fft` namespace rules reach as `ns.fft` when gradients are
recorded, as the backend's own `xp.fft` serves them on raw arrays.

Three transforms carry rules; the others are built from them. Each transforms over
`axes` without changing sizes: the public functions first cut or zero-pad the input to
the sizes `n` / `s` ask for (as numpy does), a differentiable slice or join.
- fftn / ifftn (complex to complex): the DFT matrix is symmetric, so in the engine's
  convention (the transposed Jacobian, see anygrad.engine) the rule of each is the same
  transform with the same `norm`. (PyTorch's rule, in its conjugated convention, is the
  inverse transform with the other `norm`: the same thing.)
- rfftn (real to the one-sided half): keeping the first n//2 + 1 bins is transposed by
  zero-padding g back to n; then the full transform, and the real part for the real
  input (JAX's `_rfft_transpose`; PyTorch's `fft_r2c_backward`).
- irfftn (one-sided half to real): each bin k other than 0 and the Nyquist bin stands
  for bins k and n - k of the Hermitian spectrum, so the one-sided transform of g has
  those bins doubled (PyTorch's `fft_c2r_backward`, JAX's `_irfft_transpose`).
hfft and ihfft are irfft and rfft of the conjugate with the `norm` direction swapped,
fftshift and ifftshift are rolls, fftfreq and rfftfreq are constants.

As the standard says, fft/ifft/fftn/ifftn/irfft/irfftn/hfft take complex input, rfft,
rfftn, ihfft real input; a real input to the complex transforms is taken as complex (a
differentiable cast: its gradient is real), integers as the default float.
"""
from __future__ import annotations

from .. import dtypes
from ..engine import Op
from .registry import public

_NORMS = ("backward", "ortho", "forward")
# The scale an inverse transform needs to be the transpose of a forward one.
_SWAPPED = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


# ---------------------------------------------------------------- the three transforms
def _fftn_forward(xp, x, axes, norm):
    return xp.fft.fftn(x, axes=axes, norm=norm)


def _ifftn_forward(xp, x, axes, norm):
    return xp.fft.ifftn(x, axes=axes, norm=norm)


_fftn = Op("fft.fftn", _fftn_forward,
           lambda ns, g, ans, x, axes, norm: ns.fft.fftn(g, axes=axes, norm=norm),
           complex=True, batch="fft")
_ifftn = Op("fft.ifftn", _ifftn_forward,
            lambda ns, g, ans, x, axes, norm: ns.fft.ifftn(g, axes=axes, norm=norm),
            complex=True, batch="fft")


def _rfftn_forward(xp, x, axes, norm):
    return xp.fft.rfftn(x, axes=axes, norm=norm)


def _rfftn_vjp(ns, g, ans, x, axes, norm):
    sizes = [x.shape[a] for a in axes]  # fftn's s zero-pads the half spectrum back to n
    return ns.real(ns.fft.fftn(g, s=sizes, axes=axes, norm=norm))


_rfftn = Op("fft.rfftn", _rfftn_forward, _rfftn_vjp, complex=True, batch="fft")


def _irfftn_forward(xp, x, sizes, axes, norm):
    return xp.fft.irfftn(x, s=sizes, axes=axes, norm=norm)


def _irfftn_vjp(ns, g, ans, x, sizes, axes, norm):
    half = ns.fft.rfftn(g, axes=axes, norm=_SWAPPED[norm])
    last = axes[-1]
    twice = sizes[-1] - half.shape[last]  # bins 1 .. twice stand for two bins each
    if twice > 0:
        before = (slice(None),) * last
        pieces = [half[before + (slice(0, 1), ...)], half[before + (slice(1, 1 + twice), ...)] * 2]
        if half.shape[last] > 1 + twice:  # the Nyquist bin, for even n
            pieces.append(half[before + (slice(1 + twice, None), ...)])
        half = ns.concat(pieces, axis=last)
    return ns.conj(half)


_irfftn = Op("fft.irfftn", _irfftn_forward, _irfftn_vjp, complex=True, batch="fft")


# ---------------------------------------------------------------- arguments
def _prepare(name, x, norm):
    """x as a tensor on a backend with an fft extension; `norm` checked."""
    from ..creation import as_tensor

    x = as_tensor(x)
    if getattr(x.backend.xp, "fft", None) is None:
        raise NotImplementedError(
            f"fft.{name}: the {x.backend.name!r} backend's namespace has no fft extension"
        )
    if norm not in _NORMS:
        raise ValueError(f"fft.{name}: norm must be one of {_NORMS}, got {norm!r}")
    return x


def _plan(name, x, s, axes):
    """The standard's reading of (s, axes): the axes transformed (non-negative) and the
    size asked along each, None where the input's own size stands."""
    if axes is None:
        axes = tuple(range(x.ndim)) if s is None else tuple(range(x.ndim - len(s), x.ndim))
    axes = tuple(axes)
    if not axes:
        raise ValueError(f"fft.{name}: no axes to transform (axes=())")
    if any(not -x.ndim <= a < x.ndim for a in axes) or x.ndim == 0:
        raise ValueError(f"fft.{name}: axes {axes} out of range for an input of shape {x.shape}")
    axes = tuple(a % x.ndim for a in axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"fft.{name}: axes {axes} name an axis twice")
    if s is None:
        return axes, [None] * len(axes)
    s = tuple(s)
    if len(s) != len(axes):
        raise ValueError(f"fft.{name}: s {s} and axes {axes} differ in length")
    if any(n != -1 and n < 1 for n in s):
        raise ValueError(f"fft.{name}: sizes must be positive, got s={s}")
    return axes, [None if n == -1 else n for n in s]


def _resize(x, axis, n):
    """x cut or zero-padded at the end to size n along `axis`, as fft's `n` does."""
    from ..creation import zeros
    from .shape import concat

    have = x.shape[axis]
    if n is None or n == have:
        return x
    before = (slice(None),) * axis
    if n < have:
        return x[before + (slice(0, n), ...)]
    shape = tuple(n - have if i == axis else k for i, k in enumerate(x.shape))
    pad = zeros(shape, dtype=x.array.dtype, backend=x.backend, device=x.device)
    return concat([x, pad], axis=axis)


def _floating(x):
    """Integer and boolean input as the default float, as exp takes it."""
    from .shape import astype

    if x.dtype.is_floating:
        return x
    return astype(x, dtypes.get_default_dtype().name)


def _as_complex(x):
    from .shape import astype

    x = _floating(x)
    name = dtypes.complex_name(x.dtype.name)
    return x if name == x.dtype.name else astype(x, name)


def _as_real(name, x):
    if dtypes.is_complex(x.array.dtype):
        raise TypeError(
            f"fft.{name}: expects a real input, got {x.dtype} of shape {x.shape}; use "
            "fft.fft / fft.fftn for complex input"
        )
    return _floating(x)


def _on_resized(name, transform, x, s, axes, norm):
    """`transform` (fftn, ifftn, rfftn) of x cut or zero-padded to the sizes `s` along
    `axes`. (The inverse real transforms read `s` as the output's sizes instead.)"""
    x = _prepare(name, x, norm)
    axes, sizes = _plan(name, x, s, axes)
    x = _as_real(name, x) if transform is _rfftn else _as_complex(x)
    for a, n in zip(axes, sizes):
        x = _resize(x, a, n)
    return transform(x, axes=axes, norm=norm)


def _half_to_real(name, x, s, axes, norm):
    x = _prepare(name, x, norm)
    axes, sizes = _plan(name, x, s, axes)
    last = axes[-1]
    if sizes[-1] is None:
        sizes[-1] = 2 * (x.shape[last] - 1)
        if sizes[-1] < 1:
            raise ValueError(
                f"fft.{name}: the output size 2 * ({x.shape[last]} - 1) along axis {last} "
                "is not positive; pass it as n (or s)"
            )
    sizes = [x.shape[a] if n is None else n for a, n in zip(axes, sizes)]
    x = _as_complex(x)
    for a, n in zip(axes[:-1], sizes[:-1]):
        x = _resize(x, a, n)
    x = _resize(x, last, sizes[-1] // 2 + 1)
    return _irfftn(x, sizes=tuple(sizes), axes=axes, norm=norm)


def _one(n):
    return None if n is None else (n,)


# ---------------------------------------------------------------- the extension
@public(extension="fft")
def fft(x, /, *, n=None, axis=-1, norm="backward"):
    """The one-dimensional discrete Fourier transform along `axis`, of length `n` (the
    input cut or zero-padded to it)."""
    return _on_resized("fft", _fftn, x, _one(n), (axis,), norm)


@public(extension="fft")
def ifft(x, /, *, n=None, axis=-1, norm="backward"):
    """The one-dimensional inverse discrete Fourier transform along `axis`."""
    return _on_resized("ifft", _ifftn, x, _one(n), (axis,), norm)


@public(extension="fft")
def fftn(x, /, *, s=None, axes=None, norm="backward"):
    """The n-dimensional discrete Fourier transform over `axes` (sizes `s`)."""
    return _on_resized("fftn", _fftn, x, s, axes, norm)


@public(extension="fft")
def ifftn(x, /, *, s=None, axes=None, norm="backward"):
    """The n-dimensional inverse discrete Fourier transform over `axes` (sizes `s`)."""
    return _on_resized("ifftn", _ifftn, x, s, axes, norm)


@public(extension="fft")
def rfft(x, /, *, n=None, axis=-1, norm="backward"):
    """The transform of a real signal: the n // 2 + 1 bins of non-negative frequency."""
    return _on_resized("rfft", _rfftn, x, _one(n), (axis,), norm)


@public(extension="fft")
def irfft(x, /, *, n=None, axis=-1, norm="backward"):
    """The real signal of length `n` (default 2 (m - 1)) whose rfft is the Hermitian
    half spectrum x; the imaginary parts of its bin 0 (and Nyquist bin) are ignored."""
    return _half_to_real("irfft", x, _one(n), (axis,), norm)


@public(extension="fft")
def rfftn(x, /, *, s=None, axes=None, norm="backward"):
    """The n-dimensional transform of a real signal, one-sided along the last of `axes`."""
    return _on_resized("rfftn", _rfftn, x, s, axes, norm)


@public(extension="fft")
def irfftn(x, /, *, s=None, axes=None, norm="backward"):
    """The inverse of rfftn: a real signal of sizes `s` from its one-sided spectrum."""
    return _half_to_real("irfftn", x, s, axes, norm)


@public(extension="fft")
def hfft(x, /, *, n=None, axis=-1, norm="backward"):
    """The real spectrum of a signal with Hermitian symmetry given by its first half."""
    from .complex import conj

    x = _prepare("hfft", x, norm)
    return _half_to_real("hfft", conj(_as_complex(x)), _one(n), (axis,), _SWAPPED[norm])


@public(extension="fft")
def ihfft(x, /, *, n=None, axis=-1, norm="backward"):
    """The inverse of hfft: the half spectrum of a real signal, conjugated."""
    from .complex import conj

    return conj(_on_resized("ihfft", _rfftn, x, _one(n), (axis,), _SWAPPED[norm]))


def _shifted(x, axes, sign):
    from ..creation import as_tensor
    from .rearrange import roll

    x = as_tensor(x)  # a roll: no fft needed from the backend
    axes = tuple(range(x.ndim)) if axes is None else (
        (axes,) if isinstance(axes, int) else tuple(axes))
    return roll(x, tuple(sign * (x.shape[a] // 2) for a in axes), axis=axes)


@public(extension="fft")
def fftshift(x, /, *, axes=None):
    """The zero frequency moved to the middle: a roll by n // 2 along each of `axes`."""
    return _shifted(x, axes, 1)


@public(extension="fft")
def ifftshift(x, /, *, axes=None):
    """The inverse of fftshift: a roll by -(n // 2) along each of `axes`."""
    return _shifted(x, axes, -1)


def _frequencies(name, n, d, dtype, device, backend):
    from ..backends import get_backend
    from ..engine import _wrap

    b = get_backend(backend)
    if getattr(b.xp, "fft", None) is None:
        raise NotImplementedError(f"fft.{name}: the {b.name!r} backend's namespace has no fft "
                                  "extension")
    native = b.dtype(dtype if dtype is not None else dtypes.get_default_dtype().name)
    kwargs = {"d": d, "dtype": native}
    if device is not None or b.default_device() is not None:
        kwargs["device"] = device if device is not None else b.default_device()
    return _wrap(getattr(b.xp.fft, name)(n, **kwargs), b)


@public(extension="fft", differentiable=False)
def fftfreq(n, /, *, d=1.0, dtype=None, device=None, backend=None):
    """The sample frequencies of an n-point fft, for sample spacing d (a constant)."""
    return _frequencies("fftfreq", n, d, dtype, device, backend)


@public(extension="fft", differentiable=False)
def rfftfreq(n, /, *, d=1.0, dtype=None, device=None, backend=None):
    """The non-negative sample frequencies of an n-point rfft (a constant)."""
    return _frequencies("rfftfreq", n, d, dtype, device, backend)


__all__ = ["fft", "ifft", "fftn", "ifftn", "rfft", "irfft", "rfftn", "irfftn", "hfft", "ihfft",
           "fftfreq", "rfftfreq", "fftshift", "ifftshift"]
