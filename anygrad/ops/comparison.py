"""Ops with no derivative: comparisons, logic, rounding, argmax. They return tensors
without a graph, whatever their inputs require. Comparisons promote their inputs to one
dtype first, as arithmetic does (an integer tensor < 0.5 compares as floats)."""
from __future__ import annotations

from ..dtypes import as_dtype
from .registry import op

# An op declared without rules is a constant op: its result never records a graph.
_constant_op = op


def _compare(name, fn, batch="elementwise", doc=None):
    return op(name, fn, promotes=0, batch=batch, doc=doc)


equal = _compare("equal", lambda xp, a, b: a == b, batch="elementwise",
                 doc="a == b, elementwise, as a boolean tensor.")
not_equal = _compare("not_equal", lambda xp, a, b: a != b, batch="elementwise",
                     doc="a != b, elementwise, as a boolean tensor.")
less = _compare("less", lambda xp, a, b: a < b, batch="elementwise",
                doc="a < b, elementwise, as a boolean tensor.")
less_equal = _compare("less_equal", lambda xp, a, b: a <= b, batch="elementwise",
                      doc="a <= b, elementwise, as a boolean tensor.")
greater = _compare("greater", lambda xp, a, b: a > b, batch="elementwise",
                   doc="a > b, elementwise, as a boolean tensor.")
greater_equal = _compare("greater_equal", lambda xp, a, b: a >= b, batch="elementwise",
                         doc="a >= b, elementwise, as a boolean tensor.")
logical_not = _constant_op("logical_not", lambda xp, a: xp.logical_not(a), batch="elementwise",
                           doc="The logical NOT of each element of a, as a boolean tensor.")
logical_and = _compare("logical_and", lambda xp, a, b: xp.logical_and(a, b), batch="elementwise",
                       doc="The logical AND of a and b, elementwise, as a boolean tensor.")
logical_or = _compare("logical_or", lambda xp, a, b: xp.logical_or(a, b), batch="elementwise",
                      doc="The logical OR of a and b, elementwise, as a boolean tensor.")
isnan = _constant_op("isnan", lambda xp, a: xp.isnan(a), batch="elementwise",
                     doc="Whether each element of a is NaN.")
isfinite = _constant_op("isfinite", lambda xp, a: xp.isfinite(a), batch="elementwise",
                        doc="Whether each element of a is finite (neither infinite nor NaN).")
isinf = _constant_op("isinf", lambda xp, a: xp.isinf(a), batch="elementwise",
                     doc="Whether each element of a is positive or negative infinity.")
signbit = _constant_op("signbit", lambda xp, a: xp.signbit(a), batch="elementwise",
                       doc="Whether the sign bit of each element of a is set (true for -0.0).")
trunc = _constant_op("trunc", lambda xp, a: xp.trunc(a), batch="elementwise",
                     doc="Each element of a rounded toward zero. No gradient.")
logical_xor = _compare("logical_xor", lambda xp, a, b: xp.logical_xor(a, b), batch="elementwise",
                       doc="The logical XOR of a and b, elementwise, as a boolean tensor.")
def _bitwise(name, kinds=("integral", "bool"), doc=None):
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
        return _constant_op(name, lambda xp, x: checked(xp, (x,)), batch="elementwise", doc=doc)
    return _compare(name, lambda xp, x1, x2: checked(xp, (x1, x2)), doc=doc)


bitwise_and = _bitwise("bitwise_and",
                       doc=("The bitwise AND of x1 and x2, elementwise; integer or boolean "
                            "inputs."))
bitwise_or = _bitwise("bitwise_or",
                      doc="The bitwise OR of x1 and x2, elementwise; integer or boolean inputs.")
bitwise_xor = _bitwise("bitwise_xor",
                       doc=("The bitwise XOR of x1 and x2, elementwise; integer or boolean "
                            "inputs."))
bitwise_invert = _bitwise("bitwise_invert",
                          doc=("The bitwise inversion of each element of x; integer or boolean "
                               "input."))
bitwise_left_shift = _bitwise("bitwise_left_shift", ("integral",),
                              doc="x1 shifted left by x2 bits, elementwise; integer inputs.")
bitwise_right_shift = _bitwise("bitwise_right_shift", ("integral",),
                               doc="x1 shifted right by x2 bits, elementwise; integer inputs.")
nextafter = _compare("nextafter", lambda xp, a, b: xp.nextafter(a, b), batch="elementwise",
                     doc=("The next representable float after a in the direction of b, "
                          "elementwise."))
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
isin = _compare("isin", _isin, batch="elementwise_first",
                doc=("Whether each element of a is among b's elements (a's shape); not, with "
                     "`invert=True`. Any dtype: floats compare by equality."))
floor_divide = _compare("floor_divide", lambda xp, a, b: xp.floor_divide(a, b),
    batch="elementwise", doc="floor(a / b), elementwise. No gradient.")
matrix_rank = op("matrix_rank", lambda xp, x, rtol=None: xp.linalg.matrix_rank(x, rtol=rtol),
                 extension="linalg", batch="matrix",
                 doc=("The rank of each matrix of x (its last two axes): the number of singular "
                      "values above `rtol` times the largest. No gradient."))
sign = _constant_op("sign", lambda xp, a: xp.sign(a), batch="elementwise",
                    doc=("The sign of each element of a: -1, 0 or 1 (z / |z| for complex). "
                         "No gradient."))
floor = _constant_op("floor", lambda xp, a: xp.floor(a), batch="elementwise",
                     doc="Each element of a rounded down. No gradient.")
ceil = _constant_op("ceil", lambda xp, a: xp.ceil(a), batch="elementwise",
                    doc="Each element of a rounded up. No gradient.")
round = _constant_op("round", lambda xp, a: xp.round(a), batch="elementwise",
                     doc=("Each element of a rounded to the nearest integer, halves to even. "
                          "No gradient."))
argmax = _constant_op("argmax", lambda xp, a, axis=None, keepdims=False: xp.argmax(
    a, axis=axis, keepdims=keepdims), batch="argreduce",
    doc="The index of the largest element of a (first at a tie), along `axis` or flattened.")
argmin = _constant_op("argmin", lambda xp, a, axis=None, keepdims=False: xp.argmin(
    a, axis=axis, keepdims=keepdims), batch="argreduce",
    doc="The index of the smallest element of a (first at a tie), along `axis` or flattened.")
any = _constant_op("any", lambda xp, a, axis=None, keepdims=False: xp.any(
    a, axis=axis, keepdims=keepdims), batch="reduce",
    doc="Whether any element of a is true (nonzero), along `axis` or over all.")
all = _constant_op("all", lambda xp, a, axis=None, keepdims=False: xp.all(
    a, axis=axis, keepdims=keepdims), batch="reduce",
    doc="Whether every element of a is true (nonzero), along `axis` or over all.")
