"""What an op's arguments mean, decided once, before any library sees them.

`engine.apply` hands its arguments here when they are not all tensors of one dtype:
numpy-style scalars become Python numbers (weak, as in PyTorch and JAX), arrays of the
tensors' own library become constants, an array of another library is refused, and
mixed dtypes are promoted by anygrad's rules (`anygrad.dtypes`) through recorded casts,
so each input's gradient comes back in its own dtype.
"""
from __future__ import annotations

from . import dtypes
from .dtypes import python_scalar  # noqa: F401  (re-exported for the engine)
from .tensor import Tensor

_SCALARS = (int, float, bool, complex)


def is_array(value) -> bool:
    """An array of some library (not a Tensor, not a Python value)."""
    return hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, Tensor)


def admit(op, backend, args):
    """`args` with numpy-style scalars made Python numbers and the backend's own arrays
    made constant tensors; an array of any other library raises TypeError. `op` is an
    op, or the name of a function composed from ops."""
    from .engine import _wrap

    name = getattr(op, "name", op)
    out = []
    for a in args:
        if isinstance(a, Tensor) or a is None or type(a) in _SCALARS:
            out.append(a)
            continue
        scalar = python_scalar(a)
        if scalar is not a:
            out.append(scalar)
        elif is_array(a):
            if not backend.owns(a):
                raise TypeError(
                    f"{name}: inputs live on different backends ({backend.name!r} and "
                    f"{_library(a)!r}, a raw array); make it a tensor with "
                    f"ag.tensor(..., backend={backend.name!r}) first"
                )
            out.append(_wrap(a, backend))
        else:
            out.append(a)
    return out


def tensors(name, *args):
    """The arguments of function `name` (a composition of ops, such as F.conv2d) read as
    an op reads its own: raw arrays become constant tensors on the backend of the
    tensors among them (or, with none, of the first array); None and numbers pass."""
    backend = next((a.backend for a in args if isinstance(a, Tensor)), None)
    if backend is None:
        first = next((i for i, a in enumerate(args) if is_array(a)), None)
        if first is None:
            return args
        from .creation import as_tensor

        args = list(args)
        args[first] = as_tensor(args[first])
        backend = args[first].backend
    return tuple(admit(name, backend, args))


def _library(array):
    return type(array).__module__.split(".")[0]


def promote(op, args):
    """Cast the tensors among `args` (from index `op.promotes` on) to their common dtype,
    and put Python numbers in that dtype's kind."""
    from . import ops

    start = op.promotes
    names = set()
    scalars = []
    for a in args[start:]:
        if isinstance(a, Tensor):
            names.add(dtypes.as_dtype(a.array.dtype).name)
        elif type(a) in _SCALARS:
            scalars.append(a)
    if not names:
        if not scalars:
            return args
        return _numbers_as_tensor(args, start, scalars)
    target = dtypes.result_name(names)
    if scalars:
        target = dtypes.with_scalars(target, scalars)
    if op.floating and not dtypes.DTYPES[target].is_floating:
        target = dtypes.get_default_dtype().name
    out = list(args)
    changed = False
    for i in range(start, len(out)):
        a = out[i]
        if isinstance(a, Tensor):
            if dtypes.as_dtype(a.array.dtype).name != target:
                out[i], changed = ops.astype(a, target), True
        elif type(a) is bool:
            out[i], changed = dtypes.scalar_for(a, target), True
    return out if changed else args


# ------------------------------------------------------------------ error messages
def explain_failure(op, args, params, exc):
    """Raise a ValueError naming the op and the shapes when a forward failed because its
    inputs' shapes do not fit; otherwise return and let the library's error stand."""
    shapes = [tuple(a.shape) for a in args if isinstance(a, Tensor)]
    if op.name in ("matmul", "linear"):
        problem = _matmul_problem(op.name, shapes)
    elif op.promotes is not None and len(shapes) > 1:
        problem = _broadcast_problem(shapes)
    else:
        problem = None
    if problem is not None:
        raise ValueError(f"{op.name}: {problem}") from exc


def broadcast_shapes(*shapes):
    """The shape `shapes` broadcast to, or None when they do not broadcast."""
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(-ndim, 0):
        sizes = {s[i] for s in shapes if len(s) >= -i} - {1}
        if len(sizes) > 1:
            return None
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def _broadcast_problem(shapes):
    if broadcast_shapes(*shapes) is not None:
        return None
    listed = " and ".join(str(s) for s in shapes)
    return f"shapes {listed} cannot be broadcast together"


def _matmul_problem(name, shapes):
    if len(shapes) < 2:
        return None
    a, b = shapes[0], shapes[1]
    if len(a) == 0 or len(b) == 0:
        return f"operands must have at least one dimension, got shapes {a} and {b}"
    if name == "linear":
        if len(b) != 2:
            return f"weight must be 2-d (out_features, in_features), got shape {b}"
        if a[-1] != b[-1]:
            return (f"input of shape {a} has {a[-1]} features but weight of shape {b} "
                    f"expects {b[-1]}")
        return None
    inner_b = b[0] if len(b) == 1 else b[-2]
    if a[-1] != inner_b:
        return (f"shapes {a} and {b} do not match: the last axis of the first ({a[-1]}) must "
                f"equal the {'only' if len(b) == 1 else 'second-to-last'} axis of the "
                f"second ({inner_b})")
    if len(a) > 2 and len(b) > 2 and broadcast_shapes(a[:-2], b[:-2]) is None:
        return f"batch dimensions of shapes {a} and {b} cannot be broadcast together"
    return None


def _numbers_as_tensor(args, start, scalars):
    """Only Python numbers take part (where(c, 1, 0.5)): the first becomes a 0-d tensor
    of their common dtype, on the backend and device of the other arguments."""
    from .creation import tensor

    lead = next(a for a in args if isinstance(a, Tensor))
    target = dtypes.infer(scalars)
    out = list(args)
    i = next(i for i in range(start, len(out)) if type(out[i]) in _SCALARS)
    out[i] = tensor(out[i], dtype=target, backend=lead.backend, device=lead.device)
    return out
