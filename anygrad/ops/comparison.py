"""Ops with no derivative: comparisons, logic, rounding, argmax. They return tensors
without a graph, whatever their inputs require. Comparisons promote their inputs to one
dtype first, as arithmetic does (an integer tensor < 0.5 compares as floats)."""
from __future__ import annotations

from ..dtypes import as_dtype
from .registry import op

# An op declared without rules is a constant op: its result never records a graph.
_constant_op = op


def _compare(name, fn, batch="elementwise"):
    return op(name, fn, promotes=0, batch=batch)


equal = _compare("equal", lambda xp, a, b: a == b, batch="elementwise")
not_equal = _compare("not_equal", lambda xp, a, b: a != b, batch="elementwise")
less = _compare("less", lambda xp, a, b: a < b, batch="elementwise")
less_equal = _compare("less_equal", lambda xp, a, b: a <= b, batch="elementwise")
greater = _compare("greater", lambda xp, a, b: a > b, batch="elementwise")
greater_equal = _compare("greater_equal", lambda xp, a, b: a >= b, batch="elementwise")
logical_not = _constant_op("logical_not", lambda xp, a: xp.logical_not(a), batch="elementwise")
logical_and = _compare("logical_and", lambda xp, a, b: xp.logical_and(a, b), batch="elementwise")
logical_or = _compare("logical_or", lambda xp, a, b: xp.logical_or(a, b), batch="elementwise")
isnan = _constant_op("isnan", lambda xp, a: xp.isnan(a), batch="elementwise")
isfinite = _constant_op("isfinite", lambda xp, a: xp.isfinite(a), batch="elementwise")
isinf = _constant_op("isinf", lambda xp, a: xp.isinf(a), batch="elementwise")
signbit = _constant_op("signbit", lambda xp, a: xp.signbit(a), batch="elementwise")
trunc = _constant_op("trunc", lambda xp, a: xp.trunc(a), batch="elementwise")
logical_xor = _compare("logical_xor", lambda xp, a, b: xp.logical_xor(a, b), batch="elementwise")
def _bitwise(name, kinds=("integral", "bool")):
    """A bitwise op, defined for integers (and booleans, where it is logical): a float
    input gets the same error on every backend, not each library's own."""
    def checked(xp, arrays):
        for a in arrays:
            if hasattr(a, "dtype") and not xp.isdtype(a.dtype, kinds):
                raise TypeError(f"{name} takes {' or '.join(kinds)} inputs, not "
                                f"{as_dtype(a.dtype).name}")
        return getattr(xp, name)(*arrays)

    # One forward per arity, so that the op's signature names its arguments.
    if name == "bitwise_invert":
        return _constant_op(name, lambda xp, x: checked(xp, (x,)), batch="elementwise")
    return _compare(name, lambda xp, x1, x2: checked(xp, (x1, x2)))


bitwise_and = _bitwise("bitwise_and")
bitwise_or = _bitwise("bitwise_or")
bitwise_xor = _bitwise("bitwise_xor")
bitwise_invert = _bitwise("bitwise_invert")
bitwise_left_shift = _bitwise("bitwise_left_shift", ("integral",))
bitwise_right_shift = _bitwise("bitwise_right_shift", ("integral",))
nextafter = _compare("nextafter", lambda xp, a, b: xp.nextafter(a, b), batch="elementwise")
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
isin = _compare("isin", _isin, batch="elementwise_first")
floor_divide = _compare("floor_divide", lambda xp, a, b: xp.floor_divide(a, b),
    batch="elementwise")
matrix_rank = op("matrix_rank", lambda xp, x, rtol=None: xp.linalg.matrix_rank(x, rtol=rtol),
                 extension="linalg", batch="matrix")
sign = _constant_op("sign", lambda xp, a: xp.sign(a), batch="elementwise")
floor = _constant_op("floor", lambda xp, a: xp.floor(a), batch="elementwise")
ceil = _constant_op("ceil", lambda xp, a: xp.ceil(a), batch="elementwise")
round = _constant_op("round", lambda xp, a: xp.round(a), batch="elementwise")
argmax = _constant_op("argmax", lambda xp, a, axis=None, keepdims=False: xp.argmax(
    a, axis=axis, keepdims=keepdims), batch="argreduce")
argmin = _constant_op("argmin", lambda xp, a, axis=None, keepdims=False: xp.argmin(
    a, axis=axis, keepdims=keepdims), batch="argreduce")
any = _constant_op("any", lambda xp, a, axis=None, keepdims=False: xp.any(
    a, axis=axis, keepdims=keepdims), batch="reduce")
all = _constant_op("all", lambda xp, a, axis=None, keepdims=False: xp.all(
    a, axis=axis, keepdims=keepdims), batch="reduce")
