"""The batched tensor, and the vmap levels in progress.

Nested vmaps nest wrappers: a tensor batched by an outer and an inner vmap is a
`BatchedTensor` of the inner level whose value is one of the outer level. Levels grow
with every vmap call, so an inner level is always the higher number. The levels in
progress are one list for the process: vmaps nest within a thread, not across threads.
"""
from __future__ import annotations

from .. import engine
from ..tensor import Tensor

# level -> (batch size, randomness) of each vmap in progress.
_active: dict = {}
_counter = [0]


def enter(size, randomness):
    """Open a vmap level of `size` examples; the engine routes batched ops from now on."""
    from . import dispatch

    _counter[0] += 1
    level = _counter[0]
    _active[level] = (size, randomness)
    engine._batching[:] = [dispatch]
    return level


def leave(level):
    _active.pop(level, None)
    if not _active:
        engine._batching.clear()


def size_of(level):
    try:
        return _active[level][0]
    except KeyError:
        raise RuntimeError(
            "vmap: a batched tensor was used after its vmap returned (it was kept in a "
            "closure or a global); return it from the vmapped function instead"
        ) from None


def active_levels():
    return sorted(_active)


def is_batched(t, level=None):
    """Whether `t` is batched (at `level`, when given)."""
    return type(t) is BatchedTensor and (level is None or t._level == level)


def _reading(owner, what):
    return RuntimeError(
        f"vmap: {what} of a batched tensor (per example shape {owner.shape}, dtype "
        f"{owner.dtype}) holds every example at once, so code that reads it (.array, "
        ".data, .numpy(), .item(), Python control flow on values) cannot run inside ag.vmap, nor "
        "can the tensor be used after its vmap returned; express the computation with "
        "anygrad's ops, or compute it outside vmap"
    )


class BatchedData:
    """What `.array` of a batched tensor gives: its dtype, device and per-example shape,
    and an error naming vmap for any use as an array, where the raw array (every
    example at once) would silently give wrong shapes."""

    __slots__ = ("_owner",)

    def __init__(self, owner):
        self._owner = owner

    @property
    def dtype(self):
        return physical(self._owner).array.dtype

    @property
    def shape(self):
        return self._owner.shape

    @property
    def ndim(self):
        return len(self._owner.shape)

    @property
    def device(self):
        return physical(self._owner).array.device

    def __array__(self, *args, **kwargs):
        raise _reading(self._owner, "the array")

    def __array_namespace__(self, *args, **kwargs):
        raise _reading(self._owner, "the array")

    def __getattr__(self, name):
        raise _reading(self._owner, f"the array's {name!r}")

    def _used(self, *args, **kwargs):
        raise _reading(self._owner, "the array")

    # Arithmetic on the raw array (a batched tensor met outside vmap's interpreter).
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = _used
    __rtruediv__ = __pow__ = __rpow__ = __matmul__ = __rmatmul__ = __neg__ = __abs__ = _used
    __lt__ = __le__ = __gt__ = __ge__ = __getitem__ = __len__ = __iter__ = _used


def physical(t):
    """The plain tensor under every batching wrapper of `t`."""
    while type(t) is BatchedTensor:
        t = t._value
    return t


class BatchedTensor(Tensor):
    """A tensor batched by one vmap level: `_value` has the batch in front, and
    everything the user sees (shape, ndim, size) is one example's."""

    # `_uniform`: every example holds the same values (a variable of ag.grad inside vmap,
    # broadcast over the batch), which products use to multiply by one matrix.
    __slots__ = ("_value", "_level", "_uniform")

    def __init__(self, value, level):
        self._value = value
        self._level = level
        self._uniform = False
        self.backend = value.backend
        self._grad = None
        self._hooks = None
        self._view = None

    # The engine and the transforms read these of any tensor: the underlying tensor's.
    @property
    def array(self):
        return BatchedData(self)

    @property
    def data(self):
        raise _reading(self, ".data")

    @property
    def node(self):
        return self._value.node

    @property
    def _requires_grad(self):
        return self._value._requires_grad

    @_requires_grad.setter
    def _requires_grad(self, value):
        self._value._requires_grad = value

    @property
    def _version(self):
        return self._value._version

    @property
    def shape(self):
        return tuple(self._value.shape)[1:]

    @property
    def ndim(self):
        return self._value.ndim - 1

    @property
    def size(self):
        from .._aliases import _Size

        return _Size(self.shape)

    @property
    def dtype(self):
        return self._value.dtype

    @property
    def device(self):
        return self._value.device

    def detach(self):
        out = BatchedTensor(self._value.detach(), self._level)
        out._uniform = self._uniform
        return out

    def requires_grad_(self, requires_grad=True):
        if requires_grad and not self.dtype.is_floating:
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {self.dtype}"
            )
        self._value.requires_grad_(requires_grad)
        return self

    def __repr__(self):
        return (f"BatchedTensor(level={self._level}, shape={self.shape}, dtype={self.dtype}, "
                f"batch={self._value.shape[0]})")

    def _values_read(self, *args, **kwargs):
        raise _reading(self, "the value")

    item = __float__ = __int__ = __complex__ = __bool__ = __index__ = _values_read
    numpy = tolist = __array__ = __dlpack__ = _values_read

    def _in_place(self, *args, **kwargs):
        raise RuntimeError(
            f"vmap: in-place updates of a batched tensor (per example shape {self.shape}) "
            "are not supported inside ag.vmap; write y = x + 1 rather than x += 1"
        )

    __setitem__ = __iadd__ = __isub__ = __imul__ = __itruediv__ = __ipow__ = _in_place
    zero_ = fill_ = copy_ = _in_place

    def register_hook(self, hook):
        raise RuntimeError("vmap: gradient hooks on batched tensors are not supported; "
                           "register the hook outside ag.vmap")

    def retain_grad(self):
        raise RuntimeError("vmap: retain_grad on batched tensors is not supported; use "
                           "ag.grad inside ag.vmap instead")
