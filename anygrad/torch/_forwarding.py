"""The one way a module of `anygrad.torch` hands PyTorch names on to anygrad's own.

Each PyTorch submodule (`torch.optim`, `torch.nn.init`, ...) is anygrad's module of the
same job under PyTorch's name. Names are looked up there when asked for, so what anygrad
adds later is found without a second list, and a name anygrad lacks is an
AttributeError that says so, never a deep crash later.
"""
from __future__ import annotations

import importlib


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
