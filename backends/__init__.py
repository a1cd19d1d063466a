"""Backend adapters and the selector; installed as `anygrad.backends`.

Only this package imports an array library by name. The engine asks it for a Backend
and talks to arrays through `backend.xp`, the library's Array API namespace.
"""
from .base import Backend, BackendUnavailable, GatherSpec
from .registry import (
    BACKEND_NAMES, available_backends, backend_of, get_backend, manual_seed,
    register_backend, set_backend, use_backend,
)

__all__ = [
    "BACKEND_NAMES", "Backend", "BackendUnavailable", "GatherSpec", "available_backends",
    "backend_of", "get_backend", "manual_seed", "register_backend", "set_backend",
    "use_backend",
]
