"""PyTorch's spelling of anygrad: `import anygrad.torch as torch`.

    import anygrad.torch as torch
    import anygrad.torch.nn as nn
    import anygrad.torch.nn.functional as F
    from anygrad.torch.utils.data import DataLoader, TensorDataset

Every name here maps PyTorch's arguments and results onto anygrad's own ops, layers,
optimizers and data tools; nothing is computed a second way. Where PyTorch and the
Array API differ, these functions give PyTorch's meaning: factories make float32
unless told, `std`/`var` are unbiased, `max(x, dim)`, `sort` and `topk` return
(values, indices). A PyTorch name not mapped yet is an AttributeError saying so.
"""
from __future__ import annotations

import builtins
import math

import anygrad as _ag

from .. import creation as _creation
from .. import dtypes as _dtypes
from .. import ops as _ops
from .._aliases import ValuesIndices as _ValuesIndices
from ..modes import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from ..tensor import Tensor as _Tensor
from . import _device
from ._device import device
from . import _forwarding
from ._forwarding import with_out as _with_out
from ._forwarding import written as _written

# ------------------------------------------------------------------ dtypes
_D = _dtypes.DTYPES
float32 = float = _D["float32"]
float64 = double = _D["float64"]
float16 = half = _D["float16"]
int64 = long = _D["int64"]
int32 = int = _D["int32"]
int16 = short = _D["int16"]
int8 = _D["int8"]
uint8 = _D["uint8"]
bool = _D["bool"]
complex64 = cfloat = _D["complex64"]
complex128 = cdouble = _D["complex128"]
dtype = _dtypes.DType

_default = {"device": None}


def get_default_dtype():
    """The float dtype of this namespace's factories and of new layers' parameters."""
    return _dtypes.get_parameter_dtype()


def set_default_dtype(d):
    """The float dtype of this namespace's factories, of Python floats given to `tensor`
    and of new layers' parameters (anygrad's `set_parameter_dtype`); anygrad's own
    default (`ag.set_default_dtype`) follows, so that ops promoting integers to floats
    give it too, as in PyTorch."""
    name = _dtypes.dtype_name(d)
    _dtypes.set_default_dtype(name)
    _dtypes.set_parameter_dtype(name)


def set_default_device(d):
    """Where factories put tensors when no `device=` is given (None: the current backend)."""
    if d is not None:
        _device.placement(d)  # an unusable device is an error now, not at first use
    _default["device"] = d


def get_default_device():
    """The device factories use when no `device=` is given."""
    backend, dev = _where(None)
    return _device.device_of(_creation.zeros((), backend=backend, device=dev))


def _where(d):
    return _device.placement(d if d is not None else _default["device"])


def _dtype(d, floating=True):
    if d is None:
        return _dtypes.parameter_dtype() if floating else None
    return _dtypes.dtype_name(d)


# ------------------------------------------------------------------ the Tensor type
class _TensorType(type):
    """`torch.Tensor`: isinstance checks see anygrad's Tensor (of one dtype for
    `LongTensor` and the like); calling it builds one with PyTorch's legacy rules:
    `Tensor(2, 3)` is a shape, `Tensor([1, 2])` is data."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, _Tensor) and (cls._dtype is None or obj.dtype == cls._dtype)

    def __subclasscheck__(cls, other):
        return issubclass(other, _Tensor)

    def __call__(cls, *args, device=None, requires_grad=False):
        d = cls._dtype or _dtypes.parameter_dtype()
        if builtins.all(isinstance(a, builtins.int) for a in args):
            return zeros(*args, dtype=d, device=device, requires_grad=requires_grad)
        if len(args) != 1:
            raise TypeError(f"{cls.__name__}: expects a shape (ints) or one sequence of data")
        return tensor(args[0], dtype=d, device=device, requires_grad=requires_grad)

    def __getattr__(cls, name):  # torch.Tensor.add_ and the like: the unbound methods
        return getattr(_Tensor, name)


def _tensor_type(name, d):
    doc = (f"torch.{name}: anygrad's Tensor" + (f" of dtype {d}" if d is not None else "")
           + "; `isinstance` checks and PyTorch's legacy constructor (a shape, or data).")
    return _TensorType(name, (), {"_dtype": d, "__doc__": doc})


Tensor = _tensor_type("Tensor", None)
FloatTensor = _tensor_type("FloatTensor", float32)
DoubleTensor = _tensor_type("DoubleTensor", float64)
HalfTensor = _tensor_type("HalfTensor", float16)
LongTensor = _tensor_type("LongTensor", int64)
IntTensor = _tensor_type("IntTensor", int32)
BoolTensor = _tensor_type("BoolTensor", bool)
ByteTensor = _tensor_type("ByteTensor", uint8)


class Size(tuple):
    """A shape: a tuple whose `numel()` is the element count."""

    def numel(self):
        return math.prod(self)


def is_tensor(obj):
    """Whether `obj` is an anygrad Tensor."""
    return isinstance(obj, _Tensor)


def is_floating_point(x):
    """Whether `x` has a real floating dtype."""
    return x.dtype.is_floating


def numel(x):
    """The number of elements of `x`."""
    return math.prod(x.shape)


# ------------------------------------------------------------------ making tensors
def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new leaf holding a copy of `data`; Python floats become the default float dtype
    (float32), ints int64, as in PyTorch. Arrays and tensors keep their dtype."""
    if dtype is None and isinstance(data, (builtins.float, builtins.int, builtins.bool,
                                           builtins.complex, list, tuple)):
        inferred = _dtypes.infer(data)
        if _D[inferred].kind == "real floating":
            dtype = _dtypes.parameter_dtype()
        elif _D[inferred].kind == "complex floating":
            dtype = "complex64" if _dtypes.parameter_dtype() == "float32" else "complex128"
    if isinstance(data, _Tensor):
        data = data.detach()
        if device is None:
            return _creation.tensor(data, dtype=_dtype(dtype, False), backend=data.backend,
                                    requires_grad=requires_grad)
    backend, dev = _where(device)
    return _creation.tensor(data, dtype=_dtype(dtype, False), backend=backend, device=dev,
                            requires_grad=requires_grad)


def as_tensor(data, dtype=None, device=None):
    """`data` itself when it is a tensor and no dtype or device is asked for, else a new
    tensor as `tensor` makes it."""
    if isinstance(data, _Tensor) and dtype is None and device is None:
        return data
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array):
    """A tensor on the host holding `array` (shared, not copied, on numpy)."""
    backend, dev = _device.placement("cpu")
    if backend.name == "numpy":
        return _creation.as_tensor(array, backend=backend)
    return _creation.tensor(array, backend=backend, device=dev)


def _filled(kind):
    make = getattr(_creation, kind)

    def factory(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
                pin_memory=False, memory_format=None, generator=None):
        dtype = _out_dtype(out, dtype)
        backend, dev = _where(device)
        return _written(kind, out, make(_size(size), dtype=_dtype(dtype), backend=backend,
                                        device=dev, requires_grad=requires_grad))

    factory.__name__ = kind
    factory.__doc__ = (f"PyTorch's {kind}: the shape as separate ints or one tuple; "
                       "float32 unless `dtype` says otherwise.")
    return factory


def _out_dtype(out, dtype):
    """A factory writing into `out=` makes its dtype unless told, as in PyTorch."""
    return out.dtype if dtype is None and out is not None else dtype


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(size)


zeros = _filled("zeros")
ones = _filled("ones")
empty = _filled("zeros")
empty.__name__ = "empty"
randn = _filled("randn")
rand = _filled("rand")


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False, out=None):
    """`size` filled with `fill_value`; the dtype follows the value (float32 for a
    Python float), as in PyTorch."""
    dtype = _out_dtype(out, dtype)
    if dtype is None:
        kind = _D[_dtypes.infer(fill_value)].kind
        dtype = _dtypes.parameter_dtype() if kind == "real floating" else _dtypes.infer(fill_value)
    backend, dev = _where(device)
    return _written("full", out, _creation.full(
        _size((size,)) if not isinstance(size, builtins.int) else (size,), fill_value,
        dtype=_dtype(dtype), backend=backend, device=dev, requires_grad=requires_grad))


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False, out=None):
    """int64 for integer arguments, else the default float dtype (float32)."""
    dtype = _out_dtype(out, dtype)
    if dtype is None and not builtins.all(
            isinstance(v, builtins.int) for v in (start, end, step) if v is not None):
        dtype = _dtypes.parameter_dtype()
    backend, dev = _where(device)
    return _written("arange", out, _creation.arange(
        start, end, step, dtype=_dtype(dtype, False), backend=backend, device=dev,
        requires_grad=requires_grad))


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False, out=None):
    dtype = _out_dtype(out, dtype)
    backend, dev = _where(device)
    return _written("linspace", out, _creation.linspace(
        start, end, steps, dtype=_dtype(dtype), backend=backend, device=dev,
        requires_grad=requires_grad))


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False, out=None):
    dtype = _out_dtype(out, dtype)
    backend, dev = _where(device)
    return _written("eye", out, _creation.eye(n, m, dtype=_dtype(dtype), backend=backend,
                                              device=dev, requires_grad=requires_grad))


def _like(kind, name=None):
    def factory(x, *, dtype=None, device=None, requires_grad=False, memory_format=None):
        backend, dev = (x.backend, x.device) if device is None else _where(device)
        d = x.dtype.name if dtype is None else _dtypes.dtype_name(dtype)
        return getattr(_creation, kind)(tuple(x.shape), dtype=d, backend=backend, device=dev,
                                        requires_grad=requires_grad)

    factory.__name__ = name or f"{kind}_like"
    factory.__doc__ = (f"PyTorch's {factory.__name__}: anygrad's `{kind}` of the shape of `x`, "
                       "with its dtype, backend and device unless told otherwise.")
    return factory


zeros_like = _like("zeros")
ones_like = _like("ones")
empty_like = _like("zeros", "empty_like")  # zeros: anygrad has no uninitialised memory
randn_like = _like("randn")
rand_like = _like("rand")


def full_like(x, fill_value, *, dtype=None, device=None, requires_grad=False):
    """The shape of `x` filled with `fill_value`, with the dtype, backend and device of
    `x` unless told otherwise."""
    backend, dev = (x.backend, x.device) if device is None else _where(device)
    d = x.dtype.name if dtype is None else _dtypes.dtype_name(dtype)
    return _creation.full(tuple(x.shape), fill_value, dtype=d, backend=backend, device=dev,
                          requires_grad=requires_grad)


# ------------------------------------------------------------------ random numbers
def manual_seed(seed):
    """Seed every backend's random stream (anygrad's streams, not PyTorch's: the same
    seed draws other numbers than PyTorch does)."""
    _ag.manual_seed(seed)


def randint(low, high=None, size=None, *, dtype=None, device=None, generator=None,
            requires_grad=False):
    """Integers drawn uniformly from [low, high); `randint(high, size)` starts at 0."""
    if size is None:
        low, high, size = 0, low, high
    backend, dev = _where(device)
    array = backend.integers(low, high, _size((size,)) if isinstance(size, builtins.int)
                             else tuple(size), dev)
    out = _wrap(array, backend)
    want = "int64" if dtype is None else _dtypes.dtype_name(dtype)
    return out if out.dtype == want else _ops.astype(out, want)


def randperm(n, *, dtype=None, device=None, generator=None, requires_grad=False):
    """A random permutation of 0 .. n-1 (int64 unless told otherwise)."""
    backend, dev = _where(device)
    out = _wrap(backend.permutation(n, dev), backend)
    want = "int64" if dtype is None else _dtypes.dtype_name(dtype)
    return out if out.dtype == want else _ops.astype(out, want)


def normal(mean, std=1.0, size=None, *, generator=None, device=None, dtype=None):
    """Samples of N(mean, std): tensors or numbers for `mean`/`std` (broadcast), or
    numbers with `size`."""
    if size is not None:
        return randn(*_size((size,)) if isinstance(size, builtins.int) else size,
                     dtype=dtype, device=device) * std + mean
    like = mean if isinstance(mean, _Tensor) else std
    if not isinstance(like, _Tensor):
        raise TypeError("normal: give size= when mean and std are both numbers")
    shape = _ops.broadcast_arrays(*[v for v in (mean, std) if isinstance(v, _Tensor)])[0].shape
    noise = _creation.randn(shape, dtype=like.dtype.name, backend=like.backend,
                            device=like.device)
    return noise * std + mean


def bernoulli(p, *, generator=None):
    """0 or 1 drawn for each element, 1 with probability `p`, in the dtype of `p`."""
    draw = rand_like(p)
    return _ops.astype(draw < p, p.dtype.name)


def multinomial(probs, num_samples, replacement=False, *, generator=None):
    """Indices drawn by the (unnormalised) weights in each row of `probs`."""
    if not replacement and num_samples > 1:
        raise NotImplementedError("multinomial: sampling without replacement of more than one "
                                  "index is not supported; pass replacement=True")
    p = probs if probs.ndim == 2 else _ops.reshape(probs, (1, -1))
    cdf = _ops.cumulative_sum(p, axis=-1)
    total = cdf[:, -1:]
    u = _creation.rand((p.shape[0], num_samples), dtype=p.dtype.name, backend=p.backend,
                       device=p.device) * total
    # The first category whose cumulative weight exceeds the draw, counted row by row.
    below = _ops.astype(_ops.less_equal(_ops.expand_dims(cdf, axis=1),
                                        _ops.expand_dims(u, axis=2)), "int64")
    index = _ops.clip(_ops.sum(below, axis=-1), max=p.shape[-1] - 1)
    return index if probs.ndim == 2 else _ops.reshape(index, (num_samples,))


def _wrap(array, backend):
    from ..engine import _wrap as wrap

    return wrap(array, backend)


# ------------------------------------------------------------------ shape
def cat(tensors, dim=0, *, axis=None, out=None):
    return _written("cat", out, _ops.concat(list(tensors), axis=dim if axis is None else axis))


concat = concatenate = cat


def stack(tensors, dim=0, *, out=None):
    return _written("stack", out, _ops.stack(list(tensors), axis=dim))


def flatten(x, start_dim=0, end_dim=-1):
    return x.flatten(start_dim, end_dim)


def reshape(x, shape):
    return _ops.reshape(x, tuple(shape))


def squeeze(x, dim=None):
    return x.squeeze(dim)


def unsqueeze(x, dim):
    return _ops.expand_dims(x, axis=dim)


def transpose(x, dim0, dim1):
    return x.transpose(dim0, dim1)


swapaxes = transpose


def permute(x, dims):
    return _ops.permute_dims(x, tuple(dims))


def t(x):
    return x.t()


def split(x, split_size_or_sections, dim=0):
    return x.split(split_size_or_sections, dim)


def chunk(x, chunks, dim=0):
    return x.chunk(chunks, dim)


def unbind(x, dim=0):
    return tuple(_ops.unstack(x, axis=dim))


def flip(x, dims):
    return _ops.flip(x, axis=tuple(dims))


def roll(x, shifts, dims=None):
    return _ops.roll(x, shifts, axis=dims)


def tril(x, diagonal=0):
    return _ops.tril(x, k=diagonal)


def triu(x, diagonal=0):
    return _ops.triu(x, k=diagonal)


def where(condition, input=None, other=None):
    """`where(c, x, y)` picks elementwise; `where(c)` gives the indices of true elements."""
    if input is None and other is None:
        return _ops.nonzero(condition)
    return _ops.where(condition, input, other)


def masked_fill(x, mask, value):
    return x.masked_fill(mask, value)


def gather(x, dim, index):
    return _ops.take_along_axis(x, index, axis=dim)


def index_select(x, dim, index):
    return _ops.take(x, index, axis=dim)


def nonzero(x, *, as_tuple=False):
    found = _ops.nonzero(x)
    return found if as_tuple else stack(list(found), dim=1)


# ------------------------------------------------------------------ products
def matmul(a, b):
    return _ops.matmul(a, b)


def mm(a, b):
    return a.mm(b)


def bmm(a, b):
    if a.ndim != 3 or b.ndim != 3:
        raise ValueError(f"bmm: expects two 3-D tensors, got shapes {a.shape} and {b.shape}; "
                         "use matmul for other ranks")
    return _ops.matmul(a, b)


def einsum(equation, *operands):
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return _ops.einsum(equation, *operands)


def outer(a, b):
    return _ops.outer(a, b)


ger = outer


def dot(a, b):
    return _ops.vecdot(a, b)


# ------------------------------------------------------------------ elementwise
def clamp(x, min=None, max=None):
    return _ops.clip(x, min=min, max=max)


clip = clamp


def softmax(x, dim, dtype=None):
    x = x if dtype is None else _ops.astype(x, _dtypes.dtype_name(dtype))
    return _ops.softmax(x, axis=dim)


def log_softmax(x, dim, dtype=None):
    x = x if dtype is None else _ops.astype(x, _dtypes.dtype_name(dtype))
    return _ops.log_softmax(x, axis=dim)


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether every element of `isclose(a, b, ...)` holds, as a Python bool."""
    return builtins.bool(all(isclose(a, b, rtol, atol, equal_nan)))


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|a - b| <= atol + rtol * |b| elementwise (NaNs equal where `equal_nan`), recorded
    in no graph."""
    with no_grad():
        close = _ops.less_equal(_ops.abs(a - b), atol + rtol * _ops.abs(b))
        if equal_nan:
            close = _ops.logical_or(close, _ops.logical_and(_ops.isnan(a), _ops.isnan(b)))
    return close


def equal(a, b):
    """Whether `a` and `b` have the same shape and elements, as a Python bool."""
    return tuple(a.shape) == tuple(b.shape) and builtins.bool(all(_ops.equal(a, b)))


def pow(x, exponent):
    return _ops.pow(x, exponent)


def div(x, other, *, rounding_mode=None):
    return x.div(other, rounding_mode=rounding_mode) if isinstance(x, _Tensor) else \
        tensor(x).div(other, rounding_mode=rounding_mode)


def add(x, other, *, alpha=1):
    return _ops.add(x, other if alpha == 1 else other * alpha)


def sub(x, other, *, alpha=1):
    return _ops.subtract(x, other if alpha == 1 else other * alpha)


subtract = sub
mul = multiply = _ops.multiply
divide = div
neg = negative = _ops.negative


def rsqrt(x):
    """1 / sqrt(x), elementwise."""
    return _ops.reciprocal(_ops.sqrt(x))


square = _ops.square

# Same name, same meaning in PyTorch and in anygrad's ops.
_SAME = (
    "abs", "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "ceil", "cos", "cosh",
    "erf", "exp", "expm1", "floor", "isfinite", "isinf", "isnan", "log", "log10", "log1p",
    "log2", "logaddexp", "logical_and", "logical_not", "logical_or", "logical_xor", "maximum",
    "minimum", "reciprocal", "relu", "sigmoid", "sign", "sin", "sinh", "sqrt", "tan", "tanh",
    "trunc", "real", "imag", "conj", "angle", "remainder", "broadcast_to", "hypot",
)
for _name in _SAME:
    globals()[_name] = getattr(_ops, _name)
del _name


def round(x, decimals=0):
    if decimals:
        scale = 10.0 ** decimals
        return _ops.round(x * scale) / scale
    return _ops.round(x)


def eq(a, b):
    return _ops.equal(a, b)


def ne(a, b):
    return _ops.not_equal(a, b)


def lt(a, b):
    return _ops.less(a, b)


def le(a, b):
    return _ops.less_equal(a, b)


def gt(a, b):
    return _ops.greater(a, b)


def ge(a, b):
    return _ops.greater_equal(a, b)


# ------------------------------------------------------------------ reductions
def _dims(dim):
    return tuple(dim) if isinstance(dim, list) else dim


def sum(x, dim=None, keepdim=False, *, dtype=None):
    x = x if dtype is None else _ops.astype(x, _dtypes.dtype_name(dtype))
    return _ops.sum(x, axis=_dims(dim), keepdims=keepdim)


def mean(x, dim=None, keepdim=False, *, dtype=None):
    x = x if dtype is None else _ops.astype(x, _dtypes.dtype_name(dtype))
    return _ops.mean(x, axis=_dims(dim), keepdims=keepdim)


def prod(x, dim=None, keepdim=False, *, dtype=None):
    x = x if dtype is None else _ops.astype(x, _dtypes.dtype_name(dtype))
    return _ops.prod(x, axis=dim, keepdims=keepdim)


def _correction(name, unbiased, correction):
    """PyTorch's rule: unbiased (correction 1) unless told otherwise."""
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}: got both unbiased= and correction=; pass one")
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """The standard deviation, unbiased (correction=1) by default as in PyTorch."""
    if isinstance(dim, builtins.bool):  # torch.std(x, False): the old unbiased position
        dim, unbiased = None, dim
    return _ops.std(x, axis=_dims(dim), correction=_correction("std", unbiased, correction),
                    keepdims=keepdim)


def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """The variance, unbiased (correction=1) by default as in PyTorch."""
    if isinstance(dim, builtins.bool):
        dim, unbiased = None, dim
    return _ops.var(x, axis=_dims(dim), correction=_correction("var", unbiased, correction),
                    keepdims=keepdim)


def std_mean(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return std(x, dim, unbiased, keepdim, correction=correction), mean(x, dim, keepdim)


def var_mean(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return var(x, dim, unbiased, keepdim, correction=correction), mean(x, dim, keepdim)


def _extremum(name, reduce, locate, pairwise):
    def extremum(x, dim=None, keepdim=False, *, out=None):
        if isinstance(dim, _Tensor):  # torch.max(a, b): the elementwise maximum
            return _written(name, out, pairwise(x, dim))
        if dim is None:
            return _written(name, out, reduce(x))
        return _written(name, out, _ValuesIndices(reduce(x, axis=dim, keepdims=keepdim),
                                                  locate(x, axis=dim, keepdims=keepdim)))

    extremum.__name__ = name
    extremum.__doc__ = (f"PyTorch's {name}: of every element; with `dim`, the pair "
                        f"(values, indices); of two tensors, elementwise.")
    return extremum


max = _extremum("max", _ops.max, _ops.argmax, _ops.maximum)
min = _extremum("min", _ops.min, _ops.argmin, _ops.minimum)


def amax(x, dim=None, keepdim=False):
    return _ops.max(x, axis=_dims(dim), keepdims=keepdim)


def amin(x, dim=None, keepdim=False):
    return _ops.min(x, axis=_dims(dim), keepdims=keepdim)


def argmax(x, dim=None, keepdim=False):
    return _ops.argmax(x, axis=dim, keepdims=keepdim)


def argmin(x, dim=None, keepdim=False):
    return _ops.argmin(x, axis=dim, keepdims=keepdim)


def all(x, dim=None, keepdim=False):
    return _ops.all(x, axis=dim, keepdims=keepdim)


def any(x, dim=None, keepdim=False):
    return _ops.any(x, axis=dim, keepdims=keepdim)


def logsumexp(x, dim, keepdim=False):
    return _ops.logsumexp(x, axis=_dims(dim), keepdims=keepdim)


def cumsum(x, dim, *, dtype=None):
    return _ops.cumulative_sum(x, axis=dim, dtype=None if dtype is None
                               else _dtypes.dtype_name(dtype))


def cumprod(x, dim, *, dtype=None):
    return _ops.cumulative_prod(x, axis=dim, dtype=None if dtype is None
                                else _dtypes.dtype_name(dtype))


def norm(x, p="fro", dim=None, keepdim=False):
    return x.norm(p, dim, keepdim)


def sort(x, dim=-1, descending=False, stable=False):
    """(values, indices) of `x` sorted along `dim`, as PyTorch returns."""
    indices = _ops.argsort(x, axis=dim, descending=descending, stable=True)
    return _ValuesIndices(_ops.take_along_axis(x, indices, axis=dim), indices)


def argsort(x, dim=-1, descending=False, stable=False):
    return _ops.argsort(x, axis=dim, descending=descending, stable=True)


def topk(x, k, dim=-1, largest=True, sorted=True):
    return x.topk(k, dim, largest, sorted)


def unique(x, sorted=True, return_inverse=False, return_counts=False, dim=None):
    return x.unique(sorted, return_inverse, return_counts, dim)


# Every other function here hands PyTorch's arguments on to one of anygrad's.
_forwarding.spell(globals(), {
    "linspace": "ag.linspace", "eye": "ag.eye",
    "cat": ("ag.concat", "also named concat and concatenate"), "stack": "ag.stack",
    "flatten": "Tensor.flatten", "reshape": "ag.reshape", "squeeze": "Tensor.squeeze",
    "unsqueeze": "ag.expand_dims", "transpose": ("Tensor.transpose", "also named swapaxes"),
    "permute": "ag.permute_dims", "t": "Tensor.t", "split": "Tensor.split",
    "chunk": "Tensor.chunk", "unbind": ("ag.unstack", "a tuple of tensors"),
    "flip": "ag.flip", "roll": "ag.roll", "tril": "ag.tril", "triu": "ag.triu",
    "masked_fill": "Tensor.masked_fill", "gather": "ag.take_along_axis",
    "index_select": "ag.take",
    "nonzero": ("ag.nonzero", "one (count, ndim) tensor of indices unless as_tuple"),
    "matmul": "ag.matmul", "mm": "Tensor.mm",
    "bmm": ("ag.matmul", "two 3-D tensors only"), "einsum": "ag.einsum",
    "outer": ("ag.outer", "also named ger"), "dot": "ag.vecdot",
    "clamp": ("ag.clip", "also named clip"),
    "softmax": ("ag.softmax", "`dtype` casts the input first"),
    "log_softmax": ("ag.log_softmax", "`dtype` casts the input first"),
    "pow": "ag.pow", "div": ("Tensor.div", "`rounding_mode` is PyTorch's; also named divide"),
    "add": ("ag.add", "`other` is scaled by `alpha`"),
    "sub": ("ag.subtract", "`other` is scaled by `alpha`; also named subtract"),
    "round": ("ag.round", "to `decimals` places"),
    "eq": "ag.equal", "ne": "ag.not_equal", "lt": "ag.less", "le": "ag.less_equal",
    "gt": "ag.greater", "ge": "ag.greater_equal",
    "sum": ("ag.sum", "`dtype` casts the input first"),
    "mean": ("ag.mean", "`dtype` casts the input first"),
    "prod": ("ag.prod", "`dtype` casts the input first"),
    "std_mean": ("ag.std and ag.mean", "the pair (std, mean), std unbiased by default"),
    "var_mean": ("ag.var and ag.mean", "the pair (var, mean), var unbiased by default"),
    "amax": "ag.max", "amin": "ag.min", "argmax": "ag.argmax", "argmin": "ag.argmin",
    "all": "ag.all", "any": "ag.any", "logsumexp": "ag.logsumexp",
    "cumsum": "ag.cumulative_sum", "cumprod": "ag.cumulative_prod", "norm": "Tensor.norm",
    "argsort": ("ag.argsort", "always a stable sort"), "topk": "Tensor.topk",
    "unique": "Tensor.unique",
})

# PyTorch's out= on the functions that take it (the factories, cat, stack, max and min
# handle it above); the rule is _forwarding.written's.
for _name in ("add", "sub", "subtract", "mul", "multiply", "div", "divide", "neg",
              "negative", "square", "rsqrt", "pow", "clamp", "clip", "round", "matmul", "mm",
              "bmm", "outer", "ger", "dot", "eq", "ne", "lt", "le", "gt", "ge", "sum", "mean",
              "prod", "amax", "amin", "argmax", "argmin", "cumsum", "cumprod", "logsumexp",
              "gather", "index_select", "softmax", "log_softmax", *_SAME):
    globals()[_name] = _with_out(globals()[_name], _name)
del _name


# ------------------------------------------------------------------ submodules
from . import accelerator, autograd, cuda, nn, optim, utils  # noqa: E402
from . import linalg, onnx, serialization  # noqa: E402
from .serialization import load, save  # noqa: E402
from ._compiled import OptimizedModule as _OptimizedModule  # noqa: E402

inference_mode = no_grad


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None,
            options=None, disable=False):
    """`ag.compile` in PyTorch's spelling. A function of tensors becomes `ag.compile(fn)`;
    a Module becomes an `OptimizedModule` whose forward is `ag.compile(model)` (backward
    outside runs the backward recorded ahead of time), with the model as its child
    `_orig_mod`, as PyTorch lays it out. `fullgraph=True` makes what cannot be replayed
    an error (ag.compile's `strict`) instead of an eager call with a warning; `disable`
    returns `model` as it is; `dynamic`, `backend`, `mode` and `options` choose among
    PyTorch's compilers and change nothing here."""
    if model is None:
        return lambda m: compile(m, fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                                 mode=mode, options=options, disable=disable)
    if disable:
        return model
    if isinstance(model, nn.Module):
        return _OptimizedModule(model, strict=fullgraph)
    return _ag.compile(model, strict=fullgraph)


# PyTorch names that anygrad deliberately has no counterpart for, and what to do instead.
_UNSUPPORTED = {
    "jit": "anygrad has no TorchScript; drop torch.jit.script/trace (the eager function "
           "gives the same values), or record a step with ag.compile",
    "distributed": "anygrad's multi-process training has its own API, anygrad.distributed "
                   "(see 'Training on several processes' in the README)",
    "fx": "anygrad has no FX graphs; ag.compile records a program you can print",
    "export": "anygrad has no torch.export; save the state_dict and export from PyTorch",
}


def __getattr__(name):
    if name in _UNSUPPORTED:
        raise AttributeError(f"anygrad.torch has no {name!r}: {_UNSUPPORTED[name]}")
    raise AttributeError(
        f"anygrad.torch has no {name!r}: this PyTorch name is not mapped onto anygrad yet "
        "(see 'Porting a PyTorch script' in the README); anygrad's own spelling may exist "
        "under `import anygrad as ag`")
