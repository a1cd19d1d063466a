"""Robust regression losses: Huber and smooth L1, composed from differentiable ops."""
from __future__ import annotations

import anygrad as ag

from .losses import _as_target, _check_input, _check_reduction, _check_same_shape, _reduce

__all__ = ["huber_loss", "smooth_l1_loss"]


def _quadratic_then_linear(fn, input, target, delta, reduction):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), d = input - target."""
    _check_reduction(fn, reduction)
    _check_input(fn, input)
    if delta <= 0:
        raise ValueError(f"{fn}: the threshold must be positive, got {delta}")
    target = _as_target(fn, target, input)
    _check_same_shape(fn, input, target)
    diff = ag.abs(input - target)
    # The quadratic branch sees |d| clipped to delta, so neither branch overflows
    # or produces a gradient where it is not selected.
    inside = ag.clip(diff, max=delta)
    loss = inside * inside * 0.5 + (diff - inside) * delta
    return _reduce(loss, reduction)


def huber_loss(input, target, *, reduction="mean", delta=1.0):
    """0.5 (x - y)^2 for |x - y| < delta, delta (|x - y| - delta / 2) beyond (PyTorch's)."""
    return _quadratic_then_linear("huber_loss", input, target, delta, reduction)


def smooth_l1_loss(input, target, *, reduction="mean", beta=1.0):
    """Huber divided by beta: 0.5 (x - y)^2 / beta inside beta, |x - y| - beta / 2 beyond.
    `beta=0` is the L1 loss."""
    if beta == 0:
        from .losses import l1_loss

        return l1_loss(input, target, reduction=reduction)
    return _quadratic_then_linear("smooth_l1_loss", input, target, beta, reduction) / beta
