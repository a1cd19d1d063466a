"""The Tensor: a backend array, its gradient, and the node that produced it."""
from __future__ import annotations

import weakref

from ._aliases import UNSET as _UNSET
from ._aliases import (
    ValuesIndices, _backend_or_dtype, _correction, _shape_args, _Size, axis_args,
)
from .modes import _grad_enabled, _recording


class Tensor:
    """An array of any Array API backend that records how it was computed.

    `array` is the backend's own array; `grad` is a Tensor (or None); `node` is the
    recorded op that produced this tensor, None for leaves and constants. `data` is
    PyTorch's: this tensor's values as a tensor outside every graph.
    """

    # `_version` is the in-place clock's tick at this tensor's last in-place update (0:
    # never); nodes recorded before that tick refuse to differentiate through it.
    # `_view` is set on views only (results of basic indexing and of the shape methods):
    # [base, key, the base's and the view's _version when they last agreed], so that
    # writes to the view reach the base (see anygrad.inplace). `_views` is set on bases
    # only: weak references to their views, which the base's in-place changes reach.
    __slots__ = ("array", "backend", "_grad", "_requires_grad", "node", "_hooks", "_version",
                 "_view", "_views", "__weakref__")
    # numpy functions on tensors (and numpy arrays meeting tensors in operators) come
    # here and run as anygrad's ops: see anygrad.numpy_dispatch.
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        from .numpy_dispatch import array_ufunc

        return array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        from .numpy_dispatch import array_function

        return array_function(func, args, kwargs)

    def __array__(self, dtype=None, copy=None):
        """A host numpy copy (`np.asarray(t)`, scipy's optimizers) of a tensor outside
        any graph being recorded; see `_refuse_implicit_detach`."""
        if self._requires_grad and _grad_enabled.get():
            _refuse_implicit_detach(self, "np.asarray (Tensor.__array__)")
        array = self.backend.to_numpy(self.array)
        return array if dtype is None else array.astype(dtype)

    def __init__(self, data, requires_grad=False, backend=None, dtype=None, device=None):
        from .creation import _to_array

        self.array, self.backend = _to_array(data, dtype, backend, device)
        self._grad = None
        self.node = None
        self._requires_grad = False
        self._version = 0
        if requires_grad:
            self.requires_grad_(True)

    # ------------------------------------------------------------- properties
    @property
    def data(self):
        """This tensor's values as a tensor outside every graph, sharing them, as in
        PyTorch: an in-place change of it (`p.data.add_(u)`, `w.data.uniform_(-a, a)`,
        `p.data[0] = 1`) changes this tensor, unrecorded, even while gradients are
        recorded. The backend's array itself is `.array`.

        Unlike PyTorch, such a change ticks the in-place clock as `with ag.no_grad():
        p.add_(u)` would: a backward through a graph that read the old values raises
        instead of silently using the new ones."""
        return inplace.data_alias(self)

    @data.setter
    def data(self, value):
        """`t.data = x` (a tensor or an array): t holds x's values from now on, without
        a graph, as in PyTorch (the shape and dtype may change)."""
        inplace.replace_data(self, value)

    @property
    def shape(self):
        return tuple(self.array.shape)

    @property
    def dtype(self):
        """anygrad's dtype (`ag.float32`, ...): the same object on every backend, equal
        to the library's own dtype of that name. `x.array.dtype` is the library's."""
        return as_dtype(self.array.dtype)

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, value):
        """None, or a gradient of this tensor's shape, dtype and backend (a Tensor or the
        backend's own array); anything else would fail later, deep inside backward."""
        self._grad = value if value is None else _checked_grad(self, value)

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    @property
    def ndim(self):
        return self.array.ndim

    @property
    def size(self):
        return _Size(tuple(self.array.shape))  # an int that PyTorch code can also call

    @property
    def device(self):
        return self.backend.device(self.array)

    @property
    def is_leaf(self):
        return self.node is None

    @property
    def T(self):
        if self.ndim != 2:
            raise ValueError(f"T: expects a 2-D tensor (the Array API's rule), got shape "
                             f"{self.shape}; reverse all axes with permute_dims or "
                             "anygrad.numpy.transpose")
        return self._transposed()

    @property
    def mT(self):
        return self._transposed()

    def _transposed(self):
        """The matrix transpose, a view (writes to it reach this tensor)."""
        out = ops.matrix_transpose(self)
        return inplace.make_view(self, out, inplace.transposed(self.ndim))

    # ------------------------------------------------------------- the Array API's array
    def __array_namespace__(self, api_version=None):
        """anygrad's namespace, so that `array_namespace(x)` code runs on (and
        differentiates through) tensors."""
        from .array_api import namespace_for

        return namespace_for(self.backend)

    def to_device(self, device, /, *, stream=None):
        return self.to(device=device)

    def __dlpack__(self, /, *, stream=None, max_version=None, dl_device=None, copy=None):
        """The data of a tensor outside any graph being recorded (DLPack carries no
        graph, so a tensor in one is refused as by __array__)."""
        if self._requires_grad and _grad_enabled.get():
            _refuse_implicit_detach(self, "__dlpack__")
        # Only what the caller gave: libraries of an older DLPack revision reject the rest.
        given = {k: v for k, v in (("stream", stream), ("max_version", max_version),
                                   ("dl_device", dl_device), ("copy", copy)) if v is not None}
        return self.array.__dlpack__(**given)

    def __dlpack_device__(self):
        return self.array.__dlpack_device__()

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def __iter__(self):
        """The rows (sub-tensors along the first axis), as many as len(x)."""
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        for i in range(self.array.shape[0]):
            yield self[i]

    def __repr__(self):
        body = repr(self.backend.to_numpy(self.array)).replace("array(", "tensor(", 1)
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
        return self.backend.item(self.array)

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
        return self.backend.to_numpy(self.array)

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
        return engine._wrap(self.array, self.backend)

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
        """x[key]; with basic indices only (ints, slices, None, ...) the result is a view
        in numpy's and PyTorch's sense: writing to it writes to x (`z[0][2] = 1`)."""
        out = ops.getitem(self, key)
        if type(key) in _BASIC or is_basic(key):
            inplace.make_view(self, out, key)
        return out

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

    # Methods that numpy and PyTorch both have with different results take their meaning
    # from the spelling: the standard's keywords (axis=, keepdims=, correction=) give the
    # standard's (and numpy's) result, PyTorch's (dim=, keepdim=, unbiased=) PyTorch's.
    # A call that could mean either (x.max(1), x.std(), x.sort()) raises.
    def max(self, *args, axis=_UNSET, keepdims=_UNSET, dim=_UNSET, keepdim=_UNSET):
        """The maximum over `axis=` (a tensor); `x.max(dim=d)` gives PyTorch's (values,
        indices) pair. `x.max(d)` is refused: numpy means the first, PyTorch the second."""
        _no_positional_axis("max", args)
        return self._extremum("max", ops.max, ops.argmax, axis, keepdims, dim, keepdim)

    def min(self, *args, axis=_UNSET, keepdims=_UNSET, dim=_UNSET, keepdim=_UNSET):
        """The minimum over `axis=` (a tensor); `x.min(dim=d)` gives (values, indices);
        `x.min(d)` is refused, as for max."""
        _no_positional_axis("min", args)
        return self._extremum("min", ops.min, ops.argmin, axis, keepdims, dim, keepdim)

    def sort(self, *args, axis=_UNSET, descending=False, stable=True, dim=_UNSET):
        """`x.sort(axis=a)`: the sorted tensor, as the standard's `ag.sort`;
        `x.sort(dim=d)`: PyTorch's (values, indices). Without either keyword it is
        refused: numpy sorts in place and returns None, PyTorch returns the pair."""
        if args or (axis is _UNSET and dim is _UNSET):
            raise TypeError(
                "Tensor.sort: numpy's x.sort() sorts in place and returns None, PyTorch's "
                "returns (values, indices), the standard's sort returns the sorted array; say "
                "which: x.sort(axis=-1) or ag.sort(x) for the sorted tensor, x.sort(dim=-1) "
                "for (values, indices)"
            )
        if dim is _UNSET:
            return ops.sort(self, axis=axis, descending=descending, stable=stable)
        if axis is not _UNSET:
            raise TypeError("Tensor.sort: got both axis= and dim=; pass one")
        return ValuesIndices(ops.sort(self, axis=dim, descending=descending, stable=stable),
                             ops.argsort(self, axis=dim, descending=descending, stable=stable))

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

    def var(self, *args, axis=_UNSET, correction=None, keepdims=_UNSET, dim=_UNSET,
            keepdim=_UNSET, unbiased=None):
        """Variance: with `correction=` or `unbiased=` as given; otherwise spelled the
        standard's way (`axis=`) the population variance (correction 0, the standard's and
        numpy's default), PyTorch's way (`dim=`) the sample variance (correction 1,
        PyTorch's). `x.var()` and `x.var(0)` alone are refused: the two defaults differ."""
        return self._spread("var", ops.var, args, axis, correction, keepdims, dim, keepdim,
                            unbiased)

    def std(self, *args, axis=_UNSET, correction=None, keepdims=_UNSET, dim=_UNSET,
            keepdim=_UNSET, unbiased=None):
        """Standard deviation; `correction` as in `var`."""
        return self._spread("std", ops.std, args, axis, correction, keepdims, dim, keepdim,
                            unbiased)

    def _spread(self, name, reduce, args, axis, correction, keepdims, dim, keepdim, unbiased):
        if len(args) > 1:
            raise TypeError(f"Tensor.{name}: takes the axis as its only positional argument; "
                            "pass correction= (or unbiased=) and keepdims= by keyword")
        if args:
            if axis is not _UNSET or dim is not _UNSET:
                raise TypeError(f"Tensor.{name}: got the axis both by position and by keyword")
            axis = args[0]
        if correction is None and unbiased is None:
            if dim is not _UNSET or keepdim is not _UNSET:
                correction = 1
            elif args or axis is _UNSET:
                raise TypeError(
                    f"Tensor.{name}: numpy and the standard default to the population "
                    f"{name} (correction=0), PyTorch to the sample {name} (correction=1); pass "
                    f"correction= (or unbiased=), or spell the axis axis= (standard) or dim= "
                    f"(PyTorch)"
                )
        axis, keepdims = axis_args(f"Tensor.{name}", axis, dim, keepdims, keepdim)
        return reduce(self, axis=axis, correction=_correction(name, correction, unbiased),
                      keepdims=keepdims)

    # The shape methods return views, as in numpy and PyTorch: writes to the result
    # reach this tensor and this tensor's in-place changes reach the result (see
    # anygrad.inplace); the gradient flows back as for the op itself.
    def reshape(self, *shape):
        return inplace.make_view(self, ops.reshape(self, _shape_args(shape)), inplace.RESHAPED)

    def view(self, *shape):
        """reshape under PyTorch's name."""
        return self.reshape(*shape)

    def flatten(self, start_dim=0, end_dim=-1):
        from .nn.functional import flatten

        return inplace.make_view(self, flatten(self, start_dim, end_dim), inplace.RESHAPED)

    def t(self):
        """The transpose of a matrix; 0-D and 1-D tensors come back as they are."""
        if self.ndim > 2:
            raise ValueError(f"t(): expects a tensor of at most 2 dimensions, got shape "
                             f"{self.shape}; use transpose(dim0, dim1) or permute")
        return self if self.ndim < 2 else self._transposed()

    def transpose(self, dim0, dim1):
        """Swap two axes."""
        axes = list(range(self.ndim))
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
        return self._permuted(tuple(axes))

    def permute(self, *dims):
        return self._permuted(_shape_args(dims))

    def _permuted(self, axes):
        out = ops.permute_dims(self, axes)
        return inplace.make_view(self, out, inplace.Permuted(a % self.ndim for a in axes))

    def unsqueeze(self, dim):
        return inplace.make_view(self, ops.expand_dims(self, axis=dim), inplace.RESHAPED)

    def squeeze(self, dim=None):
        """Drop axes of length 1: all of them, or `dim` (left alone, as in PyTorch, when
        its length is not 1)."""
        if dim is None:
            axes = tuple(i for i, n in enumerate(self.shape) if n == 1)
        else:
            dims = dim if isinstance(dim, (tuple, list)) else (dim,)
            axes = tuple(d % self.ndim for d in dims if self.shape[d] == 1)
        if not axes:
            return self
        return inplace.make_view(self, ops.squeeze(self, axis=axes), inplace.RESHAPED)

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
        inplace.before_write(self, "fill_")
        xp = self.backend.xp
        self.array = xp.full(self.shape, value, dtype=self.array.dtype, device=self.device)
        self._version = engine.tick_inplace()
        inplace.after_write(self)
        return self

    def copy_(self, src):
        """Copy `src` (a Tensor or array of any backend, broadcastable to this shape)
        into this tensor, converted to its backend, device and dtype."""
        self._check_in_place("copy_")
        inplace.before_write(self, "copy_")
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
        self.array = array
        self._version = engine.tick_inplace()
        inplace.after_write(self)
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
        grad = Tensor(grad, backend=out.backend, dtype=out.array.dtype)
    if grad.backend is not out.backend:
        raise TypeError(
            f"{where}: grad is on backend {grad.backend.name!r} but the output is on "
            f"{out.backend.name!r}; move it with .to({out.backend.name!r})"
        )
    if grad.shape != out.shape:
        raise ValueError(f"{where}: grad has shape {grad.shape} but the output has shape {out.shape}")
    if grad.array.dtype != out.array.dtype:  # the gradient takes the output's dtype
        grad = ops.astype(grad, out.array.dtype)
    return grad


def _no_positional_axis(name, args):
    if args:
        raise TypeError(
            f"Tensor.{name}({', '.join(map(repr, args))}): numpy means the {name}ima over that "
            f"axis, PyTorch their (values, indices); write x.{name}(axis=...) for the first "
            f"or x.{name}(dim=...) for the second"
        )


def _refuse_implicit_detach(t, route):
    """numpy (and scipy, and DLPack) would read a tensor in a recorded graph as a
    constant, and the gradient through it would silently be zero."""
    raise RuntimeError(
        f"{route}: the tensor (shape {t.shape}, dtype {t.dtype}) requires grad and gradients "
        "are being recorded, so numpy would use it as a constant and its gradient would be "
        "lost. Build arrays of tensors with ag.stack / ag.concat and call anygrad's (or "
        "numpy's dispatched) functions on tensors; to leave the graph on purpose, use "
        "t.detach() or t.numpy()"
    )


def _checked_grad(t, value):
    """`value` as a gradient of t (a Tensor), or TypeError/ValueError naming what is off."""
    if not isinstance(value, Tensor):
        if not (hasattr(value, "shape") and hasattr(value, "dtype") and t.backend.owns(value)):
            raise TypeError(
                f"assigning .grad: expected None or a Tensor (or {t.backend.name} array) of "
                f"shape {t.shape} and dtype {t.dtype}, got {type(value).__name__}"
            )
        value = engine._wrap(value, t.backend)
    if value.backend is not t.backend:
        raise TypeError(f"assigning .grad: the gradient lives on backend {value.backend.name!r}, "
                        f"the tensor on {t.backend.name!r}")
    if tuple(value.shape) != t.shape or value.array.dtype != t.array.dtype:
        raise ValueError(
            f"assigning .grad: a gradient of shape {tuple(value.shape)} and dtype {value.dtype} "
            f"for a tensor of shape {t.shape} and dtype {t.dtype}; they must match"
        )
    return value


# Imported last: these modules use Tensor, and Tensor's methods call them.
from . import engine, inplace, ops  # noqa: E402
from .dtypes import as_dtype  # noqa: E402
from .indexing import BASIC_TYPES as _BASIC  # noqa: E402
from .indexing import is_basic  # noqa: E402

_apply = engine.apply
