"""numpy's elementwise functions (its ufuncs, by numpy's names) over anygrad's ops.

Each takes numpy's ufunc keywords and refuses those that would write in place or
change the computation (`out=`, `where=`, `dtype=`) rather than ignore them."""
from __future__ import annotations

import math as _math

from .. import dtypes, ops
from ..tensor import Tensor
from ._arrays import asarray, backend_name, refuse, tensors

# numpy's name -> anygrad's op, for the ufuncs whose meaning is the op's
_UNARY = {
    "negative": "negative", "positive": "positive", "absolute": "abs", "abs": "abs",
    "fabs": "abs", "exp": "exp", "expm1": "expm1", "log": "log", "log1p": "log1p",
    "log2": "log2", "log10": "log10", "sqrt": "sqrt", "square": "square", "sin": "sin",
    "cos": "cos", "tan": "tan", "arcsin": "asin", "arccos": "acos", "arctan": "atan",
    "asin": "asin", "acos": "acos", "atan": "atan", "sinh": "sinh", "cosh": "cosh",
    "tanh": "tanh", "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh",
    "asinh": "asinh", "acosh": "acosh", "atanh": "atanh", "sign": "sign", "floor": "floor",
    "ceil": "ceil", "trunc": "trunc", "fix": "trunc", "rint": "round", "isnan": "isnan",
    "isinf": "isinf", "isfinite": "isfinite", "signbit": "signbit",
    "logical_not": "logical_not", "invert": "bitwise_invert", "bitwise_not": "bitwise_invert",
    "bitwise_invert": "bitwise_invert", "conjugate": "conj", "conj": "conj",
    "reciprocal": "reciprocal", "real": "real", "imag": "imag",
}
_BINARY = {
    "add": "add", "subtract": "subtract", "multiply": "multiply", "divide": "divide",
    "true_divide": "divide", "floor_divide": "floor_divide", "power": "pow", "pow": "pow",
    "remainder": "remainder", "mod": "remainder", "matmul": "matmul", "arctan2": "atan2",
    "atan2": "atan2", "hypot": "hypot", "logaddexp": "logaddexp", "maximum": "maximum",
    "minimum": "minimum", "copysign": "copysign", "nextafter": "nextafter",
    "equal": "equal", "not_equal": "not_equal", "less": "less", "less_equal": "less_equal",
    "greater": "greater", "greater_equal": "greater_equal", "logical_and": "logical_and",
    "logical_or": "logical_or", "logical_xor": "logical_xor", "bitwise_and": "bitwise_and",
    "bitwise_or": "bitwise_or", "bitwise_xor": "bitwise_xor", "left_shift":
    "bitwise_left_shift", "right_shift": "bitwise_right_shift",
}


def _operands(args):
    """A ufunc's arguments as anygrad's ops take them. Beside a tensor, numbers (numpy's
    scalars too) stay weak and arrays go to the op as they are, exactly as in `t + x`:
    anygrad decides their meaning in one place, and an array of another library than
    the tensor's is refused there, not copied across silently. Without a tensor, numpy's
    own defaults make the tensors (float64 for Python floats)."""
    if not any(isinstance(a, Tensor) for a in args):
        return tensors(*args)
    backend = backend_name(*args)
    return [asarray(a, backend=backend) if isinstance(a, (list, tuple))
            else dtypes.python_scalar(a) for a in args]


def _ufunc(name, op, nin):
    def call(*args, out=None, where=None, dtype=None, casting=None, order=None, subok=None,
             signature=None):
        if len(args) != nin:
            raise TypeError(f"anygrad.numpy.{name}: takes {nin} array(s), got {len(args)}")
        refuse(name, out=out, where=None if where is True else where, dtype=dtype)
        return op(*_operands(args))

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"numpy.{name}, elementwise."
    return call


for _name, _op in _UNARY.items():
    globals()[_name] = _ufunc(_name, getattr(ops, _op), 1)
for _name, _op in _BINARY.items():
    globals()[_name] = _ufunc(_name, getattr(ops, _op), 2)


def _composed(name, nin, body):
    """A numpy ufunc that anygrad has no op for, written with anygrad's ops."""
    return _ufunc(name, body, nin)


cbrt = _composed("cbrt", 1, lambda x: ops.sign(x) * ops.abs(x) ** (1.0 / 3.0))
exp2 = _composed("exp2", 1, lambda x: 2.0 ** x)
logaddexp2 = _composed("logaddexp2", 2,
                       lambda a, b: ops.logaddexp(a * _math.log(2), b * _math.log(2))
                       / _math.log(2))
deg2rad = radians = _composed("deg2rad", 1, lambda x: x * (_math.pi / 180.0))
rad2deg = degrees = _composed("rad2deg", 1, lambda x: x * (180.0 / _math.pi))


def _fmod(a, b):
    """C's remainder, with the sign of `a` (Python's, `remainder`, has the sign of `b`)."""
    r = ops.remainder(a, b)
    return ops.where((r != 0) & ((r < 0) != (a < 0)), r - b, r)


fmod = _composed("fmod", 2, _fmod)


def angle(z, deg=False):
    out = ops.angle(asarray(z))
    return out * (180.0 / _math.pi) if deg else out


def round(a, decimals=0, out=None):
    """Half to even, at `decimals` places as numpy does it: scaled, rounded, scaled back."""
    refuse("round", out=out)
    a = asarray(a)
    if not decimals:
        return ops.round(a)
    scale = 10.0 ** decimals
    return ops.round(a * scale) / scale


around = round


def clip(a, a_min=None, a_max=None, out=None, *, min=None, max=None):
    refuse("clip", out=out)
    low = a_min if a_min is not None else min
    high = a_max if a_max is not None else max
    return ops.clip(*tensors(a), min=low, max=high)


def sinc(x):
    x = asarray(x)
    px = _math.pi * ops.where(x == 0, 1.0, x)
    return ops.where(x == 0, 1.0, ops.sin(px) / px)


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    from .. import array_api

    x = asarray(x)
    if not x.dtype.is_floating:
        return x
    info = array_api.finfo(x.dtype)
    x = ops.where(ops.isnan(x), nan, x)
    x = ops.where(ops.isinf(x) & (x > 0), info.max if posinf is None else posinf, x)
    return ops.where(ops.isinf(x) & (x < 0), info.min if neginf is None else neginf, x)


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    a, b = tensors(a, b)
    close = ops.abs(a - b) <= atol + rtol * ops.abs(b)
    close = close | (a == b)  # equal infinities
    if equal_nan:
        close = close | (ops.isnan(a) & ops.isnan(b))
    return close


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """A Python bool (a comparison, detached: it carries no gradient)."""
    return bool(ops.all(isclose(a, b, rtol, atol, equal_nan)).item())


def array_equal(a1, a2, equal_nan=False):
    a1, a2 = tensors(a1, a2)
    if a1.shape != a2.shape:
        return False
    same = a1 == a2
    if equal_nan:
        same = same | (ops.isnan(a1) & ops.isnan(a2))
    return bool(ops.all(same).item())


def seterr(all=None, divide=None, over=None, under=None, invalid=None):
    """numpy's own floating-point error handling (it governs the numpy backend only)."""
    import numpy

    return numpy.seterr(all=all, divide=divide, over=over, under=under, invalid=invalid)


__all__ = sorted(set(_UNARY) | set(_BINARY)) + [
    "cbrt", "exp2", "logaddexp2", "deg2rad", "radians", "rad2deg", "degrees", "fmod",
    "angle", "round", "around", "clip", "sinc", "nan_to_num", "isclose",
    "allclose", "array_equal", "seterr",
]
del _name, _op
