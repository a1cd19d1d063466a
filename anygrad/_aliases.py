"""PyTorch's spellings beside the Array API's: `dim` for `axis`, `keepdim` for
`keepdims`, `x.size()` beside `x.size`, `x.to(dtype)`, and the shapes of a few results.

The ops speak the standard (`axis`, `keepdims`); Tensor methods and `nn.functional`
accept either spelling through `axis_args`, so a script ported from PyTorch runs
unchanged. Giving both spellings of one argument is an error, not a silent choice.
"""
from __future__ import annotations

__all__ = ["ValuesIndices", "accepting_torch_names", "axis_args", "pick", "standard_names"]

_UNSET = object()


def pick(where, standard_name, standard, torch_name, torch_value, default=None):
    """The one value given of two spellings of an argument (`default` if neither)."""
    if standard is not _UNSET and torch_value is not _UNSET:
        raise TypeError(f"{where}: got both {standard_name}= and {torch_name}= (they mean the "
                        f"same thing); pass one")
    if standard is not _UNSET:
        return standard
    if torch_value is not _UNSET:
        return torch_value
    return default


def axis_args(where, axis=_UNSET, dim=_UNSET, keepdims=_UNSET, keepdim=_UNSET,
              default_axis=None):
    """(axis, keepdims) from either spelling; `default_axis` when no axis is given.

    `where` names the caller in the error, e.g. "Tensor.sum" or "softmax".
    """
    axis = pick(where, "axis", axis, "dim", dim, default_axis)
    if isinstance(axis, list):
        axis = tuple(axis)
    keepdims = pick(where, "keepdims", keepdims, "keepdim", keepdim, False)
    return axis, bool(keepdims)


UNSET = _UNSET


def standard_names(where, params):
    """`params` with PyTorch's `dim`/`keepdim` renamed to `axis`/`keepdims` (the ops'
    names); both spellings of one argument is an error naming `where`."""
    params = dict(params)
    for torch_name, name in (("dim", "axis"), ("keepdim", "keepdims")):
        if torch_name in params:
            if name in params:
                raise TypeError(f"{where}: got both {name}= and {torch_name}= (they mean the "
                                "same thing); pass one")
            params[name] = params.pop(torch_name)
    if isinstance(params.get("axis"), list):
        params["axis"] = tuple(params["axis"])
    return params


def accepting_torch_names(fn):
    """`fn` (which takes `axis`/`keepdims`) also taking `dim`/`keepdim`."""
    import functools

    @functools.wraps(fn)
    def call(*args, **params):
        if "dim" in params or "keepdim" in params:
            params = standard_names(fn.__name__, params)
        return fn(*args, **params)

    return call


class ValuesIndices(tuple):
    """(values, indices) from `x.max(dim=d)` / `x.min(dim=d)`, as PyTorch returns."""

    __slots__ = ()

    def __new__(cls, values, indices):
        return super().__new__(cls, (values, indices))

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]


class _Size(int):
    """`x.size` is the element count (the Array API's attribute); calling it as
    PyTorch does, `x.size()` gives the shape and `x.size(d)` one axis' length."""

    def __new__(cls, shape):
        n = 1
        for s in shape:
            n *= s
        self = super().__new__(cls, n)
        self._shape = shape
        return self

    def __call__(self, dim=None):
        return self._shape if dim is None else self._shape[dim]


def _backend_or_dtype(backend, dtype):
    """PyTorch's `x.to(dtype)`: a first argument naming a dtype is the dtype."""
    from .backends import Backend
    from .backends.base import _DTYPE_NAMES

    if backend is None or isinstance(backend, Backend):
        return backend, dtype
    if isinstance(backend, str) and backend not in _DTYPE_NAMES:
        return backend, dtype
    if dtype is not None:
        raise TypeError(f"to: got a dtype twice ({backend!r} and dtype={dtype!r})")
    return None, backend


def _shape_args(args):
    """(2, 3) from f(2, 3), f((2, 3)) and f([2, 3])."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


def _correction(where, correction, unbiased):
    if correction is not None and unbiased is not None:
        raise TypeError(f"Tensor.{where}: got both correction= and unbiased=; pass one")
    if unbiased is not None:
        return 1 if unbiased else 0
    return 0 if correction is None else correction
