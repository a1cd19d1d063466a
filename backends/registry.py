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
    "available_backends", "backend_of", "get_backend", "manual_seed", "set_backend",
    "use_backend", "BACKEND_NAMES",
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


_FACTORIES = {
    "numpy": _numpy,
    "cupy": _cupy,
    "torch": _torch,
    "jax": _jax,
    "array_api_strict": _strict,
}
BACKEND_NAMES = (*_FACTORIES, "auto")

_cache: dict[str, Backend] = {}
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


def backend_of(array) -> Backend:
    """The backend that owns `array`, among those installed."""
    for name in ("numpy", *_cache):
        backend = _cache.get(name) or _resolve(name)
        if backend.owns(array):
            return backend
    from array_api_compat import (
        is_array_api_strict_namespace, is_cupy_array, is_jax_array, is_torch_array,
    )

    if is_cupy_array(array):
        return _resolve("cupy")
    if is_torch_array(array):
        return _resolve("torch")
    if is_jax_array(array):
        return _resolve("jax")
    try:
        from array_api_compat import array_namespace

        if is_array_api_strict_namespace(array_namespace(array)):
            return _resolve("array_api_strict")
    except TypeError:
        pass
    raise TypeError(
        f"anygrad cannot use an object of type {type(array).__name__}: expected a Tensor, "
        f"a Python number, a nested list, or an array of one of {', '.join(_FACTORIES)}"
    )


def manual_seed(seed: int) -> None:
    """Seed the random stream of every backend, including ones created later."""
    global _seed
    _seed = seed
    for backend in set(_cache.values()):
        backend.seed(seed)
