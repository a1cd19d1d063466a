"""numpy's array constructors and shape queries: float64 unless told, on the backend of
`like` (or `backend=`), else on the current backend."""
from __future__ import annotations

import math

from .. import creation, ops
from ..tensor import Tensor
from ._arrays import asarray as _asarray
from ._arrays import backend_name, dtype_or_none, numpy_dtype_name, refuse

__all__ = [
    "array", "asarray", "asanyarray", "ascontiguousarray", "copy", "zeros", "ones", "empty",
    "full", "zeros_like", "ones_like", "empty_like", "full_like", "eye", "identity", "arange",
    "linspace", "logspace", "meshgrid", "tri", "triu", "tril", "diag", "diagflat", "shape",
    "ndim", "size",
]


def _float(dtype):
    """The dtype asked for, else numpy's default, float64."""
    return dtype_or_none(dtype) or "float64"


def _order(order, where):
    if order not in ("C", "K", "A", None):
        raise NotImplementedError(f"anygrad.numpy.{where}: order={order!r} (tensors have one "
                                  "layout, C order)")


def array(object, dtype=None, *, copy=True, order="K", subok=False, ndmin=0, like=None,
          backend=None):
    """A tensor from `object`; lists holding tensors are stacked, so the graph goes on
    through them. A tensor is copied (a new tensor in the graph) unless copy=False."""
    _order(order, "array")
    b = backend_name(object, like=like, backend=backend)
    out = _asarray(object, dtype, backend=b)
    if copy and out is object:
        out = ops.astype(out, out.dtype.name)
    if out.ndim < ndmin:
        out = ops.reshape(out, (1,) * (ndmin - out.ndim) + out.shape)
    return out


def asarray(a, dtype=None, order=None, *, like=None, backend=None, copy=None):
    _order(order, "asarray")
    return array(a, dtype, copy=bool(copy), like=like, backend=backend)


asanyarray = asarray


def ascontiguousarray(a, dtype=None, *, like=None):
    return asarray(a, dtype, like=like)


def copy(a, order="K", subok=False):
    return array(a, order=order, copy=True)


def _shape(shape):
    return (shape,) if isinstance(shape, int) else tuple(int(s) for s in shape)


def zeros(shape, dtype=float, order="C", *, like=None, backend=None):
    _order(order, "zeros")
    b = backend_name(like=like, backend=backend)
    return creation.zeros(_shape(shape), dtype=_float(dtype), backend=b)


def ones(shape, dtype=float, order="C", *, like=None, backend=None):
    _order(order, "ones")
    b = backend_name(like=like, backend=backend)
    return creation.ones(_shape(shape), dtype=_float(dtype), backend=b)


empty = zeros  # an empty array's contents are arbitrary; zeros are one choice


def full(shape, fill_value, dtype=None, order="C", *, like=None, backend=None):
    """`fill_value` broadcast to `shape`; a tensor fill value stays in the graph."""
    _order(order, "full")
    if isinstance(fill_value, Tensor):
        return ops.broadcast_to(_asarray(fill_value, dtype), _shape(shape))
    b = backend_name(like=like, backend=backend)
    name = dtype_or_none(dtype) or numpy_dtype_name(fill_value)
    return creation.full(_shape(shape), fill_value, dtype=name, backend=b)


def _like(make):
    def like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
        a = _asarray(a)
        refuse(make.__name__ + "_like", device=device)
        return make(a.shape if shape is None else shape, dtype or a.dtype,
                    backend=a.backend.name)
    like.__name__ = make.__name__ + "_like"
    return like


zeros_like, ones_like = _like(zeros), _like(ones)
empty_like = zeros_like


def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None):
    a = _asarray(a)
    refuse("full_like", device=device)
    return full(a.shape if shape is None else shape, fill_value, dtype or a.dtype,
                backend=a.backend.name)


def eye(N, M=None, k=0, dtype=float, order="C", *, like=None, backend=None):
    b = backend_name(like=like, backend=backend)
    return creation.eye(N, M, k=k, dtype=_float(dtype), backend=b)


def identity(n, dtype=None, *, like=None, backend=None):
    return eye(n, dtype=dtype, like=like, backend=backend)


def arange(start, stop=None, step=1, dtype=None, *, like=None, backend=None):
    b = backend_name(like=like, backend=backend)
    name = dtype_or_none(dtype) or numpy_dtype_name([start, stop, step])
    return creation.arange(start, stop, step, dtype=name, backend=b)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *,
             device=None, backend=None):
    """Evenly spaced numbers; tensor (or array) end points give start + (stop - start) * t,
    differentiable in both, with the samples along `axis`."""
    if isinstance(start, Tensor) or isinstance(stop, Tensor) or \
            getattr(start, "ndim", 0) or getattr(stop, "ndim", 0):
        return _linspace_of_tensors(start, stop, num, endpoint, retstep, dtype, axis)
    b = backend_name(backend=backend)
    name = dtype_or_none(dtype) or numpy_dtype_name([start, stop, 0.0])
    out = creation.linspace(start, stop, num, dtype=name, backend=b,
                            endpoint=endpoint)
    if retstep:
        return out, (stop - start) / max(num - 1 if endpoint else num, 1)
    return out


def _linspace_of_tensors(start, stop, num, endpoint, retstep, dtype, axis):
    start, stop = ops.broadcast_arrays(*(_asarray(v) for v in (start, stop)))
    b = start.backend.name
    div = num - 1 if endpoint else num
    steps = arange(num, dtype=start.dtype if start.dtype.is_floating else None, backend=b)
    fraction = ops.reshape(steps, (num,) + (1,) * start.ndim) / max(div, 1)
    step = (stop - start) / max(div, 1)
    out = ops.expand_dims(start, axis=0) + fraction * ops.expand_dims(stop - start, axis=0)
    out = ops.moveaxis(out, 0, axis)
    if dtype is not None:
        out = _asarray(out, dtype)
    return (out, step) if retstep else out


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    out = base ** linspace(start, stop, num, endpoint=endpoint, axis=axis)
    return out if dtype is None else _asarray(out, dtype)


def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    if indexing not in ("xy", "ij"):
        raise ValueError(f"anygrad.numpy.meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    arrays = [ops.reshape(_asarray(x), (-1,)) for x in xi]
    if not sparse:
        return list(ops.meshgrid(*arrays, indexing=indexing))
    n = len(arrays)
    out = []
    for i, x in enumerate(arrays):
        where = (1 - i if i < 2 else i) if indexing == "xy" and n > 1 else i
        out.append(ops.reshape(x, tuple(-1 if j == where else 1 for j in range(n))))
    return out


def tri(N, M=None, k=0, dtype=float, *, like=None, backend=None):
    return ops.tril(ones((N, N if M is None else M), dtype, like=like, backend=backend), k=k)


def triu(m, k=0):
    return ops.triu(_asarray(m), k=k)


def tril(m, k=0):
    return ops.tril(_asarray(m), k=k)


def diag(v, k=0):
    """The k-th diagonal of a 2-D array, or a 2-D array with 1-D `v` on its k-th diagonal."""
    v = _asarray(v)
    if v.ndim == 2:
        return ops.diagonal(v, offset=k)
    if v.ndim != 1:
        raise ValueError(f"anygrad.numpy.diag: expects a 1-D or 2-D array, got shape {v.shape}")
    n = v.shape[0]
    square = ops.expand_dims(v, axis=1) * eye(n, dtype=v.dtype, backend=v.backend.name)
    rows, cols = ((0, abs(k)), (abs(k), 0)) if k > 0 else ((abs(k), 0), (0, abs(k)))
    return ops.pad(square, (rows, cols)) if k else square


def diagflat(v, k=0):
    return diag(ops.reshape(_asarray(v), (-1,)), k)


def shape(a):
    return tuple(a.shape) if hasattr(a, "shape") else tuple(_asarray(a).shape)


def ndim(a):
    return len(shape(a))


def size(a, axis=None):
    s = shape(a)
    return math.prod(s) if axis is None else s[axis]
