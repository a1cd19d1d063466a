"""A module as a pure function of its parameters: `ag.functional_call`.

    params = dict(model.named_parameters())
    grads = ag.grad(lambda p: loss(ag.functional_call(model, p, (x,)), y))(params)

PyTorch's `torch.func.functional_call`: for the duration of one call the module's
parameters and buffers named in the dict are replaced by the given tensors (in the
module's registries, where layers read them), and put back afterwards, also when the
call raises. Nothing is copied, so gradients flow to the given tensors.
"""
from __future__ import annotations

__all__ = ["functional_call", "named_tensors"]


def named_tensors(module):
    """dotted name -> (owning module, registry, attribute name) for every parameter and
    buffer, under every name it has (a tied parameter answers to each of its names)."""
    found = {}
    for prefix, owner in module.named_modules():
        for registry in ("_parameters", "_buffers"):
            for name, value in getattr(owner, registry).items():
                if value is not None:
                    found[f"{prefix}.{name}" if prefix else name] = (owner, registry, name)
    return found


def functional_call(module, params_and_buffers, args=(), kwargs=None, *, strict=False):
    """`module(*args, **kwargs)` with its tensors taken from `params_and_buffers`.

    The dict is keyed as `state_dict()` / `named_parameters()` / `named_buffers()`
    (several dicts may be passed as a tuple or list; a key may appear once). A key the
    module does not have is an error naming it; the module's own tensor is used for a
    key left out, unless `strict=True`, which makes a missing key an error too. `args`
    may be a single tensor instead of a tuple.
    """
    from .tensor import Tensor

    if isinstance(params_and_buffers, (tuple, list)):
        merged = {}
        for d in params_and_buffers:
            twice = sorted(set(merged) & set(d))
            if twice:
                raise ValueError(f"functional_call: keys given twice: {twice}")
            merged.update(d)
        params_and_buffers = merged
    slots = named_tensors(module)
    unknown = [k for k in params_and_buffers if k not in slots]
    if unknown:
        raise KeyError(f"functional_call: {type(module).__name__} has no parameter or buffer "
                       f"named {', '.join(map(repr, unknown))}")
    if strict:
        missing = [k for k in slots if k not in params_and_buffers]
        if missing:
            raise KeyError(f"functional_call: missing parameters or buffers (strict=True): "
                           f"{', '.join(map(repr, missing))}")
    for key, value in params_and_buffers.items():
        if not isinstance(value, Tensor):
            raise TypeError(f"functional_call: {key!r} is a {type(value).__name__}, not a Tensor")
    if not isinstance(args, tuple):
        args = (args,)
    saved = []
    try:
        for key, value in params_and_buffers.items():
            owner, registry, name = slots[key]
            table = getattr(owner, registry)
            saved.append((table, name, table[name]))
            # In the registry itself: layers read their tensors from there, and a plain
            # attribute assignment would demand a Parameter and reach the compiler's hooks.
            table[name] = value
        return module(*args, **(kwargs or {}))
    finally:
        for table, name, original in reversed(saved):
            table[name] = original
