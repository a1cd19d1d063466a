"""Normalised exponentials, fused for speed and stability."""
from __future__ import annotations

from .registry import op
from .reductions import safe_max


def _axis(name, x, axis):
    """`axis` of x as the reductions take it. A 0-d tensor has one element to normalise
    over, named as axis 0 or -1 (as PyTorch accepts): no axes, so the result is 1 (0 for
    log_softmax)."""
    if x.ndim:
        return axis
    if axis not in (0, -1):
        raise IndexError(f"{name}: axis {axis} is out of range for a 0-d tensor (use 0 or -1)")
    return ()


def _shifted(xp, x, axis):
    return x - safe_max(xp, x, axis)


def _softmax_forward(xp, x, axis=-1):
    axis = _axis("softmax", x, axis)
    e = xp.exp(_shifted(xp, x, axis))
    return e / xp.sum(e, axis=axis, keepdims=True)


def _log_softmax_forward(xp, x, axis=-1):
    axis = _axis("log_softmax", x, axis)
    z = _shifted(xp, x, axis)
    return z - xp.log(xp.sum(xp.exp(z), axis=axis, keepdims=True))


def _softmax_vjp(ns, g, ans, x, axis=-1):
    axis = _axis("softmax", x, axis)
    return ans * (g - ns.sum(g * ans, axis=axis, keepdims=True))


def _log_softmax_vjp(ns, g, ans, x, axis=-1):
    axis = _axis("log_softmax", x, axis)
    return g - ns.exp(ans) * ns.sum(g, axis=axis, keepdims=True)


softmax = op("softmax", _softmax_forward, _softmax_vjp, promotes=0, floating=True, batch="axis",
             doc=("exp(x) normalised to sum to 1 along `axis` (default the last), without "
                  "overflow."))
log_softmax = op("log_softmax", _log_softmax_forward, _log_softmax_vjp, promotes=0,
                 floating=True, batch="axis",
                 doc="log(softmax(x, axis)), computed directly: stable for large |x|.")
