"""Whole Python objects in a checkpoint (a Module saved as it is, as `torch.save(model, f)`
does): the object is pickled, and every tensor it holds is kept out of the pickle and
stored as an ordinary array entry of the archive beside it.

Unpickling can run code named by the file, so `anygrad.serialization.load` reads such an
entry only when asked: with `allow_pickle=True` anything is rebuilt; otherwise only the
classes and functions named in `safe_globals` (plus a few plain containers) may appear,
and any other name is refused before anything is built, as PyTorch's
`weights_only=True` does.
"""
from __future__ import annotations

import collections
import io
import pickle

import numpy as np

from .tensor import Tensor

__all__ = ["dump", "load"]

# Plain containers that a Module's own bookkeeping pickles; building them runs no code
# of the file's choosing.
_ALWAYS_SAFE = (collections.OrderedDict, set, frozenset, dict, list, tuple, complex, slice,
                range)


def _name(obj):
    return (obj.__module__, obj.__qualname__)


class _Pickler(pickle.Pickler):
    def __init__(self, file, store):
        super().__init__(file, protocol=4)
        self.store = store
        self.ids = {}

    def persistent_id(self, obj):
        if not isinstance(obj, Tensor):
            return None
        if id(obj) not in self.ids:  # a tensor held twice stays one tensor
            self.ids[id(obj)] = self.store(obj.detach())
        from .nn.module import Parameter

        return ("tensor", self.ids[id(obj)], isinstance(obj, Parameter), obj.requires_grad)


def dump(obj, store):
    """The pickle of `obj` as a uint8 array; `store(tensor)` keeps each tensor and
    returns the name it is found under again."""
    buffer = io.BytesIO()
    try:
        _Pickler(buffer, store).dump(obj)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise TypeError(f"save: cannot pickle the {type(obj).__name__} given ({exc}); a "
                        "saved object may hold no lambdas, open files or local classes: "
                        "save its state_dict() instead") from exc
    return np.frombuffer(buffer.getvalue(), dtype=np.uint8)


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, tensor, allowed):
        super().__init__(file)
        self.tensor = tensor
        self.allowed = allowed
        self.built = {}

    def find_class(self, module, name):
        if self.allowed is not None and (module, name) not in self.allowed:
            raise _Refused(f"{module}.{name}")
        return super().find_class(module, name)

    def persistent_load(self, pid):
        kind, name, parameter, requires_grad = pid
        if kind != "tensor":
            raise pickle.UnpicklingError(f"unknown reference {kind!r} in the pickle")
        if name not in self.built:
            t = self.tensor(name)
            if parameter:
                from .nn.module import Parameter

                t = Parameter(t, requires_grad=requires_grad)
            elif requires_grad:
                t.requires_grad_(True)
            self.built[name] = t
        return self.built[name]


class _Refused(pickle.UnpicklingError):
    """A name in the pickle that the caller did not allow."""


def load(array, tensor, allow_pickle, safe_globals, where):
    """The object pickled in `array`; `tensor(name)` reads a stored tensor. Refuses, naming
    the first global not allowed, unless `allow_pickle`."""
    allowed = None if allow_pickle else {_name(g) for g in (*_ALWAYS_SAFE, *safe_globals)}
    try:
        return _Unpickler(io.BytesIO(np.asarray(array).tobytes()), tensor, allowed).load()
    except _Refused as exc:
        from .serialization import CheckpointError

        raise CheckpointError(
            f"load: {where} holds a pickled Python object that needs {exc}, and unpickling "
            "can run code named by the file. If you trust the file, pass allow_pickle=True "
            "(torch.load: weights_only=False), or allow that name with safe_globals= "
            "(torch.serialization.safe_globals / add_safe_globals)") from None
