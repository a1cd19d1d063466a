"""anygrad as an Array API namespace: what `x.__array_namespace__()` returns.

Code written against the standard (`xp = array_namespace(x)`, then `xp.exp`, `xp.sum`,
`xp.linalg.vector_norm`, ...) runs on tensors through this module and is differentiated.
The functions are anygrad's ops; creation functions make tensors on the current backend
(or on `device`'s), and dtype queries go to the backend's own namespace.
"""
from __future__ import annotations

import collections
import math
import types

from . import coercion, creation
from .backends import get_backend
from .dtypes import DTYPES as _DTYPES, dtype_name
from .ops import *  # noqa: F401,F403
from .ops import __all__ as _ops_all
from .ops import astype as _astype
from .ops import fft, linalg  # noqa: F401

__array_api_version__ = "2024.12"

e, pi, inf, nan = math.e, math.pi, math.inf, math.nan
newaxis = None

bool = _DTYPES["bool"]
int8, int16, int32, int64 = (_DTYPES[n] for n in ("int8", "int16", "int32", "int64"))
uint8, uint16, uint32, uint64 = (_DTYPES[n] for n in ("uint8", "uint16", "uint32", "uint64"))
float32, float64 = _DTYPES["float32"], _DTYPES["float64"]
complex64, complex128 = _DTYPES["complex64"], _DTYPES["complex128"]


def _name(dtype):
    """A dtype's name (None stays None): any library's dtype, anygrad's, or a Python type."""
    return None if dtype is None else dtype_name(dtype)


def _native(dtype, backend=None):
    b = get_backend(backend)
    return b, (None if dtype is None else b.dtype(dtype_name(dtype)))


def _backend_of(x):
    from .tensor import Tensor

    return x.backend if isinstance(x, Tensor) else None


# Creation functions take `backend` beyond the standard: the namespace a tensor hands out
# (`namespace_for`) fills it in, so that `xp.asarray(2.0)` lands beside the tensor.
def asarray(obj, /, *, dtype=None, device=None, copy=None, backend=None):
    """A tensor from a tensor, an array, a number or nested lists.

    A tensor stays in the graph: a cast, move or copy of it is differentiable, as
    `x.to()` is. Anything else becomes a constant on this namespace's backend (a
    namespace a tensor hands out makes arrays of that tensor's library, as the
    standard's `asarray` does)."""
    from .tensor import Tensor

    if isinstance(obj, Tensor):
        if device is not None and str(device) != str(obj.device):
            obj, copy = obj.to(device=device), False
        if copy or (dtype is not None and _name(dtype) != obj.dtype.name):
            return _astype(obj, obj.dtype.name if dtype is None else _name(dtype))
        return obj
    return creation.tensor(obj, dtype=_name(dtype), device=device,
                           backend=backend)


def zeros(shape, *, dtype=None, device=None, backend=None):
    return creation.zeros(shape, dtype=_name(dtype), device=device,
                          backend=backend)


def ones(shape, *, dtype=None, device=None, backend=None):
    return creation.ones(shape, dtype=_name(dtype), device=device,
                         backend=backend)


empty = zeros


def full(shape, fill_value, *, dtype=None, device=None, backend=None):
    return creation.full(shape, fill_value, dtype=_name(dtype), device=device, backend=backend)


def zeros_like(x, /, *, dtype=None, device=None):
    return creation.zeros_like(x, dtype=_name(dtype))


def ones_like(x, /, *, dtype=None, device=None):
    return creation.ones_like(x, dtype=_name(dtype))


empty_like = zeros_like


def full_like(x, /, fill_value, *, dtype=None, device=None):
    return creation.full_like(x, fill_value, dtype=_name(dtype))


def arange(start, /, stop=None, step=1, *, dtype=None, device=None, backend=None):
    return creation.arange(start, stop, step, dtype=_name(dtype),
                           device=device, backend=backend)


def linspace(start, stop, /, num, *, dtype=None, device=None, endpoint=True, backend=None):
    return creation.linspace(start, stop, num, dtype=_name(dtype),
                             device=device, backend=backend, endpoint=endpoint)


def from_dlpack(x, /, *, device=None, copy=None, backend=None):
    """A constant tensor on this namespace's backend from any array with `__dlpack__`
    (the protocol carries no graph: a tensor in one being recorded is refused)."""
    b = get_backend(backend)
    array = b.xp.from_dlpack(x, device=device, copy=copy)
    return creation.as_tensor(array, backend=b.name)


def broadcast_shapes(*shapes):
    """The shape `shapes` broadcast to together; ValueError naming them when they do not."""
    out = coercion.broadcast_shapes(*(tuple(s) for s in shapes))
    if out is None:
        raise ValueError(f"broadcast_shapes: shapes {', '.join(map(str, shapes))} do not "
                         "broadcast together")
    return out


def eye(n_rows, n_cols=None, /, *, k=0, dtype=None, device=None, backend=None):
    return creation.eye(n_rows, n_cols, k=k, dtype=_name(dtype),
                        device=device, backend=backend)


def astype(x, dtype, /, *, copy=True, device=None):
    """x as `dtype` (on `device`), in the standard's signature. A cast to x's own dtype
    returns x itself when `copy` is false; a tensor is never written in place, so a
    shared result is as good as a copy."""
    if device is not None and str(device) != str(x.device):
        x = x.to(device=device)
    if not copy and _name(dtype) == x.dtype.name:
        return x
    return _astype(x, dtype)


# Special functions under the names SciPy looks for (`xp.special.erf`, where a
# namespace offers them, before it falls back to converting to numpy): scipy.special's
# functions of these names then run on, and differentiate through, tensors.
special = types.SimpleNamespace(  # the ops of anygrad.ops.special, and sigmoid as expit
    **{name: globals()[name] for name in (
        "erf", "erfc", "erfcx", "erfinv", "erfcinv", "ndtr", "ndtri", "log_ndtr", "gammaln",
        "digamma", "i0", "i0e", "i1", "i1e", "logit", "entr", "xlogy", "xlog1py")},
    psi=digamma, expit=sigmoid)  # noqa: F405


class _NamespaceInfo:
    """The standard's inspection object (`xp.__array_namespace_info__()`), for the
    tensors of one backend: the backend's own answers, its dtypes as anygrad's."""

    def __init__(self, backend):
        self._backend = backend
        self._native = backend.xp.__array_namespace_info__()

    def capabilities(self):
        return self._native.capabilities()

    def default_device(self):
        return self._backend.default_device()

    def devices(self):
        # A list in the revision anygrad declares (__array_api_version__); a tuple from 2025.12.
        return list(self._native.devices())

    def default_dtypes(self, *, device=None):
        """The device's default dtypes, with the floating ones anygrad's creation
        functions make there: the default floating dtype (which `set_default_dtype`
        sets) and its complex pair, where the device has them."""
        from .dtypes import as_dtype, complex_name, get_default_dtype

        found = {kind: as_dtype(d) for kind, d in
                 self._native.default_dtypes(device=device).items()}
        real = creation._on_device(self._backend, device, get_default_dtype().name)
        found["real floating"] = _DTYPES[real]
        found["complex floating"] = _DTYPES[complex_name(real)]
        return found

    def dtypes(self, *, device=None, kind=None):
        from .dtypes import as_dtype

        return {name: as_dtype(d) for name, d in
                self._native.dtypes(device=device, kind=kind).items()}


def __array_namespace_info__(*, backend=None):
    return _NamespaceInfo(get_backend(backend))


_MAKERS = ("asarray", "zeros", "ones", "empty", "full", "arange", "eye", "linspace",
           "from_dlpack", "__array_namespace_info__")
_BOUND: dict = {}


def namespace_for(backend):
    """This namespace with its creation functions making tensors on `backend`."""
    import functools

    ns = _BOUND.get(backend.name)
    if ns is None:
        ns = types.ModuleType(f"{__name__}[{backend.name}]", __doc__)
        for name in __all__ + ["__array_api_version__"]:
            setattr(ns, name, globals()[name])
        for name in _MAKERS:
            setattr(ns, name, functools.wraps(globals()[name])(
                functools.partial(globals()[name], backend=backend)))
        _BOUND[backend.name] = ns
    return ns


def isdtype(dtype, kind):
    b, native = (dtype.backend, dtype.array.dtype) if _backend_of(dtype) else _native(dtype)
    if isinstance(kind, tuple):
        kind = tuple(k if isinstance(k, str) else b.dtype(dtype_name(k)) for k in kind)
    elif not isinstance(kind, str):
        kind = b.dtype(dtype_name(kind))
    return b.xp.isdtype(native, kind)


def result_type(*arrays_and_dtypes):
    from .dtypes import as_dtype

    b = get_backend(next((_backend_of(a) for a in arrays_and_dtypes
                          if _backend_of(a) is not None), None))
    natives = [a.array.dtype if _backend_of(a) is not None else
               a if isinstance(a, (int, float, complex)) else b.dtype(dtype_name(a))
               for a in arrays_and_dtypes]
    return as_dtype(b.xp.result_type(*natives))


def _info_dtype(type):
    """A tensor's native dtype, or a dtype (anygrad's, a name) on the current backend."""
    if _backend_of(type) is not None:
        return type.backend, type.array.dtype
    return _native(type)


_FloatInfo = collections.namedtuple("finfo", ["bits", "eps", "max", "min", "smallest_normal",
                                              "dtype"])


def finfo(type):
    """The standard's finfo: Python numbers (as the standard says; some libraries give
    their own scalars, which other libraries' functions refuse) and anygrad's dtype,
    the real one for a complex type (finfo(complex64).dtype is float32)."""
    from .dtypes import as_dtype, real_name

    b, native = _info_dtype(type)
    info = b.xp.finfo(native)
    return _FloatInfo(int(info.bits), float(info.eps), float(info.max), float(info.min),
                      float(info.smallest_normal), _DTYPES[real_name(as_dtype(native).name)])


_IntInfo = collections.namedtuple("iinfo", ["bits", "max", "min", "dtype"])


def iinfo(type):
    """The standard's iinfo, in Python ints and anygrad's dtype."""
    from .dtypes import as_dtype

    b, native = _info_dtype(type)
    info = b.xp.iinfo(native)
    return _IntInfo(int(info.bits), int(info.max), int(info.min), as_dtype(native))


def can_cast(from_, to, /):
    b, target = _native(to)
    source = from_.array.dtype if _backend_of(from_) is not None else b.dtype(dtype_name(from_))
    return b.xp.can_cast(source, target)


__all__ = list(_ops_all) + [
    "asarray", "zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like",
    "full_like", "arange", "eye", "linspace", "from_dlpack", "broadcast_shapes", "isdtype", "result_type", "finfo", "iinfo", "can_cast",
    "linalg", "fft", "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
    "uint64", "float32", "float64", "complex64", "complex128", "e", "pi", "inf", "nan",
    "newaxis", "__array_namespace_info__", "special",
]
