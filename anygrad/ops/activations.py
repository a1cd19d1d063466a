"""Normalised exponentials, fused for speed and stability."""
from __future__ import annotations

from .registry import op
from .reductions import safe_max


def _shifted(xp, x, axis):
    return x - safe_max(xp, x, axis)


def _softmax_forward(xp, x, axis=-1):
    e = xp.exp(_shifted(xp, x, axis))
    return e / xp.sum(e, axis=axis, keepdims=True)


def _log_softmax_forward(xp, x, axis=-1):
    z = _shifted(xp, x, axis)
    return z - xp.log(xp.sum(xp.exp(z), axis=axis, keepdims=True))


softmax = op("softmax", _softmax_forward,
             lambda ns, g, ans, x, axis=-1: ans * (g - ns.sum(g * ans, axis=axis, keepdims=True)),
             promotes=0, floating=True)
log_softmax = op("log_softmax", _log_softmax_forward,
                 lambda ns, g, ans, x, axis=-1: g - ns.exp(ans) * ns.sum(g, axis=axis, keepdims=True),
                 promotes=0, floating=True)
