"""Attention: `scaled_dot_product_attention` and `MultiheadAttention`, PyTorch-shaped.

Attention is batched matrix products over (..., heads, length, head_dim) and a softmax,
all anygrad ops, so every backend runs it and gradients of gradients come for free.

Masks, as PyTorch has them:

* `scaled_dot_product_attention(attn_mask=...)`: a boolean mask says which query/key
  pairs *take part* (True = attend); a floating mask is added to the scores.
* `MultiheadAttention(attn_mask=..., key_padding_mask=...)`: a boolean mask says which
  pairs are *left out* (True = masked); a floating mask is added.

A query row whose keys are all masked has no distribution to take. Its output (and
its attention weights) are zeros, with zero gradients, which is what PyTorch's
`scaled_dot_product_attention` gives. PyTorch's `MultiheadAttention` gives zeros too
when need_weights=False, but NaN on its need_weights=True path; anygrad gives zeros on
both, never NaN.
"""
from __future__ import annotations

import math

import anygrad as ag

from ..dtypes import parameter_dtype
from ..tensor import Tensor
from . import functional as F
from . import init
from .layers import Linear
from .module import Module, Parameter

__all__ = ["MultiheadAttention", "scaled_dot_product_attention"]


def _as_tensor(mask, like):
    if isinstance(mask, Tensor):
        return mask
    return ag.as_tensor(mask, backend=like.backend, device=like.device)


def causal_mask(query_length, key_length, like):
    """The boolean (L, S) mask of PyTorch's is_causal: query i attends keys 0..i (top-left
    aligned, so every row keeps at least key 0)."""
    rows = ag.reshape(ag.arange(query_length, backend=like.backend, device=like.device),
                      (query_length, 1))
    cols = ag.reshape(ag.arange(key_length, backend=like.backend, device=like.device),
                      (1, key_length))
    return rows >= cols


def _check_float_mask(fn, mask, query):
    if mask.dtype != query.dtype:
        raise TypeError(f"{fn}: a floating attention mask must have the query's dtype "
                        f"{query.dtype}, got {mask.dtype} (mask shape {mask.shape})")


def _attend(fn, query, key, value, allowed, additive, dropout_p, scale):
    """softmax(q k^T * scale + additive, over keys where `allowed`) @ v, and the weights.

    `allowed` is a boolean mask (True = attend) or None, `additive` a floating mask or
    None; both broadcast against the (..., L, S) scores. Rows with no key left give zero
    weights: the softmax runs on a harmless row there and its result is replaced, so
    no NaN reaches the values or the gradients.
    """
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise ValueError(f"{fn}: query, key and value need at least 2 dimensions (..., length, "
                         f"features), got shapes {query.shape}, {key.shape}, {value.shape}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ValueError(f"{fn}: query (..., L, E) and key (..., S, E) must share E, and key "
                         f"and value (..., S, Ev) must share S; got shapes {query.shape}, "
                         f"{key.shape}, {value.shape}")
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    # Scaling q rather than the scores touches L*E numbers instead of L*S.
    scores = ag.matmul(query * scale, ag.matrix_transpose(key))
    if additive is not None:
        scores = scores + additive
    if allowed is not None:
        scores = ag.where(allowed, scores, -math.inf)
    if allowed is None and additive is None:
        weights = ag.softmax(scores, axis=-1)
    else:
        alive = ag.any(scores > -math.inf, axis=-1, keepdims=True)
        weights = ag.where(alive, ag.softmax(ag.where(alive, scores, 0.0), axis=-1), 0.0)
    if dropout_p > 0.0:
        weights = F.dropout(weights, dropout_p, training=True)
    return ag.matmul(weights, value), weights


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None):
    """softmax(query @ key^T * scale + mask) @ value, as PyTorch's function.

    query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev); the leading
    axes broadcast. `attn_mask` broadcasts to (..., L, S): boolean (True = take part) or
    floating (added to the scores, same dtype as the query). `is_causal` masks key j > i
    for query i and excludes `attn_mask`. `scale` defaults to 1/sqrt(E). Dropout of the
    attention weights, with probability `dropout_p`, applies whenever it is non-zero (as
    PyTorch: pass 0.0 in evaluation). Rows whose keys are all masked give zeros.
    """
    fn = "scaled_dot_product_attention"
    if is_causal and attn_mask is not None:
        raise ValueError(f"{fn}: pass either attn_mask or is_causal=True, not both")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{fn}: dropout_p must be in [0, 1], got {dropout_p}")
    allowed = additive = None
    if is_causal:
        allowed = causal_mask(query.shape[-2], key.shape[-2], query)
    elif attn_mask is not None:
        attn_mask = _as_tensor(attn_mask, query)
        if attn_mask.dtype == ag.bool:
            allowed = attn_mask
        elif attn_mask.dtype.is_floating:
            _check_float_mask(fn, attn_mask, query)
            additive = attn_mask
        else:
            raise TypeError(f"{fn}: attn_mask must be boolean or floating, got dtype "
                            f"{attn_mask.dtype} (shape {attn_mask.shape})")
    return _attend(fn, query, key, value, allowed, additive, dropout_p, scale)[0]


def _mha_mask(fn, mask, query, what):
    """A MultiheadAttention mask (boolean True = left out, or floating) as an additive one."""
    mask = _as_tensor(mask, query)
    if mask.dtype == ag.bool:
        return ag.where(mask, -math.inf, ag.zeros((), dtype=query.dtype, backend=query.backend,
                                                    device=query.device))
    if not mask.dtype.is_floating:
        raise TypeError(f"{fn}: {what} must be boolean or floating, got dtype {mask.dtype} "
                        f"(shape {mask.shape})")
    _check_float_mask(fn, mask, query)
    return mask


class MultiheadAttention(Module):
    """PyTorch's MultiheadAttention(embed_dim, num_heads, dropout, bias, batch_first,
    kdim, vdim), with its parameter names and layout.

    in_proj_weight (3 E, E) stacks the query, key and value projections and in_proj_bias
    (3 E,) their biases; when kdim or vdim differ from E they are q_proj_weight (E, E),
    k_proj_weight (E, kdim) and v_proj_weight (E, vdim) instead. out_proj is a Linear.
    forward(query, key, value, key_padding_mask, need_weights, attn_mask,
    average_attn_weights, is_causal) returns (output, weights or None), with inputs
    (L, N, E), or (N, L, E) with batch_first, or unbatched (L, E).

    Boolean masks mark what is left out (True = masked), as in PyTorch:
    key_padding_mask (N, S), attn_mask (L, S) or (N * num_heads, L, S). Floating masks
    are added to the scores. is_causal is a hint that attn_mask is the causal mask (it
    needs attn_mask, as in PyTorch). A query row with every key masked gives zeros.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, batch_first=False,
                 kdim=None, vdim=None, dtype=None, backend=None, device=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim={embed_dim} must be a positive "
                             f"multiple of num_heads={num_heads}")
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        where = {"dtype": parameter_dtype(dtype), "backend": backend, "device": device}
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(ag.zeros((3 * embed_dim, embed_dim), **where))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.register_parameter("in_proj_weight", None)
            self.q_proj_weight = Parameter(ag.zeros((embed_dim, embed_dim), **where))
            self.k_proj_weight = Parameter(ag.zeros((embed_dim, self.kdim), **where))
            self.v_proj_weight = Parameter(ag.zeros((embed_dim, self.vdim), **where))
        if bias:
            self.in_proj_bias = Parameter(ag.zeros((3 * embed_dim,), **where))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, **where)
        self._reset_parameters()

    def _reset_parameters(self):
        # PyTorch's scheme: xavier-uniform projections, zero biases; out_proj keeps
        # Linear's own initial weight.
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    # ------------------------------------------------------------ projections
    def _biases(self):
        if self.in_proj_bias is None:
            return None, None, None
        return ag.unstack(ag.reshape(self.in_proj_bias, (3, self.embed_dim)))

    def _project(self, query, key, value):
        """q, k, v as (N, heads, length, head_dim) from batch-first inputs.

        Three products with slices of the stacked weight, even for self-attention: a
        single product into (N, L, 3 E) must be split into q, k and v, and the gradient
        of that split (a zero-filled full-size array per part) costs more than calling
        the matrix product three times (measured: about a quarter of an attention
        layer's step on numpy).
        """
        n, h, d = query.shape[0], self.num_heads, self.head_dim
        if self._qkv_same_embed_dim:
            weights = ag.unstack(ag.reshape(self.in_proj_weight, (3, self.embed_dim,
                                                                  self.embed_dim)))
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        heads = []
        for x, w, b in zip((query, key, value), weights, self._biases()):
            y = F.linear(x, w, b)
            heads.append(ag.permute_dims(ag.reshape(y, (n, x.shape[1], h, d)), (0, 2, 1, 3)))
        return heads

    # ------------------------------------------------------------ forward
    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        fn = "MultiheadAttention"
        batched = query.ndim == 3
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(f"{fn}: query, key and value must all be 3-D (batched) or 2-D "
                             f"(unbatched), got shapes {query.shape}, {key.shape}, {value.shape}")
        if not batched:
            query, key, value = (ag.expand_dims(t, axis=0) for t in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = ag.expand_dims(_as_tensor(key_padding_mask, query), axis=0)
        elif not self.batch_first:
            query, key, value = (ag.permute_dims(t, (1, 0, 2)) for t in (query, key, value))
        n, length, _ = query.shape
        source = key.shape[1]
        if query.shape[2] != self.embed_dim or key.shape[2] != self.kdim \
                or value.shape[2] != self.vdim or key.shape[:2] != value.shape[:2] \
                or key.shape[0] != n:
            raise ValueError(f"{fn}: expected query (.., {self.embed_dim}), key (.., "
                             f"{self.kdim}) and value (.., {self.vdim}) with one batch size "
                             f"and key/value of one length; got shapes {query.shape}, "
                             f"{key.shape}, {value.shape} (batch first)")
        if is_causal and attn_mask is None:
            raise ValueError(f"{fn}: is_causal is a hint that attn_mask is the causal mask; "
                             f"it needs attn_mask")
        q, k, v = self._project(query, key, value)
        dropout_p = self.dropout if self.training else 0.0
        if is_causal and key_padding_mask is None:
            allowed, additive = causal_mask(length, source, q), None
        else:
            allowed, additive = None, self._merged_mask(attn_mask, key_padding_mask, q, n,
                                                        length, source)
        out, weights = _attend(fn, q, k, v, allowed, additive, dropout_p, None)
        out = ag.reshape(ag.permute_dims(out, (0, 2, 1, 3)), (n, length, self.embed_dim))
        out = self.out_proj(out)
        if not batched:
            out = ag.squeeze(out, axis=0)
        elif not self.batch_first:
            out = ag.permute_dims(out, (1, 0, 2))
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = ag.mean(weights, axis=1)
        if not batched:
            weights = ag.squeeze(weights, axis=0)
        return out, weights

    def _merged_mask(self, attn_mask, key_padding_mask, q, n, length, source):
        fn = "MultiheadAttention"
        merged = None
        if attn_mask is not None:
            mask = _mha_mask(fn, attn_mask, q, "attn_mask")
            if tuple(mask.shape) == (length, source):
                merged = mask
            elif tuple(mask.shape) == (n * self.num_heads, length, source):
                merged = ag.reshape(mask, (n, self.num_heads, length, source))
            else:
                raise ValueError(f"{fn}: attn_mask must have shape ({length}, {source}) or "
                                 f"({n * self.num_heads}, {length}, {source}), got {mask.shape}")
        if key_padding_mask is not None:
            mask = _mha_mask(fn, key_padding_mask, q, "key_padding_mask")
            if tuple(mask.shape) != (n, source):
                raise ValueError(f"{fn}: key_padding_mask must have shape ({n}, {source}), "
                                 f"got {mask.shape}")
            mask = ag.reshape(mask, (n, 1, 1, source))
            merged = mask if merged is None else merged + mask
        return merged

    def extra_repr(self):
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, "
                f"dropout={self.dropout}, batch_first={self.batch_first}")
