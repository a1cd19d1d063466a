"""Layers: Modules around the functions of `functional`, PyTorch-shaped.

Layers that own parameters take `dtype`, `backend` and `device`; the backend defaults
to the current one (`ag.use_backend`, else the process default).
"""
from __future__ import annotations

import math

import anygrad as ag

from . import functional as F
from . import init
from ..dtypes import parameter_dtype
from .module import Module, Parameter

__all__ = [
    "Dropout", "Flatten", "GELU", "Identity", "LeakyReLU", "Linear", "LogSoftmax", "ReLU",
    "SiLU", "Sigmoid", "Softmax", "Softplus", "Tanh",
]


class Linear(Module):
    """y = x @ weight.T + bias, weight of shape (out_features, in_features).

    Initialised as PyTorch does: weight and bias uniform in +-1/sqrt(in_features)
    (kaiming_uniform_ with a = sqrt(5)), drawn from the backend's seeded stream.
    """

    def __init__(self, in_features, out_features, bias=True, dtype=None, backend=None,
                 device=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        dtype = parameter_dtype(dtype)
        self.weight = Parameter(ag.zeros((out_features, in_features), dtype=dtype,
                                         backend=backend, device=device))
        if bias:
            self.bias = Parameter(ag.zeros((out_features,), dtype=dtype, backend=backend,
                                           device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None and self.in_features > 0:
            bound = 1.0 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class ReLU(Module):
    """max(x, 0), elementwise."""

    def forward(self, x):
        return F.relu(x)


class Sigmoid(Module):
    """1 / (1 + exp(-x)), elementwise."""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    """The hyperbolic tangent, elementwise."""

    def forward(self, x):
        return F.tanh(x)


class Identity(Module):
    """Returns its input: a placeholder where an architecture has an optional layer."""

    def forward(self, x):
        return x


class LeakyReLU(Module):
    """x where x > 0, else `negative_slope` * x."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class GELU(Module):
    """x * Phi(x); approximate="none" (exact, the default) or "tanh"."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Softmax(Module):
    """exp(x) normalised to sum to 1 along axis `dim` (the last by default)."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, dim=self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """The log of `Softmax(dim)`, computed without overflow."""

    def forward(self, x):
        return F.log_softmax(x, dim=self.dim)


class Dropout(Module):
    """Zeroes elements with probability p while training, scaling the rest by 1/(1-p);
    the identity in eval mode."""

    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, training=self.training)

    def extra_repr(self):
        return f"p={self.p}"


class Flatten(Module):
    """Merge dimensions start_dim..end_dim; by default all but the batch axis."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x):
        return F.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class SiLU(Module):
    """x * sigmoid(x) (also called swish)."""

    def forward(self, x):
        return F.silu(x)


class Softplus(Module):
    """log(1 + exp(beta x)) / beta, linear (x) where beta x > threshold, as PyTorch."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, x):
        return F.softplus(x, beta=self.beta, threshold=self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"
