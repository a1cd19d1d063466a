"""numpy.linalg's spelling: `norm`'s ord and axis rules, `eigh`'s UPLO, `svd`'s
compute_uv, `qr`'s modes, over anygrad.linalg."""
from __future__ import annotations

# numpy's own error class, so that `except np.linalg.LinAlgError` catches it
from numpy.linalg import LinAlgError

from .. import ops
from ..ops import linalg as _linalg
from ._arrays import asarray, refuse, spell, tensors, unmapped

__all__ = [
    "norm", "inv", "solve", "det", "slogdet", "cholesky", "eigh", "eigvalsh", "eig", "eigvals",
    "svd", "svdvals", "qr", "pinv", "matrix_power", "matrix_rank", "multi_dot", "LinAlgError",
]


def norm(x, ord=None, axis=None, keepdims=False):
    """numpy.linalg.norm: with axis=None, the 2-norm of the flattened array when ord is
    None, else the vector norm of a 1-D or the matrix norm of a 2-D x; an int axis is a
    vector norm; a pair of axes a matrix norm ("fro" by default, "nuc", 1, -1, 2, -2,
    inf, -inf)."""
    x = asarray(x)
    if not x.dtype.is_floating and x.dtype.kind != "complex floating":
        x = asarray(x, "float64")
    if axis is None:
        if ord is None:
            out = ops.vector_norm(ops.reshape(x, (-1,)))
            return ops.reshape(out, (1,) * x.ndim) if keepdims else out
        if x.ndim not in (1, 2):
            raise ValueError(f"anygrad.numpy.linalg.norm: ord={ord!r} needs a 1-D or 2-D "
                             f"array when axis is None, got shape {x.shape}")
        axis = tuple(range(x.ndim))
    if isinstance(axis, int) or len(axis) == 1:
        if isinstance(ord, str):
            raise ValueError(f"anygrad.numpy.linalg.norm: ord={ord!r} is a matrix norm; "
                             "a vector norm takes a number")
        axis = axis if isinstance(axis, int) else axis[0]
        return ops.vector_norm(x, axis=axis, keepdims=keepdims, ord=2 if ord is None else ord)
    if len(axis) != 2:
        raise ValueError(f"anygrad.numpy.linalg.norm: axis takes one or two axes, got {axis}")
    rows, cols = (a % x.ndim for a in axis)
    if rows == cols:
        raise ValueError(f"anygrad.numpy.linalg.norm: the two axes are the same ({axis})")
    moved = ops.moveaxis(x, (rows, cols), (-2, -1))
    out = _linalg.matrix_norm(moved, ord="fro" if ord is None else ord)
    if keepdims:
        for a in sorted((rows, cols)):
            out = ops.expand_dims(out, axis=a)
    return out


def inv(a):
    return _linalg.inv(asarray(a))


def solve(a, b):
    return _linalg.solve(*tensors(a, b))


def det(a):
    return _linalg.det(asarray(a))


def slogdet(a):
    return _linalg.slogdet(asarray(a))


def cholesky(a, /, *, upper=False):
    return _linalg.cholesky(asarray(a), upper=upper)


def _symmetric(a, UPLO):
    """The Hermitian matrix numpy reads from one triangle of `a` (the other is ignored,
    so the gradient lands on that triangle only, as numpy's function depends on it)."""
    if UPLO not in ("L", "U"):
        raise ValueError(f"anygrad.numpy.linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    a = asarray(a)
    if UPLO == "L":
        strict = ops.tril(a, k=-1)
        return ops.tril(ops.triu(a)) + strict + ops.conj(ops.matrix_transpose(strict))
    strict = ops.triu(a, k=1)
    return ops.tril(ops.triu(a)) + strict + ops.conj(ops.matrix_transpose(strict))


def eigh(a, UPLO="L"):
    return _linalg.eigh(_symmetric(a, UPLO))


def eigvalsh(a, UPLO="L"):
    return _linalg.eigvalsh(_symmetric(a, UPLO))


def eig(a):
    return _linalg.eig(asarray(a))


def eigvals(a):
    return _linalg.eigvals(asarray(a))


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """(U, S, Vh), or only S when compute_uv is false."""
    a = asarray(a)
    if not compute_uv:
        return _linalg.svdvals(a)
    return _linalg.svd(a, full_matrices=full_matrices)


def svdvals(x):
    return _linalg.svdvals(asarray(x))


def qr(a, mode="reduced"):
    """Q, R ("reduced", "complete"), or R alone ("r")."""
    a = asarray(a)
    if mode == "r":
        return _linalg.qr(a, mode="reduced").R
    if mode not in ("reduced", "complete"):
        raise NotImplementedError(f"anygrad.numpy.linalg.qr: mode={mode!r} is not mapped "
                                  "(reduced, complete and r are)")
    return _linalg.qr(a, mode=mode)


_UNSET = object()


def pinv(a, rcond=None, hermitian=False, *, rtol=_UNSET):
    """numpy's cut-off: singular values at or below rcond (or rtol) times the largest
    count as zero; 1e-15 when neither is given, the standard's default for rtol=None."""
    if rcond is not None and rtol is not _UNSET:
        raise ValueError("anygrad.numpy.linalg.pinv: give rcond or rtol, not both")
    cutoff = rcond if rcond is not None else 1e-15 if rtol is _UNSET else rtol
    return _linalg.pinv(asarray(a), rtol=cutoff)


def matrix_power(a, n):
    return _linalg.matrix_power(asarray(a), n)


def matrix_rank(A, tol=None, hermitian=False, *, rtol=None):
    A = asarray(A)
    if tol is not None:  # an absolute tolerance: count the singular values above it
        return ops.sum(_linalg.svdvals(A) > tol, axis=-1)
    return _linalg.matrix_rank(A, rtol=rtol)


def multi_dot(arrays, *, out=None):
    """The product of the matrices left to right (1-D ends count as vectors, as numpy)."""
    refuse("linalg.multi_dot", out=out)
    arrays = tensors(*arrays)
    result = arrays[0]
    for a in arrays[1:]:
        result = ops.matmul(result, a)
    return result


spell(globals(), __all__, "numpy.linalg")


def __getattr__(name):
    raise unmapped("linalg", name)
