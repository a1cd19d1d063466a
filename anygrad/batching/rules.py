"""Batching rules, by kind: how an op maps over a batch axis in front.

Each op declares its kind where it is declared (`op(..., batch="elementwise")`). A rule
is `rule(op, values, batched, params, size)`: `values` are the op's positional
arguments with the batch axis of this level in front where `batched` says so, and the
rule returns the op's result with the batch axis in front, computed by calling ops on
those values (so the graph is recorded as usual, and nested levels batch again).

Kinds:
  elementwise   broadcasting ops: batched inputs get ones after the batch axis, so
                that every input lines up on the right
  identity      the transforms' alias of an argument
  last_axis     ops on the last axis of inputs sharing their leading ones: all batched
  reduce        `axis`/`keepdims` reductions: axes shift by one; None means every axis
                of one example
  argreduce     argmax/argmin: axis=None counts in each example's flattened array
  axis          one `axis` argument (softmax, flip, squeeze, cumulative_sum, argsort)
  expand_dims   the new axis, counted in the result
  fft           an `axes` tuple
  reshape       a target `shape` (reshape, broadcast_to)
  permute       a permutation `axes`
  matrix        ops on the last axes of one input, batched natively over leading ones
  matmul, linear, solve   their own rules below
  variadic      concat/stack: every input batched, the axis shifted
  gather        indexing, take, take_along_axis and their scatter
  fold_batch    ops on (N, ...) inputs (convolution windows): the batch joins N
  elementwise_first, elementwise_last   elementwise in one input, the others whole
                (isin, searchsorted); batched others: one call per example, warned
  loop          one call per example, warned: for ops with no vectorised rule yet (the
                whole-sequence LSTM layer)
  random        draws: each example its own numbers or the same, per vmap's randomness
"""
from __future__ import annotations

import inspect
import warnings

from .. import ops
from ..engine import Op

# Ops that vmap refuses, and why; every other op declares a batching kind.
UNSUPPORTED = {
    "unique_values": "its result's shape depends on each example's values",
    # Fused forms that vmap never reaches: under vmap the composed form runs instead.
    "nll_loss": "the fused loss is not batched (nll_loss and cross_entropy compose it "
                "from batched ops under vmap)",
    "setitem": "writes into a tensor; inside vmap build the result out of place "
               "(ag.where, ag.concat)",
}



# ----------------------------------------------------------------- helpers
def _ndim(v, batched):
    n = getattr(v, "ndim", 0)
    return n - 1 if batched else n


def _lift(v, size):
    """An unbatched tensor with the batch axis added in front (a broadcast view)."""
    return ops.broadcast_to(v, (size,) + tuple(v.shape))


def _pad(v, extra):
    """Batched `v` with `extra` length-one axes after the batch axis."""
    if extra <= 0:
        return v
    shape = tuple(v.shape)
    return ops.reshape(v, shape[:1] + (1,) * extra + shape[1:])


_SIGNATURES: dict = {}  # op -> (its forward's parameter names after xp, their defaults)


def _signature(op):
    found = _SIGNATURES.get(op)
    if found is None:
        parameters = list(inspect.signature(op.forward).parameters.values())[1:]
        found = _SIGNATURES[op] = (
            [p.name for p in parameters],
            {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty})
    return found


def _named(op, values, params, first):
    """The op's parameters as a dict: positional values from index `first` on, named
    after the forward's signature, and the keyword ones."""
    found = dict(zip(_signature(op)[0][first:], values[first:]))
    found.update(params)
    return found


def _default(op, name):
    return _signature(op)[1].get(name)


def _shift(axis, ndim):
    """Axes of one example (None: all of them) as axes of the batched array."""
    if axis is None:
        return tuple(range(1, ndim + 1))
    if isinstance(axis, int):
        return _one(axis, ndim) + 1
    return tuple(_one(a, ndim) + 1 for a in axis)


def _one(axis, ndim):
    if not -ndim <= axis < max(ndim, 1):
        raise IndexError(f"vmap: axis {axis} is out of range for an example of {ndim} dimensions")
    return axis % ndim if ndim else 0


def _all_batched(values, batched, size):
    return [v if b else _lift(v, size) for v, b in zip(values, batched)]


# ----------------------------------------------------------------- kinds
def elementwise(op, values, batched, params, size):
    widest = max(_ndim(v, b) for v, b in zip(values, batched))
    values = [_pad(v, widest - _ndim(v, b)) if b else v for v, b in zip(values, batched)]
    return op(*values, **params)


def last_axis(op, values, batched, params, size):
    """Ops on the last axis of inputs that share their leading axes (an LSTM cell's
    gates and state): every input batched, of one rank."""
    values = [_lift(v, size) if hasattr(v, "ndim") and not b else v
              for v, b in zip(values, batched)]
    return elementwise(op, values, [hasattr(v, "ndim") for v in values], params, size)


def identity(op, values, batched, params, size):
    """The identity (a transform's alias of its argument): what was the same for every
    example stays so."""
    return op(*values, **params)


def reduce(op, values, batched, params, size):
    x = values[0]
    found = _named(op, values, params, 1)
    nd = x.ndim - 1
    if nd == 0:  # one number per example: reduce a length-one axis instead
        found["axis"] = 1
        found["keepdims"] = False  # keepdims of a 0-d example is 0-d as well
        return op(ops.reshape(x, (size, 1)), **found)
    found["axis"] = _shift(found.get("axis", _default(op, "axis")), nd)
    return op(x, **found)


def argreduce(op, values, batched, params, size):
    x = values[0]
    found = _named(op, values, params, 1)
    nd = x.ndim - 1
    axis = found.get("axis")
    if axis is not None:
        found["axis"] = _shift(axis, nd)
        return op(x, **found)
    keep = found.get("keepdims", False)
    found.update(axis=1, keepdims=False)
    out = op(ops.reshape(x, (size, -1)), **found)
    return ops.reshape(out, (size,) + (1,) * nd) if keep else out


def axis(op, values, batched, params, size):
    x = values[0]
    found = _named(op, values, params, 1)
    found["axis"] = _shift(found.get("axis", _default(op, "axis")), x.ndim - 1)
    return op(x, **found)


def expand_dims(op, values, batched, params, size):
    x = values[0]
    found = _named(op, values, params, 1)
    found["axis"] = _one(found.get("axis", 0), x.ndim) + 1  # x.ndim: the result's rank - 1
    return op(x, **found)


def fft(op, values, batched, params, size):
    x = values[0]
    found = _named(op, values, params, 1)
    found["axes"] = _shift(tuple(found["axes"]), x.ndim - 1)
    return op(x, **found)


def reshape(op, values, batched, params, size):
    x = values[0]
    found = _named(op, values, params, 1)
    shape = tuple(found.pop("shape"))
    if op.name == "broadcast_to":  # line the example's axes up on the right first
        x = _pad(x, len(shape) - (x.ndim - 1))
    return op(x, (size,) + shape, **found)


def permute(op, values, batched, params, size):
    x = values[0]
    found = _named(op, values, params, 1)
    nd = x.ndim - 1
    found["axes"] = (0,) + tuple(_one(a, nd) + 1 for a in found["axes"])
    return op(x, **found)


def matrix(op, values, batched, params, size):
    """Linear algebra on the last axes: leading axes are a stack already."""
    if sum(1 for v in values if hasattr(v, "ndim")) > 1:
        return elementwise(op, values, batched, params, size)
    return op(*values, **params)


# A product with a matrix the same for every example (a variable of ag.grad inside vmap,
# broadcast over the batch): one matrix product forward, as if the matrix were shared,
# and per-example gradients for it backward. Only for plain tensors (no outer vmap).
def _shared_forward(xp, a, b):
    rows = xp.reshape(a, (-1, a.shape[-1]))
    return xp.reshape(xp.matmul(rows, b[0, ...]), tuple(a.shape[:-1]) + (b.shape[-1],))


def _shared_vjp_a(ns, g, ans, a, b):
    return ns.matmul(g, ns.matrix_transpose(b[0, ...]))


def _shared_vjp_b(ns, g, ans, a, b):
    size, k, n = b.shape
    rows = ns.reshape(a, (size, -1, k))
    gs = ns.reshape(g, (size, -1, n))
    if rows.shape[1] == 1:  # an outer product per example: a broadcast product is quicker
        return ns.reshape(rows, (size, k, 1)) * gs
    return ns.matmul(ns.matrix_transpose(rows), gs)


def _shared_batch(op, values, batched, params, size):
    """Under an outer vmap: the ordinary product, which it equals."""
    return matmul(ops.matmul, values, batched, params, size)


_shared_matmul = Op("matmul", _shared_forward, _shared_vjp_a, _shared_vjp_b, batch=_shared_batch)


def _shared(a, b, ba, bb):
    """Whether a @ b can take the shared-matrix product: b the same for every example."""
    from ..tensor import Tensor

    return bb == "uniform" and ba is True and b.ndim == 3 and a.ndim >= 2 \
        and type(a) is Tensor and type(b) is Tensor


def matmul(op, values, batched, params, size):
    (a, b), (ba, bb) = values, batched
    if _shared(a, b, ba, bb):
        return _shared_matmul(a, b)
    row = ba and a.ndim == 2  # one vector per example: made a row, and b's a column
    column = bb and b.ndim == 2
    if row:
        a = ops.expand_dims(a, axis=1)
    if column:
        b = ops.expand_dims(b, axis=2)
    wide = max(_ndim(a, ba), _ndim(b, bb))
    if ba:
        a = _pad(a, wide - _ndim(a, ba))
    if bb:
        b = _pad(b, wide - _ndim(b, bb))
    out = op(a, b, **params)
    if column:
        out = ops.squeeze(out, axis=-1)
    if row:  # last once b's column is gone, or when b was a shared vector
        out = ops.squeeze(out, axis=-1 if column or b.ndim == 1 else -2)
    return out


def linear(op, values, batched, params, size):
    if not any(batched[1:]):
        return op(*values, **params)  # x @ W.T + b: the batch is one more leading axis
    bias = values[2] if len(values) > 2 else params.get("bias")
    if _shared(values[0], values[1], batched[0], batched[1]):
        out = _shared_matmul(values[0], ops.matrix_transpose(values[1]))
        if bias is None:
            return out
        if len(values) > 2 and batched[2]:  # line the bias up with out's last axis
            bias = _pad(bias, out.ndim - bias.ndim)
        return out + bias
    from .dispatch import current_level
    from .tensor import BatchedTensor

    level = current_level()
    x, weight, bias = [BatchedTensor(v, level) if b else v for v, b in zip(values, batched)] + \
        [params.get("bias")] * (3 - len(values))
    out = ops.matmul(x, ops.matrix_transpose(weight))
    return (out if bias is None else out + bias)._value


def solve(op, values, batched, params, size):
    a, b = _all_batched(values, batched, size)
    if b.ndim == 2:  # one vector per example: a column, as the standard's 1-d x2
        return ops.squeeze(op(a, ops.expand_dims(b, axis=2), **params), axis=-1)
    wide = max(a.ndim, b.ndim)
    return op(_pad(a, wide - a.ndim), _pad(b, wide - b.ndim), **params)


def variadic(op, values, batched, params, size):
    values = _all_batched(values, batched, size)
    found = dict(params)
    where = found.get("axis", 0)
    nd = values[0].ndim - 1
    if where is None:  # concat of flattened examples
        found["axis"] = 1
        return op(*[ops.reshape(v, (size, -1)) for v in values], **found)
    found["axis"] = _one(where, nd + (op.name == "stack")) + 1
    return op(*values, **found)


def gather(op, values, batched, params, size):
    from ..backends import GatherSpec
    from .dispatch import current_level
    from .tensor import BatchedTensor

    found = _named(op, values, params, 1)
    spec = found["spec"]
    x = values[0]
    index = spec.index
    mapped = type(index) is BatchedTensor and index._level == current_level()
    if mapped:  # each example's own index array
        if op.name == "scatter" or spec.kind == "getitem":
            raise NotImplementedError(
                f"vmap: {op.name} with an index array that differs per example is not "
                "supported inside ag.vmap; use take or take_along_axis"
            )
        index = index._value
        index = index if type(index) is BatchedTensor else index.array
        if not batched[0]:
            x = _lift(x, size)
    nd = x.ndim - 1
    if op.name == "scatter":  # x is the cotangent; the source had `shape`
        nd = len(found["shape"])
        found["shape"] = (size,) + tuple(found["shape"])
    if spec.kind == "getitem":
        key = index if isinstance(index, tuple) else (index,)
        if any(type(k) is BatchedTensor for k in key):
            raise NotImplementedError(
                f"vmap: x[index] with an index array that differs per example (per example "
                f"shape {tuple(x.shape)[1:]}) is not supported inside ag.vmap; use take or "
                "take_along_axis"
            )
        _check_adjacent(key, op)
        spec = GatherSpec("getitem", (slice(None),) + key)
    elif spec.kind == "take" and not mapped:
        spec = GatherSpec("take", index, _one(spec.axis, nd) + 1)
    elif spec.kind == "take":  # x[b].take(index[b]) as a take_along_axis of the batch
        at = _one(spec.axis, nd)
        shape = tuple(x.shape)
        k = tuple(index.shape)[1]
        index = _index_ops(index).reshape(index, (size,) + (1,) * at + (k,) + (1,) * (nd - at - 1))
        index = _index_ops(index).broadcast_to(index, shape[:at + 1] + (k,) + shape[at + 2:])
        spec = GatherSpec("take_along_axis", index, at + 1)
    else:  # take_along_axis
        if not mapped:  # one index array for every example
            xs = _index_ops(index)
            index = xs.broadcast_to(xs.expand_dims(index, axis=0), (size,) + tuple(index.shape))
        spec = GatherSpec("take_along_axis", index, _one(spec.axis, nd) + 1)
    found["spec"] = spec
    return op(x, **found)


def _index_ops(index):
    """The namespace that reshapes an index: anygrad's for a tensor still batched by an
    outer vmap, the library's own for a raw array."""
    from ..tensor import Tensor
    from ..backends import backend_of

    return ops if isinstance(index, Tensor) else backend_of(index).xp


def _check_adjacent(key, op):
    """numpy puts the result axes of index arrays that are not next to each other
    first, in front of the batch axis: refused rather than misplaced."""
    arrays = [i for i, k in enumerate(key) if hasattr(k, "shape") and getattr(k, "ndim", 0) > 0
              or isinstance(k, (list,))]
    if arrays and arrays[-1] - arrays[0] + 1 != len(arrays):
        raise NotImplementedError(
            f"vmap: {op.name} with index arrays separated by slices (key {key!r}) is not "
            "supported inside ag.vmap; index in two steps"
        )


def fold_batch(op, values, batched, params, size):
    x = values[0]
    shape = tuple(x.shape)
    out = op(ops.reshape(x, (size * shape[1],) + shape[2:]), *values[1:], **params)
    return ops.reshape(out, (size, shape[1]) + tuple(out.shape)[1:])


def elementwise_first(op, values, batched, params, size):
    """Elementwise in the first input, the others taken whole (isin's set of values):
    a loop over the examples where those others are batched."""
    if not any(batched[1:]):
        return op(*values, **params)
    return _loop(op, values, batched, params, size)


def elementwise_last(op, values, batched, params, size):
    """Elementwise in the last input, the others taken whole (searchsorted's sorted
    array): a loop over the examples where those others are batched."""
    if not any(batched[:-1]):
        return op(*values, **params)
    return _loop(op, values, batched, params, size)


def loop(op, values, batched, params, size):
    """No batching rule written yet: one call per example, warned."""
    return _loop(op, values, batched, params, size)


def _loop(op, values, batched, params, size):
    warnings.warn(
        f"vmap: {op.name} has no vectorised form for these batched arguments; it runs once "
        f"per example ({size} calls)", RuntimeWarning, stacklevel=4,
    )
    rows = []
    for i in range(size):
        rows.append(op(*[v[i] if b else v for v, b in zip(values, batched)], **params))
    return ops.stack(rows)


RULES = {
    "elementwise": elementwise, "identity": identity, "reduce": reduce, "argreduce": argreduce,
    "axis": axis, "last_axis": last_axis, "expand_dims": expand_dims, "fft": fft,
    "reshape": reshape, "permute": permute,
    "matrix": matrix, "matmul": matmul, "linear": linear, "solve": solve,
    "variadic": variadic, "gather": gather, "fold_batch": fold_batch,
    "elementwise_first": elementwise_first, "elementwise_last": elementwise_last, "loop": loop,
}
