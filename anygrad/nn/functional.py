"""Neural-net functions on tensors, PyTorch-shaped: `import anygrad.nn.functional as F`.

Everything here is composed from anygrad's differentiable ops, so gradients and gradients of gradients come for free on every
backend. `dim` is PyTorch's name for what the Array API calls `axis`; functions that
take an axis accept either.
"""
from __future__ import annotations

import math

import anygrad as ag

from .._aliases import UNSET, axis_args
from ..coercion import tensors
from ..engine import _batching, _wrap
from ..tensor import Tensor
from ..ops.special import erf  # noqa: F401  (re-exported)
from ..ops.windows import fold, unfold  # noqa: F401  (re-exported)
from .convolution import (  # noqa: F401  (re-exported)
    adaptive_avg_pool2d, avg_pool1d, avg_pool2d, conv1d, conv2d, max_pool1d, max_pool2d,
)
from .losses import (  # noqa: F401  (re-exported)
    binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, l1_loss, mse_loss,
    nll_loss,
)
from .losses import one_hot as _one_hot
from .normalization import embedding, layer_norm  # noqa: F401  (re-exported)
from .regression_losses import huber_loss, smooth_l1_loss  # noqa: F401  (re-exported)
from .attention import scaled_dot_product_attention  # noqa: F401,E402  (re-exported)
from .convolution import conv_transpose1d, conv_transpose2d  # noqa: F401,E402  (re-exported)
from .normalization import group_norm, rms_norm  # noqa: F401,E402  (re-exported)
from .upsampling import interpolate  # noqa: F401,E402  (re-exported)

__all__ = [
    "adaptive_avg_pool2d", "avg_pool1d", "avg_pool2d", "conv1d", "conv2d", "fold", "max_pool1d",
    "max_pool2d", "unfold",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "dropout",
    "embedding", "erf", "flatten", "gelu", "huber_loss", "l1_loss", "layer_norm", "leaky_relu",
    "linear", "log_softmax", "mse_loss", "nll_loss", "one_hot", "relu", "sigmoid", "silu",
    "smooth_l1_loss", "softmax", "softplus", "tanh",
    "pad",
]
__all__ += ["conv_transpose1d", "conv_transpose2d", "group_norm", "interpolate", "rms_norm",
            "scaled_dot_product_attention"]

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_SQRT_HALF = math.sqrt(0.5)
_GELU_LINEAR = 2.0 * _SQRT_2_OVER_PI
_GELU_CUBIC = 2.0 * _SQRT_2_OVER_PI * 0.044715


def linear(input, weight, bias=None):
    """input @ weight.T + bias, with weight of shape (out_features, in_features)."""
    if not (isinstance(input, Tensor) and isinstance(weight, Tensor)
            and (bias is None or isinstance(bias, Tensor))):
        input, weight, bias = tensors("linear", input, weight, bias)
    if input.shape[-1:] != weight.shape[-1:]:
        raise ValueError(f"linear: input of shape {input.shape} has {input.shape[-1:]} "
                         f"features but weight of shape {weight.shape} expects {weight.shape[1]}")
    return ag.linear(input, weight, bias)


def relu(x):
    """max(x, 0), elementwise (anygrad's `ag.relu`)."""
    return ag.relu(x)


def leaky_relu(x, negative_slope=0.01):
    """x where x > 0, else negative_slope * x (slope also at 0, as PyTorch)."""
    return ag.where(x > 0, x, x * negative_slope)


def sigmoid(x):
    """1 / (1 + exp(-x)), elementwise (anygrad's `ag.sigmoid`)."""
    return ag.sigmoid(x)


def tanh(x):
    """The hyperbolic tangent, elementwise (anygrad's `ag.tanh`)."""
    return ag.tanh(x)


def silu(x):
    """x * sigmoid(x) (also called swish)."""
    return x * ag.sigmoid(x)


def softplus(x, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (PyTorch's
    rule, which keeps the two equal to float precision)."""
    return ag.softplus(x, beta=beta, threshold=threshold)


def gelu(x, approximate="none"):
    """x * Phi(x), Phi the standard normal CDF.

    approximate="none" (PyTorch's default) is exact, through a portable erf accurate
    to double precision; "tanh" is the faster approximation of Hendrycks & Gimpel,
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
    """
    if approximate == "none":
        return x * (erf(x * _SQRT_HALF) + 1.0) * 0.5
    if approximate == "tanh":
        # (1 + tanh(z)) / 2 = sigmoid(2 z): the same function in fewer array passes
        # (forward and backward), which is most of its cost.
        return x * ag.sigmoid(x * (x * x * _GELU_CUBIC + _GELU_LINEAR))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def softmax(x, dim=UNSET, *, axis=UNSET):
    """exp(x) normalised to sum to 1 along `dim` (or `axis`; the last by default)."""
    return ag.softmax(x, axis=axis_args("softmax", axis, dim, default_axis=-1)[0])


def log_softmax(x, dim=UNSET, *, axis=UNSET):
    """log(softmax(x)) along `dim` (or `axis`; the last by default), without overflow."""
    if axis is UNSET and type(dim) is int:  # the common spelling, without the general parse
        return ag.log_softmax(x, axis=dim)
    return ag.log_softmax(x, axis=axis_args("log_softmax", axis, dim, default_axis=-1)[0])


def flatten(x, start_dim=0, end_dim=-1):
    """Merge dimensions start_dim..end_dim (inclusive) into one."""
    if x.ndim == 0:
        return ag.reshape(x, (1,))
    start, end = start_dim % x.ndim, end_dim % x.ndim
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                         f"for a tensor of shape {x.shape}")
    merged = 1
    for n in x.shape[start:end + 1]:
        merged *= n
    return ag.reshape(x, x.shape[:start] + (merged,) + x.shape[end + 1:])


def dropout(x, p=0.5, training=True):
    """Zero each element with probability p and scale the rest by 1/(1-p), so the
    expected value is unchanged; the identity when not training. The mask comes from
    the backend's seeded stream."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    if not isinstance(x, Tensor):
        x = ag.as_tensor(x)
    backend = x.backend
    if p == 1.0:
        return x * 0.0
    # The mask is scaled as a tensor, not a raw array, so ag.compile records the scaling
    # of each fresh draw rather than one baked-in mask.
    if _batching:  # inside ag.vmap: a mask as its randomness says
        from ..batching.random import draw

        keep = draw(lambda s: backend.bernoulli(1.0 - p, s, x.dtype, x.device), x.shape,
                    backend, "dropout")
    else:
        keep = _wrap(backend.bernoulli(1.0 - p, x.shape, x.dtype, x.device), backend)
    return x * (keep * (1.0 / (1.0 - p)))


def one_hot(tensor, num_classes=-1, dtype="int64"):
    """Rows with a 1 at each integer index, shape tensor.shape + (num_classes,), int64 as
    PyTorch (`dtype` picks another). num_classes=-1 takes the largest index + 1, which
    reads that value on the host."""
    tensor = ag.as_tensor(tensor)
    if num_classes == -1:
        num_classes = int(ag.max(tensor)) + 1 if tensor.size else 0
    return _one_hot(tensor, num_classes, dtype=dtype)


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input, pad, mode="constant", value=None):
    """PyTorch's F.pad over ag.pad: `pad` lists (before, after) widths from the last
    dimension backwards, (left, right, top, bottom, ...); modes constant, reflect,
    replicate and circular."""
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be one of {', '.join(map(repr, _PAD_MODES))}, "
                         f"got {mode!r}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: the pad tuple {pad} must have an even length of at most "
                         f"2 * ndim = {2 * input.ndim} for input of shape {input.shape}")
    if any(p < 0 for p in pad):
        raise ValueError(f"pad: negative widths (cropping) are not supported, got {pad}")
    if mode != "constant" and value:
        raise ValueError(f"pad: value applies to mode='constant', not mode={mode!r}")
    pairs = [(0, 0)] * input.ndim
    for k in range(len(pad) // 2):
        pairs[input.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    if mode == "constant":
        return ag.pad(input, tuple(pairs), mode="constant", constant_values=value or 0)
    return ag.pad(input, tuple(pairs), mode=mode)
