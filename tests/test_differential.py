"""Random programs from the op table, checked against an independent oracle.

hypothesis builds a small expression graph (broadcasting, fan-out, reductions with
keepdims and negative axes, indexing, 0-d and empty arrays, float32 and float64 leaves)
and runs it on every backend. Each program is checked for its value, dtype and shape,
its first derivatives (one random cotangent) and its second derivatives (the gradient
of sum(grad * v)), and every gradient must have its leaf's dtype, shape and backend.

The oracle is PyTorch when it is installed: the same program is written with torch ops
(one entry per op in OPS). Without torch, values are checked against numpy computing
in float64, and derivatives against central differences (`ag.gradcheck` and
`ag.gradgradcheck` on the float64 form of the program); the float32 form's gradients
must agree with the checked float64 ones.

Programs are built against a float64 numpy evaluation, so that domains stay safe: log,
sqrt and pow bases are guarded to be positive, divisors are kept away from zero, and
kinks and ties (max, min, maximum, relu, abs, clip, where) are kept a margin away, so
the derivative is defined and finite differences can see it.

CI runs ANYGRAD_FUZZ_EXAMPLES (default 150) derandomized examples per backend; set it
higher to search longer locally. ANYGRAD_FUZZ_ORACLE=numpy takes the no-torch path even
where torch is installed.
"""
from __future__ import annotations

import math
import os
import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import anygrad as ag
from conftest import dtype_name

try:
    import torch
except ImportError:  # the oracle is then numpy plus central differences
    torch = None
if os.environ.get("ANYGRAD_FUZZ_ORACLE") == "numpy":  # the CI path, with torch installed
    torch = None

EXAMPLES = int(os.environ.get("ANYGRAD_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.filter_too_much, HealthCheck.data_too_large],
)

MARGIN = 1e-2  # how far from a kink or a tie a value must stay
BOUND = 50.0  # largest |value| a program may produce
MAX_SIZE = 48  # largest number of elements in any value
MAX_OPS = 8


# =================================================================== helpers per namespace
def _guard(x):
    """x*x + 0.5: a smooth, positive argument for log, sqrt, pow bases and divisors."""
    return x * x + 0.5


def _t_promote(*ts):
    """torch follows the Array API promotion table too (a 0-d float64 widens float32)."""
    if len({t.dtype for t in ts}) > 1:
        return [t.to(torch.float64) for t in ts]
    return list(ts)


def _t_axes(x, axis):
    if axis is None:
        return tuple(range(x.ndim))
    return axis if isinstance(axis, tuple) else (axis,)


def _t_index(x, key):
    """numpy's x[key] for ints, slices (any step), Ellipsis and one integer array, in torch
    (whose slices reject negative steps)."""
    n_explicit = sum(1 for k in key if k is not Ellipsis)
    expanded = []
    for k in key:
        if k is Ellipsis:
            expanded += [slice(None)] * (x.ndim - n_explicit)
        else:
            expanded.append(k)
    out, axis = x, 0
    for k in expanded:
        if isinstance(k, (int, np.integer)):
            out = out.select(axis, int(k))
        elif isinstance(k, slice):
            rows = list(range(*k.indices(out.shape[axis])))
            out = out.index_select(axis, torch.tensor(rows, dtype=torch.int64))
            axis += 1
        else:
            out = out.index_select(axis, torch.as_tensor(np.asarray(k), dtype=torch.int64))
            axis += 1
    return out


def _on(x, array):
    """Host `array` as an anygrad tensor on x's backend."""
    return ag.tensor(array, backend=x.backend.name)


def _ag_key(x, key):
    """An index key with its integer arrays as anygrad tensors on x's backend."""
    return tuple(_on(x, k) if isinstance(k, np.ndarray) else k for k in key)


def _np_logsumexp(x, axis, keepdims):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _np_softmax(x, axis):
    if x.size == 0:  # a zero-length axis has nothing to normalise
        return x.copy()
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _np_take(x, indices, axis):
    return np.take(x, indices, axis=axis)


# =================================================================== the op table
class Op:
    """One op: how anygrad, torch and numpy compute it, and how to pick its arguments.

    `pick(draw, x, pool)` returns (operands, params) for a primary operand `x` (a Value),
    or None when the op does not apply to x. An operand is a pool Value or a fresh leaf
    (a `Leaf` holding its shape; its dtype is drawn). `ok(args, params, out)`, on float64 numpy
    values, rejects arguments too close to a kink or tie.
    """

    def __init__(self, name, ag_fn, torch_fn, np_fn, pick=None, ok=None, weight=1):
        self.name, self.ag, self.torch, self.np = name, ag_fn, torch_fn, np_fn
        self.weight = weight  # how often it is drawn, relative to the others
        self.pick = pick or (lambda draw, x, pool: ([x], {}))
        self.ok = ok or (lambda args, params, out: True)


def _unary(name, ag_fn, torch_fn, np_fn, ok=None, guardable=False):
    if guardable:
        # A guarded op computes f(x*x + 0.5); unguarded, x must already be above 0.2.
        def pick(draw, x, pool):
            guard = not (x.ref.size and np.min(x.ref) > 0.2) or draw(st.booleans())
            return [x], {"guard": guard}

        return Op(name, lambda x, guard: ag_fn(_guard(x) if guard else x),
                  lambda x, guard: torch_fn(_guard(x) if guard else x),
                  lambda x, guard: np_fn(_guard(x) if guard else x), pick, ok)
    return Op(name, ag_fn, torch_fn, np_fn, ok=ok)


def _away_from_zero(args, params, out):
    x = args[0]
    return x.size == 0 or np.min(np.abs(x)) > MARGIN


# ------------------------------------------------------------ operands
class Leaf:
    """A fresh input the op asks for (an extra operand of a given shape)."""

    def __init__(self, shape):
        self.shape = tuple(shape)


class Value:
    """A value in the program: its pool position, float64 numpy value and dtype."""

    def __init__(self, index, ref, dtype, exact):
        # exact: computed from float64 values only, so float64 tolerances apply
        self.index, self.ref, self.dtype, self.exact = index, ref, dtype, exact

    @property
    def precision(self):
        return "float64" if self.exact else "float32"

    @property
    def shape(self):
        return self.ref.shape

    @property
    def ndim(self):
        return self.ref.ndim

    @property
    def size(self):
        return self.ref.size


def _broadcast_partner(draw, x, pool):
    """A second operand broadcasting with x: x itself (fan-out), a compatible pool value,
    or a fresh leaf of a shape that broadcasts with x's."""
    how = draw(st.sampled_from(["self", "pool", "leaf", "leaf", "leaf"]))
    if how == "self":
        return x
    if how == "pool":
        fits = [v for v in pool if v is not x and _broadcasts(v.shape, x.shape)]
        if fits:
            return draw(st.sampled_from(fits))
    shape = [1 if draw(st.booleans()) else n for n in x.shape]
    if draw(st.integers(0, 3)) == 0:
        return Leaf([2] + shape)  # the output grows: x's gradient is summed over the new axis
    return Leaf(shape[draw(st.integers(0, len(shape))):])


def _broadcasts(a, b):
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


def _binary(name, ag_fn, torch_fn, np_fn, ok=None, guard_second=False):
    def pick(draw, x, pool):
        y = _broadcast_partner(draw, x, pool)
        params = {}
        if guard_second:
            params["guard"] = True
        if draw(st.booleans()):
            return [x, y], params
        return [y, x], params

    if guard_second:
        return Op(name, lambda a, b, guard: ag_fn(a, _guard(b)),
                  lambda a, b, guard: torch_fn(*_t_promote(a, _guard(b))),
                  lambda a, b, guard: np_fn(a, _guard(b)), pick, ok)
    return Op(name, ag_fn, lambda a, b: torch_fn(*_t_promote(a, b)), np_fn, pick, ok)


def _apart(args, params, out):
    a, b = np.broadcast_arrays(args[0], args[1])
    return a.size == 0 or np.min(np.abs(a - b)) > MARGIN


# ------------------------------------------------------------ reductions
def _pick_axis(draw, x):
    """None, one axis, or two, with negative axes as often as positive ones."""
    kind = draw(st.sampled_from(["none", "int", "tuple"][:1 + min(x.ndim, 2)]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-x.ndim, x.ndim - 1))
    axes = draw(st.lists(st.integers(0, x.ndim - 1), min_size=2, max_size=2, unique=True))
    return tuple(a - x.ndim if draw(st.booleans()) else a for a in axes)


def _reduction(name, ag_fn, torch_fn, np_fn, ok=None, extra=None):
    def pick(draw, x, pool):
        axis = _pick_axis(draw, x)
        return [x], {"axis": axis, "keepdims": draw(st.booleans()), **(extra(draw) if extra else {})}

    return Op(name, ag_fn, torch_fn, np_fn, pick, ok)


def _unique_extremum(fn):
    def ok(args, params, out):
        x, axis = args[0], params["axis"]
        if x.size == 0:
            return True
        top = fn(x, axis=axis, keepdims=True)
        close = np.abs(x - top) <= MARGIN
        return bool(np.all(np.sum(close, axis=axis) == 1))

    return ok


def _positive_variance(args, params, out):
    return out.size == 0 or np.min(out) > MARGIN


def _correction(draw):
    return {"correction": draw(st.sampled_from([0, 1]))}


def _t_var(x, axis, keepdims, correction):
    if x.ndim == 0:
        return (x - x) / (1 - correction)
    with warnings.catch_warnings():  # an empty result may have no degrees of freedom left
        warnings.simplefilter("ignore", UserWarning)
        return torch.var(x, dim=_t_axes(x, axis), correction=correction, keepdim=keepdims)


def _t_logsumexp(x, axis, keepdims):
    return torch.logsumexp(x, dim=_t_axes(x, axis), keepdim=keepdims) if x.ndim else x


def _t_extremum(fn):
    return lambda x, axis, keepdims: fn(x, dim=_t_axes(x, axis), keepdim=keepdims) if x.ndim else x


# ------------------------------------------------------------ shape ops
def _pick_reshape(draw, x, pool):
    options = [(-1,), tuple(reversed(x.shape)), (1,) + x.shape, tuple(n for n in x.shape if n != 1)]
    return [x], {"shape": draw(st.sampled_from(options))}


def _pick_permute(draw, x, pool):
    if x.ndim < 2:
        return None
    return [x], {"axes": tuple(draw(st.permutations(range(x.ndim))))}


def _pick_expand(draw, x, pool):
    return [x], {"axis": draw(st.integers(-x.ndim - 1, x.ndim))}


def _pick_squeeze(draw, x, pool):
    ones = [i for i, n in enumerate(x.shape) if n == 1]
    if not ones:
        return None
    axis = draw(st.sampled_from(ones))
    return [x], {"axis": axis - x.ndim if draw(st.booleans()) else axis}


def _pick_broadcast(draw, x, pool):
    shape = tuple(2 if n == 1 and draw(st.booleans()) else n for n in x.shape)
    if draw(st.booleans()) or shape == x.shape:
        shape = (2,) + shape
    return [x], {"shape": shape}


def _pick_flip(draw, x, pool):
    if x.ndim == 0:
        return None
    axis = draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1)))
    return [x], {"axis": axis}


def _pick_join(stack):
    def pick(draw, x, pool):
        if not stack and draw(st.integers(0, 4)) == 0:  # axis=None joins the flattened inputs
            other = x if draw(st.booleans()) else Leaf(_choice(draw, [(2,), (1, 3), ()]))
            return [x, other], {"axis": None}
        if x.ndim == 0 and not stack:
            return None
        if stack:
            axis = draw(st.integers(-x.ndim - 1, x.ndim))
            shape = x.shape
        else:
            axis = draw(st.integers(-x.ndim, x.ndim - 1))
            shape = list(x.shape)
            shape[axis] = draw(st.integers(0, 2))
        if draw(st.booleans()):
            other = x  # fan-out: the same value twice
        else:
            fits = [v for v in pool if v is not x and v.shape == tuple(shape)]
            other = draw(st.sampled_from(fits)) if fits and draw(st.booleans()) else Leaf(shape)
        return [x, other], {"axis": axis}

    return pick


def _pick_matmul(draw, x, pool):
    if x.ndim == 0:
        return None
    k = draw(st.integers(1, 3))
    if draw(st.booleans()):  # x @ w
        n = x.shape[-1]
        shape = draw(st.sampled_from([(n,), (n, k), (2, n, k)] if x.ndim >= 2 else [(n,), (n, k)]))
        return [x, Leaf(shape)], {}
    m = x.shape[-2] if x.ndim >= 2 else x.shape[0]
    shape = draw(st.sampled_from([(m,), (k, m)]))
    return [Leaf(shape), x], {}


def _t_matmul(a, b):
    a, b = _t_promote(a, b)
    return torch.matmul(a, b)


# ------------------------------------------------------------ selections
def _pick_basic_index(draw, x, pool):
    if x.ndim == 0:
        return [x], {"key": (Ellipsis,)}
    n_keys = draw(st.integers(1, x.ndim))  # often fewer indices than dimensions
    key = []
    for axis in range(n_keys):
        n = x.shape[axis]
        if n and draw(st.integers(0, 2)) == 0:
            key.append(draw(st.integers(-n, n - 1)))
        else:
            step = draw(st.sampled_from([1, 1, 2, -1, -2]))
            start = draw(st.one_of(st.none(), st.integers(-n, n)))
            stop = draw(st.one_of(st.none(), st.integers(-n, n)))
            key.append(slice(start, stop, step))
    if draw(st.integers(0, 3)) == 0:
        key = [Ellipsis] + key if draw(st.booleans()) else key + [Ellipsis]
    return [x], {"key": tuple(key)}


def _pick_array_index(draw, x, pool):
    if x.ndim == 0:
        return None
    axis = draw(st.integers(0, x.ndim - 1))
    n = x.shape[axis]
    if n == 0:
        return None
    idx = np.array(draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4)), dtype=np.int64)
    form = draw(st.sampled_from(["slices", "ellipsis"]))
    if form == "ellipsis" and axis == x.ndim - 1:
        key = (Ellipsis, idx)
    else:
        key = (slice(None),) * axis + (idx,)
        if axis < x.ndim - 1 and draw(st.booleans()):
            key = key + (slice(None, None, draw(st.sampled_from([1, -1]))),)
    return [x], {"key": key}


def _pick_mask(draw, x, pool):
    if x.ndim == 0:
        return None
    lead = draw(st.booleans())
    shape = x.shape[:1] if lead else x.shape
    bits = draw(st.lists(st.booleans(), min_size=math.prod(shape), max_size=math.prod(shape)))
    return [x], {"mask": np.array(bits, dtype=bool).reshape(shape)}


def _nonempty_axis(draw, x):
    """(axis, its length) for an axis to select along, negative as often as not; None
    when the drawn axis has nothing to select."""
    if x.ndim == 0:
        return None
    axis = draw(st.integers(-x.ndim, x.ndim - 1))
    return (axis, x.shape[axis]) if x.shape[axis] else None


def _pick_take(draw, x, pool):
    picked = _nonempty_axis(draw, x)
    if picked is None:
        return None
    axis, n = picked
    idx = np.array(draw(st.lists(st.integers(0, n - 1), min_size=0, max_size=4)), dtype=np.int64)
    return [x], {"indices": idx, "axis": axis}


def _pick_where(draw, x, pool):
    y = _broadcast_partner(draw, x, pool)
    return [x, y], {"cond_from": draw(st.sampled_from([0, 1])), "swap": draw(st.booleans())}


def _where(ns_where):
    def fn(a, b, cond_from, swap):
        c = (a, b)[cond_from]
        x, y = (b, a) if swap else (a, b)
        return ns_where(c > 0, x, y)

    return fn


def _where_ok(args, params, out):
    c = args[params["cond_from"]]
    return c.size == 0 or np.min(np.abs(c)) > MARGIN


def _pick_scalar(draw, x, pool):
    # numpy scalars are weak too: they never change a tensor's dtype
    return [x], {"c": _choice(draw, [0.5, -1.5, 2.0, 3, np.float64(0.75), np.float32(1.25)])}


def _pick_pow_scalar(draw, x, pool):
    p = draw(st.sampled_from([2, 3, 2.0, 0.5, -1.5]))
    return [x], {"p": p, "guard": p not in (2, 3, 2.0)}


def _pick_clip(draw, x, pool):
    return [x], {"lo": draw(st.sampled_from([None, -0.5])), "hi": draw(st.sampled_from([0.5, 1.0]))}


def _clip_ok(args, params, out):
    x = args[0]
    if x.size == 0:
        return True
    gaps = [np.abs(x - b) for b in (params["lo"], params["hi"]) if b is not None]
    return all(np.min(g) > MARGIN for g in gaps)


def _t_clip(x, lo, hi):
    return torch.clamp(x, lo, hi)


def _pick_softmax(draw, x, pool):
    if x.ndim == 0:
        return None
    return [x], {"axis": draw(st.integers(-x.ndim, x.ndim - 1))}


def _pick_take_along(draw, x, pool):
    picked = _nonempty_axis(draw, x)
    if picked is None:
        return None
    axis, n = picked
    shape = []
    for i, m in enumerate(x.shape):
        if i == axis % x.ndim:
            shape.append(draw(st.integers(1, 3)))
        else:  # the same length, 1 (indices broadcast), or 2 where x has 1 (x broadcasts)
            shape.append(_choice(draw, [m, 1, 2 if m == 1 else m]))
    count = math.prod(shape)
    idx = np.array(draw(st.lists(st.integers(0, n - 1), min_size=count, max_size=count)),
                   dtype=np.int64).reshape(shape)
    return [x], {"indices": idx, "axis": axis}


def _np_take_along(x, indices, axis):
    return np.take_along_axis(x, indices, axis=axis)


def _t_take_along(x, indices, axis):
    return torch.take_along_dim(x, torch.as_tensor(indices), dim=axis)


def _pick_linear(draw, x, pool):
    if x.ndim == 0:
        return None
    out = draw(st.integers(1, 3))
    return [x, Leaf((out, x.shape[-1])), Leaf((out,))], {}


def _t_linear(x, w, b):
    x, w, b = _t_promote(x, w, b)
    return torch.nn.functional.linear(x, w, b)


def _pick_int_operand(draw, x, pool):
    shape = tuple(1 if draw(st.booleans()) else n for n in x.shape)
    count = math.prod(shape)
    values = draw(st.lists(st.integers(-3, 3), min_size=count, max_size=count))
    return [x], {"ints": np.array(values, dtype=np.int64).reshape(shape)}


def _pick_where_scalar(draw, x, pool):
    return [x], {"c": _choice(draw, [0.0, -0.5, 2])}



# ------------------------------------------------------------ the standard's wider functions
def _unit(x):
    """x / (x*x + 1), within [-0.5, 0.5]: a smooth argument for asin, acos and atanh."""
    return x / (x * x + 1.0)


def _below(limit):
    def ok(args, params, out):
        return args[0].size == 0 or np.max(np.abs(args[0])) < limit

    return ok


def _off_origin(args, params, out):
    """atan2 and hypot: away from (0, 0), and atan2 away from its cut (y = 0, x < 0)."""
    y, x = np.broadcast_arrays(args[0], args[1])
    if y.size == 0:
        return True
    cut = x < 0
    return np.min(np.hypot(y, x)) > MARGIN and (not cut.any() or np.min(np.abs(y[cut])) > MARGIN)


_np_erf = np.vectorize(math.erf, otypes=[np.float64])


def _t_prod(x, axis, keepdims):
    """torch.prod reduces one dim at a time."""
    if x.ndim == 0:
        return x
    axes = sorted(a % x.ndim for a in _t_axes(x, axis))
    out = x
    for a in axes:
        out = torch.prod(out, dim=a, keepdim=True)
    return out if keepdims else out.reshape([n for i, n in enumerate(x.shape) if i not in axes])


def _t_vector_norm(x, axis, keepdims):
    return torch.linalg.vector_norm(x, dim=_t_axes(x, axis), keepdim=keepdims) if x.ndim \
        else torch.abs(x)


def _np_vector_norm(x, axis, keepdims):
    return np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))


def _pick_one_axis(draw, x, pool):
    if x.ndim == 0:
        return None
    return [x], {"axis": draw(st.integers(-x.ndim, x.ndim - 1))}


def _pick_cumulative(draw, x, pool):
    picked = _pick_one_axis(draw, x, pool)
    if picked is not None:
        picked[1]["include_initial"] = draw(st.booleans())
    return picked


def _np_cumulative(fn, start):
    def cumulative(x, axis, include_initial):
        out = fn(x, axis=axis)
        if include_initial:
            shape = list(x.shape)
            shape[axis] = 1
            out = np.concatenate([np.full(shape, start), out], axis=axis)
        return out

    return cumulative


def _t_cumulative(name, start):
    def cumulative(x, axis, include_initial):
        out = getattr(torch, name)(x, dim=axis)
        if include_initial:
            shape = list(x.shape)
            shape[axis] = 1
            out = torch.cat([torch.full(shape, start, dtype=x.dtype), out], dim=axis)
        return out

    return cumulative


def _pick_diff(draw, x, pool):
    picked = _pick_one_axis(draw, x, pool)
    if picked is not None:
        picked[1]["n"] = draw(st.sampled_from([1, 1, 2]))
    return picked


def _pick_sort(draw, x, pool):
    picked = _pick_one_axis(draw, x, pool)
    if picked is not None:
        picked[1]["descending"] = draw(st.booleans())
    return picked


def _no_ties(args, params, out):
    x, axis = args[0], params["axis"]
    if x.size == 0 or x.shape[axis] < 2:
        return True
    return np.min(np.diff(np.sort(x, axis=axis), axis=axis)) > MARGIN


def _np_sort(x, axis, descending):
    out = np.sort(x, axis=axis)
    return np.flip(out, axis=axis) if descending else out


def _pick_moveaxis(draw, x, pool):
    if x.ndim == 0:
        return None
    return [x], {"source": draw(st.integers(-x.ndim, x.ndim - 1)),
                 "destination": draw(st.integers(-x.ndim, x.ndim - 1))}


def _pick_tile(draw, x, pool):
    n = draw(st.integers(1, x.ndim + 1))
    return [x], {"reps": tuple(draw(st.integers(1, 2)) for _ in range(n))}


def _pick_repeat(draw, x, pool):
    axis = None if x.ndim == 0 or draw(st.integers(0, 2)) == 0 else \
        draw(st.integers(-x.ndim, x.ndim - 1))
    return [x], {"repeats": draw(st.integers(1, 3)), "axis": axis}


def _t_repeat(x, repeats, axis):
    return torch.repeat_interleave(x, repeats, dim=axis)


def _pick_roll(draw, x, pool):
    if x.ndim == 0:
        return None
    axis = None if draw(st.integers(0, 2)) == 0 else draw(st.integers(-x.ndim, x.ndim - 1))
    return [x], {"shift": draw(st.integers(-3, 3)), "axis": axis}


def _pick_matrix_offset(draw, x, pool):
    if x.ndim < 2:
        return None
    return [x], {"k": draw(st.integers(-1, 1))}


def _t_trace(x, k):
    return torch.sum(torch.diagonal(x, offset=k, dim1=-2, dim2=-1), dim=-1)


def _pick_tensordot(draw, x, pool):
    k = draw(st.integers(0, min(x.ndim, 2)))
    tail = tuple(draw(st.lists(st.integers(1, 3), max_size=1)))
    return [x, Leaf(x.shape[x.ndim - k:] + tail)], {"k": k}


def _t_tensordot(a, b, k):
    a, b = _t_promote(a, b)
    return torch.tensordot(a, b, dims=k)


def _pick_vecdot(draw, x, pool):
    if x.ndim == 0:
        return None
    other = x if draw(st.integers(0, 3)) == 0 else Leaf(x.shape[draw(st.integers(0, x.ndim - 1)):])
    return [x, other] if draw(st.booleans()) else [other, x], {}


def _t_vecdot(a, b):
    a, b = _t_promote(a, b)
    return torch.sum(a * b, dim=-1)


def _pick_outer(draw, x, pool):
    if x.ndim != 1:
        return None
    return [x, Leaf((draw(st.integers(1, 3)),))], {}


def _pick_cross(draw, x, pool):
    threes = [i for i, n in enumerate(x.shape) if n == 3]
    if not threes:
        return None
    axis = draw(st.sampled_from(threes))
    other = x if draw(st.integers(0, 3)) == 0 else Leaf(x.shape)
    return [x, other], {"axis": axis - x.ndim if draw(st.booleans()) else axis}


def _t_cross(a, b, axis):
    a, b = _t_promote(a, b)
    return torch.linalg.cross(a, b, dim=axis)


def _pick_einsum(draw, x, pool):
    """A contraction for x's rank, and the shape of the second operand it needs."""
    k = draw(st.integers(1, 3))
    n = x.shape
    if x.ndim == 1:
        forms = [("i,i->", n), ("i,j->ij", (k,)), ("i->", None)]
    elif x.ndim == 2:
        forms = [("ij,jk->ik", (n[1], k)), ("ij,ij->i", n), ("ij->ji", None), ("ij,kj", (k, n[1]))]
    elif x.ndim == 3:
        forms = [("bij,bjk->bki", (n[0], n[2], k)), ("ijk->kj", None), ("ijk,k->ij", n[2:])]
    else:
        forms = None
    if forms is None:
        return None
    spec, shape = _choice(draw, forms)
    return ([x] if shape is None else [x, Leaf(shape)]), {"spec": spec}


def _t_einsum(*operands, spec):
    return torch.einsum(spec, *_t_promote(*operands))

OPS = [
    # elementwise, one input
    _unary("exp", ag.exp, lambda x: torch.exp(x), np.exp),
    _unary("log", ag.log, lambda x: torch.log(x), np.log, guardable=True),
    _unary("sqrt", ag.sqrt, lambda x: torch.sqrt(x), np.sqrt, guardable=True),
    _unary("tanh", ag.tanh, lambda x: torch.tanh(x), np.tanh),
    _unary("sigmoid", ag.sigmoid, lambda x: torch.sigmoid(x), lambda x: 1 / (1 + np.exp(-x))),
    _unary("relu", ag.relu, lambda x: torch.relu(x), lambda x: np.maximum(x, 0), ok=_away_from_zero),
    _unary("abs", ag.abs, lambda x: torch.abs(x), np.abs, ok=_away_from_zero),
    _unary("sin", ag.sin, lambda x: torch.sin(x), np.sin),
    _unary("cos", ag.cos, lambda x: torch.cos(x), np.cos),
    _unary("expm1", ag.expm1, lambda x: torch.expm1(x), np.expm1),
    _unary("log1p", ag.log1p, lambda x: torch.log1p(x), np.log1p, guardable=True),
    _unary("square", ag.square, lambda x: torch.square(x), np.square),
    _unary("negative", ag.negative, lambda x: torch.negative(x), np.negative),
    Op("pow_scalar", lambda x, p, guard: ag.pow(_guard(x) if guard else x, p),
       lambda x, p, guard: torch.pow(_guard(x) if guard else x, p),
       lambda x, p, guard: np.power(_guard(x) if guard else x, p), _pick_pow_scalar),
    # Python scalars are weak: they never change a tensor's dtype
    Op("add_scalar", lambda x, c: x + c, lambda x, c: x + c, lambda x, c: x + c, _pick_scalar),
    Op("rsub_scalar", lambda x, c: c - x, lambda x, c: c - x, lambda x, c: c - x, _pick_scalar),
    Op("mul_scalar", lambda x, c: x * c, lambda x, c: x * c, lambda x, c: x * c, _pick_scalar),
    Op("rdiv_scalar", lambda x, c: c / _guard(x), lambda x, c: c / _guard(x),
       lambda x, c: c / _guard(x), _pick_scalar),
    Op("clip", lambda x, lo, hi: ag.clip(x, lo, hi), _t_clip, lambda x, lo, hi: np.clip(x, lo, hi),
       _pick_clip, _clip_ok),
    # elementwise, two inputs (broadcasting)
    _binary("add", ag.add, torch.add if torch else None, np.add),
    _binary("subtract", ag.subtract, torch.subtract if torch else None, np.subtract),
    _binary("multiply", ag.multiply, torch.multiply if torch else None, np.multiply),
    _binary("divide", ag.divide, torch.divide if torch else None, np.divide, guard_second=True),
    _binary("pow", lambda a, b: ag.pow(b, a), lambda a, b: torch.pow(b, a), lambda a, b: np.power(b, a),
            guard_second=True),
    _binary("maximum", ag.maximum, torch.maximum if torch else None, np.maximum, ok=_apart),
    _binary("minimum", ag.minimum, torch.minimum if torch else None, np.minimum, ok=_apart),
    # an integer tensor meeting a floating one takes the floating dtype
    Op("add_int_tensor", lambda x, ints: x + _on(x, ints),
       lambda x, ints: x + torch.as_tensor(ints), lambda x, ints: x + ints, _pick_int_operand),
    Op("where_scalar", lambda x, c: ag.where(x > 0, x, c), lambda x, c: torch.where(x > 0, x, c),
       lambda x, c: np.where(x > 0, x, c), _pick_where_scalar, _away_from_zero),
    Op("where", _where(ag.where), lambda a, b, **p: _where(torch.where)(*_t_promote(a, b), **p),
       _where(np.where), _pick_where, _where_ok),
    # reductions
    _reduction("sum", lambda x, axis, keepdims: ag.sum(x, axis=axis, keepdims=keepdims),
               lambda x, axis, keepdims: torch.sum(x, dim=_t_axes(x, axis), keepdim=keepdims)
               if x.ndim else x, np.sum),
    _reduction("mean", lambda x, axis, keepdims: ag.mean(x, axis=axis, keepdims=keepdims),
               lambda x, axis, keepdims: torch.mean(x, dim=_t_axes(x, axis), keepdim=keepdims)
               if x.ndim else x, np.mean),
    _reduction("max", lambda x, axis, keepdims: ag.max(x, axis=axis, keepdims=keepdims),
               _t_extremum(torch.amax if torch else None), np.max, ok=_unique_extremum(np.max)),
    _reduction("min", lambda x, axis, keepdims: ag.min(x, axis=axis, keepdims=keepdims),
               _t_extremum(torch.amin if torch else None), np.min, ok=_unique_extremum(np.min)),
    _reduction("var", lambda x, axis, keepdims, correction: ag.var(
        x, axis=axis, correction=correction, keepdims=keepdims), _t_var,
        lambda x, axis, keepdims, correction: np.var(x, axis=axis, ddof=correction, keepdims=keepdims),
        extra=_correction),
    _reduction("std", lambda x, axis, keepdims, correction: ag.std(
        x, axis=axis, correction=correction, keepdims=keepdims),
        lambda x, axis, keepdims, correction: torch.sqrt(_t_var(x, axis, keepdims, correction)),
        lambda x, axis, keepdims, correction: np.std(x, axis=axis, ddof=correction, keepdims=keepdims),
        ok=_positive_variance, extra=_correction),
    _reduction("logsumexp", lambda x, axis, keepdims: ag.logsumexp(x, axis=axis, keepdims=keepdims),
               _t_logsumexp, _np_logsumexp),
    Op("softmax", lambda x, axis: ag.softmax(x, axis=axis), lambda x, axis: torch.softmax(x, dim=axis),
       _np_softmax, _pick_softmax),
    Op("log_softmax", lambda x, axis: ag.log_softmax(x, axis=axis),
       lambda x, axis: torch.log_softmax(x, dim=axis), lambda x, axis: np.log(_np_softmax(x, axis)),
       _pick_softmax),
    # linear algebra
    Op("matmul", ag.matmul, _t_matmul, np.matmul, _pick_matmul, weight=2),
    Op("linear", ag.linear, _t_linear, lambda x, w, b: x @ w.T + b, _pick_linear),
    # shape
    Op("reshape", lambda x, shape: ag.reshape(x, shape), lambda x, shape: torch.reshape(x, shape),
       lambda x, shape: np.reshape(x, shape), _pick_reshape),
    Op("permute_dims", lambda x, axes: ag.permute_dims(x, axes), lambda x, axes: torch.permute(x, axes),
       lambda x, axes: np.transpose(x, axes), _pick_permute),
    Op("expand_dims", lambda x, axis: ag.expand_dims(x, axis=axis),
       lambda x, axis: torch.unsqueeze(x, axis), lambda x, axis: np.expand_dims(x, axis), _pick_expand),
    Op("squeeze", lambda x, axis: ag.squeeze(x, axis=axis), lambda x, axis: torch.squeeze(x, axis),
       lambda x, axis: np.squeeze(x, axis=axis), _pick_squeeze),
    Op("broadcast_to", lambda x, shape: ag.broadcast_to(x, shape),
       lambda x, shape: torch.broadcast_to(x, shape), lambda x, shape: np.broadcast_to(x, shape),
       _pick_broadcast),
    Op("flip", lambda x, axis: ag.flip(x, axis=axis),
       lambda x, axis: torch.flip(x, dims=_t_axes(x, axis)), lambda x, axis: np.flip(x, axis=axis),
       _pick_flip),
    Op("concat", lambda a, b, axis: ag.concat([a, b], axis=axis),
       lambda a, b, axis: torch.cat([t.reshape(-1) if axis is None else t for t in _t_promote(a, b)],
                                    dim=0 if axis is None else axis),
       lambda a, b, axis: np.concatenate([a, b], axis=axis), _pick_join(stack=False)),
    Op("stack", lambda a, b, axis: ag.stack([a, b], axis=axis),
       lambda a, b, axis: torch.stack(_t_promote(a, b), dim=axis),
       lambda a, b, axis: np.stack([a, b], axis=axis), _pick_join(stack=True)),
    # selections
    Op("getitem", lambda x, key: x[_ag_key(x, key)], lambda x, key: _t_index(x, key),
       lambda x, key: x[key], _pick_basic_index, weight=3),
    Op("getitem_array", lambda x, key: ag.getitem(x, _ag_key(x, key)), lambda x, key: _t_index(x, key),
       lambda x, key: x[key], _pick_array_index, weight=2),
    Op("getitem_mask", lambda x, mask: x[_on(x, mask)], lambda x, mask: x[torch.as_tensor(mask)],
       lambda x, mask: x[mask], _pick_mask, weight=2),
    Op("take", lambda x, indices, axis: ag.take(x, _on(x, indices), axis=axis),
       lambda x, indices, axis: torch.index_select(x, axis, torch.as_tensor(indices)),
       _np_take, _pick_take, weight=2),
    Op("take_along_axis", lambda x, indices, axis: ag.take_along_axis(x, _on(x, indices), axis=axis),
       _t_take_along, _np_take_along, _pick_take_along, weight=2),
]
# The standard's wider functions: elementwise (domains guarded), reductions,
# rearrangements and contractions. Most are compositions of many core ops, so each
# costs several core ops' time to check: drawn a third as often as a core op of the
# same weight, they keep a run's time near what the core ops alone take.
WIDER = [
    _unary("tan", ag.tan, lambda x: torch.tan(x), np.tan, ok=_below(1.2)),
    _unary("sinh", ag.sinh, lambda x: torch.sinh(x), np.sinh),
    _unary("cosh", ag.cosh, lambda x: torch.cosh(x), np.cosh),
    _unary("atan", ag.atan, lambda x: torch.atan(x), np.arctan),
    _unary("asinh", ag.asinh, lambda x: torch.asinh(x), np.arcsinh),
    Op("asin", lambda x: ag.asin(_unit(x)), lambda x: torch.asin(_unit(x)),
       lambda x: np.arcsin(_unit(x))),
    Op("acos", lambda x: ag.acos(_unit(x)), lambda x: torch.acos(_unit(x)),
       lambda x: np.arccos(_unit(x))),
    Op("atanh", lambda x: ag.atanh(_unit(x)), lambda x: torch.atanh(_unit(x)),
       lambda x: np.arctanh(_unit(x))),
    Op("acosh", lambda x: ag.acosh(_guard(x) + 1.0), lambda x: torch.acosh(_guard(x) + 1.0),
       lambda x: np.arccosh(_guard(x) + 1.0)),
    _unary("log2", ag.log2, lambda x: torch.log2(x), np.log2, guardable=True),
    _unary("log10", ag.log10, lambda x: torch.log10(x), np.log10, guardable=True),
    Op("reciprocal", lambda x: ag.reciprocal(_guard(x)), lambda x: torch.reciprocal(_guard(x)),
       lambda x: 1.0 / _guard(x)),
    _unary("erf", ag.erf, lambda x: torch.erf(x), _np_erf),
    _unary("softplus", ag.softplus, lambda x: torch.nn.functional.softplus(x),
           lambda x: np.logaddexp(0.0, x)),
    _binary("atan2", ag.atan2, lambda a, b: torch.atan2(a, b), np.arctan2, ok=_off_origin),
    _binary("hypot", ag.hypot, lambda a, b: torch.hypot(a, b), np.hypot, ok=_off_origin),
    _binary("logaddexp", ag.logaddexp, lambda a, b: torch.logaddexp(a, b), np.logaddexp),
    _reduction("prod", lambda x, axis, keepdims: ag.prod(x, axis=axis, keepdims=keepdims),
               _t_prod, np.prod),
    _reduction("vector_norm", lambda x, axis, keepdims: ag.vector_norm(
        x, axis=axis, keepdims=keepdims), _t_vector_norm, _np_vector_norm, ok=_positive_variance),
    Op("cumulative_sum", lambda x, axis, include_initial: ag.cumulative_sum(
        x, axis=axis, include_initial=include_initial), _t_cumulative("cumsum", 0.0),
       _np_cumulative(np.cumsum, 0.0), _pick_cumulative),
    Op("cumulative_prod", lambda x, axis, include_initial: ag.cumulative_prod(
        x, axis=axis, include_initial=include_initial), _t_cumulative("cumprod", 1.0),
       _np_cumulative(np.cumprod, 1.0), _pick_cumulative),
    Op("diff", lambda x, axis, n: ag.diff(x, axis=axis, n=n),
       lambda x, axis, n: torch.diff(x, n=n, dim=axis), lambda x, axis, n: np.diff(x, n=n, axis=axis),
       _pick_diff),
    Op("sort", lambda x, axis, descending: ag.sort(x, axis=axis, descending=descending),
       lambda x, axis, descending: torch.sort(x, dim=axis, descending=descending).values,
       _np_sort, _pick_sort, _no_ties),
    Op("moveaxis", ag.moveaxis, lambda x, source, destination: torch.movedim(x, source, destination),
       np.moveaxis, _pick_moveaxis),
    Op("tile", lambda x, reps: ag.tile(x, reps), lambda x, reps: torch.tile(x, reps),
       lambda x, reps: np.tile(x, reps), _pick_tile),
    Op("repeat", lambda x, repeats, axis: ag.repeat(x, repeats, axis=axis), _t_repeat,
       lambda x, repeats, axis: np.repeat(x, repeats, axis=axis), _pick_repeat),
    Op("roll", lambda x, shift, axis: ag.roll(x, shift, axis=axis),
       lambda x, shift, axis: torch.roll(x, shift, dims=axis),
       lambda x, shift, axis: np.roll(x, shift, axis=axis), _pick_roll),
    Op("tril", lambda x, k: ag.tril(x, k=k), lambda x, k: torch.tril(x, k),
       lambda x, k: np.tril(x, k), _pick_matrix_offset),
    Op("triu", lambda x, k: ag.triu(x, k=k), lambda x, k: torch.triu(x, k),
       lambda x, k: np.triu(x, k), _pick_matrix_offset),
    Op("diagonal", lambda x, k: ag.diagonal(x, offset=k),
       lambda x, k: torch.diagonal(x, offset=k, dim1=-2, dim2=-1),
       lambda x, k: np.diagonal(x, k, axis1=-2, axis2=-1), _pick_matrix_offset),
    Op("trace", lambda x, k: ag.trace(x, offset=k), _t_trace,
       lambda x, k: np.trace(x, k, axis1=-2, axis2=-1), _pick_matrix_offset),
    Op("tensordot", lambda a, b, k: ag.tensordot(a, b, axes=k), _t_tensordot,
       lambda a, b, k: np.tensordot(a, b, axes=k), _pick_tensordot),
    Op("vecdot", ag.vecdot, _t_vecdot, lambda a, b: np.sum(a * b, axis=-1), _pick_vecdot),
    Op("outer", ag.outer, lambda a, b: torch.outer(*_t_promote(a, b)), np.outer, _pick_outer),
    Op("cross", lambda a, b, axis: ag.cross(a, b, axis=axis), _t_cross,
       lambda a, b, axis: np.cross(a, b, axis=axis), _pick_cross),
    Op("einsum", lambda *xs, spec: ag.einsum(spec, *xs), _t_einsum,
       lambda *xs, spec: np.einsum(spec, *xs), _pick_einsum),
]
CORE, OPS = OPS, OPS + WIDER
BY_NAME = {op.name: op for op in OPS}
DRAWN = [op for op in CORE for _ in range(3 * op.weight)] + [op for op in WIDER for _ in range(op.weight)]


# =================================================================== programs
class Program:
    """Leaves (host float64 data and a dtype each) and steps over a value pool.

    A step is (op name, operand positions, params); the pool holds the leaves and the
    step results in the order they were made, so a value can feed several steps.
    """

    def __init__(self):
        self.leaves = []  # (numpy float64 data, dtype name)
        self.steps = []  # ("leaf", k) or (op name, positions, params)
        self.pool = []  # Values, for building

    def add_leaf(self, data, dtype):
        if dtype == "float32":
            data = data.astype(np.float32).astype(np.float64)
        self.leaves.append((data, dtype))
        self.steps.append(("leaf", len(self.leaves) - 1, None))
        value = Value(len(self.pool), data, dtype, dtype == "float64")
        self.pool.append(value)
        return value

    @property
    def outputs(self):
        """Positions of the values nothing else consumes (the last value when none)."""
        used = {i for name, args, _ in self.steps if name != "leaf" for i in args}
        sinks = [i for i, (name, _, _) in enumerate(self.steps) if name != "leaf" and i not in used]
        return sinks or [len(self.steps) - 1]

    def run(self, leaves, namespace):
        values = []
        for name, args, params in self.steps:
            if name == "leaf":
                values.append(leaves[args])
            else:
                fn = getattr(BY_NAME[name], namespace)
                values.append(fn(*[values[i] for i in args], **params))
        return [values[i] for i in self.outputs]

    def __repr__(self):
        lines = [f"leaf {k}: shape {d.shape} {t}" for k, (d, t) in enumerate(self.leaves)]
        lines += [f"v{i} = {s[0]}{tuple(s[1]) if s[0] != 'leaf' else s[1]} {s[2] or ''}"
                  for i, s in enumerate(self.steps)]
        lines.append(f"outputs: {['v%d' % i for i in self.outputs]}")
        return "\n".join(lines)


def _choice(draw, options, offset=0):
    """One of `options`, near uniformly. hypothesis tries many all-zero draws, which
    sampled_from would turn into its first entry every time; `offset` (the program's
    length so far) varies what a zero draw picks."""
    return options[(draw(st.integers(0, len(options) - 1)) + offset) % len(options)]


def _shape(draw, allow_empty, offset):
    ndim = _choice(draw, [2, 1, 3, 0, 2], offset)
    empty = allow_empty and draw(st.integers(0, 5)) == 5
    return tuple(0 if empty and i == 0 else _choice(draw, [2, 3, 1], offset + i) for i in range(ndim))


def _leaf_data(draw, shape):
    seed = draw(st.integers(0, 2 ** 16))
    return np.random.default_rng(seed).uniform(-2.0, 2.0, size=shape)


def _promoted(dtypes):
    return "float64" if "float64" in dtypes else "float32"


def build_program(draw):
    prog = Program()
    dtypes = st.sampled_from(["float64", "float32"])
    for _ in range(draw(st.integers(1, 2))):
        shape = _shape(draw, allow_empty=True, offset=len(prog.steps))
        prog.add_leaf(_leaf_data(draw, shape), draw(dtypes))
    for _ in range(draw(st.integers(2, MAX_OPS))):
        for _attempt in range(4):
            op = _choice(draw, DRAWN, len(prog.steps) + 17 * _attempt)
            # mostly the newest value, so programs grow deep as well as wide
            x = prog.pool[len(prog.pool) - 1 - draw(st.integers(0, len(prog.pool) - 1))]
            picked = op.pick(draw, x, prog.pool)
            if picked is None:
                continue
            operands, params = picked
            fresh = [(o, _leaf_data(draw, o.shape), draw(dtypes)) for o in operands
                     if isinstance(o, Leaf)]
            if any(math.prod(o.shape) > MAX_SIZE for o, _, _ in fresh):
                continue
            refs = []  # (float64 value, dtype, exact) of each operand
            fresh_iter = iter(fresh)
            for o in operands:
                if isinstance(o, Leaf):
                    _, data, dtype = next(fresh_iter)
                    if dtype == "float32":
                        data = data.astype(np.float32).astype(np.float64)
                    refs.append((data, dtype, dtype == "float64"))
                else:
                    refs.append((o.ref, o.dtype, o.exact))
            try:
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    out = np.asarray(BY_NAME[op.name].np(*[r[0] for r in refs], **params),
                                     dtype=np.float64)
            except (ValueError, IndexError):  # not valid here (an empty max, ...)
                continue
            if out.size > MAX_SIZE or not np.all(np.isfinite(out)) or \
                    (out.size and np.max(np.abs(out)) > BOUND):
                continue
            if not op.ok([r[0] for r in refs], params, out):
                continue
            positions = []
            for o, (data, dtype, _) in zip(operands, refs):
                positions.append(prog.add_leaf(data, dtype).index if isinstance(o, Leaf) else o.index)
            prog.steps.append((op.name, positions, params))
            prog.pool.append(Value(len(prog.pool), out, _promoted([r[1] for r in refs]),
                                   all(r[2] for r in refs)))
            break
    return prog


# =================================================================== checks
def _tolerance(dtype, scale):
    if dtype == "float32":
        return {"rtol": 2e-3, "atol": 2e-4 * scale}
    return {"rtol": 1e-7, "atol": 1e-9 * scale}


def _close(got, want, dtype, what, prog):
    want = np.asarray(want, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}\n{prog}"
    scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
    np.testing.assert_allclose(got, want, err_msg=f"{what}\n{prog}", **_tolerance(dtype, scale))


def _host(t):
    return None if t is None else np.asarray(t.numpy(), dtype=np.float64)


def _leaves(prog, backend, dtype=None):
    return [ag.tensor(d, dtype=dtype or t, backend=backend, requires_grad=True) for d, t in prog.leaves]


def _cotangent(shape, seed):
    return np.random.default_rng(seed).uniform(-1.0, 1.0, size=shape)


def _grads(leaves, outs, us, v):
    """First derivatives (one cotangent per output) and the gradient of sum(grad * v)."""
    cotangents = [_on(o, u.astype(dtype_name(o.dtype))) for o, u in zip(outs, us)]
    first = ag.gradients(outs, leaves, grad_outputs=cotangents, create_graph=True,
                         allow_unused=True)
    s = None
    for g, vk, leaf in zip(first, v, leaves):
        if g is not None and g.requires_grad:
            term = ag.sum(g * _on(leaf, vk.astype(dtype_name(leaf.dtype))))
            s = term if s is None else s + term
    second = [None] * len(leaves)
    if s is not None:
        second = ag.gradients(s, leaves, allow_unused=True)
    return first, second


def _check_like_leaves(grads, leaves, order, prog):
    for k, (g, leaf) in enumerate(zip(grads, leaves)):
        if g is None:
            continue
        where = f"{order} derivative of leaf {k}"
        assert g.shape == leaf.shape, f"{where}: shape {g.shape}, leaf {leaf.shape}\n{prog}"
        assert dtype_name(g.dtype) == dtype_name(leaf.dtype), \
            f"{where}: dtype {dtype_name(g.dtype)}, leaf {dtype_name(leaf.dtype)}\n{prog}"
        assert g.backend is leaf.backend, f"{where}: backend {g.backend}, leaf {leaf.backend}\n{prog}"


def _torch_reference(prog, us, v):
    dtypes = {"float32": torch.float32, "float64": torch.float64}
    leaves = [torch.tensor(d, dtype=dtypes[t], requires_grad=True) for d, t in prog.leaves]
    outs = prog.run(leaves, "torch")
    first = torch.autograd.grad(outs, leaves, [torch.tensor(u, dtype=o.dtype) for o, u in zip(outs, us)],
                                create_graph=True, allow_unused=True)
    s = None
    for g, vk in zip(first, v):
        if g is not None and g.requires_grad:
            term = torch.sum(g * torch.tensor(vk, dtype=g.dtype))
            s = term if s is None else s + term
    second = [None] * len(leaves)
    if s is not None:
        second = torch.autograd.grad(s, leaves, allow_unused=True)
    # force=True: torch may return its lazily-zero tensor, which numpy() refuses
    as_host = lambda gs: [None if g is None else g.detach().numpy(force=True).astype(np.float64)
                          for g in gs]
    return [o.detach().numpy(force=True) for o in outs], as_host(first), as_host(second)


def _same_or_zero(got, want, dtype, what, prog, shape):
    got = np.zeros(shape) if got is None else got
    want = np.zeros(shape) if want is None else want
    _close(got, want, dtype, what, prog)


@FUZZ
@given(data=st.data())
def test_random_program_matches_oracle(backend, data):
    check_program(build_program(data.draw), backend)


def check_program(prog, backend):
    """Every check on one program, on one backend."""
    leaves = _leaves(prog, backend)
    outs = prog.run(leaves, "ag")

    # values, dtypes and shapes: against numpy in float64 and the promotion table
    for i, out in zip(prog.outputs, outs):
        want = prog.pool[i]
        assert tuple(out.shape) == want.shape, f"v{i}: shape {out.shape}, expected {want.shape}\n{prog}"
        assert dtype_name(out.dtype) == want.dtype, \
            f"v{i}: dtype {dtype_name(out.dtype)}, expected {want.dtype}\n{prog}"
        _close(_host(out), want.ref, want.precision, f"v{i} vs numpy in float64", prog)

    us = [_cotangent(prog.pool[i].shape, 1 + i) for i in prog.outputs]
    v = [_cotangent(d.shape, 100 + k) for k, (d, _) in enumerate(prog.leaves)]
    first, second = _grads(leaves, outs, us, v)
    _check_like_leaves(first, leaves, "first", prog)
    _check_like_leaves(second, leaves, "second", prog)

    if torch is not None:
        t_outs, t_first, t_second = _torch_reference(prog, us, v)
        for i, out, t_out in zip(prog.outputs, outs, t_outs):
            _close(_host(out), t_out, prog.pool[i].precision, f"v{i} vs torch", prog)
        # a float32 leaf anywhere rounds what flows back to every leaf
        dtype = "float32" if any(t == "float32" for _, t in prog.leaves) else "float64"
        for k, leaf in enumerate(leaves):
            _same_or_zero(_host(first[k]), t_first[k], dtype, f"grad of leaf {k} vs torch", prog,
                          leaf.shape)
            _same_or_zero(_host(second[k]), t_second[k], dtype,
                          f"second derivative of leaf {k} vs torch", prog, leaf.shape)
        return

    # without torch: central differences in float64, and float32 agreeing with float64
    leaves64 = _leaves(prog, backend, dtype="float64")
    run64 = lambda *xs: prog.run(list(xs), "ag")
    ag.gradcheck(run64, leaves64)
    ag.gradgradcheck(run64, leaves64)
    if any(t == "float32" for _, t in prog.leaves):
        first64, second64 = _grads(leaves64, run64(*leaves64), us, v)
        for k, leaf in enumerate(leaves):
            dtype = dtype_name(leaf.dtype)
            _same_or_zero(_host(first[k]), _host(first64[k]), "float32",
                          f"grad of leaf {k} ({dtype}) vs the float64 program", prog, leaf.shape)
            _same_or_zero(_host(second[k]), _host(second64[k]), "float32",
                          f"second derivative of leaf {k} ({dtype}) vs the float64 program", prog,
                          leaf.shape)


# =================================================================== linear algebra
# Matrices drawn by their singular values, repeated and zero ones included (where
# factorisation-based rules go wrong), in empty and non-empty stacks; solve with a
# right-hand side that is one vector or a stack. Values against numpy; gradients against
# central differences where the function is differentiable (pinv at constant rank with
# repeats, the nuclear and Frobenius norms away from zero singular values, solve), and
# against torch at zero singular values, where differences cannot see the constant-rank
# derivative that pinv's rule gives.
LINALG = settings(FUZZ, max_examples=max(10, EXAMPLES // 6))


@st.composite
def _spectral_matrix(draw):
    batch = draw(st.sampled_from([(), (0,), (2,)]))
    m, n = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    k = min(m, n)
    first = draw(st.sampled_from([0.5, 1.0, 2.0]))
    kinds = draw(st.lists(st.sampled_from(["repeat", "zero", "other"]), min_size=k, max_size=k))
    others = iter(draw(st.lists(st.floats(0.5, 3.0), min_size=k, max_size=k)))
    s = np.array([first if kind == "repeat" else 0.0 if kind == "zero" else next(others)
                  for kind in kinds])
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    if k == 0:
        return np.zeros(batch + (m, n)), s
    u = np.linalg.qr(rng.normal(size=batch + (m, m)))[0][..., :k]
    v = np.linalg.qr(rng.normal(size=batch + (n, n)))[0][..., :k]
    return (u * s) @ np.swapaxes(v, -1, -2), s


def _against_torch(f_ag, f_torch, data, backend, seed):
    x = ag.tensor(data, backend=backend, requires_grad=True)
    out = f_ag(x)
    u = np.random.default_rng(seed).normal(size=tuple(out.shape))
    g = ag.grad(lambda x: ag.sum(f_ag(x) * ag.tensor(u, backend=backend)))(x)
    t = torch.tensor(data, requires_grad=True)
    (f_torch(t) * torch.tensor(u)).sum().backward()
    np.testing.assert_allclose(_host(g), t.grad.numpy(), rtol=1e-9, atol=1e-9)


@LINALG
@given(case=_spectral_matrix(), ord=st.sampled_from(["fro", "nuc", 1, 2, math.inf]),
       rhs=st.sampled_from(["vector", "matrix"]))
def test_linalg_at_repeated_and_zero_singular_values(backend, case, ord, rhs):
    data, s = case
    m, n = data.shape[-2:]
    x = ag.tensor(data, backend=backend, requires_grad=True)
    eps = np.finfo(np.float64).eps
    checks = [(ag.linalg.pinv(x), np.linalg.pinv(data, rtol=max(m, n) * eps), "pinv"),
              (ag.linalg.svdvals(x), np.linalg.svdvals(data), "svdvals"),
              (ag.linalg.matrix_norm(x, ord=ord), np.linalg.matrix_norm(data, ord=ord),
               f"matrix_norm(ord={ord})")]
    for got, want, what in checks:
        assert tuple(got.shape) == want.shape, f"{what}: shape {got.shape}, numpy {want.shape}"
        np.testing.assert_allclose(_host(got), want, atol=1e-9, err_msg=what)
    full_rank = bool(np.all(s > 0))
    if data.size == 0:  # gradients of nothing, of the input's shape
        for f in (ag.linalg.pinv, lambda x: ag.linalg.matrix_norm(x, ord=ord)):
            assert tuple(ag.grad(lambda x: ag.sum(f(x)))(x).shape) == data.shape
        return
    if full_rank:
        ag.gradcheck(ag.linalg.pinv, [x])
        ag.gradgradcheck(ag.linalg.pinv, [x])
        if ord in ("fro", "nuc"):
            ag.gradcheck(lambda x: ag.linalg.matrix_norm(x, ord=ord), [x])
    elif torch is not None:
        _against_torch(ag.linalg.pinv, torch.linalg.pinv, data, backend, seed=m * 4 + n)
    if m == n and full_rank:
        shape = (n,) if rhs == "vector" else data.shape[:-2] + (n, 2)
        b = ag.tensor(np.linspace(-1.0, 1.0, math.prod(shape)).reshape(shape), backend=backend,
                      requires_grad=True)
        got = ag.linalg.solve(x, b)
        want = np.linalg.solve(data, _host(b)[..., None])[..., 0] if rhs == "vector" \
            else np.linalg.solve(data, _host(b))
        assert tuple(got.shape) == want.shape, f"solve: shape {got.shape}, numpy {want.shape}"
        np.testing.assert_allclose(_host(got), want, rtol=1e-9, atol=1e-12)
        ag.gradcheck(ag.linalg.solve, [x, b])
        ag.gradgradcheck(ag.linalg.solve, [x, b])
