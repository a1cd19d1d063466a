"""Ops with no derivative: comparisons, logic, rounding, argmax. They return tensors
without a graph, whatever their inputs require."""
from __future__ import annotations

from ..engine import Op, _wrap
from ..modes import _recording
from ..tensor import Tensor


def _constant_op(name, fn):
    recorded = Op(name, fn)  # how ag.compile records and replays it

    def op(*args, **params):
        backend = next((a.backend for a in args if isinstance(a, Tensor)), None)
        if backend is None:
            from ..creation import as_tensor

            args = (as_tensor(args[0]), *args[1:])
            backend = args[0].backend
        arrays = [a.data if isinstance(a, Tensor) else a for a in args]
        for a in args:
            if isinstance(a, Tensor) and a.backend is not backend:
                raise TypeError(
                    f"{name}: inputs live on different backends ({backend.name!r} and "
                    f"{a.backend.name!r}); move one with .to() first"
                )
        out = _wrap(fn(backend.xp, *arrays, **params), backend)
        recorder = _recording.get()
        if recorder is not None:
            recorder.on_apply(recorded, args, params, out)
        return out

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"{name} (no gradient)."
    return op


equal = _constant_op("equal", lambda xp, a, b: a == b)
not_equal = _constant_op("not_equal", lambda xp, a, b: a != b)
less = _constant_op("less", lambda xp, a, b: a < b)
less_equal = _constant_op("less_equal", lambda xp, a, b: a <= b)
greater = _constant_op("greater", lambda xp, a, b: a > b)
greater_equal = _constant_op("greater_equal", lambda xp, a, b: a >= b)
logical_not = _constant_op("logical_not", lambda xp, a: xp.logical_not(a))
logical_and = _constant_op("logical_and", lambda xp, a, b: xp.logical_and(a, b))
logical_or = _constant_op("logical_or", lambda xp, a, b: xp.logical_or(a, b))
isnan = _constant_op("isnan", lambda xp, a: xp.isnan(a))
isfinite = _constant_op("isfinite", lambda xp, a: xp.isfinite(a))
sign = _constant_op("sign", lambda xp, a: xp.sign(a))
floor = _constant_op("floor", lambda xp, a: xp.floor(a))
ceil = _constant_op("ceil", lambda xp, a: xp.ceil(a))
round = _constant_op("round", lambda xp, a: xp.round(a))
argmax = _constant_op("argmax", lambda xp, a, axis=None, keepdims=False: xp.argmax(
    a, axis=axis, keepdims=keepdims))
argmin = _constant_op("argmin", lambda xp, a, axis=None, keepdims=False: xp.argmin(
    a, axis=axis, keepdims=keepdims))
any = _constant_op("any", lambda xp, a, axis=None, keepdims=False: xp.any(
    a, axis=axis, keepdims=keepdims))
all = _constant_op("all", lambda xp, a, axis=None, keepdims=False: xp.all(
    a, axis=axis, keepdims=keepdims))
