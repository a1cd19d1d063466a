"""The Tensor: a backend array, its gradient, and the node that produced it."""
from __future__ import annotations

import weakref

from ._aliases import UNSET as _UNSET
from ._aliases import (
    ValuesIndices, _backend_or_dtype, _correction, _shape_args, _Size, axis_args,
)
from .modes import _recording


class Tensor:
    """An array of any Array API backend that records how it was computed.

    `data` is the backend's own array; `grad` is a Tensor (or None); `node` is the
    recorded op that produced this tensor, None for leaves and constants.
    """

    # `_version` is the in-place clock's tick at this tensor's last in-place update (0:
    # never); nodes recorded before that tick refuse to differentiate through it.
    __slots__ = ("data", "backend", "grad", "_requires_grad", "node", "_hooks", "_version",
                 "__weakref__")
    # numpy functions on tensors (and numpy arrays meeting tensors in operators) come
    # here and run as anygrad's ops: see anygrad.numpy_dispatch.
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        from .numpy_dispatch import array_ufunc

        return array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        from .numpy_dispatch import array_function

        return array_function(func, args, kwargs)

    def __array__(self, dtype=None, copy=None):
        """A host numpy copy, detached (`np.asarray(t)`, scipy's optimizers)."""
        array = self.backend.to_numpy(self.data)
        return array if dtype is None else array.astype(dtype)

    def __init__(self, data, requires_grad=False, backend=None, dtype=None, device=None):
        from .creation import _to_array

        self.data, self.backend = _to_array(data, dtype, backend, device)
        self.grad = None
        self.node = None
        self._requires_grad = False
        self._version = 0
        if requires_grad:
            self.requires_grad_(True)

    # ------------------------------------------------------------- properties
    @property
    def shape(self):
        return tuple(self.data.shape)

    @property
    def dtype(self):
        """anygrad's dtype (`ag.float32`, ...): the same object on every backend, equal
        to the library's own dtype of that name. `x.data.dtype` is the library's."""
        return as_dtype(self.data.dtype)

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return _Size(tuple(self.data.shape))  # an int that PyTorch code can also call

    @property
    def device(self):
        return self.backend.device(self.data)

    @property
    def is_leaf(self):
        return self.node is None

    @property
    def T(self):
        if self.ndim != 2:
            raise ValueError(f"T: expects a 2-D tensor, got shape {self.shape}; use permute_dims")
        return ops.matrix_transpose(self)

    @property
    def mT(self):
        return ops.matrix_transpose(self)

    # ------------------------------------------------------------- the Array API's array
    def __array_namespace__(self, api_version=None):
        """anygrad's namespace, so that `array_namespace(x)` code runs on (and
        differentiates through) tensors."""
        from .array_api import namespace_for

        return namespace_for(self.backend)

    def to_device(self, device, /, *, stream=None):
        return self.to(device=device)

    def __dlpack__(self, **kwargs):
        """The data, detached (DLPack carries no graph)."""
        return self.data.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self.data.__dlpack_device__()

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        """The rows (sub-tensors along the first axis), as many as len(x)."""
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        for i in range(self.data.shape[0]):
            yield ops.getitem(self, i)

    def __repr__(self):
        body = repr(self.backend.to_numpy(self.data)).replace("array(", "tensor(", 1)
        extra = [f"backend={self.backend.name!r}"]
        if self.node is not None:
            extra.append(f"grad_fn={self.node.op.name}")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        return f"{body[:-1]}, {', '.join(extra)})"

    # ------------------------------------------------------------- conversion
    def item(self):
        recorder = _recording.get()
        if recorder is not None:  # ag.compile cannot replay a value read on the host
            recorder.on_host_read(self, "item()")
        if self.size != 1:
            raise ValueError(f"item(): the tensor has {self.size} elements, not 1 (shape {self.shape})")
        self.backend.raise_deferred()  # values are read here anyway: checks queued on a GPU
        return self.backend.item(self.data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __complex__(self):
        return complex(self.item())

    def __bool__(self):
        return bool(self.item())

    def __index__(self):
        return int(self.item())

    def numpy(self):
        """A host numpy copy of the data (never part of the graph)."""
        recorder = _recording.get()
        if recorder is not None:
            recorder.on_host_read(self, "numpy()")
        self.backend.raise_deferred()
        return self.backend.to_numpy(self.data)

    def tolist(self):
        return self.numpy().tolist()

    def to(self, backend=None, device=None, dtype=None):
        """The same values on another backend or device, and/or as `dtype` (`x.to("float64")`
        works too). Differentiable: the gradient flows back to this tensor, converted
        to its backend, device and dtype."""
        backend, dtype = _backend_or_dtype(backend, dtype)
        out = ops.to_backend(self, backend, device)
        return out if dtype is None else ops.astype(out, dtype)

    def astype(self, dtype):
        return ops.astype(self, dtype)

    def detach(self):
        """A new leaf sharing the data, cut from the graph."""
        return engine._wrap(self.data, self.backend)

    def requires_grad_(self, requires_grad=True):
        if requires_grad and not self.dtype.is_floating:
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {self.dtype}; "
                "convert first, e.g. x.astype('float32')"
            )
        if not requires_grad and self.node is not None:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor; use detach()")
        self._requires_grad = bool(requires_grad)
        return self

    # ------------------------------------------------------------- autograd
    def backward(self, grad=None, retain_graph=None, create_graph=False):
        """Add d(self)/d(leaf) to every leaf's .grad (accumulating, as in PyTorch)."""
        if grad is None:
            if self.size != 1:
                raise RuntimeError(
                    f"backward: grad can be omitted only for a tensor with one element; this one "
                    f"has shape {self.shape}, so pass grad= of that shape"
                )
            grad = engine.implicit_cotangent(self, "backward")
        else:
            grad = _cotangent_for(self, grad, "backward")
        if retain_graph is None:
            retain_graph = create_graph
        engine.backward([self], [grad], retain_graph=retain_graph, create_graph=create_graph)

    def register_hook(self, hook):
        """Call `hook(grad)` when this tensor's gradient is computed; a returned tensor
        replaces the gradient. Returns a handle whose .remove() takes the hook away."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: the tensor does not require grad")
        if self.node is not None:
            if self.node.hooks is None:
                self.node.hooks = {}
            hooks = self.node.hooks
        else:
            if getattr(self, "_hooks", None) is None:
                self._hooks = {}
            hooks = self._hooks
        return _HookHandle(hooks, hook)

    def retain_grad(self):
        """Keep .grad on this non-leaf tensor after backward (leaves always keep it)."""
        if self.node is not None:
            self.node.retained = weakref.ref(self)

    def zero_grad(self):
        self.grad = None

    # ------------------------------------------------------------- arithmetic
    # Operators go to engine.apply directly: one call frame less on the hottest path.
    def __add__(self, other):
        return _apply(ops.add, (self, other))

    def __radd__(self, other):
        return _apply(ops.add, (other, self))

    def __sub__(self, other):
        return _apply(ops.subtract, (self, other))

    def __rsub__(self, other):
        return _apply(ops.subtract, (other, self))

    def __mul__(self, other):
        return _apply(ops.multiply, (self, other))

    def __rmul__(self, other):
        return _apply(ops.multiply, (other, self))

    def __truediv__(self, other):
        return _apply(ops.divide, (self, other))

    def __rtruediv__(self, other):
        return _apply(ops.divide, (other, self))

    def __pow__(self, other):
        return _apply(ops.pow, (self, other))

    def __rpow__(self, other):
        return _apply(ops.pow, (other, self))

    def __matmul__(self, other):
        return _apply(ops.matmul, (self, other))

    def __rmatmul__(self, other):
        return _apply(ops.matmul, (other, self))

    def __mod__(self, other):
        return _apply(ops.remainder, (self, other))

    def __rmod__(self, other):
        return _apply(ops.remainder, (other, self))

    def __floordiv__(self, other):
        return _apply(ops.floor_divide, (self, other))

    def __rfloordiv__(self, other):
        return _apply(ops.floor_divide, (other, self))

    def __neg__(self):
        return _apply(ops.negative, (self,))

    # In-place arithmetic, as in PyTorch: the tensor itself is updated (optimizer steps
    # written `p -= lr * p.grad` inside no_grad() work on every backend).
    def __iadd__(self, other):
        return inplace.update(self, ops.add, other)

    def __isub__(self, other):
        return inplace.update(self, ops.subtract, other)

    def __imul__(self, other):
        return inplace.update(self, ops.multiply, other)

    def __itruediv__(self, other):
        return inplace.update(self, ops.divide, other)

    def __ipow__(self, other):
        return inplace.update(self, ops.pow, other)

    def __pos__(self):
        return self

    def __abs__(self):
        return ops.abs(self)

    def __getitem__(self, key):
        return ops.getitem(self, key)

    def __setitem__(self, key, value):
        """`x[key] = value`, differentiable in value and in x's other elements; see
        `anygrad.inplace.assign`."""
        inplace.assign(self, key, value)

    # Comparisons carry no graph; they give boolean tensors.
    def __eq__(self, other):
        return ops.equal(self, other)

    def __ne__(self, other):
        return ops.not_equal(self, other)

    def __lt__(self, other):
        return ops.less(self, other)

    def __le__(self, other):
        return ops.less_equal(self, other)

    def __gt__(self, other):
        return ops.greater(self, other)

    def __ge__(self, other):
        return ops.greater_equal(self, other)

    # The standard's ~, & and | are bitwise; on booleans that is logical not, and, or.
    def __invert__(self):
        return ops.bitwise_invert(self)

    def __and__(self, other):
        return ops.bitwise_and(self, other)

    def __or__(self, other):
        return ops.bitwise_or(self, other)

    def __rand__(self, other):
        return ops.bitwise_and(other, self)

    def __ror__(self, other):
        return ops.bitwise_or(other, self)

    def __xor__(self, other):
        return ops.bitwise_xor(self, other)

    def __rxor__(self, other):
        return ops.bitwise_xor(other, self)

    def __lshift__(self, other):
        return ops.bitwise_left_shift(self, other)

    def __rlshift__(self, other):
        return ops.bitwise_left_shift(other, self)

    def __rshift__(self, other):
        return ops.bitwise_right_shift(self, other)

    def __rrshift__(self, other):
        return ops.bitwise_right_shift(other, self)

    __hash__ = object.__hash__

    # ------------------------------------------------------------- methods
    # PyTorch's everyday methods, each an alias of an op in `ops` (or of a short
    # composition of them). Reductions take the standard's `axis=`/`keepdims=` or
    # PyTorch's `dim=`/`keepdim=`; see `_aliases`.
    def sum(self, axis=_UNSET, keepdims=_UNSET, *, dim=_UNSET, keepdim=_UNSET):
        return self._reduced(ops.sum, "sum", axis, keepdims, dim, keepdim)

    def mean(self, axis=_UNSET, keepdims=_UNSET, *, dim=_UNSET, keepdim=_UNSET):
        return self._reduced(ops.mean, "mean", axis, keepdims, dim, keepdim)

    def prod(self, axis=_UNSET, keepdims=_UNSET, *, dim=_UNSET, keepdim=_UNSET):
        return self._reduced(ops.prod, "prod", axis, keepdims, dim, keepdim)

    def max(self, axis=_UNSET, keepdims=_UNSET, *, dim=_UNSET, keepdim=_UNSET):
        """The maximum over `axis` (a tensor). Spelled PyTorch's way, `x.max(dim=d)`
        gives PyTorch's (values, indices) pair."""
        return self._extremum("max", ops.max, ops.argmax, axis, keepdims, dim, keepdim)

    def min(self, axis=_UNSET, keepdims=_UNSET, *, dim=_UNSET, keepdim=_UNSET):
        """The minimum over `axis` (a tensor); `x.min(dim=d)` gives (values, indices)."""
        return self._extremum("min", ops.min, ops.argmin, axis, keepdims, dim, keepdim)

    def _reduced(self, reduce, name, axis, keepdims, dim, keepdim):
        axis, keepdims = axis_args(f"Tensor.{name}", axis, dim, keepdims, keepdim)
        return reduce(self, axis=axis, keepdims=keepdims)

    def _extremum(self, name, reduce, locate, axis, keepdims, dim, keepdim):
        torch_style = dim is not _UNSET
        axis, keepdims = axis_args(f"Tensor.{name}", axis, dim, keepdims, keepdim)
        values = reduce(self, axis=axis, keepdims=keepdims)
        if not torch_style:
            return values
        return ValuesIndices(values, locate(self, axis=axis, keepdims=keepdims))

    def argmax(self, axis=_UNSET, keepdims=_UNSET, *, dim=_UNSET, keepdim=_UNSET):
        return self._reduced(ops.argmax, "argmax", axis, keepdims, dim, keepdim)

    def argmin(self, axis=_UNSET, keepdims=_UNSET, *, dim=_UNSET, keepdim=_UNSET):
        return self._reduced(ops.argmin, "argmin", axis, keepdims, dim, keepdim)

    def var(self, axis=_UNSET, correction=None, keepdims=_UNSET, *, dim=_UNSET,
            keepdim=_UNSET, unbiased=None):
        """Variance; `correction=0` (the population variance, the standard's default)
        unless `correction=` or PyTorch's `unbiased=True` (correction 1) says otherwise."""
        axis, keepdims = axis_args("Tensor.var", axis, dim, keepdims, keepdim)
        return ops.var(self, axis=axis, correction=_correction("var", correction, unbiased),
                       keepdims=keepdims)

    def std(self, axis=_UNSET, correction=None, keepdims=_UNSET, *, dim=_UNSET,
            keepdim=_UNSET, unbiased=None):
        """Standard deviation; `correction`/`unbiased` as in `var`."""
        axis, keepdims = axis_args("Tensor.std", axis, dim, keepdims, keepdim)
        return ops.std(self, axis=axis, correction=_correction("std", correction, unbiased),
                       keepdims=keepdims)

    def reshape(self, *shape):
        return ops.reshape(self, _shape_args(shape))

    def view(self, *shape):
        """reshape under PyTorch's name (anygrad has no aliasing views; the result is a
        new tensor whose gradient flows back)."""
        return ops.reshape(self, _shape_args(shape))

    def flatten(self, start_dim=0, end_dim=-1):
        from .nn.functional import flatten

        return flatten(self, start_dim, end_dim)

    def t(self):
        """The transpose of a matrix; 0-D and 1-D tensors come back as they are."""
        if self.ndim > 2:
            raise ValueError(f"t(): expects a tensor of at most 2 dimensions, got shape "
                             f"{self.shape}; use transpose(dim0, dim1) or permute")
        return self if self.ndim < 2 else ops.matrix_transpose(self)

    def transpose(self, dim0, dim1):
        """Swap two axes."""
        axes = list(range(self.ndim))
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
        return ops.permute_dims(self, tuple(axes))

    def permute(self, *dims):
        return ops.permute_dims(self, _shape_args(dims))

    def unsqueeze(self, dim):
        return ops.expand_dims(self, axis=dim)

    def squeeze(self, dim=None):
        """Drop axes of length 1: all of them, or `dim` (left alone, as in PyTorch, when
        its length is not 1)."""
        if dim is None:
            axes = tuple(i for i, n in enumerate(self.shape) if n == 1)
        else:
            dims = dim if isinstance(dim, (tuple, list)) else (dim,)
            axes = tuple(d % self.ndim for d in dims if self.shape[d] == 1)
        return ops.squeeze(self, axis=axes) if axes else self

    def expand(self, *sizes):
        """Broadcast to `sizes`; -1 keeps an axis' length (PyTorch's expand)."""
        sizes = _shape_args(sizes)
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: {len(sizes)} sizes {sizes} for a tensor of shape "
                             f"{self.shape}; give at least {self.ndim}")
        shape = tuple(self.shape[i - lead] if n == -1 and i >= lead else n
                      for i, n in enumerate(sizes))
        return ops.broadcast_to(self, shape)

    def float(self):
        return ops.astype(self, "float32")

    def double(self):
        return ops.astype(self, "float64")

    def clone(self):
        """A copy of the data that stays in the graph (the gradient flows back)."""
        return ops.astype(self, self.dtype)

    def numel(self):
        return self.size

    def dim(self):
        return self.ndim

    def pow(self, exponent):
        return ops.pow(self, exponent)

    def clamp(self, min=None, max=None):
        return ops.clip(self, min=min, max=max)

    clip = clamp

    def abs(self):
        return ops.abs(self)

    def exp(self):
        return ops.exp(self)

    def log(self):
        return ops.log(self)

    def sqrt(self):
        return ops.sqrt(self)

    def tanh(self):
        return ops.tanh(self)

    def sigmoid(self):
        return ops.sigmoid(self)

    def relu(self):
        return ops.relu(self)

    def softmax(self, dim=_UNSET, *, axis=_UNSET):
        axis, _ = axis_args("Tensor.softmax", axis, dim, default_axis=-1)
        return ops.softmax(self, axis=axis)

    def log_softmax(self, dim=_UNSET, *, axis=_UNSET):
        axis, _ = axis_args("Tensor.log_softmax", axis, dim, default_axis=-1)
        return ops.log_softmax(self, axis=axis)

    # In place, outside the graph (PyTorch's trailing underscore). Recorded ops read
    # their inputs' data at backward time, so each of these ticks the in-place clock:
    # backward through an op recorded before the change then raises.
    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        self._check_in_place("fill_")
        xp = self.backend.xp
        self.data = xp.full(self.shape, value, dtype=self.data.dtype, device=self.device)
        self._version = engine.tick_inplace()
        return self

    def copy_(self, src):
        """Copy `src` (a Tensor or array of any backend, broadcastable to this shape)
        into this tensor, converted to its backend, device and dtype."""
        self._check_in_place("copy_")
        from .nn.module import _array_and_backend, _converted

        array, source = _array_and_backend(src.detach() if isinstance(src, Tensor) else src)
        array = _converted(array, source, self)
        shape = tuple(array.shape)
        if shape != self.shape:
            if len(shape) > self.ndim or any(
                    n not in (1, m) for n, m in zip(shape[::-1], self.shape[::-1])):
                raise ValueError(f"copy_: source of shape {shape} does not broadcast to "
                                 f"this tensor's shape {self.shape}")
            array = self.backend.xp.broadcast_to(array, self.shape)
            array = self.backend.xp.asarray(array, copy=True)
        self.data = array
        self._version = engine.tick_inplace()
        return self

    def _check_in_place(self, what):
        from .modes import is_grad_enabled

        if self.requires_grad and is_grad_enabled():
            kind = "a leaf that requires grad" if self.node is None else "a tensor in a graph"
            raise RuntimeError(f"{what}: in-place change of {kind} (shape {self.shape}) would "
                               "not be seen by backward; do it inside `with ag.no_grad():`")


class _HookHandle:
    __slots__ = ("_hooks", "_key")
    _next = 0

    def __init__(self, hooks, hook):
        _HookHandle._next += 1
        self._hooks = hooks
        self._key = _HookHandle._next
        hooks[self._key] = hook

    def remove(self):
        self._hooks.pop(self._key, None)


def _cotangent_for(out, grad, where):
    """The array of a user-given output gradient, checked against the output."""
    if not isinstance(grad, Tensor):
        grad = Tensor(grad, backend=out.backend, dtype=out.data.dtype)
    if grad.backend is not out.backend:
        raise TypeError(
            f"{where}: grad is on backend {grad.backend.name!r} but the output is on "
            f"{out.backend.name!r}; move it with .to({out.backend.name!r})"
        )
    if grad.shape != out.shape:
        raise ValueError(f"{where}: grad has shape {grad.shape} but the output has shape {out.shape}")
    if grad.data.dtype != out.data.dtype:  # the gradient takes the output's dtype
        grad = ops.astype(grad, out.data.dtype)
    return grad


# Imported last: these modules use Tensor, and Tensor's methods call them.
from . import engine, inplace, ops  # noqa: E402
from .dtypes import as_dtype  # noqa: E402

_apply = engine.apply
