"""Matrix products."""
from __future__ import annotations

from .registry import op


def _vectors(ns, a, n):
    """(..., 1, n) or (..., n, 1) -> (m, n): one length-n vector per batch element."""
    return ns.reshape(a, (_product(a.shape[:-2]), n))


def _product(sizes):
    out = 1
    for size in sizes:
        out *= size
    return out


def _flat_rows(ns, a):
    """Batch dimensions folded into rows: (..., n) -> (m, n). The row count is spelled
    out: -1 is ambiguous when n is 0."""
    if a.ndim == 2:
        return a
    return ns.reshape(a, (_product(a.shape[:-1]), a.shape[-1]))


# A 1-D operand acts as a row on the left and a column on the right; the rules give it
# that second axis back, take the matrix products, and the engine sums away any batch
# axes the operand was broadcast over.
def _matmul_vjp_a(ns, g, ans, a, b):
    if a.ndim == 1 and b.ndim == 1:
        return g * b
    if b.ndim == 1:
        return ns.matmul(ns.expand_dims(g, axis=-1), ns.expand_dims(b, axis=0))
    if a.ndim == 1:
        rows = ns.matmul(ns.expand_dims(g, axis=-2), ns.matrix_transpose(b))  # (..., 1, n)
        return _vectors(ns, rows, a.shape[0])
    return ns.matmul(g, ns.matrix_transpose(b))


def _matmul_vjp_b(ns, g, ans, a, b):
    if a.ndim == 1 and b.ndim == 1:
        return g * a
    if a.ndim == 1:
        return ns.matmul(ns.expand_dims(a, axis=-1), ns.expand_dims(g, axis=-2))
    if b.ndim == 1:
        cols = ns.matmul(ns.matrix_transpose(a), ns.expand_dims(g, axis=-1))  # (..., n, 1)
        return _vectors(ns, cols, b.shape[0])
    return ns.matmul(ns.matrix_transpose(a), g)


matmul = op("matmul", lambda xp, a, b: xp.matmul(a, b), _matmul_vjp_a, _matmul_vjp_b)


# x @ W.T + b in one op, as dense layers use it. Fusing gives the weight gradient as
# g.T @ x directly, contiguous in W's own layout, rather than the transpose of a product.
def _linear_forward(xp, x, weight, bias=None):
    out = xp.matmul(x, xp.matrix_transpose(weight))
    return out if bias is None else out + bias


linear = op("linear", _linear_forward,
            lambda ns, g, ans, x, weight, bias=None: ns.matmul(g, weight),
            lambda ns, g, ans, x, weight, bias=None:
                ns.matmul(ns.matrix_transpose(_flat_rows(ns, g)), _flat_rows(ns, x)),
            lambda ns, g, ans, x, weight, bias=None: g)
