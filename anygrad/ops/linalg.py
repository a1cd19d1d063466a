"""Linear algebra: matrix products, and the standard's `linalg` extension.

This module is also the `linalg` namespace rules reach as `ns.linalg` when gradients
are recorded, as the backend's own `xp.linalg` serves them on raw arrays: a rule
written `ns.linalg.inv(x)` runs either way. Every rule below holds for invertible
(for cholesky: symmetric positive definite) input, as PyTorch and JAX document.
"""
from __future__ import annotations

import math
from collections import namedtuple

from ..dtypes import dtype_name, get_default_dtype, is_complex, is_floating, real_name
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


# The rules of matmul, linear, inv, det and solve are plain transposes of a complex-linear
# (holomorphic) derivative, so they hold for complex inputs as written (engine docstring).
matmul = op("matmul", lambda xp, a, b: xp.matmul(a, b), _matmul_vjp_a, _matmul_vjp_b,
            complex=True, batch="matmul",
            doc=("The matrix product a @ b, with the standard's rules for 1-d and stacked "
                 "operands."))


# x @ W.T + b in one op, as dense layers use it. Fusing gives the weight gradient as
# g.T @ x directly, contiguous in W's own layout, rather than the transpose of a product.
def _linear_forward(xp, x, weight, bias=None):
    out = xp.matmul(x, xp.matrix_transpose(weight))
    return out if bias is None else out + bias


def _linear_weight_vjp(ns, g, ans, x, weight, bias=None):
    g, x = _flat_rows(ns, g), _flat_rows(ns, x)
    if g.shape[0] == 1:
        # One row (a step of a recurrent net): an outer product. numpy's matmul takes a
        # slow loop for an inner dimension of 1 (6x the time); a product of one term
        # is the same number either way.
        return ns.reshape(g, (g.shape[1], 1)) * x
    return ns.matmul(ns.matrix_transpose(g), x)


linear = op("linear", _linear_forward,
            lambda ns, g, ans, x, weight, bias=None: ns.matmul(g, weight),
            _linear_weight_vjp,
            lambda ns, g, ans, x, weight, bias=None: g, passes=(2,), complex=True, batch="linear",
            doc="x @ weight.T + bias (bias optional), as PyTorch's linear layer.")


# ---------------------------------------------------------------- the linalg extension
def _t(ns, a):
    return ns.matrix_transpose(a)


def _h(ns, a):
    """The conjugate transpose (the transpose, for real a)."""
    return ns.conj(_t(ns, a)) if is_complex(a.dtype) else _t(ns, a)


def _per_matrix(ns, v):
    """A value per matrix, (...), as (..., 1, 1) to scale whole matrices."""
    return ns.expand_dims(ns.expand_dims(v, axis=-1), axis=-1)


# d(A^-1) = -A^-1 dA A^-1, so the gradient is -A^-T g A^-T.
inv = op("inv", lambda xp, x: xp.linalg.inv(x),
         lambda ns, g, ans, x: -ns.matmul(_t(ns, ans), ns.matmul(g, _t(ns, ans))),
         extension="linalg", promotes=0, floating=True, complex=True, batch="matrix",
         doc="The inverse of each square matrix of x (its last two axes).")
# Jacobi's formula: d det A = det A tr(A^-1 dA).
det = op("det", lambda xp, x: xp.linalg.det(x),
         lambda ns, g, ans, x: _per_matrix(ns, g * ans) * _t(ns, ns.linalg.inv(x)),
         extension="linalg", promotes=0, floating=True, complex=True, batch="matrix",
         doc="The determinant of each square matrix of x (its last two axes).")
# log|det A| = Re(log det A): its rule, A^-T g, holds for complex A as written.
_logabsdet = Op("linalg.slogdet", lambda xp, x: xp.linalg.slogdet(x)[1],
                lambda ns, g, ans, x: _per_matrix(ns, g) * _t(ns, ns.linalg.inv(x)),
                promotes=0, floating=True, complex=True, batch="matrix")


# The sign det A / |det A| of a complex A turns with A: d sign = i Im(tr(A^-1 dA)) sign,
# so the gradient is i Im(sign g) A^-T in the engine's convention (PyTorch's
# slogdet_backward, conjugated). A real sign is +-1, locally constant.
def _sign_vjp(ns, g, ans, x):
    if not is_complex(x.dtype):
        return x * 0.0
    turn = ns.astype(ns.imag(ans * g), ans.dtype) * 1j
    return _per_matrix(ns, turn) * _t(ns, ns.linalg.inv(x))


_sign_of_det = Op("linalg.slogdet", lambda xp, x: xp.linalg.slogdet(x)[0], _sign_vjp,
                  promotes=0, floating=True, complex=True, batch="matrix")
SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])


@public(extension="linalg")
def slogdet(x):
    """(sign, log|det|) of each matrix; log|det| carries the gradient A^-T."""
    return SlogdetResult(_sign_of_det(x), _logabsdet(x))


# X = A^-1 B: gB = A^-T g, gA = -gB X^T.
_solve = Op("linalg.solve", lambda xp, a, b: xp.linalg.solve(a, b),
            lambda ns, g, ans, a, b: -ns.matmul(ns.linalg.solve(_t(ns, a), g), _t(ns, ans)),
            lambda ns, g, ans, a, b: ns.linalg.solve(_t(ns, a), g),
            promotes=0, floating=True, complex=True, batch="solve")


@public(extension="linalg")
def solve(x1, x2):
    """X with x1 @ X = x2, for a stack of invertible matrices x1 and x2 a stack of
    matrices, or one vector (shape (M,)) solved against every matrix of the stack (X of
    shape x1.shape[:-1])."""
    if getattr(x2, "ndim", None) == 1:
        from .shape import expand_dims, squeeze

        return squeeze(_solve(x1, expand_dims(x2, axis=-1)), axis=-1)
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
          lambda ns, g, ans, x, k=0: ns.tril(g, k=k), complex=True, batch="matrix",
          doc="x with the elements above diagonal `k` of each matrix set to 0.")
triu = op("triu", lambda xp, x, k=0: xp.triu(x, k=k),
          lambda ns, g, ans, x, k=0: ns.triu(g, k=k), complex=True, batch="matrix",
          doc="x with the elements below diagonal `k` of each matrix set to 0.")


# A = L L^H (Murray 2016): with P = Phi(L^H g), the lower triangle with its diagonal
# halved, the gradient is L^-H P L^-1, made Hermitian (only Hermitian dA are admissible).
# Written in PyTorch's convention, where it holds for complex input as it stands; the
# engine's complex gradients are the conjugates of PyTorch's, hence `_in_pytorchs`.
def _cholesky_vjp(ns, g, ans, x, upper=False):
    return _in_pytorchs(ns, _cholesky_rule, g, ans, upper)


def _cholesky_rule(ns, g, ans, upper):
    low = _h(ns, ans) if upper else ans
    if upper:
        g = _h(ns, g)
    inner = ns.matmul(_h(ns, low), g)
    phi = ns.tril(inner, k=-1) + ns.tril(ns.triu(inner, k=0), k=0) * 0.5
    inv_low = ns.linalg.inv(low)
    s = ns.matmul(_h(ns, inv_low), ns.matmul(phi, inv_low))
    return (s + _h(ns, s)) * 0.5


def _in_pytorchs(ns, rule, g, *args):
    """Run `rule`, written in PyTorch's convention for complex gradients, on the engine's
    `g` (their conjugate); identical for real values, where no conjugate is taken."""
    if not is_complex(g.dtype):
        return rule(ns, g, *args)
    return ns.conj(rule(ns, ns.conj(g), *args))


cholesky = op("cholesky", lambda xp, x, upper=False: xp.linalg.cholesky(x, upper=upper),
              _cholesky_vjp, extension="linalg", promotes=0, floating=True, complex=True,
              batch="matrix",
              doc=("The Cholesky factor of each Hermitian positive-definite matrix of x: lower "
                   "triangular L with x = L L^H, or upper U with x = U^H U when `upper`."))


# eigh's two results travel as one array, (..., n + 1, n): the eigenvalues in row 0
# and the eigenvectors below, so that one op (and one rule) carries both.
def _eigh_forward(xp, x):
    w, v = xp.linalg.eigh(x)
    return xp.concat([xp.expand_dims(w, axis=-2), v], axis=-2)


# With A = V diag(w) V^H: gA = V (diag(gw) + F * (V^H gV)) V^H, F_ij = 1 / (w_j - w_i)
# off the diagonal, made Hermitian as JAX does. The diagonal is where w_j - w_i is
# exactly 0, which with distinct eigenvalues (required, as in PyTorch and JAX) is only
# i = j. In PyTorch's convention (see `_in_pytorchs`); complex eigenvectors are fixed
# only up to a phase, so a loss that depends on it is refused, as eig does.
def _eigh_vjp(ns, g, ans, x):
    return _in_pytorchs(ns, _eigh_rule, g, ans, tuple(x.shape))


def _eigh_rule(ns, g, ans, shape):
    gw, gv = g[..., 0, :], g[..., 1:, :]
    w, v = ans[..., 0, :], ans[..., 1:, :]
    gaps = ns.expand_dims(w, axis=-2) - ns.expand_dims(w, axis=-1)
    on_diagonal = gaps == 0
    f = ns.where(on_diagonal, 0.0, 1.0 / ns.where(on_diagonal, 1.0, gaps))
    vhgv = ns.matmul(_h(ns, v), gv)
    if is_complex(vhgv.dtype):
        _refuse_phase_dependence(ns, ns.sum(ns.where(on_diagonal, vhgv, 0.0), axis=-1), shape,
                                 "linalg.eigh")
    inner = ns.astype(on_diagonal, g.dtype) * ns.expand_dims(gw, axis=-1) + f * vhgv
    ga = ns.matmul(v, ns.matmul(inner, _h(ns, v)))
    return (ga + _h(ns, ga)) * 0.5


_eigh = Op("linalg.eigh", _eigh_forward, _eigh_vjp, promotes=0, floating=True, complex=True,
    batch="matrix")
EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])


@public(extension="linalg")
def eigh(x):
    """Eigenvalues (ascending) and eigenvectors of symmetric matrices. The gradient
    assumes distinct eigenvalues, and treats x as symmetric (the gradient is too)."""
    both = _eigh(x)
    values = both[..., 0, :]
    if is_complex(values.dtype):  # packed beside complex eigenvectors; real, as in numpy
        from .complex import real

        values = real(values)
    return EighResult(values, both[..., 1:, :])


@public(extension="linalg")
def eigvalsh(x):
    """The eigenvalues (ascending) of symmetric matrices; see eigh for the gradient."""
    return eigh(x).eigenvalues


# eig's two results travel as one complex array, (..., n + 1, n), as eigh's do.
def _eig_forward(xp, x):
    w, v = xp.linalg.eig(x)
    return xp.concat([xp.expand_dims(w, axis=-2), v], axis=-2)


# PyTorch's rule (linalg_eig_backward), in its convention, for eigenvectors of unit norm:
#   gA = V^-H (diag(gL) + (V^H gV - V^H V Re(diag(V^H gV))) / conj(E)) V^H,
#   E_ij = L_j - L_i off the diagonal.
# The engine's gradients of complex values are the conjugates of PyTorch's, so g comes in
# and gA goes out conjugated; a real input takes the real part. An eigenvector is fixed
# only up to a phase e^(i phi): a loss that depends on it has no gradient, and (as in
# PyTorch) backward refuses when Im(diag(V^H gV)) says so.
def _eig_vjp(ns, g, ans, x):
    ga = _in_pytorchs(ns, _eig_rule, g, ans, tuple(x.shape))
    return ga if is_complex(x.dtype) else ns.real(ga)


def _eig_rule(ns, g, ans, shape):
    gw, gv = g[..., 0, :], g[..., 1:, :]
    w, v = ans[..., 0, :], ans[..., 1:, :]
    vh = _h(ns, v)
    vhgv = ns.matmul(vh, gv)
    gaps = ns.conj(ns.expand_dims(w, axis=-2) - ns.expand_dims(w, axis=-1))
    on_diagonal = gaps == 0
    diagonal = ns.sum(ns.where(on_diagonal, vhgv, 0.0), axis=-1)
    _refuse_phase_dependence(ns, diagonal, shape, "linalg.eig")
    inner = vhgv - ns.matmul(vh, v * ns.expand_dims(ns.real(diagonal), axis=-2))
    inner = ns.where(on_diagonal, ns.expand_dims(gw, axis=-1),
                     inner / ns.where(on_diagonal, 1.0, gaps))
    return ns.linalg.solve(vh, ns.matmul(inner, vh))


def _refuse_phase_dependence(ns, diagonal, shape, name):
    from ..tensor import Tensor

    if isinstance(diagonal, Tensor):  # recorded for higher orders: no host check here
        return
    drift = float(ns.max(ns.abs(ns.imag(diagonal)))) if math.prod(diagonal.shape) else 0.0
    if drift > 1e-2:
        raise ValueError(
            f"{name} of a matrix of shape {shape}: the loss depends on the phases of the "
            f"{'singular vectors' if name == 'linalg.svd' else 'eigenvectors'} (the "
            f"imaginary part of diag(V^H gV) reaches {drift:.3g}), which {name} does not "
            "fix; use a phase-invariant function of them"
            + (", such as U diag(S) Vh or abs(U)" if name == "linalg.svd"
               else ", such as abs(V) or V * conj(V)"))


_eig = Op("linalg.eig", _eig_forward, _eig_vjp, promotes=0, floating=True, complex=True,
    batch="matrix")
EigResult = namedtuple("EigResult", ["eigenvalues", "eigenvectors"])


@public(extension="linalg")
def eig(x):
    """Eigenvalues and eigenvectors (unit norm, complex) of square matrices. The gradient
    assumes distinct eigenvalues, and a loss that does not depend on the eigenvectors'
    phases (as in PyTorch: backward raises when it does)."""
    both = _eig(x)
    return EigResult(both[..., 0, :], both[..., 1:, :])


@public(extension="linalg")
def eigvals(x):
    """The eigenvalues (complex) of square matrices; see eig for the gradient."""
    return eig(x).eigenvalues


@public(extension="linalg")
def matrix_norm(x, keepdims=False, ord="fro"):
    """Norms of the matrices in x: "fro"; 1 / -1 (largest / smallest column sum of |x|)
    and inf / -inf (row sums); 2 / -2 / "nuc" (largest, smallest, sum of the singular
    values: see svd for the gradient's assumptions)."""
    from .elementwise import abs
    from .reductions import sum, vector_norm

    if ord == "fro":
        return vector_norm(x, axis=(-2, -1), keepdims=keepdims)
    if ord in (1, -1, float("inf"), -float("inf")):
        along, over = (-2, -1) if ord in (1, -1) else (-1, -2)
        sums = sum(abs(x), axis=along, keepdims=True)
        out = _extreme(sums, over, ord > 0, ord, x.shape)
        return out if keepdims else sum(out, axis=(-2, -1))
    if ord in (2, -2, "nuc"):
        s = svdvals(x)
        out = sum(s, axis=-1) if ord == "nuc" else \
            sum(_extreme(s, -1, ord == 2, ord, x.shape), axis=-1)
        if keepdims:
            from .shape import expand_dims

            out = expand_dims(expand_dims(out, axis=-1), axis=-1)
        return out
    raise ValueError(f"matrix_norm: ord={ord!r} is not one of 'fro', 'nuc', 1, -1, 2, -2, "
                     "inf, -inf")


def _extreme(values, axis, largest, ord, shape):
    """The largest (smallest) of `values` along `axis`, keeping it. Norms are never
    negative, so the largest of none is 0, as in numpy; the smallest of none is
    undefined."""
    from .reductions import max, min, sum

    if values.shape[axis]:
        return (max if largest else min)(values, axis=axis, keepdims=True)
    if largest:
        return sum(values, axis=axis, keepdims=True)  # zeros, and a gradient of none
    raise ValueError(f"matrix_norm: ord={ord!r} of matrices of shape {tuple(shape[-2:])} takes "
                     "the smallest of no values, which is undefined")


# svd's three results travel as one flat array: U, then S, then Vh, each flattened, so
# that one op (and one rule) carries them all. With k = min(m, n), U is (m, k) and Vh
# (k, n) in the reduced form, (m, m) and (n, n) with full_matrices.
def _svd_parts(reshape, packed, m, n, full_matrices=False):
    k = min(m, n)
    cols, rows = (m, n) if full_matrices else (k, k)
    lead = tuple(packed.shape[:-1])
    u = reshape(packed[..., :m * cols], lead + (m, cols))
    s = packed[..., m * cols:m * cols + k]
    vh = reshape(packed[..., m * cols + k:], lead + (rows, n))
    return u, s, vh


def _svd_forward(xp, x, full_matrices=False):
    u, s, vh = xp.linalg.svd(x, full_matrices=full_matrices)
    return xp.concat([_flat_matrices(xp, u), s, _flat_matrices(xp, vh)], axis=-1)


def _flat_matrices(xp, a):
    """(..., m, n) -> (..., m * n), sizes spelled out: -1 is ambiguous in an empty stack."""
    return xp.reshape(a, tuple(a.shape[:-2]) + (a.shape[-2] * a.shape[-1],))


def _unused(ns, g, where, part, shape, advice):
    """Refuse a gradient that reaches the part of a factorisation that is not unique.
    Reading g on the host makes `ag.compile` run such a backward eagerly."""
    if bool(ns.any(g != 0)):
        raise NotImplementedError(
            f"{where}: a gradient reaches {part} (input shape {tuple(shape)}), an arbitrary "
            "orthonormal basis of a complement rather than a function of the input, which "
            f"has no derivative; {advice}")


# Townsend, "Differentiating the singular value decomposition" (2016), with
# F_ij = 1 / (s_j^2 - s_i^2) off the diagonal (distinct singular values required):
#   gA = U (F*(U^H gU - gU^H U) S + S F*(V^H gV - gV^H V) + diag(gS)
#           + i Im(diag(U^H gU - V^H gV)) / 2S) V^H
#        + (I - U U^H) gU S^-1 V^H + U S^-1 gV^H (I - V V^H)
# in PyTorch's convention (see `_in_pytorchs`). The imaginary diagonal term exists for
# complex input only, where singular vectors are fixed up to a common phase per pair: a
# loss that depends on that phase is refused, as PyTorch does.
def _svd_reduced_vjp(ns, gu, gs, gvh, u, s, vh, shape):
    v, gv = _h(ns, vh), _h(ns, gvh)
    row, col = ns.expand_dims(s, axis=-2), ns.expand_dims(s, axis=-1)
    gaps = row * row - col * col
    on_diagonal = gaps == 0
    f = ns.where(on_diagonal, 0.0, 1.0 / ns.where(on_diagonal, 1.0, gaps))
    uh_gu, vh_gv = ns.matmul(_h(ns, u), gu), ns.matmul(_h(ns, v), gv)
    inner = (f * (uh_gu - _h(ns, uh_gu))) * row + col * (f * (vh_gv - _h(ns, vh_gv))) \
        + ns.astype(on_diagonal, gs.dtype) * ns.expand_dims(gs, axis=-1)
    if is_complex(uh_gu.dtype):
        diag_u = ns.sum(ns.where(on_diagonal, uh_gu, 0.0), axis=-1)
        diag_v = ns.sum(ns.where(on_diagonal, vh_gv, 0.0), axis=-1)
        _refuse_phase_dependence(ns, diag_u + diag_v, shape, "linalg.svd")
        twist = ns.imag(diag_u - diag_v) / (2.0 * s)
        twist = ns.where(on_diagonal, ns.expand_dims(twist, axis=-1), 0.0)
        inner = inner + ns.astype(twist, inner.dtype) * 1j
    out = ns.matmul(u, ns.matmul(inner, vh))
    # The parts of gU and gV outside the spans of U and V (zero for square x).
    out = out + ns.matmul((gu - ns.matmul(u, uh_gu)) / row, vh)
    out = out + ns.matmul(u, _h(ns, (gv - ns.matmul(v, vh_gv)) / row))
    return out


# With full_matrices, U's last m - k columns and Vh's last n - k rows span the
# complements of the singular vectors in whatever basis LAPACK picked: the gradient goes
# through the leading k, as PyTorch's does, and is refused (where PyTorch drops it
# silently) when anything reaches the rest.
def _svd_vjp(ns, g, ans, x, full_matrices=False):
    m, n = x.shape[-2], x.shape[-1]
    k = min(m, n)
    if full_matrices:
        gu, _, gvh = _svd_parts(ns.reshape, g, m, n, full_matrices)
        advice = f"use only U[..., :, :{k}] and Vh[..., :{k}, :], or full_matrices=False"
        where = "linalg.svd(full_matrices=True)"
        _unused(ns, gu[..., k:], where, f"U[..., :, {k}:]", x.shape, advice)
        _unused(ns, gvh[..., k:, :], where, f"Vh[..., {k}:, :]", x.shape, advice)
    return _in_pytorchs(ns, _svd_rule, g, ans, x, full_matrices)


def _svd_rule(ns, g, ans, x, full_matrices):
    m, n = x.shape[-2], x.shape[-1]
    k = min(m, n)
    gu, gs, gvh = _svd_parts(ns.reshape, g, m, n, full_matrices)
    u, s, vh = _svd_parts(ns.reshape, ans, m, n, full_matrices)
    if is_complex(s.dtype):  # packed beside complex vectors: real numbers
        gs, s = ns.real(gs), ns.real(s)
    if full_matrices:
        gu, u, gvh, vh = gu[..., :k], u[..., :k], gvh[..., :k, :], vh[..., :k, :]
    return _svd_reduced_vjp(ns, gu, gs, gvh, u, s, vh, tuple(x.shape))


_svd = Op("linalg.svd", _svd_forward, _svd_vjp, promotes=0, floating=True, complex=True,
    batch="matrix")
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])


@public(extension="linalg")
def svd(x, full_matrices=True):
    """U, S, Vh with x = U diag(S) Vh, singular values descending. The gradient assumes
    distinct, nonzero singular values, as PyTorch and JAX do.

    With full_matrices (the default) and a non-square x (m x n, k = min(m, n)), U is
    m x m and Vh n x n; their last m - k columns (n - k rows) are an arbitrary basis of
    a complement, so the gradient goes through the leading k only, as in PyTorch. Where
    PyTorch silently ignores a gradient reaching the others, here backward raises
    NotImplementedError: use U[..., :k] and Vh[..., :k, :], or full_matrices=False."""
    from .shape import reshape

    m, n = x.shape[-2], x.shape[-1]
    full_matrices = bool(full_matrices) and m != n  # square: the two forms agree
    u, s, vh = _svd_parts(reshape, _svd(x, full_matrices=full_matrices), m, n, full_matrices)
    if is_complex(s.dtype):  # packed beside complex vectors; real, as in numpy
        from .complex import real

        s = real(s)
    return SVDResult(u, s, vh)


@public(extension="linalg")
def svdvals(x):
    """The singular values, descending; see svd for the gradient's assumptions."""
    return svd(x, full_matrices=False).S


def _pinv_forward(xp, x, rtol):
    m, n = x.shape[-2], x.shape[-1]
    if m == 0 or n == 0:  # svd would give no singular value to measure rtol against
        return xp.zeros(tuple(x.shape[:-2]) + (n, m), dtype=x.dtype, device=x.device)
    u, s, vh = xp.linalg.svd(x, full_matrices=False)
    if not isinstance(rtol, float):  # one tolerance per matrix, shaped (..., 1, 1)
        rtol = rtol[..., 0]
        if xp.isdtype(rtol.dtype, "complex floating"):  # promoted with a complex x
            rtol = xp.real(rtol)
    kept = s > xp.max(s, axis=-1, keepdims=True) * rtol
    inv_s = xp.where(kept, 1.0 / xp.where(kept, s, xp.ones_like(s)), xp.zeros_like(s))
    v, uh = xp.matrix_transpose(vh), xp.matrix_transpose(u)
    if xp.isdtype(x.dtype, "complex floating"):  # V S^-1 U^H
        v, uh = xp.conj(v), xp.conj(uh)
    return xp.matmul(v * xp.astype(inv_s[..., None, :], v.dtype), uh)


# Golub and Pereyra (1973): with P = A^+, dP = -P dA P + P P^H dA^H (I - A P)
# + (I - P A) dA^H P^H P wherever the rank does not change, so
#   gA = -P^H g P^H + (I - A P) g^H P P^H + P^H P g^H (I - P A)
# in PyTorch's convention (see `_in_pytorchs`). It needs no singular value apart, so it
# holds at repeated and at zero singular values, where svd's rule does not.
def _pinv_rule(ns, g, p, x):
    ph, gh = _h(ns, p), _h(ns, g)
    right = ns.matmul(gh, ns.matmul(p, ph))  # g^H P P^H
    left = ns.matmul(ns.matmul(ph, p), gh)  # P^H P g^H
    return (-ns.matmul(ph, ns.matmul(g, ph))
            + right - ns.matmul(x, ns.matmul(p, right))
            + left - ns.matmul(ns.matmul(left, p), x))


_pinv = Op("linalg.pinv", _pinv_forward,
           lambda ns, g, ans, x, rtol: _in_pytorchs(ns, _pinv_rule, g, ans, x),
           promotes=0, floating=True, complex=True, batch="matrix")


@public(extension="linalg")
def pinv(x, rtol=None):
    """The pseudo-inverse V S^-1 U^H, from the reduced svd: singular values at or below
    rtol * max(S) (rtol defaults to max(M, N) * eps) count as zero. `rtol` is a number
    or an array broadcast against the stack's shape, and carries no gradient.
    Differentiable where the rank does not change, repeated and zero singular values
    included."""
    if rtol is None:
        rtol = (x.shape[-2] if x.shape[-2] > x.shape[-1] else x.shape[-1]) \
            * float(x.backend.xp.finfo(x.array.dtype).eps)
    if isinstance(rtol, (int, float)):
        return _pinv(x, float(rtol))
    from ..creation import as_tensor
    from .shape import astype, reshape

    # In x's real floating dtype, so that the tolerance never widens x through promotion.
    name = dtype_name(x.dtype)
    name = real_name(name) if is_floating(x.array.dtype) or is_complex(x.array.dtype) \
        else dtype_name(get_default_dtype())
    tolerance = as_tensor(rtol, backend=x.backend).detach()
    tolerance = reshape(astype(tolerance, name), tuple(tolerance.shape) + (1, 1))
    return _pinv(x, tolerance)


# qr's two results travel as one flat array, Q then R, each flattened: Q is (m, k) and R
# (k, n), with k = min(m, n) in the reduced mode and k = m in the complete one.
def _qr_parts(reshape, packed, m, n, mode):
    k = m if mode == "complete" else min(m, n)
    lead = tuple(packed.shape[:-1])
    return (reshape(packed[..., :m * k], lead + (m, k)),
            reshape(packed[..., m * k:], lead + (k, n)))


def _qr_forward(xp, x, mode="reduced"):
    q, r = xp.linalg.qr(x, mode=mode)
    return xp.concat([_flat_matrices(xp, q), _flat_matrices(xp, r)], axis=-1)


# For m >= n, with M = R gR^H - gQ^H Q and copyltu(M) the Hermitian matrix with M's
# lower triangle and the real part of its diagonal, gA = (gQ + Q copyltu(M)) R^-H
# (Walter and Lehmann 2018; PyTorch's convention, see `_in_pytorchs`).
def _qr_tall_vjp(ns, gq, gr, q, r):
    big_m = ns.matmul(r, _h(ns, gr)) - ns.matmul(_h(ns, gq), q)
    low = ns.tril(big_m, k=-1)
    diagonal = ns.tril(big_m, k=0) - low
    if is_complex(diagonal.dtype):
        diagonal = ns.real(diagonal)
    sym = low + _h(ns, low) + diagonal
    return ns.matmul(gq + ns.matmul(q, sym), _h(ns, ns.linalg.inv(r)))


# For m < n, PyTorch's split: A = [X | Y] with X square, X = Q R1 and R2 = Q^H Y. R2
# adds Y gR2^H to Q's gradient, X's gradient is the square rule's, and gY = Q gR2.
# Complete mode with m > n: Q's last m - n columns are an arbitrary basis of the
# complement (R's last rows are zeros): the gradient goes through the leading n columns,
# and is refused (as PyTorch always refuses this mode) when anything reaches the rest.
def _qr_vjp(ns, g, ans, x, mode="reduced"):
    m, n = x.shape[-2], x.shape[-1]
    q, r = _qr_parts(ns.reshape, ans, m, n, mode)
    if m > n and mode == "complete":
        _unused(ns, _qr_parts(ns.reshape, g, m, n, mode)[0][..., n:],
                "linalg.qr(mode='complete')", f"Q[..., :, {n}:]", x.shape,
                f"use only Q[..., :, :{n}], or mode='reduced'")
    return _in_pytorchs(ns, _qr_rule, g, ans, x, mode)


def _qr_rule(ns, g, ans, x, mode):
    m, n = x.shape[-2], x.shape[-1]
    gq, gr = _qr_parts(ns.reshape, g, m, n, mode)
    q, r = _qr_parts(ns.reshape, ans, m, n, mode)
    if m >= n:
        if m > n and mode == "complete":
            gq, q, gr, r = gq[..., :n], q[..., :n], gr[..., :n, :], r[..., :n, :]
        return _qr_tall_vjp(ns, gq, gr, q, r)
    gr1, gr2 = gr[..., :m], gr[..., m:]
    gx = _qr_tall_vjp(ns, gq + ns.matmul(x[..., m:], _h(ns, gr2)), gr1, q, r[..., :m])
    return ns.concat([gx, ns.matmul(q, gr2)], axis=-1)


_qr = Op("linalg.qr", _qr_forward, _qr_vjp, promotes=0, floating=True, complex=True,
    batch="matrix")
QRResult = namedtuple("QRResult", ["Q", "R"])


@public(extension="linalg")
def qr(x, mode="reduced"):
    """Q, R with x = Q R, Q orthonormal and R upper triangular. mode="reduced": Q is
    (m, k) and R (k, n), k = min(m, n); mode="complete": Q is (m, m) and R (m, n). The
    gradient assumes the leading k x k block of x is of full rank, as PyTorch and JAX do;
    for wide x (m < n) it is PyTorch's, through that block and the remaining columns.

    In complete mode with m > n, Q's last m - n columns are an arbitrary basis of the
    complement of x's columns: the gradient goes through its first n columns, and
    backward raises NotImplementedError if a gradient reaches the others (PyTorch
    refuses this mode outright). Use Q[..., :n], or mode="reduced".

    numpy's mode="r" (R alone) is accepted too, and differentiable: Q is computed anyway."""
    if mode == "r":
        return qr(x, mode="reduced").R
    if mode not in ("reduced", "complete"):
        raise ValueError(f"linalg.qr: mode={mode!r} is not 'reduced', 'complete' or numpy's "
                         "'r'")
    if x.ndim < 2:
        raise ValueError(f"linalg.qr: needs a stack of matrices, got shape {tuple(x.shape)}")
    from .shape import reshape

    m, n = x.shape[-2], x.shape[-1]
    if mode == "complete" and m <= n:
        mode = "reduced"  # the same factors
    return QRResult(*_qr_parts(reshape, _qr(x, mode=mode), m, n, mode))
