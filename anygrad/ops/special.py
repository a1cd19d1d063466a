"""Special functions the standard lacks that the neural-net functions need: erf and
softplus.

Each is written with the standard's elementwise functions, so it runs on every backend,
and states its derivative next to its forward, so second derivatives (and GELU and the
losses built on them) work everywhere too.
"""
from __future__ import annotations

import math

from .registry import op

# Cephes' rational approximations (S. L. Moshier, public domain; scipy's ndtr uses the
# same): erf(x) = x T(x^2) / U(x^2) for |x| <= 1; erfc(x) = e^{-x^2} P(x) / Q(x) for
# 1 < x < 8 and e^{-x^2} R(x) / S(x) beyond. Accurate to double precision.
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
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _polynomial(x, coefficients):
    """Horner's rule, highest power first."""
    out = coefficients[0]
    for c in coefficients[1:]:
        out = out * x + c
    return out


def _erf_forward(xp, x):
    ax = xp.abs(x)
    # Every branch is evaluated everywhere (no data-dependent control flow), each on an
    # argument clamped to where it is valid, so none overflows where it is not used.
    small = xp.clip(ax, None, 1.0)
    z = small * small
    near = small * _polynomial(z, _T) / _polynomial(z, _U)
    middle = xp.clip(ax, 1.0, 8.0)
    far = xp.clip(ax, 8.0, 30.0)
    erfc_middle = xp.exp(-middle * middle) * _polynomial(middle, _P) / _polynomial(middle, _Q)
    erfc_far = xp.exp(-far * far) * _polynomial(far, _R) / _polynomial(far, _S)
    erfc = xp.where(ax < 8.0, erfc_middle, erfc_far)
    magnitude = xp.where(ax <= 1.0, near, 1.0 - erfc)
    return xp.where(x < 0, -magnitude, magnitude)


erf = op("erf", _erf_forward,
         lambda ns, g, ans, x: g * _TWO_OVER_SQRT_PI * ns.exp(-(x * x)),
         floating=True)


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


softplus = op("softplus", _softplus_forward, _softplus_vjp, floating=True)
