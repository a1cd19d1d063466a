"""Contractions composed from permutes, reshapes and matmul: tensordot, vecdot, outer,
einsum, and the diagonal and trace of matrices. None has a rule of its own."""
from __future__ import annotations

from math import prod as _size

from ..dtypes import is_complex
from .complex import conj
from .linalg import matmul
from .reductions import sum
from .registry import public
from .shape import permute_dims, reshape, squeeze, take


def _contract(a, b, axes_a, axes_b, where):
    """(free axes of a) + (free axes of b), summing axes_a of a against axes_b of b."""
    for i, j in zip(axes_a, axes_b):
        if a.shape[i] != b.shape[j]:
            raise ValueError(f"{where}: axis {i} of the first input (shape {tuple(a.shape)}) "
                             f"and axis {j} of the second (shape {tuple(b.shape)}) differ "
                             "in length")
    free_a = [i for i in range(a.ndim) if i not in axes_a]
    free_b = [j for j in range(b.ndim) if j not in axes_b]
    k = _size(a.shape[i] for i in axes_a)
    shape_a = tuple(a.shape[i] for i in free_a)
    shape_b = tuple(b.shape[j] for j in free_b)
    left = reshape(permute_dims(a, tuple(free_a) + tuple(axes_a)), (_size(shape_a), k))
    right = reshape(permute_dims(b, tuple(axes_b) + tuple(free_b)), (k, _size(shape_b)))
    return reshape(matmul(left, right), shape_a + shape_b)


@public
def tensordot(x1, x2, axes=2):
    """Sum of products over the last `axes` axes of x1 and the first of x2, or over the
    axes named by a pair of sequences."""
    if isinstance(axes, int):
        if not 0 <= axes <= min(x1.ndim, x2.ndim):
            raise ValueError(f"tensordot: axes={axes} for inputs of shapes {tuple(x1.shape)} "
                             f"and {tuple(x2.shape)}")
        axes_a, axes_b = tuple(range(x1.ndim - axes, x1.ndim)), tuple(range(axes))
    else:
        axes_a, axes_b = (tuple(a % x.ndim for a in ax) for ax, x in zip(axes, (x1, x2)))
        if len(axes_a) != len(axes_b):
            raise ValueError(f"tensordot: {len(axes_a)} axes of x1 against {len(axes_b)} of x2")
    return _contract(x1, x2, axes_a, axes_b, "tensordot")


@public
def vecdot(x1, x2, axis=-1):
    """Dot products of the vectors along `axis`, broadcasting the rest; complex x1 is
    conjugated, as the standard says (sum(conj(x1) * x2)). The vectors must have one
    length (it is not broadcast), and the result has their promoted dtype (integers
    are not widened, unlike `sum`)."""
    ndim = max(x1.ndim, x2.ndim)
    if axis >= 0:  # counted from the front of the broadcast shape
        axis -= ndim
    if not -min(x1.ndim, x2.ndim) <= axis < 0 or x1.shape[axis] != x2.shape[axis]:
        raise ValueError(f"vecdot: axis {axis} must hold vectors of one length in both "
                         f"inputs, got shapes {tuple(x1.shape)} and {tuple(x2.shape)}")
    if hasattr(x1, "dtype") and is_complex(x1.dtype):
        x1 = conj(x1)
    products = x1 * x2
    return sum(products, axis=axis, dtype=products.dtype)


@public
def outer(x1, x2):
    """The outer product of two vectors."""
    if x1.ndim != 1 or x2.ndim != 1:
        raise ValueError(f"outer: needs two 1-d inputs, got shapes {tuple(x1.shape)} and "
                         f"{tuple(x2.shape)}")
    return reshape(x1, (-1, 1)) * reshape(x2, (1, -1))


def _diagonal_positions(rows, cols, offset):
    """Flat positions in a rows x cols matrix of its `offset` diagonal."""
    if offset >= 0:
        return [i * cols + i + offset for i in range(max(0, min(rows, cols - offset)))]
    return [(i - offset) * cols + i for i in range(max(0, min(rows + offset, cols)))]


@public
def diagonal(x, offset=0):
    """The `offset` diagonal of each matrix in the stack x (..., M, N): shape (..., K)."""
    if x.ndim < 2:
        raise ValueError(f"diagonal: needs a stack of matrices, got shape {tuple(x.shape)}")
    rows, cols = x.shape[-2:]
    flat = reshape(x, tuple(x.shape[:-2]) + (rows * cols,))
    return take(flat, _diagonal_positions(rows, cols, offset), axis=-1)


@public
def trace(x, offset=0, dtype=None):
    """The sum of the `offset` diagonal of each matrix in the stack x, in `dtype`
    (by default integers widen, as in `sum`)."""
    return sum(diagonal(x, offset=offset), axis=-1, dtype=dtype)


@public
def einsum(subscripts, *operands):
    """Einstein summation, as numpy.einsum, on every backend: einsum("bij,bjk->bik", a,
    b), "...ij,...jk->...ik" (ellipses broadcast), "ii->i" (an index repeated within an
    operand takes its diagonal), "ii" (implicit output: the indices named once, in
    alphabetical order, after the ellipsis dimensions). Lengths of 1 broadcast against
    longer ones, as in numpy. Built from diagonal, sum, permutes, reshapes and batched
    matmul, so it needs no rule of its own: each operand's diagonals are taken and its
    private indices summed first, then the operands are contracted pairwise, left to
    right, and the result permuted once."""
    inputs, output = _parse(subscripts, operands)
    terms = [_diagonals(letters, x, k) for k, (letters, x) in enumerate(zip(inputs, operands))]
    terms, sizes = _broadcast(terms)
    # Sum out what only one operand carries and the output drops.
    for t, (letters, x) in enumerate(terms):
        others = set(output).union(*(set(s) for k, (s, _) in enumerate(terms) if k != t))
        private = [i for i, c in enumerate(letters) if c not in others]
        if private:
            x = sum(x, axis=tuple(private))
            letters = "".join(c for c in letters if c in others)
        terms[t] = (letters, x)
    letters, x = terms[0]
    for t in range(1, len(terms)):
        other_letters, y = terms[t]
        keep = set(output).union(*(set(s) for s, _ in terms[t + 1:]))
        letters, x = _pair(letters, x, other_letters, y, keep, sizes)
    return permute_dims(x, tuple(letters.index(c) for c in output)) if output else x


def _diagonals(letters, x, position):
    """An index repeated within one operand ("ii", "iji"): its diagonal, until none is."""
    while len(set(letters)) != len(letters):
        c = next(c for c in letters if letters.count(c) > 1)
        i = letters.index(c)
        j = letters.index(c, i + 1)
        if x.shape[i] != x.shape[j]:
            raise ValueError(f"einsum: index {c!r} repeated in operand {position} (shape "
                             f"{tuple(x.shape)}) has lengths {x.shape[i]} and {x.shape[j]}")
        rest = [k for k in range(len(letters)) if k not in (i, j)]
        x = diagonal(permute_dims(x, tuple(rest) + (i, j)))
        letters = "".join(letters[k] for k in rest) + c
    return letters, x


def _broadcast(terms):
    """Each index's length; an operand whose axis has length 1 where another's is longer
    drops that axis (numpy broadcasts it)."""
    sizes = {}
    for letters, x in terms:
        for c, n in zip(letters, x.shape):
            if sizes.get(c, 1) == 1:
                sizes[c] = n
            elif n not in (1, sizes[c]):
                raise ValueError(f"einsum: index {_shown(c)} has lengths {sizes[c]} and {n}")
    out = []
    for letters, x in terms:
        ones = [i for i, (c, n) in enumerate(zip(letters, x.shape)) if n != sizes[c]]
        if ones:
            x = squeeze(x, axis=tuple(ones))
            letters = "".join(c for i, c in enumerate(letters) if i not in ones)
        out.append((letters, x))
    return out, sizes


def _pair(la, a, lb, b, keep, sizes):
    """Contract two terms: shared indices not kept are summed, shared kept ones batch."""
    batch = [c for c in la if c in lb and c in keep]
    summed = [c for c in la if c in lb and c not in keep]
    only_a = [c for c in la if c not in lb]
    only_b = [c for c in lb if c not in la]
    dims = lambda cs: tuple(sizes[c] for c in cs)  # noqa: E731
    left = reshape(permute_dims(a, tuple(la.index(c) for c in batch + only_a + summed)),
                   (_size(dims(batch)), _size(dims(only_a)), _size(dims(summed))))
    right = reshape(permute_dims(b, tuple(lb.index(c) for c in batch + summed + only_b)),
                    (_size(dims(batch)), _size(dims(summed)), _size(dims(only_b))))
    out = reshape(matmul(left, right), dims(batch) + dims(only_a) + dims(only_b))
    return "".join(batch + only_a + only_b), out


# An ellipsis stands for indices of its own: characters no subscript can use.
_ELLIPSIS_BASE = 0x100


def _shown(c):
    return repr(c) if ord(c) < _ELLIPSIS_BASE else "'...'"


def _parse(subscripts, operands):
    """The subscripts of each operand and of the output, ellipses spelled out as indices
    of their own (the last dimensions of the broadcast ellipsis, right-aligned)."""
    spec = subscripts.replace(" ", "")
    if spec.count("->") > 1:
        raise ValueError(f"einsum: {subscripts!r} has more than one '->'")
    left, arrow, output = spec.partition("->")
    inputs = left.split(",")
    if len(inputs) != len(operands):
        raise ValueError(f"einsum: {subscripts!r} names {len(inputs)} operands, got "
                         f"{len(operands)}")
    for s in inputs + [output]:
        named = s.replace("...", "")
        if not all(c.isascii() and c.isalpha() for c in named):
            raise ValueError(f"einsum: {s!r} in {subscripts!r}: subscripts are letters, and "
                             "'...' once per operand")
        if s.count("...") > 1:
            raise ValueError(f"einsum: {s!r} in {subscripts!r} has more than one '...'")
    covered = []  # how many dimensions each operand's ellipsis stands for
    for s, x in zip(inputs, operands):
        named = len(s.replace("...", ""))
        if ("..." in s and named > x.ndim) or ("..." not in s and named != x.ndim):
            raise ValueError(f"einsum: subscripts {s!r} for an operand of shape "
                             f"{tuple(x.shape)}")
        covered.append(x.ndim - named if "..." in s else 0)
    rank = max(covered, default=0)
    dots = "".join(chr(_ELLIPSIS_BASE + i) for i in range(rank))
    inputs = [s.replace("...", dots[rank - r:]) for s, r in zip(inputs, covered)]
    if not arrow:
        letters = [c for c in "".join(inputs) if ord(c) < _ELLIPSIS_BASE]
        output = dots + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    elif "..." in output:
        output = output.replace("...", dots)
    elif rank:
        raise ValueError(f"einsum: {subscripts!r}: the ellipsis stands for {rank} "
                         "dimension(s) of the inputs, so the output needs '...' too")
    if len(set(output)) != len(output):
        raise ValueError(f"einsum: index repeated in the output of {subscripts!r}")
    missing = [c for c in output if not any(c in s for s in inputs)]
    if missing:
        raise ValueError(f"einsum: output index {missing[0]!r} of {subscripts!r} is not among "
                         "the inputs")
    return inputs, output


@public
def cross(x1, x2, axis=-1):
    """The cross product of 3-vectors along `axis`, broadcasting the other axes."""
    from .rearrange import moveaxis
    from .shape import stack

    if x1.shape[axis] != 3 or x2.shape[axis] != 3:
        raise ValueError(f"cross: needs length 3 along axis {axis}, got shapes "
                         f"{tuple(x1.shape)} and {tuple(x2.shape)}")
    a, b = moveaxis(x1, axis, -1), moveaxis(x2, axis, -1)
    a0, a1, a2 = (a[..., i] for i in range(3))
    b0, b1, b2 = (b[..., i] for i in range(3))
    out = stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)
    return moveaxis(out, -1, axis)
