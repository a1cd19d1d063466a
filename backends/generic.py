"""Any namespace array-api-compat supports: torch, jax, array_api_strict.

The portable defaults in `base.Backend` do all the work; the few hooks below use a
library's own scatter or functional update where the portable form cannot run (jax's
arrays are immutable) or would be slow.
"""
from __future__ import annotations

import importlib

from .base import Backend, BackendUnavailable


class ArrayAPIBackend(Backend):
    """A library reached only through its standard namespace."""

    def __init__(self, name, module, seed=None):
        try:
            library = importlib.import_module(module)
        except ImportError as exc:
            raise BackendUnavailable(
                f"backend {name!r} needs the {module!r} package, which is not installed"
            ) from exc
        from array_api_compat import array_namespace

        self.name = name
        self.library = library
        probe = library.asarray(0.0) if hasattr(library, "asarray") else library.tensor(0.0)
        super().__init__(array_namespace(probe), seed)
        self._array_type = type(probe)

    def owns(self, array):
        return isinstance(array, self._array_type)


class StrictBackend(ArrayAPIBackend):
    """array_api_strict: the standard and nothing else. Passing here means portable."""

    multi_device = True

    def __init__(self, seed=None):
        super().__init__("array_api_strict", "array_api_strict", seed)

    def default_device(self):
        return self.xp.Device()


class TorchBackend(ArrayAPIBackend):
    multi_device = True

    def __init__(self, seed=None):
        super().__init__("torch", "torch", seed)

    def _is_own_dtype(self, spec):
        return isinstance(spec, self.library.dtype)

    def default_device(self):
        return self.library.get_default_device()

    def index(self, indices):
        # torch's gathers take only int64 indices; int32 is common in user data. Boolean
        # masks must stay masks: widened, they would select rows 0 and 1.
        narrow = (self.library.int8, self.library.int16, self.library.int32, self.library.uint8)
        if isinstance(indices, self._array_type) and indices.dtype in narrow:
            return indices.to(self.library.int64)
        return indices

    def to_numpy(self, array):
        return array.detach().cpu().numpy().copy()

    def item(self, array):
        return array.item()

    def scatter_add_1d(self, size, index, values):
        out = self.library.zeros(size, dtype=values.dtype, device=values.device)
        return out.index_add_(0, index, values)

    def synchronize(self, device=None):
        if self.library.cuda.is_available():
            self.library.cuda.synchronize(device)

    def memory_stats(self, device=None):
        if not self.library.cuda.is_available():
            return None
        cuda = self.library.cuda
        return {"in_use": cuda.memory_allocated(device), "peak": cuda.max_memory_allocated(device)}

    def reset_peak_memory(self, device=None):
        if self.library.cuda.is_available():
            self.library.cuda.reset_peak_memory_stats(device)


class JaxBackend(ArrayAPIBackend):
    multi_device = True

    def __init__(self, seed=None):
        super().__init__("jax", "jax.numpy", seed)
        import jax

        self._jax = jax
        self._array_type = jax.Array

    def _assign(self, out, index, values):
        return out.at[index].set(values)

    def scatter_add_1d(self, size, index, values):
        zeros = self.xp.zeros((size,), dtype=values.dtype)
        return zeros.at[index].add(values)

    def synchronize(self, device=None):
        self._jax.effects_barrier()

    def default_device(self):
        return self._jax.devices()[0]

    def jit(self, fn):
        """jax's own compiler, for ag.compile(..., jit=True) (a pure function of arrays)."""
        return self._jax.jit(fn)
