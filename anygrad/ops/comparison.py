"""Ops with no derivative: comparisons, logic, rounding, argmax. They return tensors
without a graph, whatever their inputs require. Comparisons promote their inputs to one
dtype first, as arithmetic does (an integer tensor < 0.5 compares as floats)."""
from __future__ import annotations

from ..dtypes import as_dtype
from .registry import op

# An op declared without rules is a constant op: its result never records a graph.
_constant_op = op


def _compare(name, fn):
    return op(name, fn, promotes=0)


equal = _compare("equal", lambda xp, a, b: a == b)
not_equal = _compare("not_equal", lambda xp, a, b: a != b)
less = _compare("less", lambda xp, a, b: a < b)
less_equal = _compare("less_equal", lambda xp, a, b: a <= b)
greater = _compare("greater", lambda xp, a, b: a > b)
greater_equal = _compare("greater_equal", lambda xp, a, b: a >= b)
logical_not = _constant_op("logical_not", lambda xp, a: xp.logical_not(a))
logical_and = _compare("logical_and", lambda xp, a, b: xp.logical_and(a, b))
logical_or = _compare("logical_or", lambda xp, a, b: xp.logical_or(a, b))
isnan = _constant_op("isnan", lambda xp, a: xp.isnan(a))
isfinite = _constant_op("isfinite", lambda xp, a: xp.isfinite(a))
isinf = _constant_op("isinf", lambda xp, a: xp.isinf(a))
signbit = _constant_op("signbit", lambda xp, a: xp.signbit(a))
trunc = _constant_op("trunc", lambda xp, a: xp.trunc(a))
logical_xor = _compare("logical_xor", lambda xp, a, b: xp.logical_xor(a, b))
def _bitwise(name, kinds=("integral", "bool")):
    """A bitwise op, defined for integers (and booleans, where it is logical): a float
    input gets the same error on every backend, not each library's own."""
    def forward(xp, *arrays):
        for a in arrays:
            if hasattr(a, "dtype") and not xp.isdtype(a.dtype, kinds):
                raise TypeError(f"{name} takes {' or '.join(kinds)} inputs, not "
                                f"{as_dtype(a.dtype).name}")
        return getattr(xp, name)(*arrays)

    return (_compare if name != "bitwise_invert" else _constant_op)(name, forward)


bitwise_and = _bitwise("bitwise_and")
bitwise_or = _bitwise("bitwise_or")
bitwise_xor = _bitwise("bitwise_xor")
bitwise_invert = _bitwise("bitwise_invert")
bitwise_left_shift = _bitwise("bitwise_left_shift", ("integral",))
bitwise_right_shift = _bitwise("bitwise_right_shift", ("integral",))
nextafter = _compare("nextafter", lambda xp, a, b: xp.nextafter(a, b))
def _isin(xp, a, b, invert=False):
    # The standard's isin takes integers only; anygrad takes every dtype, as numpy does,
    # comparing floats by equality against each of x2's elements. `invert` is applied
    # here: array_api_strict 2.6 ignores it.
    if xp.isdtype(a.dtype, "integral") and xp.isdtype(b.dtype, "integral"):
        found = xp.isin(a, b)
    else:
        found = xp.any(xp.expand_dims(a, axis=-1) == xp.reshape(b, (-1,)), axis=-1)
    return xp.logical_not(found) if invert else found


# Whether each element of x1 is among x2's elements (elementwise, x1's shape).
isin = _compare("isin", _isin)
floor_divide = _compare("floor_divide", lambda xp, a, b: xp.floor_divide(a, b))
matrix_rank = op("matrix_rank", lambda xp, x, rtol=None: xp.linalg.matrix_rank(x, rtol=rtol),
                 extension="linalg")
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
