"""`torch.autograd`: `grad`, `backward` and `Function`, over anygrad's engine."""
from __future__ import annotations

from ..modes import enable_grad, no_grad, set_grad_enabled  # noqa: F401
from ..transforms import gradients as _gradients


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=False, is_grads_batched=False, materialize_grads=False):
    """d(outputs)/d(inputs) as a tuple, one entry per input (PyTorch's autograd.grad)."""
    if is_grads_batched:
        raise NotImplementedError("autograd.grad(is_grads_batched=True) is not supported; use "
                                  "ag.vmap or ag.jacobian")
    single = not isinstance(inputs, (list, tuple))
    found = _gradients(outputs, [inputs] if single else list(inputs), grad_outputs,
                       retain_graph=retain_graph, create_graph=create_graph,
                       allow_unused=allow_unused or materialize_grads)
    if materialize_grads:
        from ..creation import zeros_like

        ins = [inputs] if single else list(inputs)
        found = [zeros_like(x) if g is None else g for g, x in zip(found, ins)]
    return tuple(found)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    if inputs is not None:
        raise NotImplementedError("autograd.backward(inputs=...) is not supported; use "
                                  "autograd.grad for gradients of some inputs only")
    tensors = [tensors] if not isinstance(tensors, (list, tuple)) else list(tensors)
    grads = [None] * len(tensors) if grad_tensors is None else (
        [grad_tensors] if not isinstance(grad_tensors, (list, tuple)) else list(grad_tensors))
    for k, (t, g) in enumerate(zip(tensors, grads)):
        last = k == len(tensors) - 1
        t.backward(g, retain_graph=True if not last else retain_graph,
                   create_graph=create_graph)


def __getattr__(name):
    # Function and FunctionCtx come from anygrad.custom (imported on first use).
    if name in ("Function", "FunctionCtx"):
        from .. import custom

        return getattr(custom, name)
    if name == "functional":
        from . import _autograd_functional

        return _autograd_functional
    raise AttributeError(f"anygrad.torch.autograd has no {name!r}: not mapped onto anygrad yet")
