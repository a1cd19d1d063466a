"""The Tensor: a backend array, its gradient, and the node that produced it."""
from __future__ import annotations

import weakref

from .modes import _recording


class Tensor:
    """An array of any Array API backend that records how it was computed.

    `data` is the backend's own array; `grad` is a Tensor (or None); `node` is the
    recorded op that produced this tensor, None for leaves and constants.
    """

    __slots__ = ("data", "backend", "grad", "requires_grad", "node", "_hooks", "__weakref__")
    # numpy must hand binary operators back to us (np_array * tensor -> Tensor.__rmul__).
    __array_ufunc__ = None

    def __init__(self, data, requires_grad=False, backend=None, dtype=None, device=None):
        from .creation import _to_array

        self.data, self.backend = _to_array(data, dtype, backend, device)
        self.grad = None
        self.node = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # ------------------------------------------------------------- properties
    @property
    def shape(self):
        return tuple(self.data.shape)

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        n = 1
        for s in self.data.shape:
            n *= s
        return n

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

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

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
        return self.backend.item(self.data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        return bool(self.item())

    def __index__(self):
        return int(self.item())

    def numpy(self):
        """A host numpy copy of the data (never part of the graph)."""
        recorder = _recording.get()
        if recorder is not None:
            recorder.on_host_read(self, "numpy()")
        return self.backend.to_numpy(self.data)

    def tolist(self):
        return self.numpy().tolist()

    def to(self, backend=None, device=None):
        """The same values on another backend or device. Differentiable: the gradient
        flows back to this tensor, converted to its backend and device."""
        return ops.to_backend(self, backend, device)

    def astype(self, dtype):
        return ops.astype(self, dtype)

    def detach(self):
        """A new leaf sharing the data, cut from the graph."""
        return engine._wrap(self.data, self.backend)

    def requires_grad_(self, requires_grad=True):
        if requires_grad and not self.backend.xp.isdtype(self.data.dtype, "real floating") and \
                not self.backend.xp.isdtype(self.data.dtype, "complex floating"):
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {self.dtype}; "
                "convert first, e.g. x.astype('float32')"
            )
        if not requires_grad and self.node is not None:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor; use detach()")
        self.requires_grad = bool(requires_grad)
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
            grad = self.backend.xp.ones_like(self.data)
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
    def __add__(self, other):
        return ops.add(self, other)

    def __radd__(self, other):
        return ops.add(other, self)

    def __sub__(self, other):
        return ops.subtract(self, other)

    def __rsub__(self, other):
        return ops.subtract(other, self)

    def __mul__(self, other):
        return ops.multiply(self, other)

    def __rmul__(self, other):
        return ops.multiply(other, self)

    def __truediv__(self, other):
        return ops.divide(self, other)

    def __rtruediv__(self, other):
        return ops.divide(other, self)

    def __pow__(self, other):
        return ops.pow(self, other)

    def __rpow__(self, other):
        return ops.pow(other, self)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __neg__(self):
        return ops.negative(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return ops.abs(self)

    def __getitem__(self, key):
        return ops.getitem(self, key)

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

    def __invert__(self):
        return ops.logical_not(self)

    def __and__(self, other):
        return ops.logical_and(self, other)

    def __or__(self, other):
        return ops.logical_or(self, other)

    __hash__ = object.__hash__

    # ------------------------------------------------------------- methods
    def sum(self, axis=None, keepdims=False):
        return ops.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return ops.mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        return ops.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return ops.min(self, axis=axis, keepdims=keepdims)

    def var(self, axis=None, correction=0, keepdims=False):
        return ops.var(self, axis=axis, correction=correction, keepdims=keepdims)

    def std(self, axis=None, correction=0, keepdims=False):
        return ops.std(self, axis=axis, correction=correction, keepdims=keepdims)

    def argmax(self, axis=None, keepdims=False):
        return ops.argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis=None, keepdims=False):
        return ops.argmin(self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return ops.reshape(self, shape)

    def flatten(self):
        return ops.reshape(self, (-1,))

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
        grad = Tensor(grad, backend=out.backend, dtype=out.dtype)
    if grad.backend is not out.backend:
        raise TypeError(
            f"{where}: grad is on backend {grad.backend.name!r} but the output is on "
            f"{out.backend.name!r}; move it with .to({out.backend.name!r})"
        )
    if grad.shape != out.shape:
        raise ValueError(f"{where}: grad has shape {grad.shape} but the output has shape {out.shape}")
    return grad


# Imported last: both modules use Tensor, and Tensor's methods call them.
from . import engine, ops  # noqa: E402
