"""Turning numpy-style arguments into tensors: which backend, which dtype, and nested
lists that hold tensors. Every module of anygrad.numpy converts through here."""
from __future__ import annotations

from .. import creation, dtypes
from .. import ops
from ..backends import get_backend
from ..tensor import Tensor

_SEQUENCES = (list, tuple)
_PYTHON_DATA = (bool, int, float, complex, list, tuple)


def backend_name(*candidates, like=None, backend=None):
    """The backend a result lives on: `backend` if named, else `like`'s, else that of
    the first tensor among `candidates` (searched inside lists), else the current one."""
    if backend is not None:
        return get_backend(backend).name
    if isinstance(like, Tensor):
        return like.backend.name
    for c in candidates:
        found = _first_tensor(c)
        if found is not None:
            return found.backend.name
    return get_backend().name


def _first_tensor(obj):
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, Tensor):
            return item
        if isinstance(item, _SEQUENCES):
            stack.extend(reversed(item))
    return None


def numpy_dtype_name(data):
    """numpy's dtype for Python data: bool, int64, float64 or complex128, whatever
    anygrad's default float is (numpy code expects float64)."""
    name = dtypes.infer(data)
    kind = dtypes.DTYPES[name].kind
    if kind == "real floating":
        return "float64"
    if kind == "complex floating":
        return "complex128"
    return name


_PYTHON_TYPES = {bool: "bool", int: "int64", float: "float64", complex: "complex128"}


def dtype_or_none(dtype):
    """A dtype's name; Python's number types name numpy's defaults (float is float64,
    whatever anygrad's default float is)."""
    if dtype is None:
        return None
    if isinstance(dtype, type) and dtype in _PYTHON_TYPES:
        return _PYTHON_TYPES[dtype]
    return dtypes.dtype_name(dtype)


def asarray(a, dtype=None, *, backend=None):
    """A tensor for `a`: a tensor itself (cast when `dtype` differs), nested lists that
    hold tensors stacked into a graph, anything else a constant on `backend`."""
    dtype = dtype_or_none(dtype)
    if isinstance(a, Tensor):
        return a if dtype is None or a.dtype.name == dtype else ops.astype(a, dtype)
    if isinstance(a, _SEQUENCES) and _first_tensor(a) is not None:
        return _stacked(a, dtype, backend_name(a, backend=backend))
    a = dtypes.python_scalar(a)
    b = backend_name(backend=backend)
    if isinstance(a, _PYTHON_DATA):
        return creation.tensor(a, dtype=dtype or numpy_dtype_name(a), backend=b)
    t = creation.as_tensor(a, backend=b)
    return t if dtype is None or t.dtype.name == dtype else ops.astype(t, dtype)


def _stacked(items, dtype, backend):
    parts = [asarray(item, dtype, backend=backend) for item in items]
    shapes = {p.shape for p in parts}
    if len(shapes) > 1:
        raise ValueError(f"anygrad.numpy.array: the elements' shapes differ ({sorted(shapes)}); "
                         "numpy would make a ragged object array, which tensors cannot hold")
    return ops.stack(parts, axis=0)


def tensors(*args, backend=None):
    """Each argument as a tensor on one backend (the first tensor's)."""
    b = backend_name(*args, backend=backend)
    return [asarray(a, backend=b) for a in args]


def refuse(function, /, **given):
    """A TypeError for numpy arguments anygrad.numpy does not take, when given a value
    other than numpy's default (None here): an `out=` to write into, a `where=` mask,
    an `initial=`; ignoring one would give a different answer than numpy's."""
    for key, value in given.items():
        if value is not None:
            raise TypeError(f"anygrad.numpy.{function}: {key}= is not supported (leave it at "
                            "numpy's default; tensors are not written through out=)")


def unmapped(module, name):
    """The AttributeError for a numpy name that anygrad.numpy does not map."""
    sub = f".{module}" if module else ""
    return AttributeError(f"anygrad.numpy{sub} has no {name!r} (numpy{sub}.{name} is not mapped "
                          "yet; compose it from anygrad.numpy's functions, or use x.numpy(), "
                          "which detaches, for code that needs no gradient)")


def normalize_axis(axis, ndim, where):
    if not -ndim <= axis < max(ndim, 1):
        raise ValueError(f"anygrad.numpy.{where}: axis {axis} is out of bounds for an array "
                         f"of dimension {ndim}")
    return axis % ndim if ndim else 0


def spell(namespace, names, module="numpy"):
    """Give each function among `names` in `namespace` that has no docstring of its own
    one saying which numpy function it spells: its meaning is numpy's, over anygrad's
    ops. Written once here, so the spelling layer's documentation has one source."""
    for name in names:
        fn = namespace[name]
        if callable(fn) and not isinstance(fn, type) and not (fn.__doc__ or "").strip():
            fn.__doc__ = (f"{module}.{name} over anygrad's ops, with numpy's arguments, "
                          "defaults and result dtypes.")
