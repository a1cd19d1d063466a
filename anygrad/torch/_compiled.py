"""What `torch.compile(model)` returns: the model behind a module whose forward is
`ag.compile(model)`, laid out as PyTorch's `OptimizedModule`.

PyTorch's layout is kept so that programs written for it need no change: the model is
the child `_orig_mod` (so `state_dict()` keys start with `_orig_mod.`, and checkpoint
code that strips that prefix works), the parameters are the model's own objects (an
optimizer built from either module updates both), `train()`/`eval()` reach the model,
and any other attribute is read from it.
"""
from __future__ import annotations

from ..compile import compile as _compile
from ..nn import Module


class OptimizedModule(Module):
    """`mod` with its forward compiled: the first calls with a new signature run eagerly
    while they are recorded, later ones replay the forward program, and `backward()`
    outside runs the backward recorded ahead of time (see `anygrad.compile.aot`)."""

    def __init__(self, mod, strict=False):
        super().__init__()
        self._orig_mod = mod
        object.__setattr__(self, "_strict", strict)
        object.__setattr__(self, "_compiled", _compile(mod, strict=strict))

    def forward(self, *args, **kwargs):
        return self._compiled(*args, **kwargs)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            modules = self.__dict__.get("_modules")
            if not modules or "_orig_mod" not in modules:
                raise
            return getattr(modules["_orig_mod"], name)

    # A recording holds arrays and generated code of this process: copies and pickles
    # carry the model and compile it afresh.
    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_compiled")
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        object.__setattr__(self, "_compiled", _compile(self._orig_mod, strict=self._strict))
