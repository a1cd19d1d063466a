"""Any namespace array-api-compat supports: torch, jax, array_api_strict, and libraries
anygrad has never heard of (`ArrayAPIBackend.for_namespace`).

The portable defaults in `base.Backend` do all the work; the few hooks below use a
library's own scatter or functional update where the portable form cannot run (jax's
arrays are immutable) or would be slow.
"""
from __future__ import annotations

import importlib

import numpy as np  # seeds for the per-device generators

from .base import Backend, BackendUnavailable, _RawOps


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

    @classmethod
    def for_namespace(cls, name, xp, array_type, seed=None):
        """The backend of a library found through its arrays (`backend_of`): nothing to
        import, the namespace and the array type are already known."""
        self = cls.__new__(cls)
        self.name = name
        self.library = None
        Backend.__init__(self, xp, seed)
        self._array_type = array_type
        return self

    def owns(self, array):
        return isinstance(array, self._array_type)


class StrictBackend(ArrayAPIBackend):
    """array_api_strict: the standard and nothing else. Passing here means portable."""

    multi_device = True

    def __init__(self, seed=None):
        super().__init__("array_api_strict", "array_api_strict", seed)

    def default_device(self):
        return self.xp.Device()


class TorchOps(_RawOps):
    """torch's namespace, with sums of uint16, uint32 and uint64, which torch stores but
    does not add: they are added in int64, whose wraparound leaves the same bits."""

    def _unsigned(self, dtype):
        torch = self._backend.library
        return dtype in (torch.uint16, torch.uint32, torch.uint64)

    def sum(self, x, /, *, axis=None, dtype=None, keepdims=False):
        xp = self._backend.xp
        if not self._unsigned(dtype):
            return xp.sum(x, axis=axis, dtype=dtype, keepdims=keepdims)
        wide = xp.sum(xp.astype(x, xp.int64), axis=axis, dtype=xp.int64, keepdims=keepdims)
        return xp.astype(wide, dtype)

    def cumulative_sum(self, x, /, *, axis=None, dtype=None, include_initial=False):
        xp = self._backend.xp
        if not self._unsigned(dtype):
            return xp.cumulative_sum(x, axis=axis, dtype=dtype, include_initial=include_initial)
        wide = xp.cumulative_sum(xp.astype(x, xp.int64), axis=axis, dtype=xp.int64,
                                 include_initial=include_initial)
        return xp.astype(wide, dtype)


class TorchBackend(ArrayAPIBackend):
    """torch on its default device: CUDA when a GPU is visible (unless torch's own
    default device says otherwise), else the CPU. On CUDA, random numbers come from one
    seeded torch.Generator per device; on the CPU, from the portable host stream, so a
    seed gives the same numbers as numpy's."""

    multi_device = True
    numpy_indexing = True
    writable_views = True

    def __init__(self, seed=None):
        super().__init__("torch", "torch", seed)
        self.ops = TorchOps(self)
        default = self.library.get_default_device()
        if default.type == "cpu" and self.library.cuda.is_available():
            default = self.library.device("cuda", self.library.cuda.current_device())
        self._default = default

    def _is_own_dtype(self, spec):
        return isinstance(spec, self.library.dtype)

    def default_device(self):
        return self._default

    def asarray(self, data, dtype=None, device=None):
        # Python data goes to the default device; a torch tensor stays where it is.
        if device is None and not isinstance(data, self._array_type):
            device = self._default
        return super().asarray(data, dtype, device)

    def from_numpy(self, array, device=None):
        return super().from_numpy(array, self._default if device is None else device)

    def index(self, indices):
        # torch's gathers take only int64 indices; int32 is common in user data. Boolean
        # masks must stay masks: widened, they would select rows 0 and 1.
        narrow = (self.library.int8, self.library.int16, self.library.int32, self.library.uint8)
        if isinstance(indices, self._array_type) and indices.dtype in narrow:
            return indices.to(self.library.int64)
        return indices

    def to_numpy(self, array):
        return array.detach().cpu().numpy().copy()

    def convert(self, array, source, device=None):
        # CuPy arrays reach CUDA tensors through DLPack, without a trip through the host.
        if getattr(source, "name", None) == "cupy":
            shared = self.library.from_dlpack(array)
            return shared.clone() if device is None else shared.to(device, copy=True)
        return super().convert(array, source, device)

    def item(self, array):
        return array.item()

    def gpu_buffer(self, array):
        return array if array.device.type == "cuda" else None

    def sub_scaled(self, target, value, scale):
        # One pass and no parameter-sized temporary, as torch.optim's own SGD updates.
        return target.sub_(value, alpha=scale)

    def jit(self, fn):
        """torch.compile, for ag.compile(..., jit=True) (a pure function of arrays). It
        compiles at the first call, which takes seconds to minutes on a CPU."""
        return self.library.compile(fn, dynamic=False)

    def scatter_add_1d(self, size, index, values):
        out = self.library.zeros(size, dtype=values.dtype, device=values.device)
        return out.index_add_(0, index, values)

    # ----------------------------------------------------------- devices and memory
    def _cuda(self, device):
        """The CUDA device `device` means (None: the default), or None for a CPU one."""
        device = self.library.device(self._default if device is None else device)
        if device.type != "cuda":
            return None
        return device if device.index is not None else self.library.device(
            "cuda", self.library.cuda.current_device())

    def synchronize(self, device=None):
        cuda = self._cuda(device)
        if cuda is not None:
            self.library.cuda.synchronize(cuda)

    def memory_stats(self, device=None):
        # CUDA counters only for a CUDA device: a CPU run is measured with tracemalloc.
        cuda = self._cuda(device)
        if cuda is None:
            return None
        stats = self.library.cuda
        return {"in_use": stats.memory_allocated(cuda), "peak": stats.max_memory_allocated(cuda)}

    def reset_peak_memory(self, device=None):
        cuda = self._cuda(device)
        if cuda is not None:
            self.library.cuda.reset_peak_memory_stats(cuda)

    # ----------------------------------------------------------- random numbers
    def seed(self, seed=None):
        super().seed(seed)
        self._seed = seed
        self._generators = {}

    def rng_state(self):
        return super().rng_state(), {key: g.get_state() for key, g in self._generators.items()}

    def set_rng_state(self, state):
        host, devices = state
        super().set_rng_state(host)
        # A generator made since the snapshot is dropped, to be made again from the seed.
        self._generators = {key: self._generators[key] for key in devices}
        for key, saved in devices.items():
            self._generators[key].set_state(saved)

    def _generator(self, device):
        """The seeded torch.Generator of `device`, made on first use."""
        key = str(device)
        generator = self._generators.get(key)
        if generator is None:
            generator = self.library.Generator(device=device)
            if self._seed is None:
                generator.seed()
            else:
                index = device.index or 0
                seed = np.random.SeedSequence((int(self._seed), index)).generate_state(1, np.uint64)[0]
                generator.manual_seed(int(seed) & 0x7FFF_FFFF_FFFF_FFFF)
            self._generators[key] = generator
        return generator

    def _draw_device(self, device):
        """The CUDA device to draw on, or None to use the portable host stream."""
        return self._cuda(device)

    def _drawn_dtype(self, dtype):
        """(wanted dtype, dtype to draw in): half precisions are drawn in float32."""
        wanted = self.dtype(dtype)
        lib = self.library
        return wanted, (wanted if wanted in (lib.float32, lib.float64) else lib.float32)

    def _scaled(self, draw, shape, dtype, on, scale, shift):
        """`draw` (torch.randn or torch.rand) on device `on`, times scale plus shift."""
        wanted, drawn = self._drawn_dtype(dtype)
        out = draw(tuple(shape), generator=self._generator(on), dtype=drawn, device=on)
        return (out * scale + shift).to(wanted)

    def normal(self, shape, dtype, device=None, mean=0.0, std=1.0):
        on = self._draw_device(device)
        if on is None:
            return super().normal(shape, dtype, device, mean, std)
        return self._scaled(self.library.randn, shape, dtype, on, std, mean)

    def uniform(self, shape, dtype, device=None, low=0.0, high=1.0):
        on = self._draw_device(device)
        if on is None:
            return super().uniform(shape, dtype, device, low, high)
        return self._scaled(self.library.rand, shape, dtype, on, high - low, low)

    def integers(self, low, high, shape, device=None):
        on = self._draw_device(device)
        if on is None:
            return super().integers(low, high, shape, device)
        return self.library.randint(int(low), int(high), tuple(shape), generator=self._generator(on),
                                    dtype=self.library.int64, device=on)

    def permutation(self, n, device=None):
        on = self._draw_device(device)
        if on is None:
            return super().permutation(n, device)
        return self.library.randperm(int(n), generator=self._generator(on), device=on)

    def bernoulli(self, p, shape, dtype, device=None):
        on = self._draw_device(device)
        if on is None:
            return super().bernoulli(p, shape, dtype, device)
        u = self.library.rand(tuple(shape), generator=self._generator(on), device=on)
        return (u < p).to(self.dtype(dtype))


class JaxBackend(ArrayAPIBackend):
    multi_device = True
    numpy_indexing = True

    def __init__(self, seed=None):
        super().__init__("jax", "jax.numpy", seed)
        import jax

        self._jax = jax
        self._array_type = jax.Array

    def host_view(self, array):
        return None  # jax arrays are immutable: writing through a view would break that

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
