"""Special functions the standard lacks: the error function family, the gamma family,
modified Bessel functions, and the small logarithmic helpers statistics is written in.

Each forward is written with the standard's elementwise functions, so it runs on every
backend, in the input's floating dtype, with no data-dependent control flow: every branch
is evaluated everywhere on an argument clamped to where it is valid, and `where` picks.
Each states its derivative next to its forward; a derivative that is itself a special
function (gammaln' = digamma, i0' = i1) is that op, recorded when gradients of gradients
are (see `_special`), so second derivatives work everywhere too.

The algorithms are public-domain ones: Cephes (S. L. Moshier) rational approximations and
recurrences, Stirling and Euler-Maclaurin asymptotic series, power series.
"""
from __future__ import annotations

import math
import operator
from types import ModuleType

from ..engine import Op
from .registry import op, public

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2.0
_SQRT_HALF = math.sqrt(0.5)
_SQRT_TWO_OVER_PI = math.sqrt(2.0 / math.pi)
_LOG_SQRT_TWO_PI = 0.5 * math.log(2.0 * math.pi)
_LOG_PI = math.log(math.pi)
_EULER_GAMMA = 0.57721566490153286061
_PI_SQUARED_OVER_12 = math.pi ** 2 / 12.0


def _polynomial(x, coefficients):
    """Horner's rule, highest power first."""
    out = coefficients[0]
    for c in coefficients[1:]:
        out = out * x + c
    return out


def _special(ns, graph_op, forward, *args, **params):
    """A special function inside a backward rule: the op itself where the rule records a
    graph (`ns` is anygrad.ops), so that it can be differentiated again; its forward on
    the raw namespace otherwise."""
    if isinstance(ns, ModuleType):
        return graph_op(*args, **params)
    return forward(ns, *args, **params)


# ================================================================ error functions
# Cephes' rational approximations (scipy's ndtr uses the same): erf(x) = x T(x^2) / U(x^2)
# for |x| <= 1; erfc(x) = e^{-x^2} P(x) / Q(x) for 1 <= x < 8 and e^{-x^2} R(x) / S(x)
# beyond, so erfcx(x) = e^{x^2} erfc(x) is P / Q or R / S itself. Double precision.
_T = (9.60497373987051638749e0, 9.00260197203842689217e1, 2.23200534594684319226e3,
      7.00332514112805075473e3, 5.55923013010394962768e4)
_U = (1.0, 3.35617141647503099647e1, 5.21357949780152679795e2, 4.59432382970980127987e3,
      2.26290000613890934246e4, 4.92673942608635921086e4)
_P = (2.46196981473530512524e-10, 5.64189564831068821977e-1, 7.46321056442269912687e0,
      4.86371970985681366614e1, 1.96520832956077098242e2, 5.26445194995477358631e2,
      9.34528527171957607540e2, 1.02755188689515710272e3, 5.57535335369399327526e2)
_Q = (1.0, 1.32281951154744992508e1, 8.67072140885989742329e1, 3.54937778887819891062e2,
      9.75708501743205489753e2, 1.82390916687909736289e3, 2.24633760818710981792e3,
      1.65666309194161350182e3, 5.57535340817727675546e2)
_R = (5.64189583547755073984e-1, 1.27536670759978104416e0, 5.01905042251180477414e0,
      6.16021097993053585195e0, 7.40974269950448939160e0, 2.97886665372100240670e0)
_S = (1.0, 2.26052863220117276590e0, 9.39603524938001434673e0, 1.20489539808096656605e1,
      1.70814450747565897222e1, 9.60896809063285878198e0, 3.36907645100081516050e0)


def _erf_near(xp, x):
    """erf on |x| <= 1 (x clamped there)."""
    small = xp.clip(x, -1.0, 1.0)
    z = small * small
    return small * _polynomial(z, _T) / _polynomial(z, _U)


def _erfcx_far(xp, ax):
    """e^{x^2} erfc(x) for x >= 1 (ax clamped there). R / S tends to 1 / (x sqrt(pi)),
    the function's own asymptote, so it holds far beyond where erfc underflows; past
    1e5, where its powers would overflow, the first two terms of the asymptotic series
    1 / (x sqrt pi) (1 - 1 / 2x^2 + ...) are exact to double precision."""
    middle = xp.clip(ax, 1.0, 8.0)
    far = xp.clip(ax, 8.0, 1e5)
    huge = xp.clip(ax, 1e5, None)
    asymptote = (1.0 - 0.5 / (huge * huge)) / (huge * math.sqrt(math.pi))
    return xp.where(ax < 8.0, _polynomial(middle, _P) / _polynomial(middle, _Q),
                    xp.where(ax < 1e5, _polynomial(far, _R) / _polynomial(far, _S), asymptote))


def _exp_square(xp, x, factor):
    """e^{factor x^2} (factor +-1 or -1/2) without the error of rounding x^2: x = m + f
    with m on a 1/128 grid, so m^2 is exact and only the small 2mf + f^2 is rounded
    (Cephes' expx2)."""
    m = xp.floor(x * 128.0 + 0.5) / 128.0
    f = x - m
    return xp.exp(factor * (m * m)) * xp.exp(factor * (2.0 * m * f + f * f))


def _erfc_positive(xp, ax):
    """erfc on x >= 0."""
    tail = _exp_square(xp, xp.clip(ax, 1.0, 30.0), -1.0) * _erfcx_far(xp, ax)
    return xp.where(ax < 1.0, 1.0 - _erf_near(xp, ax), xp.where(ax < 30.0, tail, 0.0))


def _erf_forward(xp, x):
    ax = xp.abs(x)
    # 1 - erfc: next to 1, erfc needs no exact e^{-x^2} (_exp_square), a plain exp will do.
    far = xp.clip(ax, 1.0, 8.0)
    tail = xp.exp(-(far * far)) * _polynomial(far, _P) / _polynomial(far, _Q)
    magnitude = xp.where(ax <= 1.0, _erf_near(xp, ax), xp.where(ax < 8.0, 1.0 - tail, 1.0))
    return xp.where(x < 0, -magnitude, magnitude)


def _erfc_forward(xp, x):
    positive = _erfc_positive(xp, xp.abs(x))
    return xp.where(x < 0, 2.0 - positive, positive)


def _erfcx_forward(xp, x):
    ax = xp.abs(x)
    near = _exp_square(xp, xp.clip(ax, None, 1.0), 1.0) * (1.0 - _erf_near(xp, ax))
    positive = xp.where(ax < 1.0, near, _erfcx_far(xp, ax))
    # erfcx(-x) = 2 e^{x^2} - erfcx(x), infinite once 2 e^{x^2} passes the dtype's largest
    # value.
    limit = math.sqrt(math.log(float(xp.finfo(x.dtype).max) / 2.0))
    negative = 2.0 * _exp_square(xp, xp.clip(ax, None, limit), 1.0) - positive
    return xp.where(x >= 0, positive, xp.where(ax <= limit, negative, math.inf))


def _gaussian(ns, x):
    """2 / sqrt(pi) e^{-x^2}: the derivative of erf."""
    return _TWO_OVER_SQRT_PI * ns.exp(-(x * x))


erf = op("erf", _erf_forward,
         lambda ns, g, ans, x: g * _gaussian(ns, x),
         floating=True, batch="elementwise",
         doc="The error function of each element of x.")
erfc = op("erfc", _erfc_forward,
          lambda ns, g, ans, x: -g * _gaussian(ns, x),
          floating=True, batch="elementwise",
          doc="1 - erf(x), elementwise, accurate for large x.")
erfcx = op("erfcx", _erfcx_forward,
           lambda ns, g, ans, x: g * (2.0 * x * ans - _TWO_OVER_SQRT_PI),
           floating=True, batch="elementwise",
           doc="exp(x^2) erfc(x), elementwise: the scaled complementary error function.")


def _ndtr_forward(xp, x):
    # erf near 0; in the tails e^{-x^2/2} erfcx(|x| / sqrt 2) / 2, with e^{-x^2/2} formed
    # from x itself: erfc(|x| / sqrt 2) would carry the rounding of x / sqrt 2 into its
    # exponential, an error of x^2 ulps.
    t = x * _SQRT_HALF
    ax = xp.clip(xp.abs(x), None, 40.0)  # beyond, the tail is 0 in double precision
    tail = 0.5 * _exp_square(xp, ax, -0.5) * _erfcx_forward(xp, ax * _SQRT_HALF)
    return xp.where(xp.abs(t) < _SQRT_HALF, 0.5 + 0.5 * _erf_forward(xp, t),
                    xp.where(x > 0, 1.0 - tail, tail))


def _log_ndtr_forward(xp, x):
    # Left of 0, log Phi(x) = log(erfcx(-x / sqrt 2) / 2) - x^2 / 2: no underflow however
    # far out. Right of 0, log1p of the small upper tail.
    t = x * _SQRT_HALF
    left = xp.log(0.5 * _erfcx_forward(xp, -xp.clip(t, None, 0.0))) - 0.5 * x * x
    right = xp.log1p(-_ndtr_forward(xp, -xp.clip(x, 0.0, None)))
    return xp.where(x < 0, left, right)


ndtr = op("ndtr", _ndtr_forward,
          lambda ns, g, ans, x: g * ns.exp(-0.5 * (x * x)) / math.sqrt(2.0 * math.pi),
          floating=True, batch="elementwise",
          doc="The standard normal cumulative distribution function at each element of x.")
# (log Phi)' = phi / Phi = sqrt(2 / pi) / erfcx(-x / sqrt 2): finite however far out.
log_ndtr = op("log_ndtr", _log_ndtr_forward,
              lambda ns, g, ans, x: g * _SQRT_TWO_OVER_PI
              / _special(ns, erfcx, _erfcx_forward, -x * _SQRT_HALF),
              floating=True, batch="elementwise",
              doc="log(ndtr(x)), elementwise, accurate far in the tails.")

# Giles' single-precision approximation of erfinv ("Approximating the erfinv function",
# GPU Computing Gems, 2011) in w = -log(1 - y^2), a starting point that Halley's method
# on erf (or, in the tails, on erfc) takes to double precision.
_GILES_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                  0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_GILES_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
               0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


def _inverse_erf(xp, y, c):
    """The x >= 0 with erf(x) = y, given y in [0, 1] and c = 1 - y, each accurate
    (y near 0, c near 0)."""
    tiny = xp.where(c > 0.0, c, 1.0)  # c = 0 (y = 1) is set to inf below
    w = -xp.log(tiny * (1.0 + y))
    central = _polynomial(xp.clip(w, None, 5.0) - 2.5, _GILES_CENTRAL) * y
    tail = _polynomial(xp.sqrt(xp.clip(w, 5.0, 16.0)) - 3.0, _GILES_TAIL) * y
    # Beyond Giles' (single-precision) range, the asymptote erfc(x) ~ e^{-x^2} / (x sqrt pi).
    log_c = xp.clip(-xp.log(tiny), 16.0, None)
    far = xp.sqrt(log_c - xp.log(xp.sqrt(log_c) * math.sqrt(math.pi)))
    x = xp.where(w < 5.0, central, xp.where(w < 16.0, tail, far))
    for _ in range(2):  # each step cubes the relative error: 1e-7 -> 1e-21
        # Halley's step for h(x) = erf(x) - y or erfc(x) - c, which both have
        # h'' = -2x h': x -= u / (1 + x u) with u = h / h'. In the tail u is formed from
        # erfcx, so that neither e^{-x^2} nor c e^{x^2} under- or overflows.
        ax = xp.clip(x, 0.0, None)
        central_u = (_erf_forward(xp, ax) - y) / (_TWO_OVER_SQRT_PI * xp.exp(-(ax * ax)))
        tail_u = -(_erfcx_forward(xp, ax) - xp.exp(ax * ax + xp.log(tiny))) * _SQRT_PI_OVER_TWO
        u = xp.where(y < 0.5, central_u, tail_u)
        x = x - u / (1.0 + x * u)
    x = xp.where(c == 0.0, math.inf, x)
    return xp.where(y == 0.0, 0.0, x)


def _erfinv_forward(xp, y):
    a = xp.abs(y)
    x = _inverse_erf(xp, a, 1.0 - a)  # 1 - |y| is exact where the tail needs it
    x = xp.where(a > 1.0, math.nan, x)
    return xp.where(y < 0, -x, x)


def _erfcinv_forward(xp, c):
    # erfcinv(c) = erfinv(1 - c), with c itself (or 2 - c) as the accurate tail.
    upper = c > 1.0
    tail = xp.where(upper, 2.0 - c, c)
    x = _inverse_erf(xp, 1.0 - tail, tail)
    x = xp.where((c < 0.0) | (c > 2.0), math.nan, x)
    return xp.where(upper, -x, x)


erfinv = op("erfinv", _erfinv_forward,
            lambda ns, g, ans, y: g * _SQRT_PI_OVER_TWO * ns.exp(ans * ans),
            floating=True, batch="elementwise",
            doc="The inverse of the error function, elementwise, for y in [-1, 1].")
erfcinv = op("erfcinv", _erfcinv_forward,
             lambda ns, g, ans, c: -g * _SQRT_PI_OVER_TWO * ns.exp(ans * ans),
             floating=True, batch="elementwise",
             doc="The inverse of erfc, elementwise, for c in [0, 2].")


def _ndtri_forward(xp, p):
    # -sqrt 2 erfcinv(2p) below 1/2 and sqrt 2 erfcinv(2(1 - p)) above: 2p and 2(1 - p)
    # are exact on the side each is used, so both tails keep their accuracy.
    upper = p >= 0.5
    x = _erfcinv_forward(xp, xp.where(upper, 2.0 * (1.0 - p), 2.0 * p)) * math.sqrt(2.0)
    x = xp.where(upper, x, -x)
    return xp.where((p < 0.0) | (p > 1.0), math.nan, x)


# The inverse of ndtr, the standard normal quantile: its derivative is 1 / phi(ans).
ndtri = op("ndtri", _ndtri_forward,
           lambda ns, g, ans, p: g * math.sqrt(2.0 * math.pi) * ns.exp(0.5 * (ans * ans)),
           floating=True, batch="elementwise",
           doc="The inverse of ndtr, elementwise: the standard normal quantile of p.")


# ================================================================ gamma family
# Cephes' lgam: for x >= 13 Stirling's series with the minimax-adjusted Bernoulli terms
# _STIRLING; below, the recurrence Gamma(x + 1) = x Gamma(x) onto [2, 3], where
# log Gamma(2 + u) = u B(u) / C(u). Negative x by reflection.
_STIRLING = (8.11614167470508450300e-4, -5.95061904284301438324e-4,
             7.93650340457716943945e-4, -2.77777777730099687205e-3,
             8.33333333333331927722e-2)
_LGAM_B = (-1.37825152569120859100e3, -3.88016315134637840924e4, -3.31612992738871184744e5,
           -1.16237097492762307383e6, -1.72173700820839662146e6, -8.53555664245765465627e5)
_LGAM_C = (1.0, -3.51815701436523470549e2, -1.70642106651881159223e4,
           -2.20528590553854454839e5, -1.13933444367982507207e6,
           -2.53252307177582951285e6, -2.01889141433532773231e6)


def _sin_pi(xp, x):
    """sin(pi x) reduced exactly to |r| <= 1/2 first, so large |x| loses nothing."""
    n = xp.round(x)
    r = x - n
    parity = xp.remainder(n, 2.0)
    s = xp.sin(math.pi * r)
    return xp.where(parity == 0.0, s, -s)


def _gammaln_positive(xp, x):
    """log Gamma(x) for x > 0."""
    large = xp.clip(x, 13.0, None)
    inverse = 1.0 / large
    stirling = ((large - 0.5) * xp.log(large) - large + _LOG_SQRT_TWO_PI
                + _polynomial(inverse * inverse, _STIRLING) * inverse)
    u = xp.clip(xp.where(x > 0.0, x, 1.0), None, 13.0)
    scale = xp.ones_like(u)
    for _ in range(10):  # down onto [2, 3): Gamma(u) = (u - 1) Gamma(u - 1)
        down = u >= 3.0
        u = xp.where(down, u - 1.0, u)
        scale = xp.where(down, scale * u, scale)
    for _ in range(2):  # up onto [2, 3): Gamma(u) = Gamma(u + 1) / u
        up = u < 2.0
        scale = xp.where(up, scale / u, scale)
        u = xp.where(up, u + 1.0, u)
    v = u - 2.0
    small = xp.log(scale) + v * _polynomial(v, _LGAM_B) / _polynomial(v, _LGAM_C)
    # Near 0, where 1 / x would overflow: log Gamma(x) = -log x - gamma x + pi^2 x^2 / 12
    # + O(x^3).
    tiny = xp.clip(x, 0.0, 1e-6)
    near_zero = -xp.log(xp.where(tiny > 0.0, tiny, 1.0)) + tiny * (_PI_SQUARED_OVER_12 * tiny
                                                                     - _EULER_GAMMA)
    return xp.where(x < 1e-6, near_zero, xp.where(x < 13.0, small, stirling))


def _gammaln_forward(xp, x):
    # log|Gamma(x)| = log(pi / |sin(pi x)|) - log Gamma(1 - x) for x < 0: inf at the poles.
    positive = _gammaln_positive(xp, xp.where(x < 0.0, 1.0 - x, x))
    sine = xp.where(x < 0.0, xp.abs(_sin_pi(xp, x)), 1.0)
    reflected = _LOG_PI - xp.log(sine) - positive
    out = xp.where(x < 0.0, reflected, positive)
    return xp.where(x == 0.0, math.inf, out)


def _gammasgn_forward(xp, x):
    # Gamma is negative on (-1, 0), (-3, -2), ...: where floor(x) is odd.
    odd = xp.remainder(xp.floor(x), 2.0) == 1.0
    return xp.where((x < 0.0) & odd, -1.0, xp.where(x == 0.0, xp.zeros_like(x), 1.0))


gammasgn = op("gammasgn", _gammasgn_forward, floating=True, batch="elementwise",
              doc="The sign of Gamma(x), elementwise (0 at 0). No gradient.")

# psi(x) = log x - 1 / 2x - sum_k B_2k / (2k x^2k) for x >= 10 (Stirling's series,
# differentiated), below by psi(x) = psi(x + 1) - 1 / x; negative x by reflection.
_BERNOULLI = (1.0 / 6, -1.0 / 30, 1.0 / 42, -1.0 / 30, 5.0 / 66, -691.0 / 2730, 7.0 / 6,
              -3617.0 / 510)
_PSI_SERIES = tuple(b / (2 * k) for k, b in reversed(list(enumerate(_BERNOULLI, 1))))


def _digamma_positive(xp, x):
    u = xp.where(x > 0.0, x, 1.0)
    shift = xp.zeros_like(u)
    for _ in range(10):
        low = u < 10.0
        shift = xp.where(low, shift + 1.0 / u, shift)
        u = xp.where(low, u + 1.0, u)
    z = 1.0 / (u * u)
    return xp.log(u) - 0.5 / u - z * _polynomial(z, _PSI_SERIES) - shift


def _cot_derivative(n):
    """Coefficients (lowest power first) of P_n with d^n/dx^n cot(pi x) = pi^n P_n(cot):
    P_0(c) = c and P_{k+1}(c) = -(1 + c^2) P_k'(c), as cot' = -pi (1 + cot^2)."""
    p = [0, 1]
    for _ in range(n):
        d = [k * p[k] for k in range(1, len(p))] + [0]
        p = [-(d[k] if k < len(d) else 0) - (d[k - 2] if k >= 2 else 0)
             for k in range(len(d) + 2)]
    return p


def _polygamma_forward(xp, x, n=0):
    # psi^(n)(x) = (-1)^n psi^(n)(1 - x) - pi^{n+1} P_n(cot(pi x)) for x < 0, the
    # reflection psi(1 - x) - psi(x) = pi cot(pi x) differentiated n times.
    positive_at = xp.where(x < 0.0, 1.0 - x, x)
    if n == 0:
        positive = _digamma_positive(xp, positive_at)
    else:
        positive = _hurwitz_polygamma(xp, positive_at, n)
    r = x - xp.round(x)
    cot = 1.0 / xp.tan(math.pi * xp.where(r == 0.0, 0.5, r))
    cot_part = _polynomial(cot, _cot_derivative(n)[::-1]) * math.pi ** (n + 1)
    reflected = (-1.0) ** n * positive - cot_part
    out = xp.where(x < 0.0, reflected, positive)
    # The poles at 0, -1, -2, ...: zeta(n + 1, q) is +inf there, as in scipy; digamma
    # tends to -inf from the right of 0 and +inf from the left of -0, with no limit at
    # the negative integers.
    pole = (x <= 0.0) & (r == 0.0)
    if n == 0:
        return xp.where(pole, xp.where(x == 0.0, -xp.copysign(xp.ones_like(x), x) * math.inf,
                                       math.nan), out)
    return xp.where(pole, (-1.0) ** (n + 1) * math.inf, out)


def _hurwitz_polygamma(xp, q, n):
    """(-1)^{n+1} n! zeta(n + 1, q) for q > 0: the first terms of the sum directly, the
    rest by Euler-Maclaurin (as Cephes' zeta), with enough direct terms for the
    remainder to be below double precision for this n."""
    s = n + 1
    terms = 10 + 2 * n
    total = xp.zeros_like(q)
    for k in range(terms):
        total = total + (q + float(k)) ** (-s)
    a = q + float(terms)
    total = total + a ** (1 - s) / (s - 1) + 0.5 * a ** (-s)
    factor = float(s)  # s (s + 1) ... (s + 2j - 2) / (2j)!
    power = a ** (-s - 1)
    for j, b in enumerate(_BERNOULLI + (43867.0 / 798, -174611.0 / 330), 1):
        if j > 1:
            factor *= (s + 2 * j - 3) * (s + 2 * j - 2) / ((2 * j - 1) * (2 * j))
        else:
            factor /= 2.0
        total = total + b * factor * power
        power = power / (a * a)
    return (-1.0) ** (n + 1) * math.factorial(n) * total


_polygamma = Op("polygamma", _polygamma_forward,
                lambda ns, g, ans, x, n=0: g * _special(ns, _polygamma, _polygamma_forward,
                                                         x, n=n + 1),
                floating=True, batch="elementwise")
gammaln = op("gammaln", _gammaln_forward,
             lambda ns, g, ans, x: g * _special(ns, _polygamma, _polygamma_forward, x, n=0),
             floating=True, batch="elementwise",
             doc="log |Gamma(x)|, elementwise.")


@public
def digamma(x):
    """psi(x) = Gamma'(x) / Gamma(x)."""
    return _polygamma(x, n=0)


@public
def polygamma(n, x):
    """The n-th derivative of digamma; n one non-negative integer (a Python or numpy int:
    the order decides the algorithm, so it is not an array)."""
    return _polygamma(x, n=_order("polygamma", "the order n", n, 0))


def _order(name, what, n, least):
    """n as a Python int >= least, or a TypeError naming the function."""
    try:
        value = operator.index(n)
    except TypeError:
        value = None
    if value is None or isinstance(n, bool) or value < least:
        raise TypeError(f"{name}: {what} must be one integer >= {least}, got {n!r}")
    return value


@public
def betaln(a, b):
    """log|B(a, b)| = log|Gamma(a)| + log|Gamma(b)| - log|Gamma(a + b)|."""
    a, b = _tensors(a, b)
    return gammaln(a) + gammaln(b) - gammaln(a + b)


@public
def beta(a, b):
    """B(a, b) = Gamma(a) Gamma(b) / Gamma(a + b), with its sign for negative arguments."""
    from .elementwise import exp

    a, b = _tensors(a, b)
    return gammasgn(a) * gammasgn(b) * gammasgn(a + b) * exp(betaln(a, b))


@public
def multigammaln(a, d):
    """log of the multivariate gamma function of dimension d (one integer)."""
    d = _order("multigammaln", "the dimension d", d, 1)
    a = _tensor(a)
    out = gammaln(a) + d * (d - 1) / 4.0 * _LOG_PI
    for j in range(1, d):
        out = out + gammaln(a - j / 2.0)
    return out


# ================================================================ modified Bessel functions
# I_nu(x) = (x/2)^nu sum_k (x^2/4)^k / (k! (k + nu)!) below x = 20 (no cancellation: every
# term is positive); above, e^x / sqrt(2 pi x) times the asymptotic series in 1 / 8x,
# whose error, of the order of e^{-2x}, is below double precision there.
_BESSEL_SWITCH = 20.0
_SERIES_TERMS = 40
_ASYMPTOTIC_TERMS = 30


def _bessel_series(xp, ax, nu):
    x = xp.clip(ax, None, _BESSEL_SWITCH)
    q = x * x / 4.0
    term = xp.ones_like(x) / math.factorial(nu)
    total = term
    for k in range(1, _SERIES_TERMS):
        term = term * q / (k * (k + nu))
        total = total + term
    return total * (x / 2.0) ** nu if nu else total


def _bessel_asymptotic(xp, ax, nu):
    """e^{-x} I_nu(x) for x >= the switch."""
    x = xp.clip(ax, _BESSEL_SWITCH, None)
    mu = 4.0 * nu * nu
    term = xp.ones_like(x)
    total = term
    for k in range(1, _ASYMPTOTIC_TERMS):
        term = term * -(mu - (2 * k - 1) ** 2) / (k * 8.0 * x)
        total = total + term
    return total / xp.sqrt(2.0 * math.pi * x)


def _bessel_scaled(xp, x, nu):
    """e^{-|x|} I_nu(|x|)."""
    ax = xp.abs(x)
    near = xp.exp(-ax) * _bessel_series(xp, ax, nu)
    return xp.where(ax < _BESSEL_SWITCH, near, _bessel_asymptotic(xp, ax, nu))


def _bessel(xp, x, nu):
    """I_nu(|x|); e^x applied in two halves so that it overflows only with I_nu."""
    ax = xp.abs(x)
    half = xp.exp(ax / 2.0)
    far = half * _bessel_asymptotic(xp, ax, nu) * half
    return xp.where(ax < _BESSEL_SWITCH, _bessel_series(xp, ax, nu), far)


def _odd(xp, x, value):
    return xp.where(x < 0, -value, value)


def _i0_forward(xp, x):
    return _bessel(xp, x, 0)


def _i1_forward(xp, x):
    return _odd(xp, x, _bessel(xp, x, 1))


def _i0e_forward(xp, x):
    return _bessel_scaled(xp, x, 0)


def _i1e_forward(xp, x):
    return _odd(xp, x, _bessel_scaled(xp, x, 1))


def _over_x(ns, value, x):
    """value / x, and its limit 1/2 at x = 0 (value being I1(x) or e^{-|x|} I1(x))."""
    zero = x == 0
    return ns.where(zero, 0.5, value / ns.where(zero, 1.0, x))


i0 = op("i0", _i0_forward,
        lambda ns, g, ans, x: g * _special(ns, i1, _i1_forward, x),
        floating=True, batch="elementwise",
        doc="The modified Bessel function of the first kind of order 0, elementwise.")
# I1' = I0 - I1 / x.
i1 = op("i1", _i1_forward,
        lambda ns, g, ans, x: g * (_special(ns, i0, _i0_forward, x) - _over_x(ns, ans, x)),
        floating=True, batch="elementwise",
        doc="The modified Bessel function of the first kind of order 1, elementwise.")
# (e^{-|x|} I0)' = e^{-|x|} (I1 - sign(x) I0).
i0e = op("i0e", _i0e_forward,
         lambda ns, g, ans, x: g * (_special(ns, i1e, _i1e_forward, x) - ns.sign(x) * ans),
         floating=True, batch="elementwise",
         doc="exp(-|x|) i0(x), elementwise: the exponentially scaled i0.")
i1e = op("i1e", _i1e_forward,
         lambda ns, g, ans, x: g * (_special(ns, i0e, _i0e_forward, x) - ns.sign(x) * ans
                                    - _over_x(ns, ans, x)),
         floating=True, batch="elementwise",
         doc="exp(-|x|) i1(x), elementwise: the exponentially scaled i1.")


# ================================================================ logarithmic helpers
def _entr_forward(xp, x):
    # The log sees 1 where x <= 0, so no nan is formed where it is not used.
    inside = -x * xp.log(xp.where(x > 0, x, 1.0))
    return xp.where(x > 0, inside, xp.where(x == 0, xp.zeros_like(x), -math.inf))


entr = op("entr", _entr_forward,
          lambda ns, g, ans, x: -g * (ns.log(x) + 1.0),
          floating=True, batch="elementwise",
          doc="-x log(x) for x > 0, 0 at 0 and -inf below, elementwise: the entropy term.")


def _logit_forward(xp, p):
    # As scipy: log1p near 1/2, where log(p / (1 - p)) would cancel.
    near = xp.log1p(2.0 * (p - 0.5) / (1.0 - p))
    return xp.where((p > 0.3) & (p < 0.65), near, xp.log(p / (1.0 - p)))


logit = op("logit", _logit_forward,
           lambda ns, g, ans, p: g / (p * (1.0 - p)),
           floating=True, batch="elementwise",
           doc="log(p / (1 - p)), elementwise: the inverse of sigmoid.")


@public
def xlogy(x, y):
    """x log y, and 0 where x = 0 and y is not nan (so 0 log 0 = 0), as scipy."""
    from .elementwise import log, where

    x, y = _tensors(x, y)
    # The log sees 1 there, so that neither the value nor the gradient meets log 0.
    return x * log(where((x == 0) & (y == y), 1.0, y))


@public
def xlog1py(x, y):
    """x log(1 + y), and 0 where x = 0 and y is not nan, as scipy."""
    from .elementwise import log1p, where

    x, y = _tensors(x, y)
    return x * log1p(where((x == 0) & (y == y), 0.0, y))


def _tensors(*values):
    """The arguments as tensors on one backend (the first tensor's or array's, else the
    current one). Tensors stay as they are; arrays become constants; a Python number
    takes the dtype of the first floating tensor, so that it widens nothing (as a
    number does in arithmetic)."""
    from .. import dtypes
    from ..creation import as_tensor, full
    from ..tensor import Tensor

    out = list(values)
    backend = next((v.backend for v in values if isinstance(v, Tensor)), None)
    for i, v in enumerate(values):
        if not isinstance(v, (Tensor, int, float)):
            out[i] = as_tensor(v, backend)
            backend = out[i].backend
    reference = next((t for t in out if isinstance(t, Tensor)
                      and dtypes.is_floating(t.array.dtype)), None)
    for i, v in enumerate(out):
        if isinstance(v, (int, float)):
            if reference is None:
                out[i] = as_tensor(float(v) if isinstance(v, float) else v, backend)
            else:
                out[i] = full((), v, dtype=reference.dtype.name, backend=reference.backend,
                              device=reference.device)
    return tuple(out)


def _tensor(value):
    return _tensors(value)[0]


# ================================================================ softplus
def _scaled(x, beta):
    return x if beta == 1.0 else x * beta


def _softplus_forward(xp, x, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold, as
    torch.nn.functional.softplus."""
    # log(1 + e^z) = max(z, 0) + log1p(e^{-|z|}): no overflow for large |z|.
    z = _scaled(x, beta)
    soft = xp.maximum(z, 0.0) + xp.log1p(xp.exp(-xp.abs(z)))
    if beta != 1.0:
        soft = soft / beta
    # Above the threshold PyTorch returns x itself, equal to soft to float precision.
    return xp.where(z > threshold, x, soft)


def _softplus_vjp(ns, g, ans, x, beta=1.0, threshold=20.0):
    # softplus' = sigmoid(beta x) = 1 - e^{-beta softplus}, written with the output so
    # that the rule needs no sigmoid from the raw namespace, and is smooth at x = 0
    # (where the max/abs form of the forward would give a one-sided derivative).
    # Above the threshold the output is x, whose derivative is exactly 1.
    return ns.where(_scaled(x, beta) > threshold, g, -g * ns.expm1(-_scaled(ans, beta)))


softplus = op("softplus", _softplus_forward, _softplus_vjp, floating=True, batch="elementwise",
              doc=("log(1 + exp(beta x)) / beta, elementwise, and x itself where beta x > "
                   "`threshold`, as PyTorch's softplus."))
