"""anygrad's dtypes and the rules for mixing them, the same on every backend.

`x.dtype` is one of the `DType` objects below, whatever library holds the data, so
`x.dtype == ag.float32` holds on numpy, cupy, torch, jax and array_api_strict alike. A
DType also compares equal to any library's dtype of the same name and to the name
itself, so `x.dtype == np.float32` and `x.dtype == "float32"` keep working.

Promotion (what an op returns when its inputs differ) is decided here, not by the
library underneath:
- tensors of one kind follow the Array API promotion table (float32 with float64 gives
  float64, int32 with int64 gives int64);
- an integer or boolean tensor meeting a floating one takes the floating dtype;
- Python numbers (and numpy scalars) are weak: they never widen a tensor's dtype, but a
  float meeting an integer tensor gives the default float dtype, and an int meeting a
  boolean tensor gives int64;
- true division of integers gives the default float dtype.
"""
from __future__ import annotations

import numbers

from .backends.base import _dtype_name as _library_dtype_name

_KINDS = {
    "bool": "bool",
    "int8": "signed integer", "int16": "signed integer", "int32": "signed integer",
    "int64": "signed integer",
    "uint8": "unsigned integer", "uint16": "unsigned integer", "uint32": "unsigned integer",
    "uint64": "unsigned integer",
    "float16": "real floating", "float32": "real floating", "float64": "real floating",
    "complex64": "complex floating", "complex128": "complex floating",
}
_BITS = {name: int("".join(c for c in name if c.isdigit()) or 8) for name in _KINDS}


class DType:
    """A dtype by name, equal to that dtype of every array library."""

    __slots__ = ("name", "kind", "is_floating", "is_integral")

    def __init__(self, name):
        self.name = name
        self.kind = _KINDS[name]
        self.is_floating = self.kind.endswith("floating")
        self.is_integral = self.kind.endswith("integer")

    def __eq__(self, other):
        if isinstance(other, DType):
            return other.name == self.name
        try:
            return dtype_name(other) == self.name
        except TypeError:
            return NotImplemented

    def __ne__(self, other):
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self):
        return hash(self.name)

    def __repr__(self):
        return f"anygrad.{self.name}"

    def __str__(self):
        return self.name


def dtype_name(spec) -> str:
    """'float32' from any library's float32 (numpy, torch, cupy, jax, strict), a DType
    (by its `name`) or a name; TypeError for what names no dtype.

    Python's number types name the default dtype of their kind, as in numpy
    (`x.astype(int)`): `bool` is bool, `int` is int64, `float` is the default floating
    dtype (`get_default_dtype`) and `complex` the complex dtype that pairs with it."""
    if isinstance(spec, type) and spec in _PYTHON_TYPES:
        return _PYTHON_TYPES[spec]()
    name = _library_dtype_name(spec)
    if name not in _KINDS:
        raise TypeError(f"not a dtype: {spec!r}")
    return name


_PYTHON_TYPES = {
    bool: lambda: "bool",
    int: lambda: "int64",
    float: lambda: _default_float[0],
    complex: lambda: complex_name(_default_float[0]),
}
DTYPES = {name: DType(name) for name in _KINDS}
# id(native dtype) -> (native dtype, DType). Holding the native object keeps its id from
# being reused, and looking up by id spares hashing it (and numpy's warnings when a
# strict dtype meets a numpy one of the same hash in ==).
_by_native: dict = {}


def as_dtype(native) -> DType:
    """anygrad's DType for a library's dtype."""
    entry = _by_native.get(id(native))
    if entry is not None:
        return entry[1]
    if isinstance(native, type) and native in _PYTHON_TYPES:  # follows set_default_dtype
        return DTYPES[dtype_name(native)]
    dtype = DTYPES[dtype_name(native)]
    if len(_by_native) > 1024:  # transient dtype objects: start over rather than grow
        _by_native.clear()
    _by_native[id(native)] = (native, dtype)
    return dtype


def is_floating(native) -> bool:
    """Whether a library's dtype is a floating one (the hot path of promotion)."""
    entry = _by_native.get(id(native))
    return (entry[1] if entry is not None else as_dtype(native)).is_floating


def is_complex(native) -> bool:
    """Whether a library's dtype (or a DType) is complex64 or complex128."""
    entry = _by_native.get(id(native))
    return (entry[1] if entry is not None else as_dtype(native)).kind == "complex floating"


def complex_name(name) -> str:
    """The complex dtype (by name) a real floating dtype `name` pairs with:
    float32 -> complex64, float64 -> complex128; complex names unchanged."""
    if _KINDS[name] == "complex floating":
        return name
    return "complex64" if _BITS[name] <= 32 else "complex128"


def real_name(name) -> str:
    """The real dtype (by name) of a complex dtype's parts: complex64 -> float32."""
    if _KINDS[name] != "complex floating":
        return name
    return "float32" if name == "complex64" else "float64"


def accumulation_name(name, dtype=None) -> str:
    """The dtype (by name) a sum or product of a tensor of dtype `name` is computed and
    returned in, on every backend: `dtype` when given (narrower ones too: the result
    then wraps around as that dtype does); otherwise, as the Array API says, integers
    widen to the default integer of their signedness (int64, uint64), booleans count as
    int64, and floating dtypes stay as they are."""
    if dtype is not None:
        return dtype_name(dtype)
    kind = _KINDS[name]
    if kind == "unsigned integer":
        return "uint64"
    if kind in ("signed integer", "bool"):
        return "int64"
    return name


# ------------------------------------------------------------------ the default float
_default_float = ["float64"]  # process-wide, as torch.set_default_dtype


def get_default_dtype() -> DType:
    """The floating dtype of tensors made from Python floats, and of integers promoted
    to floats (float64 unless changed with `set_default_dtype`)."""
    return DTYPES[_default_float[0]]


def set_default_dtype(dtype) -> None:
    """Make `dtype` ("float32" or "float64") the default floating dtype, as
    torch.set_default_dtype does; it applies to every backend."""
    name = dtype_name(dtype)
    if name not in ("float32", "float64"):
        raise TypeError(f"set_default_dtype: expects float32 or float64, got {name!r}")
    _default_float[0] = name


# ------------------------------------------------------------------ the default of layers
# PyTorch has one default float; anygrad keeps numpy's float64 for promotions (above)
# and PyTorch's float32 for layers' parameters, which anygrad.torch's factories share.
# `anygrad.torch.set_default_dtype` sets both, as torch.set_default_dtype does.
_parameter_float = ["float32"]


def get_parameter_dtype() -> DType:
    """The dtype layers make their parameters in when given no `dtype` (float32 unless
    changed with `set_parameter_dtype`)."""
    return DTYPES[_parameter_float[0]]


def set_parameter_dtype(dtype) -> None:
    """Make `dtype` ("float32" or "float64") the dtype of new layers' parameters."""
    name = dtype_name(dtype)
    if name not in ("float32", "float64"):
        raise TypeError(f"set_parameter_dtype: expects float32 or float64, got {name!r}")
    _parameter_float[0] = name


def parameter_dtype(dtype=None) -> str:
    """The name of `dtype`, or of the parameters' default dtype when it is None."""
    return _parameter_float[0] if dtype is None else dtype_name(dtype)


def infer(data) -> str:
    """The dtype (by name) of a tensor made from Python data: bool, int64, the default
    float, or complex128, by the widest kind of number found in the (nested) data."""
    rank = {bool: 0, int: 1, float: 2, complex: 3}
    widest = 2 if isinstance(data, (list, tuple)) and not data else 0  # [] is float, as numpy
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
            continue
        if item is not None:  # arange(5) passes stop=None
            widest = max(widest, rank.get(type(python_scalar(item)), 2))
    return ("bool", "int64", _default_float[0], "complex128")[widest]


# ------------------------------------------------------------------ promotion
def result_name(names) -> str:
    """The dtype (by name) that tensors of dtypes `names` promote to."""
    names = set(names)
    if len(names) == 1:
        return names.pop()
    floats = [n for n in names if _KINDS[n].endswith("floating")]
    if floats:
        return _widest(floats)
    if "bool" in names:
        names.discard("bool")
        if len(names) == 1:
            return names.pop()
    signed = [n for n in names if _KINDS[n] == "signed integer"]
    unsigned = [n for n in names if _KINDS[n] == "unsigned integer"]
    if not unsigned:
        return _widest(signed)
    if not signed:
        return _widest(unsigned)
    # Mixed signedness: the smallest signed type that holds both, as the Array API says.
    need = max(max(_BITS[n] for n in signed), 2 * max(_BITS[n] for n in unsigned))
    if need > 64:
        raise TypeError(f"no integer dtype holds both {sorted(names)}; cast one explicitly")
    return f"int{need}"


def _widest(names):
    complex_ = [n for n in names if n.startswith("complex")]
    if complex_:
        bits = max(_BITS[n] if n.startswith("complex") else 2 * _BITS[n] for n in names)
        return f"complex{bits}"
    return max(names, key=lambda n: _BITS[n])


def with_scalars(name, scalars) -> str:
    """The dtype a tensor of dtype `name` takes when it meets Python numbers `scalars`."""
    kind = _KINDS[name]
    for s in scalars:
        if isinstance(s, bool):
            continue
        if isinstance(s, int):
            if kind == "bool":
                name, kind = "int64", "signed integer"
        elif isinstance(s, float):
            if not kind.endswith("floating"):
                name, kind = _default_float[0], "real floating"
        elif isinstance(s, complex) and kind != "complex floating":
            name = "complex128" if _BITS.get(name, 32) > 32 and kind == "real floating" else "complex64"
            kind = "complex floating"
    return name


def python_scalar(value):
    """A Python number for numpy-style scalars (np.float64(1.0) -> 1.0), so that they
    are weak like Python's own; anything else unchanged."""
    if type(value) in (int, float, bool, complex):
        return value
    if isinstance(value, numbers.Number):
        if isinstance(value, numbers.Integral):
            return int(value)
        if isinstance(value, numbers.Real):
            return float(value)
        return complex(value)
    if type(value).__name__ in ("bool_", "bool") and hasattr(value, "dtype") and \
            getattr(value, "ndim", 1) == 0 and getattr(value, "shape", None) == ():
        return bool(value)
    return value


def scalar_for(value, name):
    """Python scalar `value` fit for an array of dtype `name`: the Array API lets a bool
    meet only boolean arrays, so True becomes 1 or 1.0 elsewhere."""
    if type(value) is not bool:
        return value
    kind = _KINDS[name]
    if kind == "bool":
        return value
    return int(value) if kind.endswith("integer") else float(value)
