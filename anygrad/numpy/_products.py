"""numpy's products, with numpy's rules for the number of axes of each operand."""
from __future__ import annotations

from .. import ops
from ._arrays import refuse, tensors

__all__ = ["dot", "vdot", "inner", "outer", "tensordot", "einsum", "cross", "kron", "vecdot"]


def dot(a, b, out=None):
    """numpy.dot: a product with a 0-d operand, the inner product of two vectors, the
    matrix product of two matrices, and for N-d a sum over a's last axis and b's
    second-to-last (its last when b is 1-D)."""
    refuse("dot", out=out)
    a, b = tensors(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.ndim <= 2 and b.ndim <= 2:
        return ops.matmul(a, b)
    return ops.tensordot(a, b, axes=([a.ndim - 1], [max(b.ndim - 2, 0)]))


def vdot(a, b):
    """The inner product of the flattened arrays, the first conjugated."""
    a, b = tensors(a, b)
    return ops.sum(ops.conj(ops.reshape(a, (-1,))) * ops.reshape(b, (-1,)))


def inner(a, b):
    """A sum over the last axes of both (a product when either is 0-d)."""
    a, b = tensors(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return ops.tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 1]))


def outer(a, b, out=None):
    """The outer product of the flattened arrays."""
    refuse("outer", out=out)
    a, b = tensors(a, b)
    return ops.outer(ops.reshape(a, (-1,)), ops.reshape(b, (-1,)))


def tensordot(a, b, axes=2):
    a, b = tensors(a, b)
    if not isinstance(axes, int):
        axes = tuple([x] if isinstance(x, int) else list(x) for x in axes)
    return ops.tensordot(a, b, axes=axes)


def einsum(subscripts, *operands, out=None, optimize=False, dtype=None, order="K",
           casting="safe"):
    refuse("einsum", out=out, dtype=dtype)
    if not isinstance(subscripts, str):
        raise NotImplementedError("anygrad.numpy.einsum: takes the subscripts as a string "
                                  "(numpy's interleaved operand/axis-list form is not mapped)")
    return ops.einsum(subscripts, *tensors(*operands))


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    a, b = tensors(a, b)
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = ops.moveaxis(a, axisa, -1), ops.moveaxis(b, axisb, -1)
    if a.shape[-1] != 3 or b.shape[-1] != 3:
        raise ValueError(f"anygrad.numpy.cross: vectors of length 3 only (got {a.shape[-1]} "
                         f"and {b.shape[-1]}); numpy's 2-vector form is not mapped")
    a, b = ops.broadcast_arrays(a, b)
    return ops.moveaxis(ops.cross(a, b, axis=-1), -1, axisc)


def kron(a, b):
    a, b = tensors(a, b)
    nd = max(a.ndim, b.ndim)
    a = ops.reshape(a, (1,) * (nd - a.ndim) + a.shape)
    b = ops.reshape(b, (1,) * (nd - b.ndim) + b.shape)
    # interleave the axes: out[i0, j0, i1, j1, ...] = a[i0, i1, ...] b[j0, j1, ...]
    a = ops.reshape(a, tuple(x for n in a.shape for x in (n, 1)))
    b = ops.reshape(b, tuple(x for n in b.shape for x in (1, n)))
    return ops.reshape(a * b, tuple(m * n for m, n in zip(a.shape[::2], b.shape[1::2])))


def vecdot(x1, x2, /, *, axis=-1, out=None):
    """numpy 2's vecdot: the first conjugated, summed over `axis`."""
    refuse("vecdot", out=out)
    return ops.vecdot(*tensors(x1, x2), axis=axis)
