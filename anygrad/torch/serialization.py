"""`torch.save` / `torch.load` over anygrad's checkpoints (`anygrad.serialization`).

Files are anygrad's `.npz` archives, written atomically when given a path, or into a
binary file object (`io.BytesIO`, an open file) as it is. State dicts and containers of
tensors are stored as arrays and JSON; any other object (a whole Module, as
`torch.save(model, f)`) is pickled with its tensors kept as arrays beside the pickle.

`load` follows PyTorch's `weights_only` (True unless told, as since PyTorch 2.6): a
pickled object is rebuilt only from classes and functions allowed by `add_safe_globals`
or the `safe_globals(...)` context, and any other name in the pickle is refused with an
error naming it. `weights_only=False` rebuilds anything: it runs code the file names,
so use it for trusted files only. Files written by PyTorch itself do not load.
"""
from __future__ import annotations

import contextlib
import contextvars

from .. import serialization as _serialization
from ..tensor import Tensor as _Tensor

__all__ = ["add_safe_globals", "clear_safe_globals", "get_safe_globals", "load",
           "safe_globals", "save"]

_added = []  # process-wide, as PyTorch's add_safe_globals
_scoped = contextvars.ContextVar("anygrad_torch_safe_globals", default=())


def _objects(entries):
    # PyTorch also takes (object, "module.name") pairs for renamed classes; the object
    # is what anygrad matches.
    return [e[0] if isinstance(e, tuple) else e for e in entries]


def add_safe_globals(entries):
    """Allow these classes and functions in pickles that `load` rebuilds with
    weights_only=True, from now on."""
    _added.extend(_objects(entries))


def get_safe_globals():
    return list(_added)


def clear_safe_globals():
    _added.clear()


@contextlib.contextmanager
def safe_globals(entries):
    """Allow these classes and functions inside the `with` block only."""
    token = _scoped.set(_scoped.get() + tuple(_objects(entries)))
    try:
        yield
    finally:
        _scoped.reset(token)


def save(obj, f, pickle_module=None, pickle_protocol=None,
         _use_new_zipfile_serialization=True, _disable_byteorder_record=False):
    """Write `obj` to a path (atomically) or a binary file object."""
    if pickle_module is not None:
        raise TypeError("save: pickle_module= is not supported; anygrad pickles only the "
                        "objects that are not tensors or containers, with Python's pickle")
    _serialization.save(obj, f, allow_pickle=True)


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Read what `save` wrote; `map_location` (a device, its name, or a dict/function as
    PyTorch takes) moves every tensor, and a loaded Module, there."""
    if pickle_module is not None:
        raise TypeError("load: pickle_module= is not supported")
    obj = _serialization.load(f, allow_pickle=weights_only is False,
                              safe_globals=(*_added, *_scoped.get()))
    return obj if map_location is None else _moved(obj, _place(map_location))


def _place(map_location):
    if callable(map_location) and not isinstance(map_location, (str, dict)):
        raise NotImplementedError("load: a function as map_location is not supported; give "
                                  "a device or its name")
    if isinstance(map_location, dict):
        if len(set(map_location.values())) != 1:
            raise NotImplementedError("load: a map_location dict sending tensors to several "
                                      "devices is not supported; give one device")
        return next(iter(map_location.values()))
    return map_location


def _moved(obj, where):
    from ..nn.module import Module

    if isinstance(obj, (_Tensor, Module)):
        return obj.to(where)
    if isinstance(obj, dict):
        return type(obj)((k, _moved(v, where)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_moved(v, where) for v in obj)
    return obj
