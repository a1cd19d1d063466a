"""Loss functions, PyTorch-shaped (re-exported by `anygrad.nn.functional`).

Each is composed from differentiable ops, so it has gradients of every order. Every
loss takes `reduction="mean" | "sum" | "none"` with PyTorch's meaning. Shapes and dtypes
are checked eagerly. Class labels are checked too (a label outside [0, C) is an error,
never another class): on host backends at once, and on GPU backends by a flag reduced on
the device and raised at the next point that reads values anyway (`.item()`,
`.numpy()`), so training makes no extra host synchronisation per step.
"""
from __future__ import annotations

import math

import anygrad as ag

from ..backends import GatherSpec
from ..checks import check_values, reads_now
from ..dtypes import as_dtype
from ..engine import Op, _batching
from ..tensor import Tensor
from ..ops.shape import take_along_axis_in_range
from ..ops.special import softplus

__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "l1_loss",
    "mse_loss", "nll_loss", "one_hot",
]

_REDUCTIONS = ("mean", "sum", "none")
_LOG_FLOOR = -100.0  # binary_cross_entropy clamps log(p) here, as PyTorch does


# ----------------------------------------------------------------- checks and helpers
def _dtype_name(dtype):
    name = getattr(dtype, "name", None)
    return name if isinstance(name, str) else str(dtype).rsplit(".", 1)[-1]


def _describe(t):
    return f"shape {t.shape} and dtype {_dtype_name(t.dtype)}"


def _is(t, kind):
    """Whether t's dtype is of `kind` ("real floating" or "integral"), read from
    anygrad's dtype table (the library's isdtype costs a small step as much as an op)."""
    dtype = as_dtype(t.array.dtype)
    return dtype.is_integral if kind == "integral" else dtype.kind == kind


def _check_reduction(fn, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{fn}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _check_input(fn, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}: input must be a Tensor, got {type(input).__name__}")
    if not _is(input, "real floating"):
        raise TypeError(f"{fn}: input must be floating point, got {_describe(input)}")


def _as_target(fn, target, input):
    """The target as a tensor on the input's backend (it is never differentiated here
    unless it requires grad)."""
    target = ag.as_tensor(target)
    if target.backend is not input.backend:
        raise TypeError(f"{fn}: input is on backend {input.backend.name!r} but target is on "
                        f"{target.backend.name!r}; move it with .to({input.backend.name!r})")
    return target


def _check_same_shape(fn, input, target):
    if target.shape != input.shape:
        raise ValueError(
            f"{fn}: input has {_describe(input)} but target has {_describe(target)}; they must "
            "have the same shape (broadcasting here usually hides a bug, e.g. (N, 1) vs (N,))"
        )


def _reduce(loss, reduction):
    if reduction == "mean":
        return ag.mean(loss)
    if reduction == "sum":
        return ag.sum(loss)
    return loss


def _class_axis(input):
    """Classes are on axis 1 of (N, C, d1, ...) and on axis 0 of an unbatched (C,)."""
    return 1 if input.ndim >= 2 else 0


def _index_shape(input):
    axis = _class_axis(input)
    return input.shape[:axis] + input.shape[axis + 1:]


def _check_class_indices(fn, input, target):
    expected = _index_shape(input)
    if not _is(target, "integral"):
        hint = ""
        if _is(target, "real floating") and target.shape == expected:
            hint = " (convert it with target.astype('int64'))"
        raise TypeError(
            f"{fn}: class-index targets must have an integer dtype{hint}; got target with "
            f"{_describe(target)} for input with {_describe(input)}"
        )
    if target.shape != expected:
        raise ValueError(
            f"{fn}: input with {_describe(input)} needs class-index targets of shape "
            f"{expected}, got target with {_describe(target)}"
        )


def _pick(log_probs, target, axis):
    """log_probs[n, target[n], ...]: each sample's entry for its own class (`target`
    made safe by `_safe_labels`)."""
    index = ag.expand_dims(target, axis=axis)
    return ag.squeeze(take_along_axis_in_range(log_probs, index, axis), axis=axis)


# ----------------------------------------------------------------- the fused pick
# A class-index loss without class weights, as one op: pick each sample's
# log-probability, zero the ignored ones, reduce. Composed from ops it is a dozen small
# ops (the label arithmetic alone is five), which is most of a one-row step's time. The
# arithmetic is the composition's own, in the same order, so values and gradients are
# bitwise those of the composed form (still used under ag.vmap, which maps ops one by
# one, and with class weights).
def _nll_parts(xp, x, target, axis, ignore_index, clean):
    """(safe index along `axis`, each sample's weight: 1, or 0 where ignored). With
    `clean` (every label was read to be a class, none ignored) the weights are all 1
    and come back as None: multiplying by them would change no bit."""
    if clean:
        safe, weights = target, None
    else:
        kept = target != ignore_index
        safe = xp.where((target >= 0) & (target < x.shape[axis]) & kept, target, target * 0)
        weights = xp.astype(kept, x.dtype)
    # The class axis put back as a length-1 axis: a reshape is the cheapest spelling.
    shape = tuple(target.shape)
    return xp.reshape(safe, shape[:axis] + (1,) + shape[axis:]), weights


# Sample counts up to this are exact in every floating dtype (bfloat16 holds the integers
# to 256), and so is a sum of that many ones.
_EXACT_COUNT = 256


def _kept_total(xp, x, target, ignore_index, weights):
    """The samples' total weight, the divisor of "mean". Where every weight is 1 (None)
    it is the sample count, a Python int where that is the same number as the sum."""
    if weights is None:
        count = math.prod(target.shape)
        if count <= _EXACT_COUNT:
            return count
        weights = xp.astype(target != ignore_index, x.dtype)
    return xp.sum(weights)


def _nll_forward(xp, x, target, axis, ignore_index, reduction, backend, clean=False):
    index, weights = _nll_parts(xp, x, target, axis, ignore_index, clean)
    if math.prod(target.shape) == 1:  # one sample: a plain take, a cheaper gather
        picked = xp.take(x, backend.index(xp.reshape(index, (1,))), axis=axis)
    else:
        picked = GatherSpec("take_along_axis", backend.index(index), axis).apply(xp, x)
    losses = -xp.reshape(picked, tuple(target.shape))  # the class axis dropped
    if weights is not None:
        losses = losses * weights
    if reduction == "mean":
        return xp.sum(losses) / _kept_total(xp, x, target, ignore_index, weights)
    return xp.sum(losses) if reduction == "sum" else losses


def _nll_vjp(ns, g, ans, x, target, axis, ignore_index, reduction, backend, clean=False):
    index, weights = _nll_parts(ns, x, target, axis, ignore_index, clean)
    if reduction == "mean":
        g = g / _kept_total(ns, x, target, ignore_index, weights)
    if weights is not None:
        g = -(g * weights)
    elif reduction == "none":
        g = -g
    elif math.prod(target.shape) == 1:  # one sample: the reshape below places g
        g = -g
    else:  # each sample's share of the one reduced gradient
        g = ns.broadcast_to(-g, tuple(target.shape))
    if isinstance(index, Tensor):  # recording the gradient: the index is a constant
        index = index.array
    spec = GatherSpec("take_along_axis", backend.index(index), axis)
    return ns.gather_grad(ns.reshape(g, tuple(index.shape)), spec, tuple(x.shape))


# complex=True only skips the engine's complex check: nll_loss admits real inputs alone.
_nll = Op("nll_loss", _nll_forward, _nll_vjp, complex=True)


def _picked_loss(fn, log_probs, target, weight, ignore_index, reduction, axis, clean=False):
    """-log_probs at each sample's label, weighted and reduced as PyTorch's nll_loss
    (`clean`: as `_check_labels` returns)."""
    if weight is None and not _batching:
        return _nll(log_probs, target, axis=axis, ignore_index=ignore_index,
                    reduction=reduction, backend=log_probs.backend, clean=clean)
    weights = _sample_weights(fn, weight, log_probs, target, ignore_index)
    losses = -_pick(log_probs, _safe_labels(target, ignore_index, log_probs.shape[axis]),
                    axis) * weights
    return _reduce_weighted(losses, weights, reduction)


def _check_labels(fn, target, classes, ignore_index):
    """A label outside [0, classes) other than ignore_index raises IndexError. Returns
    whether the labels were read at once and each is a class other than ignore_index
    (the fused loss then skips its masks)."""
    backend = target.backend
    if reads_now(backend):
        # The values are read now anyway, and one pass that finds every label a class
        # settles the check; only otherwise does the exact test below run, for ignored
        # labels and the error's wording.
        t = target.array
        usable = (t >= 0) & (t < classes)
        if 0 <= ignore_index < classes:
            usable = usable & (t != ignore_index)
        if bool(backend.ops.all(usable)):
            return True

    def outside(xp, t):
        return xp.any(((t < 0) | (t >= classes)) & (t != ignore_index))

    def error(t):
        labels = target.backend.to_numpy(t).reshape(-1)
        wrong = [int(v) for v in labels if (v < 0 or v >= classes) and v != ignore_index]
        return IndexError(
            f"{fn}: target label {wrong[0]} is outside [0, {classes}) for input with "
            f"{classes} classes ({len(wrong)} such label(s)); pass ignore_index= to skip "
            "samples on purpose"
        )

    check_values(backend, f"{fn} labels in [0, {classes})", outside, [target], error)
    return False


def _safe_labels(target, ignore_index, classes):
    """Labels fit to gather with: ignored samples read class 0 (their loss is zeroed),
    and so do labels out of range, which `_check_labels` has raised on or queued: no
    library ever gathers with them (some would wrap, clamp or read garbage)."""
    usable = ag.logical_and(ag.logical_and(target >= 0, target < classes), target != ignore_index)
    return ag.where(usable, target, 0)


def _checked_weight(fn, weight, input):
    weight = _as_target(fn, weight, input)
    classes = input.shape[_class_axis(input)]
    if weight.shape != (classes,):
        raise ValueError(f"{fn}: weight must have shape ({classes},), one per class, got "
                         f"{_describe(weight)}")
    return weight


def _sample_weights(fn, weight, input, target, ignore_index):
    """Each sample's weight: weight[label] (1 without class weights), 0 where ignored."""
    kept = ag.astype(target != ignore_index, input.dtype)
    if weight is None:
        return kept
    safe = _safe_labels(target, ignore_index, input.shape[_class_axis(input)])
    picked = ag.take(_checked_weight(fn, weight, input), ag.reshape(safe, (-1,)), axis=0)
    return ag.reshape(picked, safe.shape) * kept


def _class_weight_row(fn, weight, input, axis):
    """weight shaped to broadcast along the class axis of input."""
    weight = _checked_weight(fn, weight, input)
    return ag.reshape(weight, weight.shape + (1,) * (input.ndim - axis - 1))


def _reduce_weighted(losses, weights, reduction):
    """PyTorch's weighted reduction: "mean" divides by the samples' total weight."""
    if reduction == "mean":
        return ag.sum(losses) / ag.sum(weights)
    return _reduce(losses, reduction)


# ----------------------------------------------------------------- classification
def nll_loss(input, target, *, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of class indices `target` under log-probabilities
    `input` of shape (N, C), (N, C, d1, ...) or (C,). `weight` (C,) scales each class;
    samples whose label is `ignore_index` count for nothing, also in the mean."""
    fn = "nll_loss"
    _check_reduction(fn, reduction)
    _check_input(fn, input)
    target = _as_target(fn, target, input)
    _check_class_indices(fn, input, target)
    axis = _class_axis(input)
    clean = _check_labels(fn, target, input.shape[axis], ignore_index)
    return _picked_loss(fn, input, target, weight, ignore_index, reduction, axis, clean)


def cross_entropy(input, target, *, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Softmax cross-entropy of logits `input` (N, C), (N, C, d1, ...) or (C,).

    `target` is either integer class indices of the input's shape without the class
    axis, or class probabilities (float) of the input's own shape. The log-softmax is
    fused and shifted, so logits of 1e4 give finite losses and gradients.
    `label_smoothing` mixes the target with the uniform distribution over classes.
    `weight` (C,) scales each class and `ignore_index` drops samples, with PyTorch's
    meaning (a weighted mean divides by the kept samples' total weight).
    """
    fn = "cross_entropy"
    _check_reduction(fn, reduction)
    _check_input(fn, input)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{fn}: label_smoothing must be in [0, 1], got {label_smoothing}")
    target = _as_target(fn, target, input)
    axis = _class_axis(input)
    classes = input.shape[axis]
    probabilities = _is(target, "real floating") and target.shape != _index_shape(input)
    if probabilities and target.shape != input.shape:
        raise ValueError(
            f"{fn}: float targets are class probabilities and need the input's shape "
            f"{input.shape}, got target with {_describe(target)} (class indices need an "
            f"integer dtype and shape {_index_shape(input)})"
        )
    log_probs = ag.log_softmax(input, axis=axis)
    if probabilities:
        if label_smoothing:
            target = target * (1.0 - label_smoothing) + label_smoothing / classes
        if weight is not None:
            log_probs = log_probs * _class_weight_row(fn, weight, input, axis)
        return _reduce(-ag.sum(log_probs * target, axis=axis), reduction)
    _check_class_indices(fn, input, target)
    clean = _check_labels(fn, target, classes, ignore_index)
    if not label_smoothing:
        return _picked_loss(fn, log_probs, target, weight, ignore_index, reduction, axis,
                            clean)
    weights = _sample_weights(fn, weight, input, target, ignore_index)
    losses = -_pick(log_probs, _safe_labels(target, ignore_index, classes), axis) * weights
    # PyTorch's smoothing term: the class-weighted mean of -log q over all classes.
    if weight is not None:
        log_probs = log_probs * _class_weight_row(fn, weight, input, axis)
    kept = ag.astype(target != ignore_index, input.dtype)
    uniform = -ag.sum(log_probs, axis=axis) / classes * kept
    losses = losses * (1.0 - label_smoothing) + uniform * label_smoothing
    return _reduce_weighted(losses, weights, reduction)


def one_hot(indices, num_classes, dtype="float32"):
    """Float rows with a 1 at each integer index: shape indices.shape + (num_classes,).
    Not differentiable (its input is integers)."""
    indices = ag.as_tensor(indices)
    if not _is(indices, "integral"):
        raise TypeError(f"one_hot: indices must have an integer dtype, got {_describe(indices)}")
    # Ops, not raw arrays: ag.compile replays them on each call's indices.
    classes = ag.arange(num_classes, dtype=indices.dtype, backend=indices.backend,
                        device=indices.device)
    return ag.astype(ag.expand_dims(indices, axis=-1) == classes, dtype)


# ----------------------------------------------------------------- binary
def binary_cross_entropy(input, target, *, weight=None, reduction="mean"):
    """-(y log p + (1 - y) log(1 - p)) for probabilities `input`; each log is clamped
    at -100 as in PyTorch, so p = 0 or 1 gives a finite loss."""
    fn = "binary_cross_entropy"
    _check_reduction(fn, reduction)
    _check_input(fn, input)
    target = _as_target(fn, target, input)
    _check_same_shape(fn, input, target)
    log_p = ag.clip(ag.log(input), min=_LOG_FLOOR)
    log_not_p = ag.clip(ag.log1p(-input), min=_LOG_FLOOR)
    loss = -(target * log_p + (1.0 - target) * log_not_p)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, *, weight=None, reduction="mean",
                                     pos_weight=None):
    """Sigmoid and binary cross-entropy fused: softplus(x) - x y, which is
    max(x, 0) - x y + log1p(exp(-|x|)), exact and finite for any logit.

    `pos_weight` scales the positive term: (pos_weight - 1) y softplus(-x) is added.
    """
    fn = "binary_cross_entropy_with_logits"
    _check_reduction(fn, reduction)
    _check_input(fn, input)
    target = _as_target(fn, target, input)
    _check_same_shape(fn, input, target)
    loss = softplus(input) - input * target
    if pos_weight is not None:
        loss = loss + (pos_weight - 1.0) * target * softplus(-input)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# ----------------------------------------------------------------- regression
def mse_loss(input, target, *, reduction="mean"):
    """Squared error (input - target)^2."""
    fn = "mse_loss"
    _check_reduction(fn, reduction)
    _check_input(fn, input)
    target = _as_target(fn, target, input)
    _check_same_shape(fn, input, target)
    return _reduce(ag.square(input - target), reduction)


def l1_loss(input, target, *, reduction="mean"):
    """Absolute error |input - target| (gradient 0 where they are equal, as PyTorch)."""
    fn = "l1_loss"
    _check_reduction(fn, reduction)
    _check_input(fn, input)
    target = _as_target(fn, target, input)
    _check_same_shape(fn, input, target)
    return _reduce(ag.abs(input - target), reduction)
