"""Every differentiable function, as one namespace.

This module is also the namespace backward rules run against when gradients are
recorded (`create_graph=True`), so its names and signatures mirror the Array API's:
a rule written as `ns.sum(g, axis=0)` runs on raw arrays or on Tensors alike.
"""
from __future__ import annotations

from .. import dtypes
from ..creation import as_tensor, zeros_like, ones_like  # noqa: F401  (used by rules)
from .activations import log_softmax, softmax
from .comparison import (
    all, any, argmax, argmin, ceil, equal, floor, greater, greater_equal, isfinite, isnan,
    less, less_equal, logical_and, logical_not, logical_or, not_equal, round, sign,
)
from .elementwise import (
    abs, add, clip as _clip, cos, divide, exp, expm1, log, log1p, maximum, minimum, multiply,
    negative, pow, relu, sigmoid, sin, sqrt, square, subtract, tanh, where,
)
from .linalg import linear, matmul
from .reductions import logsumexp, max, mean, min, std, sum, var
from .shape import (
    astype, broadcast_to, concat, expand_dims, flip, gather_grad, getitem, matrix_transpose,
    permute_dims, reshape, squeeze, stack, take, take_along_axis, to_backend, transfer,
)


def clip(x, min=None, max=None):
    """Limit x to [min, max]; Python numbers or None. The gradient passes where x is
    inside the bounds, ends included. Tensor bounds: use maximum/minimum."""
    from ..tensor import Tensor

    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = x
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out
    bounds = [b for b in (min, max) if b is not None]
    wanted = dtypes.with_scalars(x.dtype.name, bounds)
    if wanted != x.dtype.name:  # float bounds on integers: clip as floats, as arithmetic
        x = astype(x, wanted)
    return _clip(x, min=min, max=max)


__all__ = [
    # elementwise
    "abs", "add", "clip", "cos", "divide", "exp", "expm1", "log", "log1p", "maximum", "minimum",
    "multiply", "negative", "pow", "relu", "sigmoid", "sin", "sqrt", "square", "subtract", "tanh",
    "where",
    # reductions
    "logsumexp", "max", "mean", "min", "std", "sum", "var",
    # normalised exponentials
    "log_softmax", "softmax",
    # linear algebra
    "linear", "matmul",
    # shape, joins, selection
    "astype", "broadcast_to", "concat", "expand_dims", "flip", "getitem", "matrix_transpose",
    "permute_dims", "reshape", "squeeze", "stack", "take", "take_along_axis",
    # no gradient
    "all", "any", "argmax", "argmin", "ceil", "equal", "floor", "greater", "greater_equal",
    "isfinite", "isnan", "less", "less_equal", "logical_and", "logical_not", "logical_or",
    "not_equal", "round", "sign",
]
