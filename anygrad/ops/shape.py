"""Shape changes, joins and selections. Their derivatives only move numbers around."""
from __future__ import annotations

import math

from ..backends import GatherSpec
from ..dtypes import is_complex
from ..engine import Op, VariadicOp, _wrap, apply
from .registry import helper, op, public
from ..tensor import Tensor
from .. import indexing
from ..dtypes import is_floating


def _inverse_permutation(axes):
    inverse = [0] * len(axes)
    for i, a in enumerate(axes):
        inverse[a % len(axes)] = i
    return tuple(inverse)


# Each rule here may return a view of g (`passes`), which the engine copies before it
# becomes a .grad.
def _reshape_forward(xp, x, shape, copy=None):
    # copy=False: a view or an error, from the library (copy=True: a fresh array).
    return xp.reshape(x, shape) if copy is None else xp.reshape(x, shape, copy=copy)


reshape = op("reshape", _reshape_forward,
             lambda ns, g, ans, x, shape, copy=None: ns.reshape(g, tuple(x.shape)), passes=(0,),
             complex=True, batch="reshape",
             doc="x's elements in a new `shape` (one entry may be -1), in row-major order.")
permute_dims = op("permute_dims", lambda xp, x, axes: xp.permute_dims(x, axes),
                  lambda ns, g, ans, x, axes: ns.permute_dims(g, _inverse_permutation(axes)),
                  passes=(0,), complex=True, batch="permute",
                  doc="x with its axes reordered: axis i of the result is axis `axes[i]` of x.")
matrix_transpose = op("matrix_transpose", lambda xp, x: xp.matrix_transpose(x),
                      lambda ns, g, ans, x: ns.matrix_transpose(g), passes=(0,), complex=True,
                      batch="matrix",
                      doc="x with its last two axes swapped (each matrix transposed).")
expand_dims = op("expand_dims", lambda xp, x, axis=0: xp.expand_dims(x, axis=axis),
                 lambda ns, g, ans, x, axis=0: ns.reshape(g, tuple(x.shape)), passes=(0,),
                 complex=True, batch="expand_dims",
                 doc="x with a new axis of length 1 at position `axis`.")
squeeze = op("squeeze", lambda xp, x, axis: xp.squeeze(x, axis=axis),
             lambda ns, g, ans, x, axis: ns.reshape(g, tuple(x.shape)), passes=(0,),
             complex=True, batch="axis",
             doc="x without the length-1 axes named by `axis`.")
# The engine's unbroadcast sums the gradient back to the input's shape.
broadcast_to = op("broadcast_to", lambda xp, x, shape: xp.broadcast_to(x, shape),
                  lambda ns, g, ans, x, shape: g, passes=(0,), complex=True, batch="reshape",
                  doc="x broadcast to `shape`; the gradient is summed back to x's shape.")
flip = op("flip", lambda xp, x, axis=None: xp.flip(x, axis=axis),
          lambda ns, g, ans, x, axis=None: ns.flip(g, axis=axis), passes=(0,), complex=True,
          batch="axis",
          doc="x with its elements reversed along `axis` (default every axis).")


def _astype_forward(xp, x, dtype):
    return xp.astype(x, dtype)


# Back to the input's dtype; a real input cast to complex takes the real part (in the
# engine's convention, Re of the conjugate is Re: see anygrad.engine).
def _astype_vjp(ns, g, ans, x, dtype):
    if is_complex(g.dtype) and not is_complex(x.dtype):
        g = ns.real(g)
    return ns.astype(g, x.dtype)


astype_op = Op("astype", _astype_forward, _astype_vjp, complex=True, batch="elementwise")
# A cast to integers or booleans has no gradient: its result records no graph (as in
# PyTorch), so it can be a `where` condition or an index.
_astype_constant = Op("astype", _astype_forward, batch="elementwise")


@public
def astype(x, dtype):
    """Cast to `dtype` (a name, anygrad's or any library's dtype, or one of Python's
    `bool`, `int`, `float`, `complex`, which mean the default dtype of that kind: see
    `anygrad.dtypes.dtype_name`); differentiable between floats.

    A complex tensor cast to a real or integer dtype is refused on every backend (the
    standard leaves it unspecified; libraries drop the imaginary part, some silently):
    take `real` or `abs` first, saying which is meant."""
    from ..dtypes import dtype_name

    native = x.backend.dtype(dtype_name(dtype))
    if is_complex(x.dtype) and not is_complex(native):
        raise TypeError(f"astype: cannot cast {x.dtype.name} to {dtype_name(dtype)}: the "
                        "imaginary part would be lost; take ag.real(x) (or ag.abs(x)) first")
    return (astype_op if is_floating(native) else _astype_constant)(x, dtype=native)


def _split_along(ns, g, index, inputs, axis):
    """The slice of gradient `g` that belongs to input `index` of a concatenation."""
    if axis is None:  # the inputs were flattened and joined end to end
        start = 0
        for t in inputs[:index]:
            start += math.prod(t.shape)
        piece = g[start:start + math.prod(inputs[index].shape)]
        return ns.reshape(piece, tuple(inputs[index].shape))
    ndim = len(g.shape)
    axis = axis % ndim
    start = 0
    for t in inputs[:index]:
        start += t.shape[axis]
    stop = start + inputs[index].shape[axis]
    key = (slice(None),) * axis + (slice(start, stop),) + (Ellipsis,)
    return g[key]


def _concat_forward(xp, *arrays, axis=0):
    return xp.concat(arrays, axis=axis)


def _stack_forward(xp, *arrays, axis=0):
    return xp.stack(arrays, axis=axis)


def _stack_vjp(ns, g, ans, index, inputs, axis=0):
    axis = axis % len(g.shape)
    return g[(slice(None),) * axis + (index,) + (Ellipsis,)]


_concat = VariadicOp("concat", _concat_forward,
                     lambda ns, g, ans, index, inputs, axis=0: _split_along(ns, g, index, inputs, axis),
                     batch="variadic")
_stack = VariadicOp("stack", _stack_forward, _stack_vjp, batch="variadic")


@public
def concat(tensors, axis=0):
    """Join tensors along an existing axis (axis=None: flattened, end to end)."""
    tensors = _joinable("concat", tensors)
    if axis is not None:
        for t in tensors:
            if not t.array.shape:
                raise ValueError("concat: 0-d tensors (and Python numbers) cannot be "
                                 "concatenated; use stack, or concat with axis=None")
    # Straight to the engine: a join of two one-row tensors costs little more than this.
    return apply(_concat, tuple(tensors), {"axis": axis})


@public
def stack(tensors, axis=0):
    """Join tensors along a new axis; Python numbers count as 0-d tensors."""
    return _stack(*_joinable("stack", tensors), axis=axis)


def _joinable(name, items):
    """Tensors to join: Python numbers become 0-d tensors of the dtype the others have
    (numbers are weak, as in arithmetic), arrays become constants."""
    if items and all(isinstance(t, Tensor) for t in items):  # the common case, at no cost
        return list(items)
    from .. import dtypes
    from ..creation import as_tensor, tensor

    items = [dtypes.python_scalar(t) for t in items]
    if not items:
        raise ValueError(f"{name}: needs at least one tensor")
    numbers = [t for t in items if type(t) in (int, float, bool, complex)]
    arrays = [as_tensor(t) for t in items if not isinstance(t, (int, float, bool, complex))]
    if not numbers:
        return arrays
    if arrays:
        lead = arrays[0]
        target = dtypes.with_scalars(dtypes.result_name({t.dtype.name for t in arrays}), numbers)
        return [as_tensor(t) if not isinstance(t, (int, float, bool, complex)) else
                tensor(t, dtype=target, backend=lead.backend, device=lead.device) for t in items]
    return [tensor(t) for t in items]


# ---------------------------------------------------------------- selections
def _gather_forward(xp, x, spec):
    return spec.apply(xp, x)


def _gather_vjp(ns, g, ans, x, spec):
    return ns.gather_grad(g, spec, tuple(x.shape))


def _scatter_forward(xp, g, spec, shape, backend):
    return backend.scatter(spec, shape, g)


gather = Op("gather", _gather_forward, _gather_vjp, complex=True, batch="gather")
# The gradient of a gather, as an op of its own so it can be differentiated again:
# its own derivative is the same gather.
scatter = Op("scatter", _scatter_forward,
             lambda ns, gg, ans, g, spec, shape, backend: spec.apply(ns, gg), complex=True,
             batch="gather")


@helper
def gather_grad(g, spec, shape):
    return scatter(g, spec=spec, shape=shape, backend=g.backend)


@public
def getitem(x, key):
    """x[key] for ints, slices (any step), None, Ellipsis, integer arrays (tensors, any
    library's arrays, lists) and boolean masks; `anygrad.indexing` says what each means."""
    flips, key = indexing.normalize(x, key)
    if flips:
        x = flip(x, axis=flips)
    if not x.backend.numpy_indexing and not indexing.is_standard(key, x.ndim):
        # An index only numpy-style libraries take: gather the same elements by position.
        positions = _wrap(x.backend.index_positions(tuple(x.shape), key, x.device), x.backend)
        flat = reshape(positions, (-1,))  # an op, so that ag.compile replays it
        picked = gather(reshape(x, (-1,)), spec=GatherSpec("take", flat.array, 0))
        return reshape(picked, tuple(positions.shape))
    return gather(x, spec=GatherSpec("getitem", key))


@public
def take(x, indices, axis=None):
    """Elements of x at integer `indices` along `axis` (repeats allowed)."""
    if axis is None:
        if x.ndim != 1:
            raise ValueError(f"take: axis is required for a {x.ndim}-d input of shape {x.shape}")
        axis = 0
    indices = indexing.index_array(x, indices)
    indexing.check_range(x, indices, axis, "take")
    return gather(x, spec=GatherSpec("take", indices, axis))


@public
def take_along_axis(x, indices, axis=-1):
    """Elements of x picked along `axis` by an index array of x's rank."""
    indices = indexing.index_array(x, indices)
    indexing.check_range(x, indices, axis, "take_along_axis")
    return gather(x, spec=GatherSpec("take_along_axis", indices, axis))


def take_along_axis_in_range(x, indices, axis):
    """take_along_axis for indices in range by construction (a loss's labels made safe):
    without the check, which costs a small step as much as the pick itself."""
    indices = indexing.index_array(x, indices)
    return gather(x, spec=GatherSpec("take_along_axis", indices, axis))


def _transfer_forward(xp, x, source, target, device):
    return target.convert(x, source, device)


def _transfer_vjp(ns, g, ans, x, source, target, device):
    return ns.transfer(g, source, _device_of(source, x))


def _device_of(backend, x):
    return backend.device(x.array if isinstance(x, Tensor) else x)


_transfer = Op("to", _transfer_forward, _transfer_vjp, complex=True, batch="elementwise")


@helper
def to_backend(x, backend=None, device=None):
    """x on another backend and/or device; the gradient flows back converted."""
    from ..backends import get_backend

    target = x.backend if backend is None else get_backend(backend)
    if target is x.backend and (device is None or str(device) == str(x.device)):
        return x
    out = _transfer(x, source=x.backend, target=target, device=device)
    out.backend = target
    if out.node is not None:
        out.node.backend = target
    return out


@helper
def transfer(g, backend, device=None):
    """The namespace form used by the rule above when gradients are recorded."""
    return to_backend(g, backend, device)
