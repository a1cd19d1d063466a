"""scipy.special's names, argument names and defaults over anygrad's special-function ops.

Arguments may be tensors, backend arrays or Python numbers; results are tensors. The
arithmetic lives in `anygrad.ops` (see `anygrad.ops.special`); this module only maps
scipy's conventions onto it.
"""
from __future__ import annotations

from .. import ops
from ..ops.special import _tensor, _tensors

# Same name, same arguments.
erf = ops.erf
erfc = ops.erfc
erfcx = ops.erfcx
erfinv = ops.erfinv
erfcinv = ops.erfcinv
ndtr = ops.ndtr
log_ndtr = ops.log_ndtr
ndtri = ops.ndtri
gammaln = ops.gammaln
gammasgn = ops.gammasgn
digamma = ops.digamma
psi = ops.digamma
betaln = ops.betaln
beta = ops.beta
i0 = ops.i0
i1 = ops.i1
i0e = ops.i0e
i1e = ops.i1e
polygamma = ops.polygamma  # one integer order n, not an array of them
multigammaln = ops.multigammaln
xlogy = ops.xlogy
xlog1py = ops.xlog1py
entr = ops.entr
logit = ops.logit
expit = ops.sigmoid


def gamma(x):
    """Gamma(x), from log|Gamma(x)| and its sign."""
    x = _tensor(x)
    return gammasgn(x) * ops.exp(gammaln(x))


def log_expit(x):
    """log(expit(x)) = -softplus(-x), without underflow for very negative x."""
    return -ops.softplus(-_tensor(x), threshold=float("inf"))


def rel_entr(x, y):
    """x log(x / y) for x, y > 0; 0 where x = 0 and y >= 0; inf elsewhere."""
    x, y = _tensors(x, y)
    inside = (x > 0) & (y > 0)
    # The log of the ratio, not a difference of logs, which would cancel where x ~ y;
    # the log sees 1 outside, where `where` discards it.
    value = x * ops.log(ops.where(inside, x, 1.0) / ops.where(inside, y, 1.0))
    outside = ops.where((x == 0) & (y >= 0), 0.0, float("inf"))
    outside = ops.where((x == x) & (y == y), outside, float("nan"))  # nan stays nan
    return ops.where(inside, value, outside)


def _normalised(fn, x, axis):
    x = _tensor(x)
    if axis is None:  # scipy normalises over every element
        return ops.reshape(fn(ops.reshape(x, (-1,)), axis=0), x.shape)
    return fn(x, axis=axis)


def softmax(x, axis=None):
    """exp(x) normalised to sum to 1 over `axis`; with axis=None, over every element
    (scipy's default)."""
    return _normalised(ops.softmax, x, axis)


def log_softmax(x, axis=None):
    """log(softmax(x, axis)) without overflow; with axis=None, over every element
    (scipy's default)."""
    return _normalised(ops.log_softmax, x, axis)


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """log(sum(b * exp(a))) over `axis`; with `return_sign`, (log|s|, sign(s))."""
    a = _tensor(a)
    if b is None and not return_sign:
        return ops.logsumexp(a, axis=axis, keepdims=keepdims)
    if b is not None:
        a, b = _tensors(a, b)
    # Shifted by the (constant) max, as the op itself is, so no exp overflows.
    m = ops.max(a, axis=axis, keepdims=True).detach()
    m = ops.where(ops.isfinite(m), m, 0.0)
    e = ops.exp(a - m) if b is None else b * ops.exp(a - m)
    s = ops.sum(e, axis=axis, keepdims=True)
    out = ops.log(ops.abs(s)) + m
    sign = ops.sign(s)
    if not keepdims:
        kept = ops.sum(a, axis=axis, keepdims=False).shape
        out, sign = ops.reshape(out, kept), ops.reshape(sign, kept)
    if return_sign:
        return out, sign
    # A negative sum has no real logarithm: nan, as scipy gives.
    return ops.where(sign < 0, float("nan"), out)


__all__ = ["beta", "betaln", "digamma", "entr", "erf", "erfc", "erfcinv", "erfcx", "erfinv",
           "expit", "gamma", "gammaln", "gammasgn", "i0", "i0e", "i1", "i1e", "log_expit",
           "log_ndtr", "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr", "ndtri",
           "polygamma", "psi", "rel_entr", "softmax", "xlog1py", "xlogy"]
