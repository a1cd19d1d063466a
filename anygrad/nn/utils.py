"""Gradient clipping and flat parameter vectors, PyTorch's `torch.nn.utils`.

Clipping never reads a value back to the host: the scale factor is computed and
applied on the device, so it costs no synchronisation on a GPU.
"""
from __future__ import annotations

import math

import anygrad as ag

from ..engine import _wrap
from ..tensor import Tensor
from .module import _converted

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
           "vector_to_parameters"]


def _as_list(parameters):
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _with_grads(parameters, where):
    params = [p for p in _as_list(parameters) if p.grad is not None]
    backends = {p.backend.name for p in params}
    if len(backends) > 1:
        raise TypeError(f"{where}: the gradients are on several backends {sorted(backends)}; "
                        "move the model to one")
    return params


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale the gradients so that their joint `norm_type` norm is at most `max_norm`.
    Returns the norm before clipping (a 0-d tensor)."""
    params = _with_grads(parameters, "clip_grad_norm_")
    if not params:
        return ag.tensor(0.0)
    xp = params[0].backend.xp
    grads = [p.grad.array for p in params]
    if norm_type == math.inf:
        total = xp.max(xp.stack([xp.max(xp.abs(g)) for g in grads]))
    else:
        norm_type = float(norm_type)
        total = sum(xp.sum(xp.abs(g) ** norm_type) for g in grads) ** (1.0 / norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                           "gradients is not finite")
    # min(1, max_norm / norm) without leaving the device; 1e-6 as PyTorch adds.
    scale = xp.clip(max_norm / (total + 1e-6), max=1.0)
    for p in params:
        p.grad = _wrap(p.grad.array * xp.astype(scale, p.grad.array.dtype), p.backend)
    return _wrap(total, params[0].backend)


def clip_grad_value_(parameters, clip_value):
    """Clip every gradient element to [-clip_value, clip_value]."""
    clip_value = float(clip_value)
    for p in _with_grads(parameters, "clip_grad_value_"):
        p.grad = _wrap(p.backend.xp.clip(p.grad.array, -clip_value, clip_value), p.backend)


def parameters_to_vector(parameters):
    """One flat tensor of every parameter's values, in order (differentiable)."""
    return ag.concat([ag.reshape(p, (-1,)) for p in _as_list(parameters)], axis=0)


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the flat `vec` into the parameters' data."""
    params = _as_list(parameters)
    need = sum(p.size for p in params)
    if vec.ndim != 1 or vec.shape[0] != need:
        raise ValueError(f"vector_to_parameters: expected a 1-D vector of {need} elements "
                         f"for these parameters, got shape {vec.shape}")
    offset = 0
    xp = vec.backend.xp
    for p in params:
        n = p.size
        chunk = xp.reshape(vec.array[offset:offset + n], p.shape)
        p.array = _converted(chunk, vec.backend, p)
        offset += n
