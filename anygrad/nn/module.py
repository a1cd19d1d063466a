"""Module, Parameter and Sequential: the containers a model is built from.

A Module finds its parameters, buffers and submodules by watching attribute
assignment (as PyTorch does), and keeps each kind in an insertion-ordered dict.
`parameters()`, `state_dict()` keys and hence optimizer state follow that order,
module by module, depth first, a module's own entries before its children's (PyTorch's
order): deterministic, and the same on every backend.
"""
from __future__ import annotations

from collections import OrderedDict, namedtuple

from ..backends import backend_of, get_backend
from ..compile.effects import replayed
from ..engine import _wrap
from ..modes import _recording
from ..tensor import Tensor

__all__ = ["Module", "Parameter", "Sequential"]



class Parameter(Tensor):
    """A tensor that is a learnable weight of a Module: a leaf that requires grad.

    `Parameter(data)` takes a Tensor (sharing its array, cut from its graph) or
    anything `ag.tensor` accepts. Only floating-point data can be a parameter.
    """

    __slots__ = ()

    def __init__(self, data, requires_grad=True, backend=None, dtype=None, device=None):
        super().__init__(data, requires_grad=requires_grad, backend=backend, dtype=dtype,
                         device=device)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class of every layer and model: subclass it, assign parameters and
    submodules in `__init__`, and write `forward`.

        class MLP(nn.Module):
            def __init__(self):
                super().__init__()
                self.hidden = nn.Linear(4, 8)
                self.out = nn.Linear(8, 2)

            def forward(self, x):
                return self.out(F.relu(self.hidden(x)))
    """

    def __init__(self):
        # object.__setattr__: our own __setattr__ needs these dicts to exist already.
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args, **kwargs):
        recorder = _recording.get()
        if recorder is not None:  # ag.compile's replays depend on `training`
            recorder.on_module(self)
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------ registration
    def __setattr__(self, name, value):
        if isinstance(value, (Parameter, Module)) and "_modules" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {type(value).__name__} {name!r} before Module.__init__(); "
                f"call super().__init__() first in {type(self).__name__}.__init__"
            )
        recorder = _recording.get()
        if recorder is not None and "_buffers" in self.__dict__:  # ag.compile replays stores
            if name in self._buffers:
                recorder.on_store(self, name, value, "buffer")
            elif isinstance(value, Parameter) or name in self._parameters:
                recorder.on_store(self, name, value, "parameter")
        if isinstance(value, Parameter):
            self._forget(name, keep="_parameters")  # a replaced parameter keeps its place
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._forget(name, keep="_modules")
            self._modules[name] = value
        elif "_parameters" in self.__dict__ and name in self._parameters:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} to parameter {name!r} of "
                    f"{type(self).__name__}: wrap it as nn.Parameter(...) (or assign None)"
                )
            self._parameters[name] = None
        elif "_buffers" in self.__dict__ and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"buffer {name!r} must be a Tensor or None, got {type(value).__name__}")
            self._buffers[name] = value
        elif "_modules" in self.__dict__ and name in self._modules and value is None:
            self._modules[name] = None
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # Called only when normal lookup fails: the registered things live in the dicts.
        d = self.__dict__
        for kind in ("_parameters", "_buffers", "_modules"):
            if kind in d and name in d[kind]:
                return d[kind][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name):
        if not self._forget(name):
            object.__delattr__(self, name)

    def _forget(self, name, keep=None):
        """Remove `name` from every registry but `keep` (and from plain attributes);
        True if it was registered."""
        found = False
        for kind in ("_parameters", "_buffers", "_modules"):
            registry = getattr(self, kind)
            if kind != keep and name in registry:
                del registry[name]
                found = True
        self._non_persistent.discard(name)
        self.__dict__.pop(name, None)
        return found

    def register_parameter(self, name, param):
        """Add a parameter (or None, for an optional one such as a missing bias)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None, "
                            f"got {type(param).__name__}")
        self._forget(name)
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add state that is saved with the model but not trained (running statistics).
        `persistent=False` keeps it out of `state_dict`."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, "
                            f"got {type(tensor).__name__}")
        self._forget(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module, got {type(module).__name__}")
        self._forget(name)
        self._modules[name] = module

    # ------------------------------------------------------------ traversal
    def named_modules(self, prefix=""):
        """(dotted name, module) for this module and every descendant, depth first,
        each module once even when it is shared."""
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{k}" if name else k, m) for k, m in module._modules.items()
                        if m is not None]
            stack.extend(reversed(children))

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry, recurse=True):
        seen = set()
        modules = self.named_modules() if recurse else [("", self)]
        for prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{prefix}.{name}" if prefix else name), value

    def named_parameters(self, recurse=True):
        """(dotted name, parameter) in registration order; shared parameters once."""
        return self._named_members("_parameters", recurse)

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse):
            yield param

    def named_buffers(self, recurse=True):
        return self._named_members("_buffers", recurse)

    def buffers(self, recurse=True):
        for _, buffer in self.named_buffers(recurse):
            yield buffer

    def apply(self, fn):
        """Call fn(module) on every submodule and then self (e.g. custom initialisation)."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------ modes and gradients
    def train(self, mode=True):
        """Training mode (Dropout drops, BatchNorm uses batch statistics) for the whole tree."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    @replayed
    def zero_grad(self, set_to_none=True):
        """Clear every parameter's gradient: None by default (frees memory), else zeros."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad = Tensor(param.backend.xp.zeros_like(param.grad.array),
                                    backend=param.backend)

    def requires_grad_(self, requires_grad=True):
        """Freeze (False) or unfreeze every parameter."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    # ------------------------------------------------------------ state
    def _state_items(self):
        """(key, tensor) of everything state_dict saves: each module's parameters, then
        its persistent buffers, module by module."""
        for prefix, module in self.named_modules():
            for registry in ("_parameters", "_buffers"):
                for name, value in getattr(module, registry).items():
                    if value is None or (registry == "_buffers" and name in module._non_persistent):
                        continue
                    yield (f"{prefix}.{name}" if prefix else name), value

    def state_dict(self):
        """An ordered dict of dotted name -> tensor (parameters and persistent buffers).
        The values are copies: optimizers update parameters in place, and a snapshot
        taken now must not change with later training."""
        return OrderedDict((key, _wrap(value.backend.xp.asarray(value.array, copy=True),
                                       value.backend))
                           for key, value in self._state_items())

    def load_state_dict(self, state_dict, strict=True):
        """Copy values into this module's parameters and buffers.

        Values may be Tensors or arrays of any backend; each is converted to the backend,
        device and dtype of the tensor it replaces. Shapes must match. With `strict`,
        missing and unexpected keys are errors too; otherwise they are returned as
        (missing_keys, unexpected_keys). Nothing is changed unless every check passes.
        """
        owned = OrderedDict(self._state_items())
        missing = [k for k in owned if k not in state_dict]
        unexpected = [k for k in state_dict if k not in owned]
        problems = []
        updates = []
        for key, target in owned.items():
            if key not in state_dict:
                continue
            array, source = _array_and_backend(state_dict[key])
            shape = tuple(array.shape)
            if shape != target.shape:
                problems.append(f"size mismatch for {key!r}: the checkpoint has shape {shape}, "
                                f"this model has shape {target.shape}")
                continue
            updates.append((target, array, source))
        if strict:
            if missing:
                problems.append("missing key(s): " + ", ".join(repr(k) for k in missing))
            if unexpected:
                problems.append("unexpected key(s): " + ", ".join(repr(k) for k in unexpected))
        if problems:
            raise RuntimeError(f"load_state_dict for {type(self).__name__}:\n  " + "\n  ".join(problems))
        for target, array, source in updates:
            target.array = _converted(array, source, target)
        return _IncompatibleKeys(missing, unexpected)

    def to(self, backend=None, device=None, dtype=None):
        """Move every parameter, buffer and gradient to `backend`/`device` (and cast
        floating ones to `dtype`), in place, keeping the Parameter objects. Returns self.
        An optimizer built before the move keeps working: it moves each parameter's
        state next to it at its next step. PyTorch's spellings work too: `to('cuda')`,
        `to(torch.device('cpu'))`, `to(torch.float64)`, `to(device, dtype)`."""
        backend, device, dtype = _torch_placement(backend, device, dtype)
        target = None if backend is None else get_backend(backend)
        for tensor in (*self.parameters(), *self.buffers()):
            _move(tensor, target, device, dtype)
            if tensor.grad is not None:
                _move(tensor.grad, target, device, dtype)
        return self

    def float(self):
        """Cast floating parameters and buffers to float32, in place; returns self."""
        return self.to(dtype="float32")

    def double(self):
        """Cast floating parameters and buffers to float64, in place; returns self."""
        return self.to(dtype="float64")

    def half(self):
        """Cast floating parameters and buffers to float16, in place; returns self."""
        return self.to(dtype="float16")

    # ------------------------------------------------------------ printing
    def extra_repr(self):
        """The text inside this module's parentheses; layers override it."""
        return ""

    def __repr__(self):
        lines = [f"({name}): " + _indent(repr(module)) for name, module in self.named_children()]
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        body = ([extra] if extra else []) + lines
        return f"{type(self).__name__}(\n  " + "\n  ".join(body) + "\n)"


def _torch_placement(backend, device, dtype):
    """(backend, device, dtype) from `Module.to`'s arguments, read PyTorch's way where
    anygrad's reading would fail: a device name or `torch.device` first, a dtype first."""
    from .._aliases import _backend_or_dtype
    from ..torch import _device

    if backend is not None and _device.is_device_spec(backend):
        if device is not None:  # to(device, dtype): the second argument is the dtype
            if dtype is not None or _device.is_device_spec(device):
                raise TypeError(f"Module.to: cannot read ({backend!r}, {device!r}, "
                                f"dtype={dtype!r}); give one device and one dtype")
            dtype = device
        backend, device = _device.placement(backend)
        return backend, device, dtype
    if backend is None and isinstance(device, _device.device):
        backend, device = _device.placement(device)
        return backend, device, dtype
    backend, dtype = _backend_or_dtype(backend, dtype)
    return backend, device, dtype


def _indent(text):
    return text.replace("\n", "\n  ")


def _array_and_backend(value):
    if isinstance(value, Tensor):
        return value.array, value.backend
    return value, backend_of(value)


def _converted(array, source, like):
    """A copy of `array` (of backend `source`) on the backend, device and dtype of `like`."""
    backend = like.backend
    array = backend.convert(array, source, like.device)
    if array.dtype != like.array.dtype:
        array = backend.xp.astype(array, like.array.dtype)
    elif source is backend:
        array = backend.xp.asarray(array, copy=True)
    return array


def _move(tensor, target, device, dtype):
    backend = target or tensor.backend
    array = backend.convert(tensor.array, tensor.backend, device)
    if dtype is not None and backend.xp.isdtype(array.dtype, "real floating"):
        array = backend.xp.astype(array, backend.dtype(dtype))
    tensor.array = array
    tensor.backend = backend


class Sequential(Module):
    """Modules applied one after another: `Sequential(Linear(4, 8), ReLU(), Linear(8, 2))`.

    Children are named "0", "1", ... (or by the keys of one OrderedDict argument), so
    parameter names read like "0.weight".
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(modules):
                self.add_module(str(index), module)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        modules = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(modules[index]))
        try:
            return modules[index][1]
        except IndexError:
            raise IndexError(f"Sequential index {index} out of range for {len(self)} modules") from None
