"""In-place arithmetic (`x += y`, `p -= lr * p.grad`), with PyTorch's rules.

The tensor object itself is updated, so every holder of it (a model's parameter list, a
loop variable) sees the new values; where the library's arrays are mutable the buffer is
written in place, and on immutable ones (jax) the tensor's data is rebound. The result
keeps the tensor's dtype and shape.

What would make a gradient silently wrong is refused: a leaf that requires grad cannot
be updated while gradients are recorded (do it inside `ag.no_grad()`), and a tensor
that a recorded op read, or produced, is stamped with the in-place clock so that
backward through that op raises (as PyTorch's version counters do).

A result of basic indexing (`v = z[0]`, see `Tensor.__getitem__`) or of a shape method
(`z.T`, `z.reshape(-1)`, ...) is a view: every in-place change of v is then written to
its base as `z[0] = v` (or `z[...] = v.T`, ...; recorded like any item assignment, so the
gradient is that of "z with that region replaced"), up a chain of views of any depth
(`z[0][1][2] = 1`). The other way, an in-place change of z re-derives each of its live
views from z's new value (`refresh`), so views never read stale values and siblings stay
consistent. A base whose data was rebound some other way refuses a write through a view
taken before: the view's other elements would overwrite the base's newer ones.
"""
from __future__ import annotations

import functools
import math
import operator
import weakref

from . import coercion, dtypes
from .engine import OUTPUT_CHANGED, Op, _batching, _wrap, apply, tick_inplace
from .modes import _grad_enabled, _grad_mode, _recording
from .tensor import Tensor

# The update is computed out of place and the tensor rebound to it, never written into
# its buffer: that buffer may be shared with another tensor's (numpy's and torch's
# reshapes, transposes and slices are views of their input), which would then change
# behind its back, without its in-place stamp, on some backends and not on others.
_BINARY = {
    "add": operator.add,
    "subtract": operator.sub,
    "multiply": operator.mul,
    "divide": operator.truediv,
    "pow": operator.pow,
}


def _updated(xp, name, array, value):
    """`array op value` as a new array of array's dtype."""
    new = _BINARY[name](array, value)
    if new.dtype != array.dtype:  # a float32 tensor ** a float64 number, ...
        new = xp.astype(new, array.dtype)
    return new


def update(t, op, other):
    """`t = op(t, other)` with `t` kept as the same object; returns `t`."""
    recording = _grad_enabled.get()
    if recording and t.node is None and t._requires_grad:
        raise RuntimeError(
            f"{op.name} in place: a leaf tensor that requires grad (shape {t.shape}, dtype "
            f"{t.dtype}) cannot be changed in place while gradients are recorded; do the "
            "update inside `with ag.no_grad():`"
        )
    if getattr(t, "_view", None) is not None:
        before_write(t, f"{op.name} in place")
    other = _operand(op, t, other)
    if recording and (t._requires_grad or (isinstance(other, Tensor) and other._requires_grad)):
        _recorded(t, op, other)
        after_write(t)
        return t
    value = other.array if isinstance(other, Tensor) else other
    before = t.array
    new = _BINARY[op.name](before, value)
    if new.dtype != before.dtype:
        new = _updated(t.backend.xp, op.name, before, value)
    t.array = new
    recorder = _recording.get()
    if recorder is not None:  # ag.compile replays the same update of the same array
        recorder.on_inplace(op.name, functools.partial(_updated, t.backend.xp, op.name),
                            before, new, other)
    t._version = tick_inplace()
    if t.node is not None and t.node.inputs is not None:
        # The op that made t may read its output in backward: that now raises there.
        t.node.clock = OUTPUT_CHANGED
    after_write(t)
    return t


# ------------------------------------------------------------------ .data
def data_alias(t):
    """`t.data`: a tensor sharing t's array outside every graph, made a view of t whose
    writes reach t unrecorded (see `after_write`), and which t's own changes reach."""
    return make_view(t, _wrap(t.array, t.backend), DETACHED)


def replace_data(t, value):
    """`t.data = value`: t holds value's array from now on (shape and dtype may change),
    unrecorded, with the in-place clock ticked as for any unrecorded change."""
    from .creation import _to_array

    if isinstance(value, Tensor):
        if value.backend is not t.backend:
            raise TypeError(
                f".data = tensor: the tensor is on backend {value.backend.name!r}, this one "
                f"on {t.backend.name!r}; move it first with .to()")
        array = value.array
    else:
        array, _ = _to_array(value, None, t.backend, t.device)
    if tuple(array.shape) != t.shape:
        check_same_shape(t, _wrap(array, t.backend), ".data = value")
    with _grad_mode(False):
        before_write(t, ".data = value")
        t.array = array
        _written(t)


def _written(t):
    """Bookkeeping of an unrecorded change of t's array."""
    t._version = tick_inplace()
    if t.node is not None and t.node.inputs is not None:
        t.node.clock = OUTPUT_CHANGED  # the op that made t may read its output
    after_write(t)


class _Detached:
    """The key of `t.data` among t's views: t itself, outside every graph."""

    def derive(self, base, view):
        return _wrap(base.array, base.backend)

    def __repr__(self):
        return "... (.data)"


DETACHED = _Detached()


# ------------------------------------------------------------------ views
def before_write(t, what):
    """Refuse an in-place change of view t that could not reach its bases correctly:
    a base changed since the view was taken, or a leaf that requires grad."""
    view = getattr(t, "_view", None)
    while view is not None:
        base, key, version, _ = view
        if base._version != version:
            raise RuntimeError(
                f"{what}: this tensor (shape {t.shape}) is a view, x[{_key_text(key)}], of a "
                f"tensor of shape {base.shape} that was changed in place after the view was "
                "taken; writing it back would overwrite that change. Index the tensor again "
                "after changing it, or make the view a copy with .clone()"
            )
        if key is DETACHED:  # written through .data: unrecorded, so allowed on any base
            return
        if base.node is None and base._requires_grad and _grad_enabled.get():
            raise RuntimeError(
                f"{what}: this tensor (shape {t.shape}) is a view of a leaf tensor that "
                f"requires grad (shape {base.shape}), which cannot be changed in place while "
                "gradients are recorded; do it inside `with ag.no_grad():`, or change a "
                ".clone() of the view"
            )
        t, view = base, getattr(base, "_view", None)


def after_write(t):
    """t was changed in place: when it is a view, its base becomes `base[key] = t` (which
    in turn refreshes every view of that base, t's siblings and t itself); otherwise
    t's own views are refreshed."""
    view = getattr(t, "_view", None)
    if view is None:
        if getattr(t, "_views", None):
            refresh(t)
        return
    base, key, _, _ = view
    if key is DETACHED:  # through .data: the base takes the array, unrecorded
        with _grad_mode(False):
            base.array = t.array
            _written(base)  # which re-derives t from it as well
        return
    # The base's graph holds a stand-in: t itself is rebound when the base refreshes
    # its views below, and a graph through t would lead back into the base.
    value = _snapshot(t)
    if isinstance(key, _Map):
        key, value = Ellipsis, key.back(value, base)
    # While recording, t already holds what the base's refresh would derive for it, with
    # a graph to the same inputs: the refresh leaves it be (see `refresh`).
    outer = _writer[0]
    _writer[0] = t if _grad_enabled.get() else None
    try:
        assign(base, key, value)  # which writes on to base's own base
    finally:
        _writer[0] = outer
    view[2], view[3] = base._version, t._version  # the two agree again


# The view whose in-place change is being written to its base, while recording.
_writer = [None]


def check_same_shape(t, result, what):
    """An in-place change of t's shape to `result`'s (`squeeze_`, `t_`) where t is a view
    or has live views: their keys would no longer name the same elements, so it is
    refused."""
    if result.shape == t.shape:
        return
    views = getattr(t, "_views", None)
    if getattr(t, "_view", None) is not None or \
            (views and any(r() is not None and r() is not result for r in views)):
        raise RuntimeError(
            f"{what}: would change in place the shape of a tensor (shape {t.shape}) that is "
            "a view or has live views; take the new shape out of place instead "
            "(x = x.squeeze(), x = x.t(), ...)"
        )


def make_view(base, out, key):
    """Make `out` a view of `base`: `out` is `base[key]` (a basic index) or `key`
    (a `_Map`) applied to base. The base keeps a weak reference so that its in-place
    changes reach `out` (see `refresh`)."""
    out._view = [base, key, base._version, 0]
    views = getattr(base, "_views", None)
    if views is None:
        base._views = [weakref.ref(out)]
        return out
    views.append(weakref.ref(out))
    n = len(views)
    if n >= 16 and not n & (n - 1):  # at each power of two: amortised O(1) pruning
        base._views = [r for r in views if r() is not None]
    return out


def refresh(t):
    """t was changed in place: each live view of t becomes what it views of t's new
    value (data and graph node, as an in-place change rebinds them), and so on down."""
    live = []
    for ref in t._views:
        v = ref()
        if v is None or v._view is None or v._view[0] is not t:
            continue
        live.append(ref)
        if v is _writer[0]:  # its value is the one just written: nothing to derive
            v._view[2] = t._version
            if getattr(v, "_views", None):
                refresh(v)
            continue
        key = v._view[1]
        # A view taken while recording keeps its graph through the base even when the
        # base is changed inside no_grad (an optimizer step on a parameter).
        with _grad_mode(_grad_enabled.get() or v._requires_grad):
            new = key.derive(t, v) if isinstance(key, (_Map, _Detached)) else \
                ops_getitem(t, key)
        if t.node is not None:
            # Ops in t's new graph that read v read it as it was (`z += z[0] * y`); only
            # those recorded since v took its present value can.
            since = v._version or (v.node.clock if v.node is not None else 0)
            _reroute(v, _snapshot(v), t.node, since)
        v.array = new.array
        v.node = new.node
        v._requires_grad = new._requires_grad
        v._version = tick_inplace()
        v._view[2], v._view[3] = t._version, v._version
        if getattr(v, "_views", None):
            refresh(v)
    t._views = live or None


def ops_getitem(t, key):
    return _ops().getitem(t, key)


def _ops():
    """anygrad.ops, which imports this module's importers: looked up once, on first use."""
    global _OPS
    if _OPS is None:
        from . import ops

        _OPS = ops
    return _OPS


_OPS = None


class _Map:
    """The "key" of a view that is not basic indexing: how to derive it from its base,
    and how to carry a value of it back to the base's shape."""

    def derive(self, base, view):
        raise NotImplementedError

    def back(self, view, base):
        raise NotImplementedError


class _Reshaped(_Map):
    """Its base with another shape (view, reshape, flatten, squeeze, unsqueeze)."""

    def derive(self, base, view):
        from . import ops

        return ops.reshape(base, tuple(view.shape))

    def back(self, view, base):
        from . import ops

        return ops.reshape(view, tuple(base.shape))

    def __repr__(self):
        return "... (reshaped)"


RESHAPED = _Reshaped()


class Permuted(_Map):
    """Its base with its axes permuted (transpose, permute, T, mT)."""

    def __init__(self, axes):
        self.axes = tuple(axes)

    def derive(self, base, view):
        from . import ops

        return ops.permute_dims(base, self.axes)

    def back(self, view, base):
        from . import ops

        inverse = [0] * len(self.axes)
        for i, a in enumerate(self.axes):
            inverse[a] = i
        return ops.permute_dims(view, tuple(inverse))

    def __repr__(self):
        return f"... (axes permuted to {self.axes})"


_TRANSPOSED = {}


def transposed(ndim):
    """The map of a matrix transpose of an `ndim`-axis tensor (x.T, x.mT), made once."""
    found = _TRANSPOSED.get(ndim)
    if found is None:
        found = _TRANSPOSED[ndim] = Permuted((*range(ndim - 2), ndim - 1, ndim - 2))
    return found


def _key_text(key):
    if isinstance(key, (_Map, _Detached)):
        return repr(key)
    parts = key if type(key) is tuple else (key,)
    return ", ".join("..." if k is Ellipsis else "None" if k is None else
                     f"{'' if k.start is None else k.start}:{'' if k.stop is None else k.stop}"
                     f"{'' if k.step is None else ':' + str(k.step)}"
                     if isinstance(k, slice) else str(k) for k in parts)


def _operand(op, t, other):
    """`other` admitted as for any op, cast to t's dtype where that loses no kind."""
    kind = type(other)
    if kind is float or kind is int:
        if dtypes.is_floating(t.array.dtype):  # a number keeps a float tensor's dtype
            return other
    elif isinstance(other, Tensor) and other.backend is t.backend and \
            other.array.dtype == t.array.dtype and other.shape == t.shape:
        return other  # nothing to admit, cast or broadcast
    (other,) = coercion.admit(op, t.backend, [other])
    if isinstance(other, Tensor):
        if other.backend is not t.backend:
            raise TypeError(
                f"{op.name} in place: inputs live on different backends ({t.backend.name!r} "
                f"and {other.backend.name!r}); move one with .to() first"
            )
        if coercion.broadcast_shapes(t.shape, other.shape) != t.shape:
            raise ValueError(
                f"{op.name} in place: an operand of shape {other.shape} cannot update a "
                f"tensor of shape {t.shape} (the result would have another shape)"
            )
        names = {t.dtype.name, other.dtype.name}
    else:
        names = {t.dtype.name}
    scalars = [other] if type(other) in (int, float, bool, complex) else []
    target = dtypes.with_scalars(dtypes.result_name(names), scalars)
    if op.floating and not dtypes.DTYPES[target].is_floating:
        target = dtypes.get_default_dtype().name
    mine = t.dtype
    if target != mine.name and dtypes.DTYPES[target].kind != mine.kind:
        raise TypeError(
            f"{op.name} in place: the result has dtype {target}, which a tensor of dtype "
            f"{mine} cannot hold; write t = t {_SYMBOL[op.name]} other to get a new tensor"
        )
    if isinstance(other, Tensor) and other.dtype != mine:
        from . import ops

        other = ops.astype(other, mine.name)
    elif type(other) is bool:
        other = dtypes.scalar_for(other, mine.name)
    return other


_SYMBOL = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/", "pow": "**"}


def _snapshot(t):
    """A tensor standing for t as it is now: its data, node and version."""
    old = _wrap(t.array, t.backend, t._requires_grad)
    old.node = t.node
    old._version = t._version
    return old


def _reroute(t, old, start, since=0):
    """Make the recorded ops that the new value depends on (the graph above `start`) and
    that read t, read `old` instead.

    They read t before this update (`x /= x.sum()`, `x[i] = x[i] * 2`), but a node holds
    its input tensors, and t's node is about to become the update's own: through t they
    would lead backward from the update into itself, and the gradient would never
    arrive. Ops that read t and that the new value does not depend on keep t, and
    backward through them refuses, as for any input changed in place. Nodes recorded
    before the in-place clock's tick `since` (when t took its present value) are not
    searched.
    """
    stop = t.node
    seen = set()
    stack = [start]
    while stack:
        node = stack.pop()
        if node is None or node is stop or id(node) in seen or node.inputs is None:
            continue
        if node.clock < since and node.clock != OUTPUT_CHANGED:
            continue  # recorded before t held its present value: it cannot read that
        seen.add(id(node))
        inputs = node.inputs
        if any(a is t for a in inputs):
            node.inputs = type(inputs)(old if a is t else a for a in inputs)
        stack.extend(a.node for a in inputs if isinstance(a, Tensor))


def _since(t):
    """The in-place clock's tick when t took its present value: no op recorded before
    it can have read that value, so `_reroute` need not search them (a long graph
    would otherwise be searched whole at every update)."""
    return t._version or (t.node.clock if t.node is not None else 0)


def _recorded(t, op, other):
    """The differentiable form: t becomes the result of op on its old self."""
    old = _snapshot(t)
    if isinstance(other, Tensor) and other.node is not None:
        _reroute(t, old, other.node, _since(t))
    result = apply(op, (old, other))
    if result.array.dtype != t.array.dtype:
        result = result.astype(t.array.dtype)
    t.array = result.array
    t.node = result.node
    t._requires_grad = result._requires_grad
    t._version = tick_inplace()
    return t


# ------------------------------------------------------------------ item assignment
def assign(t, key, value):
    """`t[key] = value`, the standard's `__setitem__`: t becomes itself with the
    selected elements replaced, recorded as an op on its old self when gradients are,
    so the gradient reaches `value` and t's other elements (as in PyTorch).

    The result is one gather from t's elements followed by value's, at positions found
    by following every element of t through the same selection `t[key]` makes; any key
    `getitem` takes works alike on every backend. An integer-array key that names an
    element twice is refused (which write would win is left open by the standard).
    """
    if _grad_enabled.get() and t.node is None and t._requires_grad:
        raise RuntimeError(
            f"setitem: a leaf tensor that requires grad (shape {t.shape}, dtype {t.dtype}) "
            "cannot be changed in place while gradients are recorded; assign inside "
            "`with ag.no_grad():`, or build a new tensor (ag.where, ag.concat)"
        )
    view = getattr(value, "_view", None)
    if view is not None and view[0] is t and view[1] is key and view[2] == t._version \
            and view[3] == value._version:
        return  # value is t[key] as t holds it now: `t[key] += 1` wrote through already
    before_write(t, "setitem")
    picked = _region(t, key)
    if picked is not None and not _batching:
        return _assign_region(t, key, value, picked)
    from . import ops
    from .creation import arange

    backend, shape = t.backend, tuple(t.shape)
    size = math.prod(shape)
    positions = ops.getitem(ops.reshape(arange(size, backend=backend.name, device=t.device),
                                        tuple(shape)), key)
    picked = tuple(positions.shape)
    value = _filling(t, value, picked)
    xp = backend.xp
    flat = xp.reshape(positions.array, (-1,))
    count = flat.shape[0]
    ranks = xp.arange(1, count + 1, dtype=flat.dtype, device=backend.device(flat))
    # ranks[p] - 1: which selected element lands on position p (0: none does).
    landing = backend.scatter_add_1d(size, flat, ranks)
    basic = (int, slice, type(None), type(Ellipsis))
    by_array = not all(isinstance(k, basic) for k in (key if isinstance(key, tuple) else (key,)))
    recorder = _recording.get()
    if by_array and recorder is not None:
        # The positions below are worked out on raw arrays: a replay would keep them.
        recorder.not_replayable(
            "assigns through an index array (t[i] = v), whose positions a replay would not "
            "work out again")
    if count and by_array:
        hits = backend.scatter_add_1d(size, flat, xp.ones_like(ranks))
        if int(xp.max(hits)) > 1:
            raise IndexError(f"setitem: the index names an element of the tensor (shape "
                             f"{tuple(shape)}) more than once")
    every = xp.arange(size, dtype=flat.dtype, device=backend.device(flat))
    source = _wrap(xp.where(landing > 0, size + landing - 1, every), backend)

    recorded = _grad_enabled.get() and (t._requires_grad or value._requires_grad)
    old = _snapshot(t) if recorded else t
    if recorded:
        _reroute(t, old, value.node, _since(t))
    pool = ops.concat([ops.reshape(old, (-1,)),
                       ops.reshape(ops.broadcast_to(value, picked), (-1,))])
    result = ops.reshape(ops.take(pool, source, axis=0), tuple(shape))
    _rebind(t, result, recorded)


def _rebind(t, result, recorded):
    """t takes the value of an item assignment, `result`."""
    t.array = result.array
    if recorded:
        t.node = result.node
        t._requires_grad = result._requires_grad
    elif t.node is not None and t.node.inputs is not None:
        t.node.clock = OUTPUT_CHANGED  # as for any unrecorded in-place update
    t._version = tick_inplace()
    after_write(t)


# ------------------------------------------------------------------ a region written
# A key of integers and slices (steps forward) names a box of distinct elements, which
# every library writes itself: one op, rather than following each element through the
# selection as `assign` does for any key. The arrays are still copied, never written
# in place (see `_BINARY`).
def _region(t, key):
    """The shape `t[key]` selects, when `key` is such a box; else None. (Fewer parts than
    axes select whole trailing axes.)"""
    parts = key if type(key) is tuple else (key,)
    if len(parts) > t.ndim:
        return None
    shape = []
    for k, n in zip(parts, t.shape):
        if type(k) is slice:
            start, stop, step = k.start, k.stop, k.step
            if (start is not None and type(start) is not int) or \
                    (stop is not None and type(stop) is not int) or \
                    (step is not None and (type(step) is not int or step < 1)):
                return None
            shape.append(len(range(*k.indices(n))))
        elif type(k) is not int or not -n <= k < n:
            return None
    return tuple(shape) + tuple(t.shape[len(parts):])


def _put_forward(xp, x, value, key, backend):
    return backend._assign(xp.asarray(x, copy=True), key, value)


def _put_vjp_x(ns, g, ans, x, value, key, backend):
    if isinstance(g, Tensor):  # recording the gradient: the same op, writing zeros
        return _put(g, 0, key=key, backend=backend)
    return backend._assign(backend.xp.asarray(g, copy=True), key, 0)


def _put_vjp_value(ns, g, ans, x, value, key, backend):
    return _ops().getitem(g, key) if isinstance(g, Tensor) else g[key]


# The value's rule hands back a view of g: the engine copies it before it is a .grad.
_put = Op("setitem", _put_forward, _put_vjp_x, _put_vjp_value, complex=True, passes=(1,))


def _filling(t, value, picked):
    """`value` as a tensor of t's backend and dtype that broadcasts to the shape `picked`
    an index selects from t; anything else is refused, naming both."""
    from .creation import tensor

    backend = t.backend
    if isinstance(value, Tensor):
        if value.backend is not backend:
            raise TypeError(
                f"setitem: the value lives on backend {value.backend.name!r}, the tensor on "
                f"{backend.name!r}; move one with .to() first"
            )
        if value.dtype != t.dtype:
            value = _ops().astype(value, t.dtype.name)
    else:  # a number or another library's array: a constant of t's dtype
        value = tensor(value, dtype=t.dtype.name, backend=backend.name, device=t.device)
    if coercion.broadcast_shapes(tuple(value.shape), picked) != picked:
        raise ValueError(
            f"setitem: a value of shape {tuple(value.shape)} cannot fill the {picked} "
            f"elements selected from a tensor of shape {tuple(t.shape)}"
        )
    return value


def _assign_region(t, key, value, picked):
    """`t[key] = value` for a key that `_region` accepts, selecting shape `picked`."""
    backend = t.backend
    value = _filling(t, value, picked)
    recorded = _grad_enabled.get() and (t._requires_grad or value._requires_grad)
    old = _snapshot(t) if recorded else t
    if recorded and value.node is not None:
        _reroute(t, old, value.node, _since(t))
    parts = key if type(key) is tuple else (key,)
    if len(parts) < t.ndim:  # the standard wants every axis named
        key = parts + (Ellipsis,)
    _rebind(t, _put(old, value, key=key, backend=backend), recorded)
