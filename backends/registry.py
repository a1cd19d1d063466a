"""Which backend a name, an array, or the current context means.

One place decides it. Backends are created lazily on first use and then cached, so
`import anygrad` imports no GPU library and naming a backend costs a dict lookup.
"""
from __future__ import annotations

import contextlib
import contextvars
import os
import threading

from .base import Backend, BackendUnavailable

__all__ = [
    "available_backends", "backend_of", "get_backend", "manual_seed", "register_backend",
    "set_backend", "use_backend", "BACKEND_NAMES",
]


def _numpy(seed):
    from .numpy_backend import NumpyBackend

    return NumpyBackend(seed)


def _cupy(seed):
    from .cupy_backend import CupyBackend

    return CupyBackend(seed)


def _strict(seed):
    from .generic import StrictBackend

    return StrictBackend(seed)


def _torch(seed):
    from .generic import TorchBackend

    return TorchBackend(seed)


def _jax(seed):
    from .generic import JaxBackend

    return JaxBackend(seed)


def _dask(seed):
    from .dask_backend import DaskBackend

    return DaskBackend(seed)


# A backend's name is its library's top-level module: that is how `backend_of` finds the
# adapter for an array (see `_library_of`).
_FACTORIES = {
    "numpy": _numpy,
    "cupy": _cupy,
    "torch": _torch,
    "jax": _jax,
    "array_api_strict": _strict,
    "dask": _dask,
}
BACKEND_NAMES = (*_FACTORIES, "auto")

_cache: dict[str, Backend] = {}
_generic: dict[int, Backend] = {}  # id(namespace) -> ArrayAPIBackend, for unnamed libraries
_failures: dict[str, BackendUnavailable] = {}
_lock = threading.Lock()
_seed: int | None = None
_default_name = os.environ.get("ANYGRAD_BACKEND", "numpy")
_override: contextvars.ContextVar[Backend | None] = contextvars.ContextVar(
    "anygrad_backend", default=None
)


def _resolve(name: str) -> Backend:
    backend = _cache.get(name)
    if backend is not None:
        return backend
    if name == "auto":
        try:
            backend = _resolve("cupy")
        except BackendUnavailable:
            backend = _resolve("numpy")
        _cache["auto"] = backend
        return backend
    if name not in _FACTORIES:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKEND_NAMES)}")
    if name in _failures:
        raise _failures[name]
    with _lock:
        if name not in _cache:
            try:
                _cache[name] = _FACTORIES[name](_seed)
            except BackendUnavailable as exc:
                _failures[name] = exc
                raise
            except Exception as exc:
                if name == "numpy":  # the reference backend failing is a bug: show it
                    raise
                # An optional library that imports but breaks on first use (a GPU wheel
                # without its toolkit, a mismatched driver) is unavailable, not a crash
                # of `auto` or `available_backends()`.
                failure = BackendUnavailable(
                    f"backend {name!r} failed to start: {type(exc).__name__}: {exc}"
                )
                failure.__cause__ = exc
                _failures[name] = failure
                raise failure from exc
    return _cache[name]


def get_backend(name: str | Backend | None = None) -> Backend:
    """The backend called `name`, or the current one (`use_backend`, else the default)."""
    if isinstance(name, Backend):
        return name
    if name is None:
        current = _override.get()
        return current if current is not None else _resolve(_default_name)
    return _resolve(name)


def set_backend(name: str) -> Backend:
    """Make `name` the process-wide default backend (the ANYGRAD_BACKEND variable sets it
    at start-up). `use_backend` overrides it for one block of code and one thread."""
    global _default_name
    backend = _resolve(name)
    _default_name = backend.name if name != "auto" else "auto"
    return backend


@contextlib.contextmanager
def use_backend(name: str | Backend):
    """Within the block, tensors made from Python data use backend `name`."""
    token = _override.set(get_backend(name))
    try:
        yield _override.get()
    finally:
        _override.reset(token)


def available_backends() -> list[str]:
    """Names of the backends that can run here, in the order of BACKEND_NAMES."""
    names = []
    for name in _FACTORIES:
        try:
            _resolve(name)
        except BackendUnavailable:
            continue
        names.append(name)
    return names


def register_backend(name: str, factory) -> None:
    """Plug in an adapter for an array library: `factory(seed)` returns a `Backend`.

    Name it after the library's top-level module (what `type(array).__module__` starts
    with, e.g. "dask") and arrays of that library find it; any name works with
    `get_backend(name)` and `use_backend(name)`. Without a registration, an array of a
    library array-api-compat knows still runs, on the generic `ArrayAPIBackend`.
    """
    if not callable(factory):
        raise TypeError(f"register_backend({name!r}, ...): the factory must be callable, "
                        f"not {type(factory).__name__}")
    if name == "auto":
        raise ValueError("register_backend: 'auto' is reserved (it picks cupy, else numpy)")
    with _lock:
        _FACTORIES[name] = factory
        _cache.pop(name, None)
        _failures.pop(name, None)


def _library_of(xp) -> str:
    """'torch' for array-api-compat's torch namespace, 'jax' for jax.numpy, ..."""
    module = xp.__name__
    if module.startswith("array_api_compat."):
        module = module[len("array_api_compat."):]
    return module.split(".", 1)[0]


def backend_of(array) -> Backend:
    """The backend that owns `array`: its library's adapter where one is registered, else
    a generic backend over the namespace array-api-compat gives it."""
    for name in ("numpy", *_cache):  # the common case: a backend already in use
        backend = _cache.get(name) or _resolve(name)
        if backend.owns(array):
            return backend
    for backend in _generic.values():
        if backend.owns(array):
            return backend
    from array_api_compat import array_namespace

    try:
        xp = array_namespace(array)
    except TypeError:
        raise TypeError(
            f"anygrad cannot use an object of type {type(array).__name__}: expected a Tensor, "
            f"a Python number, a nested list, or an array of a library array-api-compat "
            f"supports (backends here: {', '.join(_FACTORIES)})"
        ) from None
    library = _library_of(xp)
    if library in _FACTORIES:
        return _resolve(library)
    with _lock:
        backend = _generic.get(id(xp))
        if backend is None:
            from .generic import ArrayAPIBackend

            backend = ArrayAPIBackend.for_namespace(library, xp, type(array), _seed)
            _generic[id(xp)] = backend
    return backend


def rng_states():
    """A snapshot of the random streams of every backend made so far."""
    return {backend: backend.rng_state() for backend in {*_cache.values(), *_generic.values()}}


def set_rng_states(states):
    """Restore the streams that `rng_states()` saved."""
    for backend, state in states.items():
        backend.set_rng_state(state)


def manual_seed(seed: int) -> None:
    """Seed the random stream of every backend, including ones created later."""
    global _seed
    _seed = seed
    for backend in {*_cache.values(), *_generic.values()}:
        backend.seed(seed)
