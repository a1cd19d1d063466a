"""Small parameters updated together: laid out end to end in one flat array.

An update is a handful of array operations per parameter (a few for SGD, about ten for
Adam), each a Python call; for a model of many small tensors those calls, not the
arithmetic, are the update's cost. Where the backend has views that in-place updates
write through (`Backend.writable_views`: numpy, torch, cupy), the small parameters of a
group that share a backend, device and dtype are copied once into one flat array and
each parameter's `.array` becomes a reshaped slice of it; their optimizer state (momentum,
Adam's moments) likewise. A step then gathers their gradients into one array and runs
the optimizer's arithmetic once on the flat arrays. Elementwise arithmetic on the
concatenation equals it on the pieces, so the values are bitwise those of the
per-parameter update.

The parameters stay the user's objects, and anything that rebinds their arrays
(`load_state_dict`, `.to()`, an optimizer's `load_state_dict`) is noticed at the next
step by identity, which then takes the per-parameter path and lays the arrays out again
at the step after. Big parameters keep their own update: their calls are few against
their arithmetic, and gathering their gradients would add a pass over memory.
"""
from __future__ import annotations

import math

from ..engine import _wrap, tick_inplace
from ..tensor import Tensor

__all__ = ["FlatLayouts", "FLAT_MAX_ELEMENTS"]

# A parameter with more elements than this is updated on its own.
FLAT_MAX_ELEMENTS = 1 << 16


class FlatSegment:
    """Parameters of one group, backend, device and dtype as views of one flat array,
    with each state tensor of theirs as views of one flat array per state name."""

    def __init__(self, params, states):
        first = params[0]
        self.params = params
        self.backend = backend = first.backend
        self.sizes = [math.prod(p.shape) for p in params]
        self.views, flat = _lay_out(backend, [p.array for p in params], self.sizes)
        for p, view in zip(params, self.views):
            p.array = view
        self.param = _wrap(flat, backend)
        self.state = {}
        self.state_views = {}
        for name, value in states[0].items():
            if isinstance(value, Tensor):
                views, flat = _lay_out(backend, [s[name].array for s in states], self.sizes)
                for s, view in zip(states, views):
                    s[name].array = view
                self.state_views[name] = views
                self.state[name] = _wrap(flat, backend)
            else:
                self.state[name] = value
        self.flat_state = {name: t.array for name, t in self.state.items() if isinstance(t, Tensor)}
        self.numbers = [name for name in self.state if name not in self.flat_state]
        self.flat_param = self.param.array

    def check(self, states):
        """"ready" when every array is still the view it was laid out as, every
        parameter takes a step now and their numbers (step counts, read afresh) agree;
        "skip" when a parameter has no gradient this step; "stale" when an array was
        rebound (`load_state_dict`, `.to()`) or the numbers disagree."""
        ready = "ready"
        for k, p in enumerate(self.params):
            if p.array is not self.views[k]:
                return "stale"
            if p.grad is None or not p.requires_grad:
                ready = "skip"
            state = states[k]
            for name, views in self.state_views.items():
                t = state.get(name) if state is not None else None
                if t is None or t.array is not views[k]:
                    return "stale"
        for name in self.numbers:
            value = (states[0] or {}).get(name)
            if any((s or {}).get(name) != value for s in states):
                return "stale"
            self.state[name] = value
        return ready

    def gradient(self):
        """The parameters' gradients end to end (a fresh array: each `.grad` stays the
        user's own)."""
        xp = self.backend.xp
        return xp.concat([xp.reshape(p.grad.array, (-1,)) for p in self.params])

    def settle(self, states):
        """After the update: stamp the in-place clock on each parameter, write numbers
        the update changed (step counts) back to each parameter's state, and put back
        any flat array the update rebound rather than wrote in place."""
        tick = tick_inplace()
        for p in self.params:
            p._version = tick
        if self.param.array is not self.flat_param:
            self.flat_param[...] = self.param.array
            self.param.array = self.flat_param
        for name, value in self.state.items():
            if isinstance(value, Tensor):
                flat = self.flat_state[name]
                if value.array is not flat:
                    flat[...] = value.array
                    value.array = flat
            else:
                for state in states:
                    if state is not None:
                        state[name] = value


class FlatLayouts:
    """An optimizer's flat segments, per parameter group, made when first possible."""

    def __init__(self):
        self.groups = {}  # id(group) -> (group, segments, the group's other parameters)

    def __reduce__(self):
        # A copy or a pickle does not keep views of one array as views: its arrays are
        # laid out afresh at its first step.
        return (FlatLayouts, ())

    def split(self, optimizer, group):
        """(segments to update as one, parameters to update one by one) for a step."""
        states = optimizer.state
        laid = self.groups.get(id(group))
        if laid is not None and laid[0] is group:
            _, segments, rest = laid
            found = {s.check([states.get(p) for p in s.params]) for s in segments}
            if found <= {"ready"}:
                return segments, rest
            if "stale" in found:
                del self.groups[id(group)]  # lay out anew at the next step
            # This step one by one (through the same views where they still are).
            return (), group["params"]
        segments, rest, settled = self._lay_out(optimizer, group)
        if settled:  # else some state is not made yet (a first step): try again next step
            self.groups[id(group)] = group, segments, rest
        return (), group["params"]  # this step as before; the next one flat

    def _lay_out(self, optimizer, group):
        by_kind = {}
        for p in group["params"]:
            backend = p.backend
            if not (backend.writable_views and p.requires_grad and p.grad is not None
                    and math.prod(p.shape) <= FLAT_MAX_ELEMENTS):
                continue
            key = (backend, str(backend.device(p.array)), p.array.dtype)
            by_kind.setdefault(key, []).append(p)
        kinds = [(params, [optimizer.state.get(p) for p in params])
                 for params in by_kind.values() if len(params) > 1]
        if not all(_alike(params, states) and optimizer._flat_ready(group, states)
                   for params, states in kinds):
            return [], group["params"], False  # some state is not made yet
        segments = [FlatSegment(params, [s if s is not None else {} for s in states])
                    for params, states in kinds]
        laid = {id(p) for s in segments for p in s.params}
        return segments, [p for p in group["params"] if id(p) not in laid], True


def _lay_out(backend, arrays, sizes):
    """(views shaped like `arrays` into one new flat array holding their values, it)."""
    xp = backend.xp
    flat = xp.concat([xp.reshape(a, (-1,)) for a in arrays])
    views = []
    start = 0
    for a, size in zip(arrays, sizes):
        views.append(xp.reshape(flat[start:start + size], tuple(a.shape)))
        start += size
    return views, flat


def _alike(params, states):
    """Whether the parameters' states have the same entries: tensors shaped, typed and
    placed like their parameter, numbers equal (a common step count)."""
    first = states[0]
    names = None if first is None else set(first)
    for p, state in zip(params, states):
        if (None if state is None else set(state)) != names:
            return False
        for name, value in (state or {}).items():
            if isinstance(value, Tensor):
                if value.backend is not p.backend or value.shape != p.shape or \
                        value.array.dtype != p.array.dtype or value.device != p.device:
                    return False
            elif value != first[name]:
                return False
    return True
