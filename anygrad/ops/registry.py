"""The op registry: every public function of `anygrad.ops` is declared once, here.

An op module declares an op with `op(name, forward, *rules, ...)` (an `Op` that
registers itself under its name) or marks a function composed from other ops with
`@public`. `anygrad.ops` builds its namespace and `__all__` from the registry, so adding
an op is a change in one place, and the tests read the registry to require a gradient
check for every differentiable entry.
"""
from __future__ import annotations

import inspect

from .._aliases import accepting_torch_names
from ..engine import Op

# name -> op or function, in declaration order.
_PUBLIC: dict = {}
# Extension namespaces (the standard's `linalg` and `fft`): extension -> {name: op or function}.
_EXTENSIONS: dict = {"linalg": {}, "fft": {}}
# name -> function the backward rules call (`ns.transfer`, ...) that is not public API.
_HELPERS: dict = {}
# Names of public functions (not Ops) that carry a gradient through the ops they call.
_COMPOSED_DIFFERENTIABLE: set = set()


def _add(name, value, extension=None):
    table = _PUBLIC if extension is None else _EXTENSIONS[extension]
    if name in table and table[name] is not value:
        raise ValueError(f"op {name!r} is declared twice ({table[name]!r} and {value!r})")
    table[name] = value
    return value


def op(name, forward, *vjps, extension=None, **options):
    """Declare and register an `Op` (see `anygrad.engine.Op` for the arguments), in the
    main namespace or in an `extension` ("linalg"). An op without rules is a constant
    op: its result never records a graph. `batch=` names how `ag.vmap` maps the op
    (a kind of `anygrad.batching.rules`), beside its forward and rules; `doc=` is its
    docstring, one or two lines on what it computes."""
    full = name if extension is None else f"{extension}.{name}"
    return _add(name, Op(full, forward, *vjps, **options), extension)


def public(fn=None, *, name=None, differentiable=True, extension=None):
    """Register `fn`, a function composed from registered ops, under `name` (its own
    name by default). Usable as `@public` or `@public(differentiable=False)`."""
    def register(f):
        key = name or f.__name__
        if differentiable:
            _COMPOSED_DIFFERENTIABLE.add(key if extension is None else f"{extension}.{key}")
        parameters = inspect.signature(f).parameters
        if "axis" in parameters or "keepdims" in parameters:
            f = accepting_torch_names(f)  # dim=/keepdim= as in PyTorch
        return _add(key, f, extension)

    return register if fn is None else register(fn)


def helper(fn):
    """Register `fn` in the namespace rules run against, without making it public: the
    graph-recording twin of a backend hook (`gather_grad`, `transfer`)."""
    _HELPERS[fn.__name__] = fn
    return fn


def names() -> list:
    """The public names, in declaration order: `anygrad.ops.__all__`."""
    return list(_PUBLIC)


def namespace() -> dict:
    """Every registered name, public or helper, and its op or function."""
    return {**_HELPERS, **_PUBLIC}


def extension(name) -> dict:
    """The ops and functions of one extension namespace ("linalg")."""
    return dict(_EXTENSIONS[name])


def differentiable_names() -> list:
    """The registered names that carry a gradient: Ops with rules, and composed functions
    (extension members as "linalg.inv")."""
    entries = list(_PUBLIC.items()) + [(f"{e}.{n}", v) for e, table in _EXTENSIONS.items()
                                       for n, v in table.items()]
    return [n for n, v in entries
            if (v.vjps if isinstance(v, Op) else n in _COMPOSED_DIFFERENTIABLE)]


__all__ = ["differentiable_names", "extension", "helper", "names", "namespace", "op", "public"]
