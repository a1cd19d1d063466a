"""numpy's spelling of anygrad: `import anygrad.numpy as np`.

    import anygrad as ag
    import anygrad.numpy as np
    import anygrad.numpy.random as npr

    def loss(w):
        return np.sum(np.tanh(np.dot(inputs, w)) ** 2)

    ag.grad(loss)(npr.RandomState(0).randn(3, 2))

Every name maps numpy's arguments, defaults and results onto anygrad's ops; nothing is
computed a second way. The decisions, once:

- Backend: a result lives on the backend of the tensors among the arguments; where
  there are none (`np.zeros(3)`, `np.array([1.0])`), on the current backend
  (`ag.use_backend`), or on that of `like=` or `backend=` where given.
- dtypes are numpy's: Python floats, `float` and the factories give float64 (whatever
  `ag.set_default_dtype` says), Python ints int64. The dtype names (`np.float32`, ...) are anygrad's dtypes, callable as numpy's
  scalar types are (`np.float64(2)` is a 0-d tensor).
- Lists holding tensors (`np.array([t, u])`) are stacked, so the graph goes on; numpy
  arrays and lists among the arguments are data, made tensors on the tensors' backend
  (anygrad's ops themselves refuse another library's raw arrays).
- `out=`, `where=` masks and the other in-place arguments are refused, never ignored.
- Random numbers are numpy's own streams (see anygrad.numpy.random).
- A numpy name not mapped here is an AttributeError saying so.

Tensors take numpy's `a.dot(b)`, `a.astype(float)`, `a.ravel()`, and JAX's functional
index updates `x.at[key].set(v)` (also add, multiply, min, max, ...).

numpy's own functions called on tensors (`numpy.sum(t)`, `numpy.linalg.norm(t)`) come
here too (anygrad.numpy_dispatch), so both spellings have one meaning.
"""
from __future__ import annotations

import math as _math

from ..array_api import finfo, iinfo
from ..dtypes import DTYPES as _DTYPES
from ..dtypes import DType as _DType
from ..tensor import Tensor as ndarray
from . import fft, linalg, random
from ._arrays import dtype_or_none as _dtype_or_none
from ._arrays import spell as _spell
from ._arrays import unmapped as _unmapped
from ._creation import *  # noqa: F401,F403
from ._creation import __all__ as _creation_all
from ._elementwise import *  # noqa: F401,F403
from ._elementwise import __all__ as _elementwise_all
from ._products import *  # noqa: F401,F403
from ._products import __all__ as _products_all
from ._reductions import *  # noqa: F401,F403
from ._reductions import __all__ as _reductions_all
from ._shape import *  # noqa: F401,F403
from ._shape import __all__ as _shape_all

pi, e, inf, nan, euler_gamma = _math.pi, _math.e, _math.inf, _math.nan, 0.5772156649015329
newaxis = None


class _ScalarType(_DType):
    """A dtype that, like numpy's scalar types, makes an array when called."""

    # No __slots__: each instance carries the docstring naming its numpy type.

    def __call__(self, value=0):
        return asarray(value, self.name)  # noqa: F405


_TYPES = {name: _ScalarType(name) for name in _DTYPES}
for _name, _type in _TYPES.items():
    _type.__doc__ = (f"numpy.{_name}: anygrad's {_name} dtype; calling it, as numpy's scalar "
                     "type, makes a 0-d tensor.")
del _name, _type
float16, float32, float64 = _TYPES["float16"], _TYPES["float32"], _TYPES["float64"]
half, single, double = float16, float32, float64
int8, int16, int32, int64 = (_TYPES[n] for n in ("int8", "int16", "int32", "int64"))
uint8, uint16, uint32, uint64 = (_TYPES[n] for n in ("uint8", "uint16", "uint32", "uint64"))
complex64, complex128 = _TYPES["complex64"], _TYPES["complex128"]
bool_ = _TYPES["bool"]
int_, intp, float_, complex_ = int64, int64, float64, complex128


def dtype(obj):
    """numpy's dtype of a name, a type or any library's dtype, as anygrad's dtype."""
    return _TYPES[_dtype_or_none(obj)]


def result_type(*arrays_and_dtypes):
    from .. import array_api

    return array_api.result_type(*arrays_and_dtypes)


def __getattr__(name):
    if name == "bool":  # numpy 2's name, kept off the module so `bool` stays Python's here
        return bool_
    raise _unmapped("", name)


_FUNCTIONS = _creation_all + _elementwise_all + _products_all + _reductions_all + _shape_all
_spell(globals(), [*_FUNCTIONS, "result_type"])
__all__ = sorted(set(_FUNCTIONS)) + [
    "fft", "linalg", "random", "ndarray", "finfo", "iinfo", "dtype", "result_type", "pi", "e",
    "inf", "nan", "euler_gamma", "newaxis", "float16", "float32", "float64", "half", "single",
    "double", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "complex64", "complex128", "bool_", "int_", "intp", "float_", "complex_",
]
