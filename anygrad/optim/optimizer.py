"""The Optimizer base class: parameter groups, per-parameter state, and checkpoints.

Updates are written once for every backend with the Array API namespace on raw
arrays (`p.array`, `p.grad.array`): no graph is recorded and no value is read back to
the host. Step counts and hyperparameters are Python numbers for the same reason.
Each update writes into the parameter's array where the library allows (a new array on
jax) and ticks its in-place clock, so a graph recorded before the step refuses to
backpropagate through the new values.
"""
from __future__ import annotations

from ..backends import backend_of
from ..compile.effects import replayed
from ..engine import _wrap, tick_inplace
from ..inplace import refresh
from ..tensor import Tensor
from .flat import FlatLayouts

__all__ = ["Optimizer"]


class Optimizer:
    """Base class. Subclasses pass their hyperparameter defaults and implement
    `_update_group(group)`, which updates the parameters `_trainable(group)` yields.
    Frozen parameters (requires_grad=False) and those without a gradient are skipped,
    so a model with a frozen layer can be handed over whole.

    `params` is an iterable of tensors, or of dicts {"params": [...], **hyperparameters}
    (parameter groups, e.g. a smaller learning rate for some layers).
    """

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self._flat = None  # FlatLayouts once use_flat_buffers() is called
        self.state = {}  # parameter -> {"step": int, name: Tensor, ...}
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of tensors or "
                            "of dicts, not a single Tensor; wrap it in a list")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params")
        return "\n".join(lines) + "\n)"

    def add_param_group(self, group):
        """Add a group of parameters, with its own hyperparameters (others from defaults)."""
        if not isinstance(group, dict):
            raise TypeError(f"{type(self).__name__}: a parameter group must be a dict, "
                            f"got {type(group).__name__}")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        name = type(self).__name__
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: parameter {i} of group {len(self.param_groups)} is a "
                                f"{type(p).__name__}, not a Tensor (pass model.parameters())")
            if not p.is_leaf:
                raise ValueError(f"{name}: parameter {i} of group {len(self.param_groups)} is not "
                                 "a leaf tensor (it was computed from others); pass leaves")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params) or any(id(p) in seen for p in params):
            raise ValueError(f"{name}: a parameter appears twice (within or across groups)")
        unknown = set(group) - set(self.defaults) - {"params", "initial_lr"}
        if unknown:
            raise TypeError(f"{name}: unknown hyperparameter(s) {sorted(unknown)} in a parameter "
                            f"group; this optimizer takes {sorted(self.defaults)}")
        full = dict(self.defaults)
        full.update(group)
        full["params"] = params
        self._validate(full)
        self.param_groups.append(full)

    def _validate(self, group):
        """Check a group's hyperparameters; subclasses raise ValueError on bad ones."""
        if group["lr"] < 0:
            raise ValueError(f"{type(self).__name__}: invalid learning rate {group['lr']}")

    @replayed
    def zero_grad(self, set_to_none=True):
        """Clear gradients before the next backward: None by default, else zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad = _wrap(p.backend.xp.zeros_like(p.grad.array), p.backend)

    @replayed
    def step(self, closure=None):
        """Update every parameter that has a gradient. `closure`, if given, recomputes
        and returns the loss (called with gradients enabled) before the update."""
        loss = None
        if closure is not None:
            from ..modes import enable_grad

            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._update_group(group)
        self._views_follow()
        return loss

    def _views_follow(self):
        """Views of the parameters (`w0 = p[0]`, `p.data`) read the updated values: an
        update rebinds a parameter's array on some backends and writes into it on
        others, and a view must read the same on every one."""
        for group in self.param_groups:
            for p in group["params"]:
                if getattr(p, "_views", None):
                    refresh(p)

    def _update_group(self, group):
        raise NotImplementedError

    def use_flat_buffers(self):
        """Update small parameters of one backend, device and dtype together, as views
        of one flat array (see flat.py), where the backend has such views. The values
        are bitwise those of the update one parameter at a time. `ag.compile` turns this
        on for the optimizers a compiled step calls."""
        if getattr(self, "_flat", None) is None:
            self._flat = FlatLayouts()

    def _updates(self, group):
        """(parameter, gradient array, state or None) for each update of a step: a
        flat segment of small parameters (a tensor over the flat array, its state over
        the flat state arrays) or a single parameter."""
        params = group["params"]
        flat = getattr(self, "_flat", None)  # absent on optimizers pickled before it existed
        if flat is not None:
            segments, params = flat.split(self, group)
            for segment in segments:
                states = [self.state.get(p) for p in segment.params]
                yield segment.param, segment.gradient(), segment.state
                segment.settle(states)
        for p in self._trainable(group, params):
            yield p, p.grad.array, self.state.get(p)

    def _flat_ready(self, group, states):
        """Whether parameters with these states (None: no state yet) can be updated as
        one: their state must be made already (an optimizer makes it at a first step)."""
        return True

    def _trainable(self, group, params=None):
        """The group's parameters that take a step now, each with its state moved next
        to it first: after `model.to(...)` the state follows the parameters."""
        for p in group["params"] if params is None else params:
            if p.grad is None or not p.requires_grad:
                continue
            state = self.state.get(p)
            if state:
                _follow(state, p)
            # Updated in place: a graph recorded before this step must not differentiate
            # through the new values (backward through it raises instead).
            p._version = tick_inplace()
            yield p

    # ----------------------------------------------------------------- checkpoints
    def state_dict(self):
        """PyTorch's layout: {"state": {index: {...}}, "param_groups": [{..., "params":
        [indices]}]}, parameters numbered in order across groups. State arrays are
        copies: steps update the live ones in place, and a snapshot must not follow."""
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index[id(p)]] = {k: (_copy(v) if isinstance(v, Tensor) else v)
                                           for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyperparameters and state saved by `state_dict` (of an optimizer made
        for the same parameters). State arrays may be Tensors or arrays of any backend;
        they are moved to each parameter's backend and device, and floating ones cast to
        its dtype."""
        name = type(self).__name__
        saved = state_dict["param_groups"]
        if len(saved) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the saved state has {len(saved)} "
                             f"parameter group(s), this optimizer has {len(self.param_groups)}")
        for i, (old, new) in enumerate(zip(saved, self.param_groups)):
            if len(old["params"]) != len(new["params"]):
                raise ValueError(f"{name}.load_state_dict: group {i} has {len(old['params'])} "
                                 f"parameters in the saved state, {len(new['params'])} here")
        by_index = {}
        for old, new in zip(saved, self.param_groups):
            by_index.update(zip(old["params"], new["params"]))
        state = {}
        for key, values in state_dict["state"].items():
            p = by_index.get(int(key))
            if p is None:
                raise ValueError(f"{name}.load_state_dict: state for parameter {key}, which "
                                 "no group lists")
            state[p] = {k: _state_value(v, p) for k, v in values.items()}
            for k, v in state[p].items():
                if isinstance(v, Tensor) and v.ndim and v.shape != p.shape:
                    raise ValueError(
                        f"{name}.load_state_dict: state {k!r} of parameter {key} has shape "
                        f"{v.shape}, but that parameter has shape {p.shape}; the checkpoint "
                        "was made for another model")
        for old, new in zip(saved, self.param_groups):
            new.update({k: v for k, v in old.items() if k != "params"})
        self.state = state


def _state_value(value, param):
    """A saved state entry moved next to `param`; numbers stay numbers."""
    if isinstance(value, Tensor):
        array, source = value.array, value.backend
    elif isinstance(value, (int, float, bool)) or value is None:
        return value
    else:
        array, source = value, backend_of(value)
    backend = param.backend
    array = backend.convert(array, source, param.device)
    if backend.xp.isdtype(array.dtype, "real floating") and array.dtype != param.dtype:
        array = backend.xp.astype(array, param.array.dtype)
    elif source is backend:
        array = backend.xp.asarray(array, copy=True)
    return _wrap(array, backend)


def _follow(state, param):
    """Move a parameter's state tensors to its backend, device and dtype if it moved."""
    for value in state.values():
        if not isinstance(value, Tensor):
            continue
        if value.backend is param.backend and value.device == param.device and \
                value.dtype == param.dtype:
            continue
        moved = _state_value(value, param)
        value.array, value.backend = moved.array, moved.backend


def _copy(t):
    return _wrap(t.backend.xp.asarray(t.array, copy=True), t.backend)
