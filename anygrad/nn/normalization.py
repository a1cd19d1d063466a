"""Layer, RMS and group normalisation and embeddings: the functions and their Modules."""
from __future__ import annotations

import anygrad as ag

from ..array_api import finfo
from . import init
from ..dtypes import parameter_dtype
from .module import Module, Parameter

__all__ = ["Embedding", "LayerNorm", "embedding", "layer_norm"]
__all__ += ["GroupNorm", "RMSNorm", "group_norm", "rms_norm"]


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing `normalized_shape` axes to mean 0 and variance 1
    (the biased variance, as PyTorch), then scale by `weight` and shift by `bias`."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[input.ndim - len(shape):]) != shape:
        raise ValueError(f"layer_norm: normalized_shape {shape} does not match the trailing "
                         f"axes of the input of shape {input.shape}")
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    centred = input - ag.mean(input, axis=axes, keepdims=True)
    variance = ag.mean(centred * centred, axis=axes, keepdims=True)
    out = centred / ag.sqrt(variance + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def embedding(input, weight, padding_idx=None):
    """Rows of `weight` (num_embeddings, dim) picked by integer indices of any shape:
    the result has shape input.shape + (dim,). Repeated indices sum their gradients; the
    row `padding_idx` (if given) is looked up but gets no gradient, as PyTorch."""
    indices = ag.as_tensor(input)
    if not indices.dtype.is_integral:
        raise TypeError(f"embedding: indices must be integers, got dtype {indices.dtype} "
                        f"of shape {indices.shape}")
    flat = ag.reshape(indices, (-1,))
    rows = ag.take(weight, flat, axis=0)
    if padding_idx is not None:
        padding_idx = _padding_row(padding_idx, weight.shape[0])
        rows = ag.where(ag.expand_dims(flat != padding_idx, axis=-1), rows, rows.detach())
    return ag.reshape(rows, tuple(indices.shape) + (weight.shape[1],))


def _padding_row(padding_idx, num_embeddings):
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(f"embedding: padding_idx {padding_idx} is out of range for "
                         f"{num_embeddings} embeddings")
    return padding_idx % num_embeddings


class LayerNorm(Module):
    """LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True), PyTorch's."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 dtype=None, backend=None, device=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape = shape
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            dtype = parameter_dtype(dtype)
            self.weight = Parameter(ag.ones(shape, dtype=dtype, backend=backend, device=device))
            if bias:
                self.bias = Parameter(ag.zeros(shape, dtype=dtype, backend=backend, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x):
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class Embedding(Module):
    """A lookup table of `num_embeddings` vectors of size `embedding_dim`, initialised
    from N(0, 1) as PyTorch does. The row `padding_idx`, if given, starts at zero and
    gets no gradient."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, dtype=None,
                 backend=None, device=None):
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        if padding_idx is not None:
            padding_idx = _padding_row(padding_idx, num_embeddings)
        self.padding_idx = padding_idx
        dtype = parameter_dtype(dtype)
        self.weight = Parameter(ag.zeros((num_embeddings, embedding_dim), dtype=dtype,
                                         backend=backend, device=device))
        init.normal_(self.weight)
        if padding_idx is not None:
            keep = ag.arange(num_embeddings, backend=self.weight.backend,
                             device=self.weight.device) != padding_idx
            self.weight.array = ag.where(ag.expand_dims(keep, axis=-1), self.weight.detach(),
                                        0.0).array

    def forward(self, indices):
        return embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text if self.padding_idx is None else text + f", padding_idx={self.padding_idx}"


# ---------------------------------------------------------------- RMS and group normalisation
def _trailing(fn, input, normalized_shape):
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[input.ndim - len(shape):]) != shape:
        raise ValueError(f"{fn}: normalized_shape {shape} does not match the trailing axes of "
                         f"the input of shape {input.shape}")
    return shape, tuple(range(input.ndim - len(shape), input.ndim))


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """Divide by the root mean square over the trailing `normalized_shape` axes, then
    scale by `weight`; eps defaults to the machine epsilon of the input's dtype, as
    PyTorch's."""
    _, axes = _trailing("rms_norm", input, normalized_shape)
    if eps is None:
        eps = finfo(input.dtype).eps
    out = input / ag.sqrt(ag.mean(input * input, axis=axes, keepdims=True) + eps)
    return out if weight is None else out * weight


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise (N, C, *) over each group of C/num_groups channels (and all positions)
    to mean 0 and biased variance 1, then scale and shift per channel."""
    if input.ndim < 2 or input.shape[1] % num_groups:
        raise ValueError(f"group_norm: num_groups={num_groups} must divide the channels of an "
                         f"(N, C, *) input, got shape {input.shape}")
    n, c = input.shape[:2]
    grouped = ag.reshape(input, (n, num_groups, -1))
    centred = grouped - ag.mean(grouped, axis=2, keepdims=True)
    variance = ag.mean(centred * centred, axis=2, keepdims=True)
    out = ag.reshape(centred / ag.sqrt(variance + eps), input.shape)
    per_channel = (c,) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * ag.reshape(weight, per_channel)
    if bias is not None:
        out = out + ag.reshape(bias, per_channel)
    return out


class RMSNorm(Module):
    """RMSNorm(normalized_shape, eps=None, elementwise_affine=True), PyTorch's."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, dtype=None,
                 backend=None, device=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) \
            else tuple(normalized_shape)
        self.normalized_shape = shape
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            dtype = parameter_dtype(dtype)
            self.weight = Parameter(ag.ones(shape, dtype=dtype, backend=backend, device=device))
        else:
            self.register_parameter("weight", None)

    def forward(self, x):
        return rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Module):
    """GroupNorm(num_groups, num_channels, eps=1e-5, affine=True), PyTorch's."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, dtype=None,
                 backend=None, device=None):
        super().__init__()
        if num_groups < 1 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_groups={num_groups} must divide "
                             f"num_channels={num_channels}")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        if affine:
            where = {"dtype": parameter_dtype(dtype), "backend": backend, "device": device}
            self.weight = Parameter(ag.ones((num_channels,), **where))
            self.bias = Parameter(ag.zeros((num_channels,), **where))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x):
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm: expects (N, {self.num_channels}, *) input, got shape "
                             f"{x.shape}")
        return group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
