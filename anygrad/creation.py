"""Making tensors: from Python data or any backend's arrays, and the usual factories."""
from __future__ import annotations

from . import dtypes
from .backends import backend_of, get_backend
from .tensor import Tensor
from .engine import _wrap

_PY_DATA = (int, float, bool, complex, list, tuple)


def _to_array(data, dtype=None, backend=None, device=None, copy=False):
    """(array, backend) for `data`. Arrays keep their backend unless another is named;
    Python data goes to the named or current backend. With `copy`, the result never
    shares memory with `data`."""
    if isinstance(data, Tensor):
        data = data.data
    target = get_backend(backend) if backend is not None else None
    if isinstance(data, _PY_DATA):
        target = target or get_backend()
        if dtype is None:  # anygrad's rule, not the library's (torch would pick float32)
            dtype = dtypes.infer(data)
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


def _factory(fill):
    def make(shape, dtype=None, backend=None, device=None, requires_grad=False):
        b = get_backend(backend)
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        dtype = b.dtype(dtype if dtype is not None else dtypes.get_default_dtype().name)
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
randn = _factory(lambda b, shape, dtype, device: b.normal(shape, dtype, device))
rand = _factory(lambda b, shape, dtype, device: b.uniform(shape, dtype, device))
# dtype=None means anygrad's default float (ag.get_default_dtype()) on every backend.
zeros.__doc__ = "A tensor of zeros with the given shape."
ones.__doc__ = "A tensor of ones with the given shape."
randn.__doc__ = "Standard normal samples from the backend's seeded stream."
rand.__doc__ = "Uniform [0, 1) samples from the backend's seeded stream."


def full(shape, fill_value, dtype=None, backend=None, device=None, requires_grad=False):
    b = get_backend(backend)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    dtype = dtypes.infer(fill_value) if dtype is None else dtype
    array = b.xp.full(shape, fill_value, dtype=b.dtype(dtype), device=_where(b, device))
    return _leaf(array, b, requires_grad)


def arange(start, stop=None, step=1, dtype=None, backend=None, device=None, requires_grad=False):
    b = get_backend(backend)
    dtype = dtypes.infer([start, stop, step]) if dtype is None else dtype
    array = b.xp.arange(start, stop, step, dtype=b.dtype(dtype), device=_where(b, device))
    return _leaf(array, b, requires_grad)


def linspace(start, stop, num, dtype=None, backend=None, device=None, endpoint=True,
             requires_grad=False):
    """`num` evenly spaced numbers from `start` to `stop` (included when `endpoint`)."""
    b = get_backend(backend)
    dtype = dtypes.infer([start, stop, 0.0]) if dtype is None else dtype
    array = b.xp.linspace(start, stop, num, dtype=b.dtype(dtype), device=_where(b, device),
                          endpoint=endpoint)
    return _leaf(array, b, requires_grad)


def eye(n_rows, n_cols=None, k=0, dtype=None, backend=None, device=None, requires_grad=False):
    b = get_backend(backend)
    dtype = dtypes.get_default_dtype().name if dtype is None else dtype
    array = b.xp.eye(n_rows, n_cols, k=k, dtype=b.dtype(dtype), device=_where(b, device))
    return _leaf(array, b, requires_grad)


def zeros_like(x, dtype=None, requires_grad=False):
    x = as_tensor(x)
    b = x.backend
    return _leaf(b.xp.zeros_like(x.data, dtype=b.dtype(dtype)), b, requires_grad)


def ones_like(x, dtype=None, requires_grad=False):
    x = as_tensor(x)
    b = x.backend
    return _leaf(b.xp.ones_like(x.data, dtype=b.dtype(dtype)), b, requires_grad)


def full_like(x, fill_value, dtype=None, requires_grad=False):
    x = as_tensor(x)
    b = x.backend
    return _leaf(b.xp.full_like(x.data, fill_value, dtype=b.dtype(dtype)), b, requires_grad)
