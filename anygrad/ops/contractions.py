"""Contractions composed from permutes, reshapes and matmul: tensordot, vecdot, outer,
einsum, and the diagonal and trace of matrices. None has a rule of its own."""
from __future__ import annotations

from math import prod as _size

from .linalg import matmul
from .reductions import sum
from .registry import public
from .shape import permute_dims, reshape, take


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
    """Dot products of the vectors along `axis` (real inputs), broadcasting the rest."""
    return sum(x1 * x2, axis=axis)


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
def trace(x, offset=0):
    """The sum of the `offset` diagonal of each matrix in the stack x."""
    return sum(diagonal(x, offset=offset), axis=-1)


@public
def einsum(subscripts, *operands):
    """Einstein summation, e.g. einsum("bij,bjk->bik", a, b), on every backend: each
    operand's private indices summed first, then pairwise tensordot-style contractions
    (batched through matmul), then one permute. A subscript repeated within one operand
    (a diagonal) and ellipses are not supported."""
    inputs, output = _parse(subscripts, len(operands))
    sizes = {}
    for letters, x in zip(inputs, operands):
        if len(letters) != x.ndim:
            raise ValueError(f"einsum: subscripts {letters!r} for an operand of shape "
                             f"{tuple(x.shape)}")
        for letter, n in zip(letters, x.shape):
            if sizes.setdefault(letter, n) != n:
                raise ValueError(f"einsum: index {letter!r} has lengths {sizes[letter]} and {n}")
    terms = list(zip(inputs, operands))
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
    if sorted(letters) != sorted(output):
        raise ValueError(f"einsum: output {output!r} names indices not among the inputs")
    return permute_dims(x, tuple(letters.index(c) for c in output)) if output else x


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


def _parse(subscripts, count):
    spec = subscripts.replace(" ", "")
    if "." in spec:
        raise NotImplementedError("einsum: ellipses ('...') are not supported; name the axes")
    if "->" in spec:
        left, output = spec.split("->")
    else:
        left = spec
        letters = left.replace(",", "")
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    inputs = left.split(",")
    if len(inputs) != count:
        raise ValueError(f"einsum: {subscripts!r} names {len(inputs)} operands, got {count}")
    for s in inputs:
        if len(set(s)) != len(s):
            raise NotImplementedError(f"einsum: index repeated within one operand ({s!r}); "
                                      "take the diagonal first")
    if len(set(output)) != len(output):
        raise ValueError(f"einsum: index repeated in the output {output!r}")
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
