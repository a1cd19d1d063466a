"""PyTorch's everyday Tensor methods, attached to `Tensor`: each one a spelling of
anygrad's ops, with PyTorch's arguments and results.

Only names whose meaning is the same in PyTorch and in the standard live here, and a
name the Tensor class already defines is never replaced (`max`, `sort`, `std`,
`repeat`, `view` keep the class's own rule). In-place methods (trailing underscore)
follow `anygrad.inplace`: a leaf that requires grad changes only inside `no_grad()`,
and ops recorded before the change refuse to run backward through it.
"""
from __future__ import annotations

import math

from . import engine, inplace, ops
from ._aliases import UNSET as _UNSET
from ._aliases import ValuesIndices, _shape_args, axis_args
from .modes import _grad_enabled, no_grad
from .tensor import Tensor


# ------------------------------------------------------------------ shape and conversion
def mm(self, other):
    """The product of two matrices (PyTorch's mm takes 2-D tensors only)."""
    if self.ndim != 2 or getattr(other, "ndim", 0) != 2:
        raise ValueError(f"mm: expects two 2-D tensors, got shapes {self.shape} and "
                         f"{getattr(other, 'shape', None)}; use matmul for batches")
    return ops.matmul(self, other)


def split(self, split_size_or_sections, dim=0):
    """Pieces along `dim`: of `split_size` each (the last may be shorter), or of the
    listed sizes, which must add up to the axis' length."""
    n = self.shape[dim]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size <= 0:
            raise ValueError(f"split: split_size must be positive, got {size}")
        sizes = [min(size, n - start) for start in range(0, n, size)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise ValueError(f"split: sections {sizes} add up to {sum(sizes)}, but dim {dim} of "
                             f"shape {self.shape} has length {n}")
    return tuple(_slice(self, dim, start, start + size)
                 for start, size in zip(_starts(sizes), sizes))


def chunk(self, chunks, dim=0):
    """At most `chunks` pieces along `dim`, each ceil(length / chunks) long but the last."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    n = self.shape[dim]
    return split(self, max(1, math.ceil(n / chunks)), dim)


def _starts(sizes):
    start = 0
    for size in sizes:
        yield start
        start += size


def _slice(t, dim, start, stop):
    # Through Tensor.__getitem__: a view, as PyTorch's split, chunk and narrow give.
    key = [slice(None)] * t.ndim
    key[dim] = slice(start, stop)
    return t[tuple(key)]


def narrow(self, dim, start, length):
    return _slice(self, dim, start, start + length)


def view_as(self, other):
    return self.view(*other.shape)


def reshape_as(self, other):
    return self.reshape(*other.shape)


def expand_as(self, other):
    return ops.broadcast_to(self, tuple(other.shape))


def contiguous(self, memory_format=None):
    """The tensor itself: anygrad's arrays have no strides to rearrange."""
    return self


def ravel(self):
    return self.reshape(-1)


def dot(self, other):
    """numpy's `a.dot(b)` (numpy.dot's rules for any number of axes; for two vectors
    it is PyTorch's dot too)."""
    from .numpy import dot

    return dot(self, other)


def _at(self):
    """JAX's functional index updates: `x.at[key].set(v)` is a new tensor (see
    anygrad.numpy._at)."""
    from .numpy._at import At

    return At(self)


def nelement(self):
    return math.prod(self.shape)


def element_size(self):
    from .dtypes import _BITS

    return max(1, _BITS[self.dtype.name] // 8)


def type_as(self, other):
    return ops.astype(self, other.dtype.name)


# PyTorch's legacy type names, for `t.type()` and `t.type('torch.LongTensor')`.
_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
               "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
               "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}


def type_(self, dtype=None):
    """Without an argument, PyTorch's name of the tensor's type ('torch.FloatTensor');
    with a dtype or such a name, the tensor cast to it."""
    if dtype is None:
        return f"torch.{_TYPE_NAMES.get(self.dtype.name, self.dtype.name)}"
    if isinstance(dtype, str) and dtype.startswith("torch."):
        names = {v: k for k, v in _TYPE_NAMES.items()}
        if dtype[len("torch."):] not in names:
            raise TypeError(f"type: unknown tensor type {dtype!r}")
        dtype = names[dtype[len("torch."):]]
    return ops.astype(self, _dtype_name(dtype))


def long(self):
    return ops.astype(self, "int64")


def int_(self):
    return ops.astype(self, "int32")


def bool_(self):
    return ops.astype(self, "bool")


def half(self):
    return ops.astype(self, "float16")


def cpu(self):
    return to(self, "cpu")


def cuda(self, device=None):
    return to(self, "cuda" if device is None else _cuda_name(device))


def _cuda_name(device):
    return f"cuda:{device}" if isinstance(device, int) else device


_original_to = Tensor.to


def to(self, *args, **kwargs):
    """anygrad's `to(backend, device, dtype)`, also taking PyTorch's device spellings:
    `t.to('cpu')`, `t.to('cuda:1')`, `t.to(torch.device(...))`, `t.to(other_tensor)`,
    `t.to(device, dtype)`, and `non_blocking=`/`copy=` (accepted; every move copies)."""
    from .torch import _device

    kwargs.pop("non_blocking", None)
    kwargs.pop("copy", None)
    if args and isinstance(args[0], Tensor):  # t.to(other): other's device and dtype
        other = args[0]
        return _original_to(self, other.backend, device=other.device, dtype=other.dtype.name)
    # Positionally, PyTorch's device spellings; by keyword, only a `torch.device` (a
    # string `device=` keeps anygrad's meaning: this backend, that device).
    spec = args[0] if args else kwargs.get("device") if "backend" not in kwargs else None
    if (spec is not None and _device.is_device_spec(spec)
            and (args or isinstance(spec, _device.device))):
        if args:
            args = args[1:]
        else:
            kwargs.pop("device")
        dtype = args[0] if args else kwargs.pop("dtype", None)
        backend, device = _device.placement(spec, like=self.backend)
        if backend is self.backend and device is None:
            return self if dtype is None else ops.astype(self, _dtype_name(dtype))
        return _original_to(self, backend, device=device,
                            dtype=None if dtype is None else _dtype_name(dtype))
    return _original_to(self, *args, **kwargs)


def _dtype_name(dtype):
    from .dtypes import dtype_name

    return dtype_name(dtype)


@property
def is_cuda(self):
    from .torch import _device

    return _device.device_of(self).type == "cuda"


def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
    return _new(self, "zeros", _shape_args(size), dtype, device, requires_grad)


def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
    return _new(self, "ones", _shape_args(size), dtype, device, requires_grad)


def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
    return _new(self, "zeros", _shape_args(size), dtype, device, requires_grad)


def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
    from .creation import full

    backend, device = _like(self, device)
    return full(tuple(size), fill_value, dtype=_dtype_or(self, dtype), backend=backend,
                device=device, requires_grad=requires_grad)


def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    """A new leaf from `data`, with this tensor's dtype and device unless told."""
    from .creation import tensor

    backend, device = _like(self, device)
    return tensor(data.detach() if isinstance(data, Tensor) else data,
                  dtype=_dtype_or(self, dtype), backend=backend, device=device,
                  requires_grad=requires_grad)


def _new(self, kind, shape, dtype, device, requires_grad):
    from . import creation

    backend, device = _like(self, device)
    return getattr(creation, kind)(shape, dtype=_dtype_or(self, dtype), backend=backend,
                                   device=device, requires_grad=requires_grad)


def _like(self, device):
    if device is None:
        return self.backend, self.device
    from .torch import _device

    return _device.placement(device)


def _dtype_or(self, dtype):
    return self.dtype.name if dtype is None else _dtype_name(dtype)


# ------------------------------------------------------------------ comparisons and logic
def eq(self, other):
    return ops.equal(self, other)


def ne(self, other):
    return ops.not_equal(self, other)


def lt(self, other):
    return ops.less(self, other)


def le(self, other):
    return ops.less_equal(self, other)


def gt(self, other):
    return ops.greater(self, other)


def ge(self, other):
    return ops.greater_equal(self, other)


def all_(self, dim=_UNSET, keepdim=_UNSET, *, axis=_UNSET, keepdims=_UNSET):
    axis, keepdims = axis_args("Tensor.all", axis, dim, keepdims, keepdim)
    return ops.all(self, axis=axis, keepdims=keepdims)


def any_(self, dim=_UNSET, keepdim=_UNSET, *, axis=_UNSET, keepdims=_UNSET):
    axis, keepdims = axis_args("Tensor.any", axis, dim, keepdims, keepdim)
    return ops.any(self, axis=axis, keepdims=keepdims)


def masked_fill(self, mask, value):
    """`value` where `mask` holds, this tensor elsewhere (the gradient flows to both)."""
    if isinstance(value, Tensor):
        if value.size != 1:
            raise ValueError(f"masked_fill: value must be a number or a one-element tensor, got "
                             f"shape {value.shape}")
        value = ops.astype(ops.reshape(value, ()), self.dtype.name)
    else:
        value = _scalar_like(self, value)
    return ops.where(mask, value, self)


def _scalar_like(t, value):
    from .creation import full

    return full((), value, dtype=t.dtype.name, backend=t.backend, device=t.device)


# ------------------------------------------------------------------ selection
def topk(self, k, dim=-1, largest=True, sorted=True):
    """The `k` largest (or smallest) entries along `dim` and where they were, as
    (values, indices); values come in order (`sorted` is accepted: they always are)."""
    n = self.shape[dim] if self.ndim else 1
    if not 0 <= k <= n:
        raise ValueError(f"topk: k={k} is out of range for dim {dim} of shape {self.shape}")
    order = ops.argsort(self, axis=dim, descending=largest, stable=True)
    indices = _slice(order, dim, 0, k)
    return ValuesIndices(ops.take_along_axis(self, indices, axis=dim), indices)


def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (sorted, flattened), with PyTorch's optional extras."""
    if dim is not None:
        raise NotImplementedError("unique(dim=...): unique slices are not supported; use "
                                  "unique() on the flattened tensor")
    if return_inverse or return_counts:
        found = ops.unique_all(self)
        out = (found.values,)
        if return_inverse:
            out += (ops.reshape(found.inverse_indices, self.shape),)
        if return_counts:
            out += (found.counts,)
        return out
    return ops.unique_values(self)


def index_select(self, dim, index):
    return ops.take(self, index, axis=dim)


def norm(self, p="fro", dim=None, keepdim=False):
    """The vector 2-norm (or p-norm) over `dim`, or over every element."""
    order = 2 if p in ("fro", None) else p
    return ops.vector_norm(self, axis=dim if not isinstance(dim, list) else tuple(dim),
                           keepdims=keepdim, ord=order)


# ------------------------------------------------------------------ arithmetic by name
def add(self, other, alpha=1):
    return ops.add(self, other if alpha == 1 else other * alpha)


def sub(self, other, alpha=1):
    return ops.subtract(self, other if alpha == 1 else other * alpha)


def mul(self, other):
    return ops.multiply(self, other)


def div(self, other, rounding_mode=None):
    if rounding_mode is None:
        return ops.divide(self, other)
    if rounding_mode == "floor":
        return ops.floor_divide(self, other)
    if rounding_mode == "trunc":
        return ops.trunc(ops.divide(self, other))
    raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")


def neg(self):
    return ops.negative(self)


# ------------------------------------------------------------------ in place
def _in_place(t, what, compute):
    """t becomes `compute(t)`, kept as the same object: recorded as an op on its old
    self where t is part of a graph, else written outside the graph."""
    if _grad_enabled.get() and t._requires_grad:
        if t.node is None:
            raise RuntimeError(
                f"{what}: a leaf tensor that requires grad (shape {t.shape}, dtype {t.dtype}) "
                "cannot be changed in place while gradients are recorded; do it inside "
                "`with torch.no_grad():`")
        inplace.before_write(t, what)
        old = inplace._snapshot(t)
        result = compute(old)
        inplace.check_same_shape(t, result, what)
        if result.dtype != t.dtype:
            result = ops.astype(result, t.dtype.name)
        t.array, t.node, t._requires_grad = result.array, result.node, result._requires_grad
        t._version = engine.tick_inplace()
        inplace.after_write(t)  # a view writes on to its base; t's own views follow
        return t
    inplace.before_write(t, what)
    with no_grad():
        result = compute(t)
    inplace.check_same_shape(t, result, what)
    if result.dtype != t.dtype:
        if result.dtype.kind != t.dtype.kind:
            raise TypeError(f"{what}: the result has dtype {result.dtype}, which a tensor of "
                            f"dtype {t.dtype} cannot hold")
        result = ops.astype(result, t.dtype.name)
    t.array = result.array
    t._version = engine.tick_inplace()
    if t.node is not None and t.node.inputs is not None:
        t.node.clock = engine.OUTPUT_CHANGED
    inplace.after_write(t)
    return t


def _binary_in_place(op):
    def update(self, other, *, alpha=1):
        if alpha != 1:
            other = other * alpha
        return inplace.update(self, op, other)

    return update


add_ = _binary_in_place(ops.add)
sub_ = _binary_in_place(ops.subtract)


def mul_(self, other):
    return inplace.update(self, ops.multiply, other)


def div_(self, other):
    return inplace.update(self, ops.divide, other)


def pow_(self, exponent):
    return inplace.update(self, ops.pow, exponent)


def addcmul_(self, tensor1, tensor2, value=1):
    return inplace.update(self, ops.add, tensor1 * tensor2 * value)


def addcdiv_(self, tensor1, tensor2, value=1):
    return inplace.update(self, ops.add, tensor1 / tensor2 * value)


def clamp_(self, min=None, max=None):
    return _in_place(self, "clamp_", lambda t: ops.clip(t, min=min, max=max))


def neg_(self):
    return _in_place(self, "neg_", ops.negative)


def exp_(self):
    return _in_place(self, "exp_", ops.exp)


def sqrt_(self):
    return _in_place(self, "sqrt_", ops.sqrt)


def relu_(self):
    return _in_place(self, "relu_", ops.relu)


def sigmoid_(self):
    return _in_place(self, "sigmoid_", ops.sigmoid)


def tanh_(self):
    return _in_place(self, "tanh_", ops.tanh)


def abs_(self):
    return _in_place(self, "abs_", ops.abs)


def masked_fill_(self, mask, value):
    return _in_place(self, "masked_fill_", lambda t: masked_fill(t, mask, value))


def unsqueeze_(self, dim):
    return _in_place(self, "unsqueeze_", lambda t: ops.expand_dims(t, axis=dim))


def squeeze_(self, dim=None):
    return _in_place(self, "squeeze_", lambda t: t.squeeze(dim))


def t_(self):
    return _in_place(self, "t_", lambda t: t.t())


def _drawn(what, draw):
    def fill(self, *args, **kwargs):
        self._check_in_place(what)
        array = draw(self, *args, **kwargs)
        return self.copy_(engine._wrap(array, self.backend))

    fill.__name__ = what
    return fill


def _normal(t, mean=0.0, std=1.0, *, generator=None):
    return t.backend.normal(t.shape, t.array.dtype, t.device, mean=mean, std=std)


def _uniform(t, a=0.0, b=1.0, *, generator=None):
    return t.backend.uniform(t.shape, t.array.dtype, t.device, low=a, high=b)


normal_ = _drawn("normal_", _normal)
uniform_ = _drawn("uniform_", _uniform)


# ------------------------------------------------------------------ printing
def __format__(self, spec):
    """`f'{loss:.3f}'` formats a one-element tensor's value; other tensors format as
    their repr (a non-empty spec is an error there, as for any object)."""
    if spec and math.prod(self.shape) == 1:
        return format(self.item(), spec)
    return object.__format__(self, spec) if spec else repr(self)


_METHODS = {
    "mm": mm, "split": split, "chunk": chunk, "view_as": view_as, "reshape_as": reshape_as,
    "expand_as": expand_as, "contiguous": contiguous, "ravel": ravel, "nelement": nelement,
    "dot": dot, "at": property(_at),
    "element_size": element_size, "type_as": type_as, "type": type_, "narrow": narrow,
    "long": long, "int": int_,
    "bool": bool_, "half": half, "cpu": cpu, "cuda": cuda, "is_cuda": is_cuda,
    "new_zeros": new_zeros, "new_ones": new_ones, "new_empty": new_empty,
    "new_full": new_full, "new_tensor": new_tensor,
    "eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge, "all": all_, "any": any_,
    "masked_fill": masked_fill, "topk": topk, "unique": unique, "index_select": index_select,
    "norm": norm, "add": add, "sub": sub, "mul": mul, "div": div, "neg": neg,
    "add_": add_, "sub_": sub_, "mul_": mul_, "div_": div_, "pow_": pow_,
    "addcmul_": addcmul_, "addcdiv_": addcdiv_, "clamp_": clamp_, "clip_": clamp_,
    "neg_": neg_, "exp_": exp_, "sqrt_": sqrt_, "relu_": relu_, "sigmoid_": sigmoid_,
    "tanh_": tanh_, "abs_": abs_, "masked_fill_": masked_fill_, "unsqueeze_": unsqueeze_,
    "squeeze_": squeeze_, "t_": t_, "normal_": normal_, "uniform_": uniform_,
}


def attach():
    """Give Tensor the methods above that it does not define itself, PyTorch's device
    spellings in `to`, and `__format__`."""
    for name, method in _METHODS.items():
        if name not in Tensor.__dict__:
            setattr(Tensor, name, method)
    if Tensor.__dict__.get("to") is _original_to:
        Tensor.to = to
    if "__format__" not in Tensor.__dict__:
        Tensor.__format__ = __format__


attach()
