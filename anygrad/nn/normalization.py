"""Layer normalisation and embeddings: the functions and their Modules."""
from __future__ import annotations

import anygrad as ag

from . import init
from .module import Module, Parameter

__all__ = ["Embedding", "LayerNorm", "embedding", "layer_norm"]


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


def embedding(input, weight):
    """Rows of `weight` (num_embeddings, dim) picked by integer indices of any shape:
    the result has shape input.shape + (dim,). Repeated indices sum their gradients."""
    indices = ag.as_tensor(input)
    if not indices.dtype.is_integral:
        raise TypeError(f"embedding: indices must be integers, got dtype {indices.dtype} "
                        f"of shape {indices.shape}")
    flat = ag.reshape(indices, (-1,))
    rows = ag.take(weight, flat, axis=0)
    return ag.reshape(rows, tuple(indices.shape) + (weight.shape[1],))


class LayerNorm(Module):
    """LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True), PyTorch's."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 dtype="float32", backend=None, device=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape = shape
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
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
    from N(0, 1) as PyTorch does."""

    def __init__(self, num_embeddings, embedding_dim, dtype="float32", backend=None,
                 device=None):
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.weight = Parameter(ag.zeros((num_embeddings, embedding_dim), dtype=dtype,
                                         backend=backend, device=device))
        init.normal_(self.weight)

    def forward(self, indices):
        return embedding(indices, self.weight)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"
