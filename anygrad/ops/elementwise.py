"""Elementwise ops and their derivatives, one line of calculus each.

Each rule is `vjp(ns, g, ans, *inputs)`: `g` is the gradient of the output, `ans` the
output. Rules may return broadcast shapes; the engine sums them back.

`complex=True` marks the ops whose rules hold for complex inputs too. In the engine's
convention (see anygrad.engine) a holomorphic function's rule is g * f'(z), the real
rule as written, so arithmetic, exp/log/sqrt and the trigonometric and hyperbolic
functions take complex inputs unchanged (on the principal branches numpy uses). `abs`
is not holomorphic and conjugates its sign; the functions the standard defines for
real inputs only (maximum, atan2, logaddexp, ...) refuse complex inputs.
"""
from __future__ import annotations

import cmath
import math

from ..dtypes import is_complex
from ..engine import Op
from .registry import op, public

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


def _mask(ns, cond, g):
    """g where cond holds, else 0, for the derivatives of piecewise ops.

    Multiplying by the mask cast to g's dtype is ten times faster than `where` on
    numpy (bool * float itself is not portable). Unlike `where`, an inf or nan in g at
    a masked-out place stays nan; the `where` op keeps the exact selection semantics.
    """
    return g * ns.astype(cond, g.dtype)


# ---------------------------------------------------------------- arithmetic
# `promotes=0`: the inputs are brought to one dtype first (anygrad.dtypes decides which).
add = op("add", lambda xp, a, b: a + b,
         lambda ns, g, ans, a, b: g,
         lambda ns, g, ans, a, b: g,
         promotes=0, passes=(0, 1), complex=True, batch="elementwise",
         doc="a + b, elementwise (broadcasting).")
subtract = op("subtract", lambda xp, a, b: a - b,
              lambda ns, g, ans, a, b: g,
              lambda ns, g, ans, a, b: -g,
              promotes=0, passes=(0,), complex=True, batch="elementwise",
              doc="a - b, elementwise (broadcasting).")
multiply = op("multiply", lambda xp, a, b: a * b,
              lambda ns, g, ans, a, b: g * b,
              lambda ns, g, ans, a, b: g * a,
              promotes=0, complex=True, batch="elementwise",
              doc="a * b, elementwise (broadcasting).")
divide = op("divide", lambda xp, a, b: a / b,
            lambda ns, g, ans, a, b: g / b,
            lambda ns, g, ans, a, b: -g * ans / b,
            promotes=0, floating=True, complex=True, batch="elementwise",
            doc="a / b, elementwise: a true division, so integers give the default float.")
negative = op("negative", lambda xp, a: -a,
              lambda ns, g, ans, a: -g, complex=True, batch="elementwise",
              doc="-a, elementwise.")
positive = op("positive", lambda xp, a: +a,
              lambda ns, g, ans, a: g, passes=(0,), complex=True, batch="elementwise",
              doc="+a, elementwise: a's values.")
# a - b floor(a / b): the floor is locally constant.
remainder = op("remainder", lambda xp, a, b: xp.remainder(a, b),
               lambda ns, g, ans, a, b: g,
               lambda ns, g, ans, a, b: -g * ns.floor(a / b),
               promotes=0, passes=(0,), batch="elementwise",
               doc="a - b * floor(a / b), elementwise: the remainder with b's sign.")
# |a| with b's sign: a's sign flips where the two disagree; b only picks the sign.
copysign = op("copysign", lambda xp, a, b: xp.copysign(a, b),
              lambda ns, g, ans, a, b: g * ns.sign(a) * ns.sign(ans),
              lambda ns, g, ans, a, b: g * 0.0,
              promotes=0, floating=True, batch="elementwise",
              doc="|a| with the sign of b, elementwise. The gradient for b is 0.")


# d(a^b)/da = b a^(b-1) is 0 where b = 0, also at a = 0 (0 * inf otherwise): the exponent
# is nudged to 1 there so that no inf is formed, not even in a branch later masked away.
def _pow_vjp_base(ns, g, ans, a, b):
    if isinstance(b, (int, float, complex)):
        return g * 0.0 if b == 0 else g * b * a ** (b - 1)
    return g * b * a ** (ns.where(b == 0, 1.0, b) - 1)


# d(a^b)/db = a^b log a, taken as 0 where a = 0 (and a^b is finite), as PyTorch does.
def _pow_vjp_exponent(ns, g, ans, a, b):
    if isinstance(a, (int, float, complex)):
        if a == 0:
            return g * 0.0
        if isinstance(a, complex):
            return g * ans * cmath.log(a)
        return g * ans * (math.log(a) if a > 0 else math.nan)
    return g * ans * ns.log(ns.where(a == 0, 1.0, a))


pow = op("pow", lambda xp, a, b: a ** b, _pow_vjp_base, _pow_vjp_exponent, promotes=0,
         complex=True, batch="elementwise",
         doc="a to the power b, elementwise. The gradient for b is taken as 0 where a = 0.")
square = op("square", lambda xp, a: a * a,
            lambda ns, g, ans, a: g * 2 * a, complex=True, batch="elementwise",
            doc="a * a, elementwise.")

# ---------------------------------------------------------------- exponentials and logs
exp = op("exp", lambda xp, x: xp.exp(x),
         lambda ns, g, ans, x: g * ans,
         promotes=0, floating=True, complex=True, batch="elementwise",
         doc="e to the power of each element of x.")
expm1 = op("expm1", lambda xp, x: xp.expm1(x),
           lambda ns, g, ans, x: g * (ans + 1),
           promotes=0, floating=True, complex=True, batch="elementwise",
           doc="exp(x) - 1, elementwise, accurate for small x.")
log = op("log", lambda xp, x: xp.log(x),
         lambda ns, g, ans, x: g / x,
         promotes=0, floating=True, complex=True, batch="elementwise",
         doc="The natural logarithm of each element of x.")
log1p = op("log1p", lambda xp, x: xp.log1p(x),
           lambda ns, g, ans, x: g / (x + 1),
           promotes=0, floating=True, complex=True, batch="elementwise",
           doc="log(1 + x), elementwise, accurate for small x.")
sqrt = op("sqrt", lambda xp, x: xp.sqrt(x),
          lambda ns, g, ans, x: g / (ans * 2),
          promotes=0, floating=True, complex=True, batch="elementwise",
          doc="The square root of each element of x (the principal one for complex x).")
log2 = op("log2", lambda xp, x: xp.log2(x),
          lambda ns, g, ans, x: g / (x * _LN2),
          promotes=0, floating=True, complex=True, batch="elementwise",
          doc="The base-2 logarithm of each element of x.")
log10 = op("log10", lambda xp, x: xp.log10(x),
           lambda ns, g, ans, x: g / (x * _LN10),
           promotes=0, floating=True, complex=True, batch="elementwise",
           doc="The base-10 logarithm of each element of x.")
# d/da log(e^a + e^b) = e^(a - ans): the softmax weight of a, never overflowing.
logaddexp = op("logaddexp", lambda xp, a, b: xp.logaddexp(a, b),
               lambda ns, g, ans, a, b: g * ns.exp(a - ans),
               lambda ns, g, ans, a, b: g * ns.exp(b - ans),
               promotes=0, floating=True, batch="elementwise",
               doc="log(exp(a) + exp(b)), elementwise, without overflow.")


@public
def reciprocal(x):
    """1 / x, as a true division: integers give the default float."""
    return divide(1.0, x)

# ---------------------------------------------------------------- trigonometric and hyperbolic
sin = op("sin", lambda xp, x: xp.sin(x),
         lambda ns, g, ans, x: g * ns.cos(x),
         promotes=0, floating=True, complex=True, batch="elementwise",
         doc="The sine of each element of x, in radians.")
cos = op("cos", lambda xp, x: xp.cos(x),
         lambda ns, g, ans, x: -g * ns.sin(x),
         promotes=0, floating=True, complex=True, batch="elementwise",
         doc="The cosine of each element of x, in radians.")
tan = op("tan", lambda xp, x: xp.tan(x),
         lambda ns, g, ans, x: g * (1 + ans * ans),
         promotes=0, floating=True, complex=True, batch="elementwise",
         doc="The tangent of each element of x, in radians.")
asin = op("asin", lambda xp, x: xp.asin(x),
          lambda ns, g, ans, x: g / ns.sqrt(1 - x * x),
          promotes=0, floating=True, complex=True, batch="elementwise",
          doc="The inverse sine of each element of x, in radians.")
acos = op("acos", lambda xp, x: xp.acos(x),
          lambda ns, g, ans, x: -g / ns.sqrt(1 - x * x),
          promotes=0, floating=True, complex=True, batch="elementwise",
          doc="The inverse cosine of each element of x, in radians.")
atan = op("atan", lambda xp, x: xp.atan(x),
          lambda ns, g, ans, x: g / (1 + x * x),
          promotes=0, floating=True, complex=True, batch="elementwise",
          doc="The inverse tangent of each element of x, in radians.")
# atan2(y, x) is the angle of the point (x, y): its gradient is (x, -y) / (x^2 + y^2).
atan2 = op("atan2", lambda xp, y, x: xp.atan2(y, x),
           lambda ns, g, ans, y, x: g * x / (x * x + y * y),
           lambda ns, g, ans, y, x: -g * y / (x * x + y * y),
           promotes=0, floating=True, batch="elementwise",
           doc="The angle of the point (x, y) in radians, in [-pi, pi], elementwise.")
hypot = op("hypot", lambda xp, a, b: xp.hypot(a, b),
           lambda ns, g, ans, a, b: g * a / ans,
           lambda ns, g, ans, a, b: g * b / ans,
           promotes=0, floating=True, batch="elementwise",
           doc="sqrt(a^2 + b^2), elementwise, without overflow.")
sinh = op("sinh", lambda xp, x: xp.sinh(x),
          lambda ns, g, ans, x: g * ns.cosh(x),
          promotes=0, floating=True, complex=True, batch="elementwise",
          doc="The hyperbolic sine of each element of x.")
cosh = op("cosh", lambda xp, x: xp.cosh(x),
          lambda ns, g, ans, x: g * ns.sinh(x),
          promotes=0, floating=True, complex=True, batch="elementwise",
          doc="The hyperbolic cosine of each element of x.")
tanh = op("tanh", lambda xp, x: xp.tanh(x),
          lambda ns, g, ans, x: g * (1 - ans * ans),
          promotes=0, floating=True, complex=True, batch="elementwise",
          doc="The hyperbolic tangent of each element of x.")
asinh = op("asinh", lambda xp, x: xp.asinh(x),
           lambda ns, g, ans, x: g / ns.sqrt(x * x + 1),
           promotes=0, floating=True, complex=True, batch="elementwise",
           doc="The inverse hyperbolic sine of each element of x.")
# sqrt(x - 1) sqrt(x + 1) rather than sqrt(x^2 - 1): no cancellation as x nears 1.
acosh = op("acosh", lambda xp, x: xp.acosh(x),
           lambda ns, g, ans, x: g / (ns.sqrt(x - 1) * ns.sqrt(x + 1)),
           promotes=0, floating=True, complex=True, batch="elementwise",
           doc="The inverse hyperbolic cosine of each element of x.")
atanh = op("atanh", lambda xp, x: xp.atanh(x),
           lambda ns, g, ans, x: g / ((1 - x) * (1 + x)),
           promotes=0, floating=True, complex=True, batch="elementwise",
           doc="The inverse hyperbolic tangent of each element of x.")

# ---------------------------------------------------------------- piecewise
# |z| = sqrt(z conj(z)) is not holomorphic: in the engine's convention its rule is
# g conj(z) / |z|, PyTorch's g z / |z| conjugated (0 at z = 0, as sign(0) = 0). Unlike
# the real sign, z / |z| is not locally constant, so it is spelled out, to be
# differentiated again.
def _abs_vjp(ns, g, ans, x):
    if is_complex(x.dtype):
        return g * ns.conj(x) / ns.where(ans == 0, 1.0, ans)
    return g * ns.sign(x)


abs = op("abs", lambda xp, x: xp.abs(x), _abs_vjp, complex=True, batch="elementwise",
         doc="|x|, elementwise (the modulus for complex x). Its gradient at 0 is 0.")
# At a tie maximum and minimum split the gradient evenly between the inputs, as PyTorch does.
maximum = op("maximum", lambda xp, a, b: xp.maximum(a, b),
             lambda ns, g, ans, a, b: _mask(ns, a > b, g) + _mask(ns, a == b, g / 2),
             lambda ns, g, ans, a, b: _mask(ns, b > a, g) + _mask(ns, a == b, g / 2),
             promotes=0, batch="elementwise",
             doc="The larger of a and b, elementwise. At a tie the gradient is split evenly.")
minimum = op("minimum", lambda xp, a, b: xp.minimum(a, b),
             lambda ns, g, ans, a, b: _mask(ns, a < b, g) + _mask(ns, a == b, g / 2),
             lambda ns, g, ans, a, b: _mask(ns, b < a, g) + _mask(ns, a == b, g / 2),
             promotes=0, batch="elementwise",
             doc="The smaller of a and b, elementwise. At a tie the gradient is split evenly.")
relu = op("relu", lambda xp, x: xp.maximum(x, 0),
          lambda ns, g, ans, x: _mask(ns, x > 0, g), batch="elementwise",
          doc="max(x, 0), elementwise. Its gradient at 0 is 0.")
where = op("where", lambda xp, cond, a, b: xp.where(cond, a, b),
           None,
           lambda ns, g, ans, cond, a, b: ns.where(cond, g, 0.0),
           lambda ns, g, ans, cond, a, b: ns.where(cond, 0.0, g),
           promotes=1, complex=True, batch="elementwise",
           doc="a where cond holds, else b, elementwise (broadcasting); cond gets no gradient.")


def _clip_forward(xp, x, min=None, max=None):
    return xp.clip(x, min, max)


def _clip_vjp(ns, g, ans, x, min=None, max=None):
    # Inclusive bounds: the gradient passes where x sits exactly on a bound.
    inside = ans == x
    return _mask(ns, inside, g)


_clip = Op("clip", _clip_forward, _clip_vjp, batch="elementwise")


@public
def clip(x, min=None, max=None):
    """Limit x to [min, max]; Python numbers or None. The gradient passes where x is
    inside the bounds, ends included. Tensor bounds: use maximum/minimum."""
    from .. import dtypes
    from ..tensor import Tensor
    from .shape import astype

    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = x
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out
    bounds = [b for b in (min, max) if b is not None]
    wanted = dtypes.with_scalars(x.dtype.name, bounds)
    if wanted != x.dtype.name:  # float bounds on integers: clip as floats, as arithmetic
        x = astype(x, wanted)
    return _clip(x, min=min, max=max)


def _sigmoid_forward(xp, x):
    # Split by sign so neither branch overflows: 1/(1+e^-x) for x >= 0, e^x/(1+e^x) else.
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


sigmoid = op("sigmoid", _sigmoid_forward,
             lambda ns, g, ans, x: g * ans * (1 - ans),
             promotes=0, floating=True, batch="elementwise",
             doc="1 / (1 + exp(-x)), elementwise, without overflow.")
