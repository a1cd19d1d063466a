"""The one way a module of `anygrad.torch` hands PyTorch names on to anygrad's own.

Each PyTorch submodule (`torch.optim`, `torch.nn.init`, ...) is anygrad's module of the
same job under PyTorch's name. Names are looked up there when asked for, so what anygrad
adds later is found without a second list, and a name anygrad lacks is an
AttributeError that says so, never a deep crash later.
"""
from __future__ import annotations

import importlib
import inspect


def forwarding(here, source, missing="not in {source} yet"):
    """A module-level `__getattr__` for `here` that looks names up in module `source`."""
    def __getattr__(name):
        if not name.startswith("_"):
            try:
                return getattr(importlib.import_module(source), name)
            except AttributeError:
                pass
        raise AttributeError(f"{here} has no {name!r}: " + missing.format(source=source))

    return __getattr__


# PyTorch's `out=`: the result is written into the given tensor. anygrad's ops make new
# tensors, so the result is computed as usual and copied in; what PyTorch would refuse
# (a gradient that would be lost) or do silently (resize `out`, cast to a lower kind)
# is an error naming the function, never a silent change.
_KIND_RANK = {"bool": 0, "signed integer": 1, "unsigned integer": 1, "real floating": 2,
              "complex floating": 3}


def written(name, out, result):
    """`result`, or `out` (a tensor, or a tuple of them for a tuple result) holding it."""
    if out is None:
        return result
    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result):
            raise TypeError(f"{name}: out= must be a tuple of {len(result)} tensors for "
                            f"this call, got {type(out).__name__}")
        parts = [written(name, o, r) for o, r in zip(out, result)]
        # (values, indices) and the like are rebuilt from their parts.
        return tuple(parts) if type(result) is tuple else type(result)(*parts)
    from ..modes import no_grad
    from ..tensor import Tensor

    if not isinstance(out, Tensor):
        raise TypeError(f"{name}: out= must be a tensor, got {type(out).__name__}")
    if result.requires_grad:
        raise RuntimeError(f"{name}: out= does not support automatic differentiation, and "
                           "an argument requires grad; assign the result instead, or call "
                           "it under torch.no_grad()")
    if tuple(out.shape) != tuple(result.shape):
        raise ValueError(f"{name}: out= has shape {tuple(out.shape)}, the result has shape "
                         f"{tuple(result.shape)}; anygrad does not resize out= tensors "
                         "(PyTorch does): give one of the result's shape, or assign the "
                         "result")
    if _KIND_RANK[result.dtype.kind] > _KIND_RANK[out.dtype.kind]:
        raise TypeError(f"{name}: the result's dtype {result.dtype} cannot be cast to the "
                        f"dtype of out=, {out.dtype}")
    if out.backend is not result.backend:
        raise TypeError(f"{name}: out= is on backend {out.backend.name!r}, the result on "
                        f"{result.backend.name!r}")
    with no_grad():
        out.copy_(result)
    return out


def spelling(name, target, note=""):
    """The docstring of `torch.<name>`, which hands PyTorch's arguments to anygrad's
    `target` (an op such as "ag.concat", or a method such as "Tensor.split"): the
    meaning is PyTorch's, the computation anygrad's. `note` says what differs."""
    return (f"torch.{name}: anygrad's `{target}` with PyTorch's arguments and defaults"
            f"{'; ' + note if note else ''}.")


def spell(namespace, targets):
    """Give each function of `namespace` named in `targets` ({name: target} or {name:
    (target, note)}) the docstring `spelling` writes, where it has none of its own."""
    for name, target in targets.items():
        target, note = target if isinstance(target, tuple) else (target, "")
        fn = namespace[name]
        if not (fn.__doc__ or "").strip():
            fn.__doc__ = spelling(fn.__name__, target, note)


def with_out(fn, name=None):
    """`fn` taking PyTorch's `out=` keyword as well."""
    name = name or getattr(fn, "__name__", "function")

    def function(*args, out=None, **kwargs):
        return written(f"torch.{name}", out, fn(*args, **kwargs))

    function.__name__ = name
    function.__qualname__ = name
    # An op is anygrad's own function under PyTorch's name: its docstring says so (the op
    # type's docstring describes every op alike).
    if inspect.isroutine(fn):
        function.__doc__ = fn.__doc__
    else:
        own = getattr(fn, "doc", None)
        function.__doc__ = spelling(name, f"ag.{getattr(fn, 'name', name)}") + (
            "\n\n" + inspect.cleandoc(own).partition("\n\n")[0] if own else "")
    function.__wrapped__ = fn
    return function
