"""Loss Modules: each holds its options and calls the function of the same name.

    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    loss = criterion(model(x), y)
"""
from __future__ import annotations

from ..tensor import Tensor
from . import functional as F
from .module import Module

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "HuberLoss", "L1Loss", "MSELoss",
    "NLLLoss", "SmoothL1Loss",
]


class _Loss(Module):
    """Calls `function(input, target, reduction=..., **options)`. Options the function
    does not know fail there, by name, at the first call. Tensor options (class
    weights) are buffers, as in PyTorch: they follow `.to()` and are in `state_dict`."""

    function = None

    def __init__(self, reduction="mean", **options):
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"{type(self).__name__}: reduction must be 'mean', 'sum' or "
                             f"'none', got {reduction!r}")
        self.reduction = reduction
        self.options = {}
        for name, value in options.items():
            if isinstance(value, Tensor):
                self.register_buffer(name, value)
            elif value is not None:
                self.options[name] = value

    def forward(self, input, target):
        return type(self).function(input, target, reduction=self.reduction, **self.options,
                                   **dict(self.named_buffers(recurse=False)))

    def extra_repr(self):
        parts = [f"reduction={self.reduction!r}"] if self.reduction != "mean" else []
        return ", ".join(parts + [f"{k}={v!r}" for k, v in self.options.items()])


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy; `weight=`, `ignore_index=`, `label_smoothing=` and any
    other option of `F.cross_entropy` are passed through."""

    function = F.cross_entropy

    def __init__(self, weight=None, *, reduction="mean", **options):
        super().__init__(reduction, weight=weight, **options)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities; options go to `F.nll_loss`."""

    function = F.nll_loss

    def __init__(self, weight=None, *, reduction="mean", **options):
        super().__init__(reduction, weight=weight, **options)


class MSELoss(_Loss):
    """The squared error (input - target)**2, reduced by `reduction`."""

    function = F.mse_loss


class L1Loss(_Loss):
    """The absolute error |input - target|, reduced by `reduction`."""

    function = F.l1_loss


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities `input` against `target` in [0, 1],
    each element weighted by `weight` where given."""

    function = F.binary_cross_entropy

    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction, weight=weight)


class BCEWithLogitsLoss(_Loss):
    """`BCELoss` of sigmoid(input), computed from the logits without overflow;
    `pos_weight` weighs the positive term of each class."""

    function = F.binary_cross_entropy_with_logits

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(reduction, weight=weight, pos_weight=pos_weight)


class HuberLoss(_Loss):
    """Squared error / 2 where |input - target| < `delta`, else `delta` times the
    absolute error less delta / 2."""

    function = F.huber_loss

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction, delta=delta)


class SmoothL1Loss(_Loss):
    """Squared error / (2 beta) where |input - target| < `beta`, else the absolute
    error less beta / 2 (HuberLoss divided by beta)."""

    function = F.smooth_l1_loss

    def __init__(self, reduction="mean", beta=1.0):
        super().__init__(reduction, beta=beta)
