"""The Backend interface, with portable defaults written against the Array API.

A backend wraps one array library. The engine reaches that library only through a
Backend: its standard namespace (`xp`), plus the few things the standard leaves out —
moving data to and from host numpy, seeded random numbers, scatter-add with repeated
indices, device synchronisation and memory statistics. Every default here is portable, so
any namespace array-api-compat knows works; adapters override a method only where their
library has something faster.
"""
from __future__ import annotations

import math

import numpy as np  # host side: transfers and the portable random stream

from .gather_index import flat_positions

__all__ = ["Backend", "BackendUnavailable", "GatherSpec"]


class BackendUnavailable(RuntimeError):
    """The backend asked for cannot run here; the message says why."""


class GatherSpec:
    """A selection of elements of an array (indexing, take, take_along_axis).

    The gradient of a gather is a scatter-add of the cotangent into zeros of the
    source shape. Describing the selection once lets every backend scatter it its own
    way, and lets the gradient of that scatter be the same gather again.
    """

    __slots__ = ("kind", "index", "axis", "basic")

    def __init__(self, kind, index, axis=None):
        self.kind = kind  # "getitem" | "take" | "take_along_axis"
        self.index = index
        self.axis = axis
        # A basic index (ints, slices, Ellipsis) selects each element at most once, so
        # its scatter is a plain assignment. (None is left to the general path: the
        # standard does not allow it in an assignment.)
        self.basic = kind == "getitem" and all(
            k is Ellipsis or isinstance(k, (int, slice)) for k in index
        )

    def apply(self, ns, a):
        """Select from `a` using namespace `ns` (raw array namespace or anygrad's)."""
        if self.kind == "getitem":
            return a[self.index]
        if self.kind == "take":
            return ns.take(a, self.index, axis=self.axis)
        return ns.take_along_axis(a, self.index, axis=self.axis)


class _RawOps:
    """The namespace every forward sees, and the backward rules when no graph is recorded.

    It is the library's own namespace plus the two helpers the rules need that the
    standard lacks, so a rule runs unchanged on raw arrays or on anygrad Tensors. An
    adapter whose library lacks a function (or gets one wrong) subclasses it and defines
    that function as a method: every op then reaches the fix, with nothing else to edit.
    Looked-up names are cached on the instance, so falling through to the library costs
    one attribute read.
    """

    def __init__(self, backend):
        self._backend = backend

    def __getattr__(self, name):
        value = getattr(self._backend.xp, name)
        setattr(self, name, value)  # cache: later lookups skip __getattr__
        return value

    def gather_grad(self, g, spec, shape):
        return self._backend.scatter(spec, shape, g)

    def transfer(self, g, backend, device):
        return backend.convert(g, self._backend, device)


class Backend:
    """Adapter for one array library. Subclasses set `name` and override what is faster."""

    name = "array_api"
    multi_device = False
    # Whether `array[key]` takes every numpy index (integer arrays and masks mixed with
    # slices and `...`). The standard promises less; without it anygrad gathers through
    # `index_positions` instead.
    numpy_indexing = False
    # Device libraries, where reading a value stalls the device, queue value checks
    # (`check`) and raise at the next point that reads values anyway.
    defer_checks = False
    # Libraries that only build a graph until a value is read (dask): a timed step is the
    # cost of describing work, not of doing it.
    lazy = False
    # Whether a reshaped slice of a contiguous array is a view that in-place updates
    # write through (numpy, torch, cupy). The optimizers then keep small parameters as
    # views of one flat array and update them together; not where arrays are immutable
    # (jax) or the standard promises no views (array_api_strict).
    writable_views = False
    # For libraries whose kernels run on a "current device" (CuPy with several GPUs): a
    # callable giving, for a list of arrays, a context in which their device is current.
    # The engine runs each op under it. None where there is nothing to enter.
    device_guard = None

    def __init__(self, xp, seed=None):
        self.xp = xp
        self.ops = _RawOps(self)
        self._deferred = []
        self.seed(seed)

    # One backend object per library and device: a copied model (copy.deepcopy, the
    # usual way to keep a target network or an average of weights) shares it.
    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __repr__(self):
        return f"Backend({self.name!r})"

    # ----------------------------------------------------------- arrays and dtypes
    def owns(self, array) -> bool:
        """Whether `array` belongs to this library."""
        raise NotImplementedError

    def dtype(self, spec):
        """Resolve a dtype given by name, by another library's dtype, or by ours."""
        if spec is None or not isinstance(spec, str) and self._is_own_dtype(spec):
            return spec
        name = spec if isinstance(spec, str) else _dtype_name(spec)
        try:
            return getattr(self.xp, name)
        except AttributeError:
            raise TypeError(f"backend {self.name!r} has no dtype {name!r}") from None

    def _is_own_dtype(self, spec):
        # By identity: anygrad's own dtypes compare equal to every library's by name.
        return any(spec is getattr(self.xp, n, None) for n in _DTYPE_NAMES)

    def asarray(self, data, dtype=None, device=None):
        """Python scalars, nested lists, or this library's arrays."""
        kwargs = {"dtype": self.dtype(dtype)}
        if device is not None:
            kwargs["device"] = device
        return self.xp.asarray(data, **kwargs)

    def device(self, array):
        from array_api_compat import device

        return device(array)

    def default_device(self):
        return None

    def index(self, indices):
        """Integer indices in the form the library's gathers accept."""
        return indices

    def index_positions(self, shape, key, device=None):
        """For an index beyond the standard: the flat position in an array of `shape` of
        every element `array[key]` selects, shaped as the result (computed on the host)."""
        host_key = tuple(self.to_numpy(k) if hasattr(k, "shape") else k for k in key)
        positions = np.arange(math.prod(shape), dtype=np.int64).reshape(shape)[host_key]
        return self.from_numpy(positions, device)

    def to_device(self, array, device):
        from array_api_compat import to_device

        return to_device(array, device)

    def synchronize(self, device=None):
        """Wait until queued work is done (for timing). CPU libraries run eagerly."""

    def memory_stats(self, device=None):
        """{"in_use": bytes, "peak": bytes or None} for device libraries; None where the
        library keeps no statistics (the CPU ones: measure those with tracemalloc)."""
        return None

    def reset_peak_memory(self, device=None):
        """Start a new peak-memory window where the library tracks one."""

    def item(self, array):
        return self.to_numpy(array).item()

    # ----------------------------------------------------------- value checks
    _MAX_DEFERRED = 256  # queued checks before they are read anyway (one sync per 256)

    def check(self, failed, error, defer=None):
        """Raise `error()` if the boolean 0-d array `failed` holds. Where `defer_checks`
        (or `defer`), the check is queued and raised by `raise_deferred` instead of
        stalling now."""
        if not (self.defer_checks if defer is None else defer):
            if self.item(failed):
                raise error()
            return
        self._deferred.append((failed, error))
        if len(self._deferred) >= self._MAX_DEFERRED:
            self.raise_deferred()

    def raise_deferred(self):
        """Read the queued checks (one host synchronisation) and raise the first failure."""
        if not self._deferred:
            return
        queued, self._deferred = self._deferred, []
        flags = self.to_numpy(self.xp.stack([f for f, _ in queued]))
        for flag, (_, error) in zip(flags.tolist(), queued):
            if flag:
                raise error()

    def sub_scaled(self, target, value, scale):
        """`target - scale * value`, in place where the library allows (the optimizers'
        parameter update). Augmented assignment rebinds on immutable libraries (jax)."""
        target -= scale * value
        return target

    # ----------------------------------------------------------- host transfers
    def to_numpy(self, array):
        """A host numpy copy of `array`."""
        try:
            return np.array(np.from_dlpack(array), copy=True)
        except (TypeError, RuntimeError, BufferError, AttributeError):
            return np.array(array, copy=True)

    def from_numpy(self, array, device=None):
        """Our array holding a copy of host numpy `array`."""
        kwargs = {} if device is None else {"device": device}
        return self.xp.asarray(array, copy=True, **kwargs)

    def convert(self, array, source, device=None):
        """Move `array` from backend `source` to this backend (always a copy)."""
        if source is self:
            if device is None or device == self.device(array):
                return array
            return self.to_device(array, device)
        return self.from_numpy(source.to_numpy(array), device)

    # ----------------------------------------------------------- communication buffers
    def host_view(self, array):
        """A writable host numpy array sharing `array`'s memory (through DLPack), or None
        where there is none to share: device memory, or a library whose arrays must not
        change. Collective communication (`anygrad.distributed`) sends and receives in
        place through it, with no copy; on None it copies through `to_numpy`."""
        try:
            view = np.from_dlpack(array)
        except (TypeError, RuntimeError, BufferError, AttributeError, ValueError):
            return None
        flags = view.flags
        return view if flags.writeable and flags.c_contiguous else None

    def gpu_buffer(self, array):
        """`array` itself where it lives in GPU memory that NCCL or a CUDA-aware MPI can
        read and write in place; None for host arrays."""
        return None

    # ----------------------------------------------------------- kernel fusion
    def fuse(self, function):
        """`function` (of arrays, made of elementwise operations only) compiled into one
        kernel, or None where the library has no such compiler. `ag.compile(fuse=True)`
        replays elementwise chains through it."""
        return None

    # ----------------------------------------------------------- scatter (gather gradients)
    def scatter(self, spec: GatherSpec, shape, values):
        """Zeros of `shape` with `values` added where `spec` selected (repeats summed)."""
        xp = self.xp
        device = self.device(values)
        if spec.basic:
            return self._assign(xp.zeros(shape, dtype=values.dtype, device=device), spec.index, values)
        size = 1
        for s in shape:
            size *= s
        if spec.kind == "getitem":
            # Any index the library accepts: follow every source position through the
            # same selection. This needs a source-sized arange; take and
            # take_along_axis compute their positions from the index alone.
            positions = xp.reshape(xp.arange(size, device=device), shape)
            positions = spec.apply(xp, positions)
        else:
            positions = flat_positions(spec, shape, xp, device)
        flat = self.scatter_add_1d(size, xp.reshape(positions, (-1,)), xp.reshape(values, (-1,)))
        return xp.reshape(flat, shape)

    def _assign(self, out, index, values):
        out[index] = values
        return out

    def add_at(self, out, index, values):
        """`out` with `values` added to `out[index]`, for a basic index (ints and slices)
        into an array the caller made and owns: in place where the library allows it.
        col2im sums its few overlapping window slices this way."""
        return self._assign(out, index, out[index] + values)

    def scatter_add_1d(self, size, index, values):
        """A length-`size` vector with `values[k]` added at `index[k]`.

        Portable and exact: a one-hot matrix product, so each sum is over the real
        contributions only. Libraries with a native scatter-add override this.
        """
        xp = self.xp
        if index.shape[0] == 0:
            return xp.zeros((size,), dtype=values.dtype, device=self.device(values))
        targets = xp.arange(size, device=self.device(values))
        onehot = xp.astype(index[:, None] == targets[None, :], values.dtype)
        return xp.matmul(values[None, :], onehot)[0, :]

    # ----------------------------------------------------------- random numbers
    def seed(self, seed=None):
        """Restart this backend's random stream."""
        self._rng = np.random.default_rng(seed)

    def rng_state(self):
        """A snapshot of this backend's random streams, which `set_rng_state` restores:
        recomputation (ag.checkpoint) replays a forward with the same draws."""
        return self._rng.bit_generator.state

    def set_rng_state(self, state):
        self._rng.bit_generator.state = state

    # The portable stream draws on the host and copies over, so numpy, torch, jax and
    # array_api_strict produce identical numbers from the same seed. Device libraries
    # override these to draw on the device.
    def normal(self, shape, dtype, device=None, mean=0.0, std=1.0):
        host = self._rng.normal(mean, std, size=shape)
        return self.from_numpy(host.astype(_dtype_name(dtype)), device)

    def uniform(self, shape, dtype, device=None, low=0.0, high=1.0):
        host = self._rng.uniform(low, high, size=shape)
        return self.from_numpy(host.astype(_dtype_name(dtype)), device)

    def integers(self, low, high, shape, device=None):
        return self.from_numpy(self._rng.integers(low, high, size=shape), device)

    def permutation(self, n, device=None):
        return self.from_numpy(self._rng.permutation(n), device)

    def bernoulli(self, p, shape, dtype, device=None):
        host = (self._rng.random(size=shape) < p).astype(_dtype_name(dtype))
        return self.from_numpy(host, device)

    # ----------------------------------------------------------- sliding windows
    def sliding_windows(self, x, window_shape, axes):
        """A read-only view of every window of `window_shape` over `axes` of x, laid out
        as numpy's sliding_window_view (window positions in place of `axes`, window
        offsets appended), or None where the library has no strided views.

        Convolution and pooling then copy the windows out in one pass; on None they copy
        one strided slice per window offset instead, with identical results.
        """
        return None


_DTYPE_NAMES = (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float32", "float64", "complex64", "complex128",
)


def _dtype_name(spec) -> str:
    """'float32' from any library's float32 (numpy, torch, cupy, jax, strict) or a str."""
    if isinstance(spec, str):
        return spec
    name = getattr(spec, "name", None)
    if isinstance(name, str):
        return name
    name = getattr(spec, "__name__", None)
    if isinstance(name, str):
        return name
    return str(spec).rsplit(".", 1)[-1]
