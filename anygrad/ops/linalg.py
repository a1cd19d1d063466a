"""Linear algebra: matrix products, and the standard's `linalg` extension.

This module is also the `linalg` namespace rules reach as `ns.linalg` when gradients
are recorded, as the backend's own `xp.linalg` serves them on raw arrays: a rule
written `ns.linalg.inv(x)` runs either way. Every rule below holds for invertible
(for cholesky: symmetric positive definite) input, as PyTorch and JAX document.
"""
from __future__ import annotations

import math
from collections import namedtuple

from ..engine import Op
from .registry import op, public


def _vectors(ns, a, n):
    """(..., 1, n) or (..., n, 1) -> (m, n): one length-n vector per batch element."""
    return ns.reshape(a, (math.prod(a.shape[:-2]), n))


def _flat_rows(ns, a):
    """Batch dimensions folded into rows: (..., n) -> (m, n). The row count is spelled
    out: -1 is ambiguous when n is 0."""
    if a.ndim == 2:
        return a
    return ns.reshape(a, (math.prod(a.shape[:-1]), a.shape[-1]))


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
            lambda ns, g, ans, x, weight, bias=None: g, passes=(2,))


# ---------------------------------------------------------------- the linalg extension
def _t(ns, a):
    return ns.matrix_transpose(a)


def _per_matrix(ns, v):
    """A value per matrix, (...), as (..., 1, 1) to scale whole matrices."""
    return ns.expand_dims(ns.expand_dims(v, axis=-1), axis=-1)


# d(A^-1) = -A^-1 dA A^-1, so the gradient is -A^-T g A^-T.
inv = op("inv", lambda xp, x: xp.linalg.inv(x),
         lambda ns, g, ans, x: -ns.matmul(_t(ns, ans), ns.matmul(g, _t(ns, ans))),
         extension="linalg", promotes=0, floating=True)
# Jacobi's formula: d det A = det A tr(A^-1 dA).
det = op("det", lambda xp, x: xp.linalg.det(x),
         lambda ns, g, ans, x: _per_matrix(ns, g * ans) * _t(ns, ns.linalg.inv(x)),
         extension="linalg", promotes=0, floating=True)
_logabsdet = Op("linalg.slogdet", lambda xp, x: xp.linalg.slogdet(x)[1],
                lambda ns, g, ans, x: _per_matrix(ns, g) * _t(ns, ns.linalg.inv(x)),
                promotes=0, floating=True)
_sign_of_det = Op("linalg.slogdet", lambda xp, x: xp.linalg.slogdet(x)[0],
                  promotes=0, floating=True)
SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])


@public(extension="linalg")
def slogdet(x):
    """(sign, log|det|) of each matrix; log|det| carries the gradient A^-T."""
    return SlogdetResult(_sign_of_det(x), _logabsdet(x))


# X = A^-1 B: gB = A^-T g, gA = -gB X^T.
_solve = Op("linalg.solve", lambda xp, a, b: xp.linalg.solve(a, b),
            lambda ns, g, ans, a, b: -ns.matmul(ns.linalg.solve(_t(ns, a), g), _t(ns, ans)),
            lambda ns, g, ans, a, b: ns.linalg.solve(_t(ns, a), g),
            promotes=0, floating=True)


@public(extension="linalg")
def solve(x1, x2):
    """X with x1 @ X = x2, for a stack of invertible matrices x1 and x2 a stack of
    matrices, or one vector (shape (M,))."""
    if x2.ndim == 1:
        from .shape import reshape

        return reshape(_solve(x1, reshape(x2, (-1, 1))), (-1,))
    return _solve(x1, x2)


@public(extension="linalg")
def matrix_power(x, n):
    """x multiplied by itself n times (n < 0: its inverse's power; 0: the identity)."""
    if n < 0:
        x, n = inv(x), -n
    if n == 0:
        from ..creation import eye
        from .shape import broadcast_to

        one = eye(x.shape[-1], dtype=x.dtype.name, backend=x.backend, device=x.device)
        return broadcast_to(one, tuple(x.shape))
    out = None
    while n:  # square and multiply: log2(n) products
        if n & 1:
            out = x if out is None else matmul(out, x)
        n >>= 1
        if n:
            x = matmul(x, x)
    return out


tril = op("tril", lambda xp, x, k=0: xp.tril(x, k=k),
          lambda ns, g, ans, x, k=0: ns.tril(g, k=k))
triu = op("triu", lambda xp, x, k=0: xp.triu(x, k=k),
          lambda ns, g, ans, x, k=0: ns.triu(g, k=k))


# A = L L^T (Murray 2016): with P = Phi(L^T g), the lower triangle with its diagonal
# halved, the gradient is L^-T P L^-1, symmetrised (only symmetric dA are admissible).
def _cholesky_vjp(ns, g, ans, x, upper=False):
    low = _t(ns, ans) if upper else ans
    if upper:
        g = _t(ns, g)
    phi = ns.tril(ns.matmul(_t(ns, low), g), k=-1) + ns.tril(ns.triu(
        ns.matmul(_t(ns, low), g), k=0), k=0) * 0.5
    inv_low = ns.linalg.inv(low)
    s = ns.matmul(_t(ns, inv_low), ns.matmul(phi, inv_low))
    return (s + _t(ns, s)) * 0.5


cholesky = op("cholesky", lambda xp, x, upper=False: xp.linalg.cholesky(x, upper=upper),
              _cholesky_vjp, extension="linalg", promotes=0, floating=True)


# eigh's two results travel as one array, (..., n + 1, n): the eigenvalues in row 0
# and the eigenvectors below, so that one op (and one rule) carries both.
def _eigh_forward(xp, x):
    w, v = xp.linalg.eigh(x)
    return xp.concat([xp.expand_dims(w, axis=-2), v], axis=-2)


# With A = V diag(w) V^T: gA = V (diag(gw) + F * (V^T gV)) V^T, F_ij = 1 / (w_j - w_i)
# off the diagonal, symmetrised as JAX does. The diagonal is where w_j - w_i is exactly
# 0, which with distinct eigenvalues (required, as in PyTorch and JAX) is only i = j.
def _eigh_vjp(ns, g, ans, x):
    gw, gv = g[..., 0, :], g[..., 1:, :]
    w, v = ans[..., 0, :], ans[..., 1:, :]
    gaps = ns.expand_dims(w, axis=-2) - ns.expand_dims(w, axis=-1)
    on_diagonal = gaps == 0
    f = ns.where(on_diagonal, 0.0, 1.0 / ns.where(on_diagonal, 1.0, gaps))
    inner = ns.astype(on_diagonal, g.dtype) * ns.expand_dims(gw, axis=-1) \
        + f * ns.matmul(_t(ns, v), gv)
    ga = ns.matmul(v, ns.matmul(inner, _t(ns, v)))
    return (ga + _t(ns, ga)) * 0.5


_eigh = Op("linalg.eigh", _eigh_forward, _eigh_vjp, promotes=0, floating=True)
EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])


@public(extension="linalg")
def eigh(x):
    """Eigenvalues (ascending) and eigenvectors of symmetric matrices. The gradient
    assumes distinct eigenvalues, and treats x as symmetric (the gradient is too)."""
    both = _eigh(x)
    return EighResult(both[..., 0, :], both[..., 1:, :])


@public(extension="linalg")
def eigvalsh(x):
    """The eigenvalues (ascending) of symmetric matrices; see eigh for the gradient."""
    return eigh(x).eigenvalues


@public(extension="linalg")
def matrix_norm(x, keepdims=False, ord="fro"):
    """Norms of the matrices in x: "fro"; 1 / -1 (largest / smallest column sum of |x|)
    and inf / -inf (row sums); 2 / -2 / "nuc" (largest, smallest, sum of the singular
    values: see svd for the gradient's assumptions)."""
    from .elementwise import abs
    from .reductions import max, min, sum, vector_norm

    if ord == "fro":
        return vector_norm(x, axis=(-2, -1), keepdims=keepdims)
    if ord in (1, -1, float("inf"), -float("inf")):
        pick = max if ord > 0 else min
        along, over = (-2, -1) if ord in (1, -1) else (-1, -2)
        sums = sum(abs(x), axis=along, keepdims=True)
        out = pick(sums, axis=over, keepdims=True)
        return out if keepdims else sum(out, axis=(-2, -1))
    if ord in (2, -2, "nuc"):
        s = svdvals(x)
        out = max(s, axis=-1) if ord == 2 else min(s, axis=-1) if ord == -2 else sum(s, axis=-1)
        if keepdims:
            from .shape import expand_dims

            out = expand_dims(expand_dims(out, axis=-1), axis=-1)
        return out
    raise ValueError(f"matrix_norm: ord={ord!r} is not one of 'fro', 'nuc', 1, -1, 2, -2, "
                     "inf, -inf")


# svd's three results travel as one flat array, (..., m*k + k + k*n) with k = min(m, n):
# U, then S, then Vh, so that one op (and one rule) carries them all.
def _svd_parts(reshape, packed, m, n):
    k = min(m, n)
    lead = tuple(packed.shape[:-1])
    u = reshape(packed[..., :m * k], lead + (m, k))
    s = packed[..., m * k:m * k + k]
    vh = reshape(packed[..., m * k + k:], lead + (k, n))
    return u, s, vh


def _svd_forward(xp, x):
    u, s, vh = xp.linalg.svd(x, full_matrices=False)
    lead = tuple(x.shape[:-2])
    return xp.concat([xp.reshape(u, lead + (-1,)), s, xp.reshape(vh, lead + (-1,))], axis=-1)


# Townsend, "Differentiating the singular value decomposition" (2016), real case, with
# F_ij = 1 / (s_j^2 - s_i^2) off the diagonal (distinct singular values required):
#   gA = U (F*(U^T gU - gU^T U) S + S F*(V^T gV - gV^T V) + diag(gS)) V^T
#        + (I - U U^T) gU S^-1 V^T + U S^-1 gV^T (I - V V^T)
def _svd_vjp(ns, g, ans, x):
    m, n = x.shape[-2], x.shape[-1]
    gu, gs, gvh = _svd_parts(ns.reshape, g, m, n)
    u, s, vh = _svd_parts(ns.reshape, ans, m, n)
    v, gv = _t(ns, vh), _t(ns, gvh)
    row, col = ns.expand_dims(s, axis=-2), ns.expand_dims(s, axis=-1)
    gaps = row * row - col * col
    on_diagonal = gaps == 0
    f = ns.where(on_diagonal, 0.0, 1.0 / ns.where(on_diagonal, 1.0, gaps))
    ut_gu, vt_gv = ns.matmul(_t(ns, u), gu), ns.matmul(_t(ns, v), gv)
    inner = (f * (ut_gu - _t(ns, ut_gu))) * row + col * (f * (vt_gv - _t(ns, vt_gv))) \
        + ns.astype(on_diagonal, g.dtype) * ns.expand_dims(gs, axis=-1)
    out = ns.matmul(u, ns.matmul(inner, vh))
    # The parts of gU and gV outside the spans of U and V (zero for square x).
    out = out + ns.matmul((gu - ns.matmul(u, ut_gu)) / row, vh)
    out = out + ns.matmul(u, _t(ns, (gv - ns.matmul(v, vt_gv)) / row))
    return out


_svd = Op("linalg.svd", _svd_forward, _svd_vjp, promotes=0, floating=True)
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])


@public(extension="linalg")
def svd(x, full_matrices=True):
    """U, S, Vh with x = U diag(S) Vh, singular values descending. Only the reduced
    form (full_matrices=False) is differentiable here; the gradient assumes distinct,
    nonzero singular values, as PyTorch and JAX do."""
    if full_matrices and x.shape[-2] != x.shape[-1]:
        raise NotImplementedError("linalg.svd: full_matrices=True for a non-square input is "
                                  "not differentiable here; pass full_matrices=False")
    from .shape import reshape

    return SVDResult(*_svd_parts(reshape, _svd(x), x.shape[-2], x.shape[-1]))


@public(extension="linalg")
def svdvals(x):
    """The singular values, descending; see svd for the gradient's assumptions."""
    return svd(x, full_matrices=False).S


@public(extension="linalg")
def pinv(x, rtol=None):
    """The pseudo-inverse, from the reduced svd: singular values at or below
    rtol * max(S) (rtol defaults to max(M, N) * eps) count as zero. Differentiable where
    the rank does not change."""
    from .elementwise import where
    from .reductions import max
    from .shape import expand_dims, matrix_transpose

    u, s, vh = svd(x, full_matrices=False)
    if rtol is None:
        rtol = (x.shape[-2] if x.shape[-2] > x.shape[-1] else x.shape[-1]) \
            * float(x.backend.xp.finfo(x.data.dtype).eps)
    kept = s > max(s, axis=-1, keepdims=True) * rtol
    inv_s = where(kept, 1.0 / where(kept, s, 1.0), 0.0)
    return matmul(matrix_transpose(vh) * expand_dims(inv_s, axis=-2), matrix_transpose(u))


# qr's two results travel as one array: Q (..., m, n) over R (..., n, n), for m >= n.
def _qr_forward(xp, x):
    q, r = xp.linalg.qr(x, mode="reduced")
    return xp.concat([q, r], axis=-2)


# With M = R gR^T - gQ^T Q and copyltu(M) the symmetric matrix with M's lower triangle,
# gA = (gQ + Q copyltu(M)) R^-T (Walter and Lehmann 2018; PyTorch's rule for m >= n).
def _qr_vjp(ns, g, ans, x):
    m = x.shape[-2]
    gq, gr = g[..., :m, :], g[..., m:, :]
    q, r = ans[..., :m, :], ans[..., m:, :]
    big_m = ns.matmul(r, _t(ns, gr)) - ns.matmul(_t(ns, gq), q)
    low = ns.tril(big_m, k=-1)
    sym = low + _t(ns, low) + (ns.tril(big_m, k=0) - low)
    return ns.matmul(gq + ns.matmul(q, sym), _t(ns, ns.linalg.inv(r)))


_qr = Op("linalg.qr", _qr_forward, _qr_vjp, promotes=0, floating=True)
QRResult = namedtuple("QRResult", ["Q", "R"])


@public(extension="linalg")
def qr(x, mode="reduced"):
    """Q, R with x = Q R, for matrices at least as tall as they are wide (m >= n) in the
    reduced mode; the gradient assumes full column rank, as PyTorch and JAX do."""
    m, n = x.shape[-2], x.shape[-1]
    if mode != "reduced" or m < n:
        raise NotImplementedError(f"linalg.qr: differentiable for mode='reduced' and m >= n; "
                                  f"got mode={mode!r} and shape {tuple(x.shape)}")
    both = _qr(x)
    return QRResult(both[..., :m, :], both[..., m:, :])
