"""Making tensors: from Python data or any backend's arrays, and the usual factories."""
from __future__ import annotations

from . import dtypes
from .backends import backend_of, get_backend
from .tensor import Tensor
from .engine import _batching, _wrap

_PY_DATA = (int, float, bool, complex, list, tuple)


def _to_array(data, dtype=None, backend=None, device=None, copy=False):
    """(array, backend) for `data`. Arrays keep their backend unless another is named;
    Python data goes to the named or current backend. With `copy`, the result never
    shares memory with `data`."""
    if isinstance(data, Tensor):
        data = data.array
    target = get_backend(backend) if backend is not None else None
    if isinstance(data, _PY_DATA):
        target = target or get_backend()
        if dtype is None:  # anygrad's rule, not the library's (torch would pick float32)
            dtype = _on_device(target, device, dtypes.infer(data))
        return target.asarray(data, dtype=dtype, device=device), target
    source = backend_of(data)
    target = target or source
    array = target.convert(data, source, device)
    if copy and array is data:
        array = target.xp.asarray(array, copy=True)
    if dtype is not None:
        wanted = target.dtype(dtype)
        if array.dtype != wanted:
            array = target.xp.astype(array, wanted)
    return array, target


def tensor(data, dtype=None, requires_grad=False, backend=None, device=None):
    """A new leaf tensor from Python scalars, nested lists, or any backend's arrays.

    An array keeps its own backend unless `backend` is given (numpy data given with
    backend="cupy" moves to the GPU); Python data uses the current backend. The data is
    always copied, as torch.tensor does: optimizers update parameters in place, and the
    caller's array must not change with them. `as_tensor` wraps without copying.
    """
    array, target = _to_array(data, dtype, backend, device, copy=True)
    t = _wrap(array, target)
    if requires_grad:
        t.requires_grad_(True)
    return t


def as_tensor(data, backend=None):
    """`data` itself if it is a Tensor, else a constant tensor wrapping it."""
    if isinstance(data, Tensor) and backend is None:
        return data
    array, target = _to_array(data, None, backend)
    return _wrap(array, target)


_OFFERED: dict = {}  # (backend, device) -> the dtype names the device holds


def _on_device(backend, device, name):
    """The dtype `name` a default (or inferred) dtype becomes on `device`: itself, or
    float32 / complex64 on a device without float64 / complex128 (as that device's
    default dtypes say, e.g. array_api_strict's "no_float64")."""
    if device is None or name not in ("float64", "complex128"):
        return name
    key = (backend.name, str(device))
    offered = _OFFERED.get(key)
    if offered is None:
        info = getattr(backend.xp, "__array_namespace_info__", None)
        offered = _OFFERED[key] = None if info is None else set(info().dtypes(device=device))
    if offered is None or name in offered:
        return name
    return "float32" if name == "float64" else "complex64"


def _factory(fill, random=False):
    def make(shape, dtype=None, backend=None, device=None, requires_grad=False):
        b = get_backend(backend)
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        dtype = b.dtype(dtype if dtype is not None else
                        _on_device(b, device, dtypes.get_default_dtype().name))
        if random and _batching:  # inside ag.vmap: as its randomness says
            from .batching.random import draw

            return draw(lambda s: fill(b, s, dtype, _where(b, device)), shape, b,
                        "ag.randn or ag.rand", requires_grad)
        array = fill(b, shape, dtype, _where(b, device))
        return _leaf(array, b, requires_grad)

    return make


def _where(backend, device):
    """The device asked for, else the backend's default (device 0 is a device, not None)."""
    return device if device is not None else backend.default_device()


def _leaf(array, backend, requires_grad):
    t = _wrap(array, backend)
    if requires_grad:
        t.requires_grad_(True)
    return t


zeros = _factory(lambda b, shape, dtype, device: b.xp.zeros(shape, dtype=dtype, device=device))
ones = _factory(lambda b, shape, dtype, device: b.xp.ones(shape, dtype=dtype, device=device))
randn = _factory(lambda b, shape, dtype, device: b.normal(shape, dtype, device), random=True)
rand = _factory(lambda b, shape, dtype, device: b.uniform(shape, dtype, device), random=True)
# dtype=None means anygrad's default float (ag.get_default_dtype()) on every backend.
zeros.__doc__ = "A tensor of zeros with the given shape."
ones.__doc__ = "A tensor of ones with the given shape."
randn.__doc__ = "Standard normal samples from the backend's seeded stream."
rand.__doc__ = "Uniform [0, 1) samples from the backend's seeded stream."


def full(shape, fill_value, dtype=None, backend=None, device=None, requires_grad=False):
    """A tensor of the given shape filled with `fill_value`; dtype=None infers it from
    the value (a Python float gives anygrad's default float)."""
    b = get_backend(backend)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    dtype = _on_device(b, device, dtypes.infer(fill_value)) if dtype is None else dtype
    array = b.xp.full(shape, fill_value, dtype=b.dtype(dtype), device=_where(b, device))
    return _leaf(array, b, requires_grad)


def arange(start, stop=None, step=1, dtype=None, backend=None, device=None, requires_grad=False):
    """Numbers from `start` to `stop` (excluded) in steps of `step`; one argument is the
    stop, from 0. dtype=None: integers for integer arguments, else the default float."""
    b = get_backend(backend)
    dtype = _on_device(b, device, dtypes.infer([start, stop, step])) if dtype is None else dtype
    array = b.xp.arange(start, stop, step, dtype=b.dtype(dtype), device=_where(b, device))
    return _leaf(array, b, requires_grad)


def linspace(start, stop, num, dtype=None, backend=None, device=None, endpoint=True,
             requires_grad=False):
    """`num` evenly spaced numbers from `start` to `stop` (included when `endpoint`)."""
    b = get_backend(backend)
    dtype = _on_device(b, device, dtypes.infer([start, stop, 0.0])) if dtype is None else dtype
    array = b.xp.linspace(start, stop, num, dtype=b.dtype(dtype), device=_where(b, device),
                          endpoint=endpoint)
    return _leaf(array, b, requires_grad)


def eye(n_rows, n_cols=None, k=0, dtype=None, backend=None, device=None, requires_grad=False):
    """An n_rows by n_cols (default square) matrix of zeros with ones on diagonal `k`, in
    the default float dtype unless `dtype` is given."""
    b = get_backend(backend)
    dtype = _on_device(b, device, dtypes.get_default_dtype().name) if dtype is None else dtype
    array = b.xp.eye(n_rows, n_cols, k=k, dtype=b.dtype(dtype), device=_where(b, device))
    return _leaf(array, b, requires_grad)


def zeros_like(x, dtype=None, requires_grad=False):
    """A tensor of zeros with x's shape, backend and device, and x's dtype unless
    `dtype` is given."""
    x = as_tensor(x)
    if getattr(x, "_level", None) is not None:  # batched by ag.vmap: zeros for every example
        return _batched_like(zeros_like, x, dtype, requires_grad)
    b = x.backend
    return _leaf(b.xp.zeros_like(x.array, dtype=b.dtype(dtype)), b, requires_grad)


def ones_like(x, dtype=None, requires_grad=False):
    """A tensor of ones with x's shape, backend and device, and x's dtype unless `dtype`
    is given."""
    x = as_tensor(x)
    if getattr(x, "_level", None) is not None:
        return _batched_like(ones_like, x, dtype, requires_grad)
    b = x.backend
    return _leaf(b.xp.ones_like(x.array, dtype=b.dtype(dtype)), b, requires_grad)


def full_like(x, fill_value, dtype=None, requires_grad=False):
    """A tensor of `fill_value` with x's shape, backend and device, and x's dtype unless
    `dtype` is given."""
    x = as_tensor(x)
    if getattr(x, "_level", None) is not None:
        return _batched_like(lambda v, *a: full_like(v, fill_value, *a), x, dtype, requires_grad)
    b = x.backend
    return _leaf(b.xp.full_like(x.array, fill_value, dtype=b.dtype(dtype)), b, requires_grad)


def _batched_like(make, x, dtype, requires_grad):
    from .batching.tensor import BatchedTensor

    return BatchedTensor(make(x._value, dtype, requires_grad), x._level)
