"""Complex numbers: the real and imaginary parts, the conjugate, the angle.

The rules are in the engine's convention for complex tensors (see anygrad.engine): for
a real loss L, the gradient of a complex z inside the walk is dL/dRe(z) - i dL/dIm(z),
the conjugate of what `z.grad` shows. So real(z)'s rule hands g on as a complex number,
imag(z)'s hands on -i g, and conj's conjugates g. On real inputs they act as on a
complex number with no imaginary part, as numpy's do.
"""
from __future__ import annotations

from ..dtypes import is_complex
from .registry import op, public


def _as_complex_of(ns, g, z):
    """Real gradient g as a complex array of z's dtype."""
    return ns.astype(g, z.dtype)


def _real_vjp(ns, g, ans, z):
    return _as_complex_of(ns, g, z) if is_complex(z.dtype) else g


def _imag_forward(xp, z):
    return xp.imag(z) if is_complex(z.dtype) else xp.zeros_like(z)


def _imag_vjp(ns, g, ans, z):
    if not is_complex(z.dtype):
        return g * 0.0  # a real number's imaginary part is constant
    return _as_complex_of(ns, g, z) * -1j


real = op("real", lambda xp, z: xp.real(z), _real_vjp, passes=(0,), complex=True,
    batch="elementwise",
          doc="The real part of each element of z (z itself for real z).")
imag = op("imag", _imag_forward, _imag_vjp, complex=True, batch="elementwise",
          doc="The imaginary part of each element of z (zeros for real z).")
conj = op("conj", lambda xp, z: xp.conj(z), lambda ns, g, ans, z: ns.conj(g), complex=True,
    batch="elementwise",
          doc="The complex conjugate of each element of z (z itself for real z).")


@public
def angle(z):
    """The argument of each complex number, in (-pi, pi] (numpy's `angle`); 0 or pi for
    real numbers. Its gradient is undefined at 0."""
    from .elementwise import atan2

    return atan2(imag(z), real(z))
