"""What `x[key]` means, decided once for every backend.

The key is normalised here, at the front door, into the form every Array API library
accepts; the libraries never see what only numpy allows:
- fewer indices than dimensions select along the leading axes (a trailing `...` is
  implied);
- integer-array indices may be anygrad tensors, arrays of any library, numpy arrays or
  Python lists; they become the tensor's own library's integer arrays, and lists of
  bools become masks;
- a slice with a negative step (`x[::-1]`) becomes a flip and an ascending slice, which
  libraries without negative steps (torch) run too;
- numpy-style integer scalars count as Python ints, and an integer out of range raises
  IndexError naming the axis and its size.
"""
from __future__ import annotations

from .checks import check_values
from .dtypes import as_dtype, python_scalar
from .modes import _recording
from .tensor import Tensor


# Index parts that select without copying in numpy and PyTorch: a result indexed by
# these alone is a view there, and writes to it reach its base here too.
BASIC_TYPES = frozenset((int, slice, type(None), type(Ellipsis)))


def is_basic(key):
    """Whether `key` is made of basic indices only (ints, slices, None, Ellipsis)."""
    for k in (key if type(key) is tuple else (key,)):
        if type(k) not in BASIC_TYPES and (type(k) is bool or not _integral(k)):
            return False
    return True


def _integral(k):
    """A numpy-style integer scalar (np.int64(2)), which numpy reads as an int."""
    if getattr(k, "ndim", 0) or isinstance(k, list):  # index arrays, the common case
        return False
    return type(python_scalar(k)) is int


def normalize(x, key):
    """(axes to flip first, key for the flipped tensor) for `x[key]`."""
    parts = [_part(x, k) for k in (key if isinstance(key, tuple) else (key,))]
    ellipses = [i for i, k in enumerate(parts) if k is Ellipsis]
    if len(ellipses) > 1:
        raise IndexError("getitem: an index can only have a single ellipsis ('...')")
    if not ellipses:
        parts.append(Ellipsis)
        ellipses = [len(parts) - 1]
    e = ellipses[0]
    named = sum(_width(k) for k in parts)
    if named > x.ndim:
        raise IndexError(
            f"getitem: too many indices for a tensor of shape {x.shape}: {named} axes indexed"
        )
    arrays = [k for k in parts if hasattr(k, "shape")]
    # numpy counts an int among index arrays as one more array (broadcast with them);
    # torch counts it as a plain int, which moves the result's axes. A length-1 array
    # means the same to both.
    as_array = arrays and not any(_is_mask(k) for k in arrays) and \
        any(len(k.shape) > 0 for k in arrays)
    flips = []
    axis = 0
    for i, k in enumerate(parts):
        if i == e:
            axis += x.ndim - named
            continue
        if isinstance(k, slice):
            parts[i] = _within(k, x.shape[axis])
            if k.step is not None and k.step < 0:
                parts[i] = _ascending(k, x.shape[axis])
                flips.append(axis)
        elif type(k) is int:
            n = x.shape[axis]
            if not -n <= k < n:
                raise IndexError(
                    f"getitem: index {k} is out of range for axis {axis} of size {n} "
                    f"(tensor of shape {x.shape})"
                )
            if as_array:
                parts[i] = x.backend.index(x.backend.asarray([k], dtype="int64"))
        elif hasattr(k, "shape") and not _is_mask(k):
            check_range(x, k, axis, "getitem")
        axis += _width(k)
    return tuple(flips), tuple(parts)


def check_range(x, indices, axis, where):
    """Integer indices along `axis` of x must lie in [-n, n): some libraries wrap or clamp
    the others silently (see checks.py)."""
    n = x.shape[axis]
    if getattr(indices, "_level", None) is not None:  # batched by ag.vmap: every example's
        from .batching.tensor import physical

        indices = physical(indices).array

    def outside(xp, indices):
        return xp.any((indices < -n) | (indices >= n))

    def error(indices):
        values = x.backend.to_numpy(indices).reshape(-1)
        wrong = next(int(v) for v in values if not -n <= v < n)
        return IndexError(f"{where}: index {wrong} is out of range for axis {axis} of size "
                          f"{n} (tensor of shape {x.shape})")

    check_values(x.backend, f"{where} indices in [-{n}, {n})", outside, [indices], error)


def _within(k, n):
    """A slice with its ends clamped into [0, n], as numpy reads x[:10] on 3 elements
    (the standard leaves ends past the axis undefined)."""
    if (k.start is None or -n <= k.start <= n) and (k.stop is None or -n <= k.stop <= n):
        return k
    start, stop, step = k.indices(n)
    if (step > 0 and stop < start) or (step < 0 and stop > start):
        stop = start  # empty
    return slice(start, stop if stop >= 0 else None, step)


def _width(k):
    """How many of the tensor's axes index part `k` consumes."""
    if k is None or k is Ellipsis:
        return 0
    if isinstance(k, (int, slice)):
        return 1
    if _is_mask(k):
        return k.ndim
    return 1


def _is_mask(k):
    return hasattr(k, "dtype") and as_dtype(k.dtype).kind == "bool"


def _part(x, k):
    """One index part in a form the tensor's library accepts."""
    if k is None or k is Ellipsis or isinstance(k, slice):
        return k
    k = python_scalar(k)
    if type(k) is bool:
        raise IndexError("getitem: a bare True/False is not an index; use a boolean mask")
    if type(k) is int:
        return k
    return index_array(x, k)


def index_array(x, k):
    """Index array `k` (a tensor, any library's array, a list) as x's library's integer
    array or boolean mask."""
    backend = x.backend
    if getattr(k, "_level", None) is not None:  # batched by ag.vmap: its gather maps it
        return k
    if isinstance(k, Tensor):
        recorder = _recording.get()
        if recorder is not None:  # a compiled function indexes with this call's values
            recorder.on_read(k, backend)
        array = k.array if k.backend is backend else backend.convert(k.array, k.backend)
    elif isinstance(k, (list, tuple, range)):  # numpy reads a range as its list
        array = backend.asarray(list(k) if type(k) is range else k,
                                dtype=None if len(k) else "int64")
    else:
        from .creation import _to_array

        array, _ = _to_array(k, backend=backend, device=x.device)
    if not _is_mask(array):
        if not as_dtype(array.dtype).is_integral:
            raise IndexError(
                f"getitem: index arrays must be integers or booleans, got dtype "
                f"{as_dtype(array.dtype)}"
            )
        array = backend.index(array)
    return array


def _ascending(k, n):
    """The slice of a tensor flipped along its axis that selects what `k` selects."""
    picked = range(*k.indices(n))
    if not picked:
        return slice(0, 0, 1)
    return slice(n - 1 - picked[0], n - picked[-1], -k.step)


def is_standard(key, ndim):
    """Whether the Array API standard defines `key` (already normalised) on an array of
    `ndim` axes: basic indices; one boolean mask alone; or integers and integer arrays
    naming every axis."""
    arrays = [k for k in key if hasattr(k, "shape")]
    if not arrays:
        return True
    if len(key) == 1 and _is_mask(key[0]):
        return True
    return all(type(k) is int or (hasattr(k, "shape") and not _is_mask(k)) for k in key) \
        and len(key) == ndim
