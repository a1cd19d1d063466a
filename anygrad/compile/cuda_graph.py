"""Replaying a recorded step as one CUDA graph: `ag.compile(fn, cuda_graph=True)`.

Torch with CUDA tensors only. It follows PyTorch's recipe for capturing a whole training
step (the "CUDA Graphs" notes of torch.cuda): a few replays on a side stream to warm up,
then one capture of the replayed program — forward, backward, gradient accumulation,
buffer stores, optimizer update — in a `torch.cuda.CUDAGraph`. Each later call copies its
arguments into static input buffers and launches the graph: one launch for the step.

A graph replays kernels on the memory addresses seen during the capture and runs no
Python. What that asks of a step, and what is done about it:

- Arguments are copied (`copy_`) into static buffers, which the graph reads.
- State must stay in place. Every array kept between calls (parameters, their `.grad`,
  module buffers, optimizer state) must be read and written at one address. Backward
  binds each `.grad` afresh and BatchNorm stores its running statistics as new tensors,
  so the capture ends by copying each rebound value into the array it replaced and
  binding the old tensor again (`Bindings.settle`); a later launch therefore reads the
  values the previous one wrote. Optimizer updates already write in place on torch.
- Python numbers are baked into the kernels: learning rates, momentum, Adam's bias
  correction. They are not moved to the device; instead the graph is captured again
  before the next launch when the numbers of the optimizers and schedulers the step
  calls differ from the captured ones (a scheduler stepped outside the function, a
  learning rate set by hand), at most `MAX_CAPTURES` times, then the step replays
  without a graph. A step that changes those numbers itself (Adam's step count, a
  scheduler stepped inside) is never captured: its warm-up shows it, and it replays
  without a graph, with a warning.
- Random numbers: anygrad draws them on CUDA from its own seeded `torch.Generator` per
  device, not from torch's default generator, whose philox offsets are the only ones a
  graph advances; a captured dropout mask would be replayed unchanged. A step that draws
  random numbers is not captured (warning; `strict=True` raises). (Recent torch can
  register another generator's state with a graph, `CUDAGraph.register_generator_state`,
  as torch.compile's CUDA-graph trees do; that is the way to lift this, once it can be
  tested on a GPU.)
- Returned tensors are copies of the graph's output buffers, so a result survives the
  next call. The `.grad` and buffer tensors the step leaves are the graph's own: their
  values change with the next call, as after an eager step.
- Tensors replaced between calls (`load_state_dict`, `.to()`, a new batch bound to a
  captured name, `.grad` cleared outside the function) make the graph capture again.

Not for cupy: cupy refuses cuBLAS calls during stream capture (cupy issue #6290), so a
step with a matmul cannot be captured there; fusion.py fuses elementwise chains instead.

Written from PyTorch's documentation and source, without a GPU: unverified until the
GPU tests (tests/test_compile_gpu.py) run on one. The bookkeeping that keeps state in
place is backend-neutral and tested on the CPU.
"""
from __future__ import annotations

import numbers
import warnings

from ..engine import _wrap
from ..optim.flat import FlatLayouts
from ..tensor import Tensor
from .program import Accumulate, Call, ClearGrad, LoadGrad, Store, _rebuild
from .recorder import CompileError

__all__ = ["Bindings", "GraphedStep", "graphed_step", "obstacles", "settings"]

WARMUP = 3  # replays on a side stream before the capture, as PyTorch's notes do
MAX_CAPTURES = 8


def graphed_step(program, args, title, strict):
    """A GraphedStep for `program`, or None (with a warning, or CompileError with
    `strict`) when it cannot be captured."""
    reasons = obstacles(program, args, [c.tensor for c in program.captures])
    if not reasons:
        return GraphedStep(program, title, strict)
    text = (f"ag.compile({title}, cuda_graph=True): replaying without a CUDA graph, because "
            f"the step {'; and it '.join(reasons)}")
    if strict:
        raise CompileError(text)
    warnings.warn(text, RuntimeWarning, stacklevel=5)  # the caller of the compiled function
    return None


def obstacles(program, args, tensors):
    """Why `program`, run on `args` and outside `tensors`, cannot be captured."""
    reasons = []
    places = sorted({_place(t) for t in (*args, *tensors)})
    if not places:
        reasons.append("reads no tensor, so there is no device to capture it on")
    elif any(place != "torch on cuda" for place in places):
        reasons.append(f"runs on {', '.join(places)}, and CUDA graphs need torch tensors "
                       "on a CUDA device")
    draws = sorted({ins.label[5:] for ins in program.code
                    if isinstance(ins, Call) and ins.label.startswith("draw ")})
    if draws:
        reasons.append(f"draws random numbers ({', '.join(draws)}: dropout, say) from "
                       "anygrad's own generator, which a graph would not advance: every "
                       "launch would reuse the captured draws")
    if any(isinstance(ins, (Accumulate, LoadGrad, ClearGrad)) and ins.target[0] == "arg"
           for ins in program.code):
        reasons.append("reads or writes the .grad of an argument, which a graph would keep "
                       "on its static copy of the argument")
    return reasons


def _place(t):
    data = t.array
    device = getattr(data, "device", None)
    kind = getattr(device, "type", None) or str(device or "cpu")
    return f"{t.backend.name} on {kind}"


def settings(owners):
    """The Python numbers `owners` hold (hyperparameters, step counts, epochs, which
    state entries exist), as one comparable value."""
    return tuple(_numbers(owner, 0, ()) for owner in owners)


def _numbers(obj, depth, path):
    if obj is None or isinstance(obj, (numbers.Number, str)):  # numpy's scalars included
        return obj
    if isinstance(obj, Tensor) or hasattr(obj, "shape") and hasattr(obj, "dtype"):
        return "array"  # arrays are the graph's business, not the guard's
    if isinstance(obj, FlatLayouts):
        # Where the update's views live: laid out at the first replay, and changes of
        # the arrays themselves are the bindings' to see. Its step counts are copies of
        # the optimizer's state, which is compared.
        return "flat layouts"
    if depth > 8 or id(obj) in path:
        return "..."
    path = (*path, id(obj))
    if isinstance(obj, (list, tuple)):
        return tuple(_numbers(v, depth + 1, path) for v in obj)
    if isinstance(obj, dict):
        return tuple((k if isinstance(k, (str, int)) else "key", _numbers(v, depth + 1, path))
                     for k, v in obj.items())
    fields = getattr(obj, "__dict__", None)
    if isinstance(fields, dict) and not callable(obj):
        return (type(obj).__name__,) + tuple((k, _numbers(v, depth + 1, path))
                                             for k, v in fields.items())
    return type(obj).__name__


class Bindings:
    """Every place a step keeps an array between calls: the `.array` and `.grad` of the
    outside tensors, of the optimizers' parameters and of their state tensors, the
    optimizers' state entries, and the module buffers the step stores."""

    def __init__(self, program, tensors, owners):
        found = {}

        def add(t):
            if isinstance(t, Tensor):
                found.setdefault(id(t), t)

        for t in tensors:
            add(t)
        places = []
        for owner in owners:
            for group in getattr(owner, "param_groups", ()):
                for p in group["params"]:
                    add(p)
            state = getattr(owner, "state", None)
            for entry in state.values() if isinstance(state, dict) else ():
                for key, value in entry.items() if isinstance(entry, dict) else ():
                    if isinstance(value, Tensor):
                        add(value)
                        places.append((entry, key, f"optimizer state {key!r}"))
        for ins in program.code:
            if isinstance(ins, Store):
                add(ins.module._buffers.get(ins.name))
                places.append((ins.module._buffers, ins.name,
                               f"buffer {ins.name!r} of {type(ins.module).__name__}"))
        for t in list(found.values()):
            add(t.grad)
        for t in found.values():
            places.append((t, "grad", f"the .grad of a tensor of shape {t.shape}"))
            places.append((t, "array", f"the array of a tensor of shape {t.shape}"))
        self.places = places
        self.rebound = []
        self.data_place = {id(place[0]): i for i, place in enumerate(places) if place[1] == "array"
                           and not isinstance(place[0], dict)}

    def read(self):
        return [_get(place) for place in self.places]

    def write(self, values):
        for place, value in zip(self.places, values):
            if _get(place) is not value:
                _set(place, value)

    def changed(self, values):
        """The first place not bound to what `values` says, described, or None."""
        for place, value in zip(self.places, values):
            if _get(place) is not value:
                return place[2]
        return None

    def settle(self, start):
        """After a step: copy each array it rebound into the array bound at `start`, and
        bind that again, so the step leaves its state where it found it. A place empty
        at the start (a .grad not yet made) keeps its new tensor; one emptied stays
        empty. An immutable array (numpy's 0-d results are scalars) is bound afresh, and
        its place listed in `self.rebound`: a graph could not keep it in place."""
        copies = []
        self.rebound = []
        for place, before in zip(self.places, start):
            after = _get(place)
            if after is before or before is None or after is None:
                continue
            if place[1] == "array" and not isinstance(place[0], dict):
                target, value, bind = before, after, (place, before)
            else:  # a tensor replaced by another: its array takes the new values
                target, value, bind = self._array_at_start(before, start), after.array, (place, before)
            if not hasattr(target, "__setitem__"):
                self.rebound.append(place[2])
                continue
            if tuple(target.shape) != tuple(value.shape) or target.dtype != value.dtype:
                raise NotInPlace(f"{place[2]} changes from {target.dtype}{list(target.shape)} "
                                 f"to {value.dtype}{list(value.shape)}")
            copies.append((target, value, bind))
        targets = {id(t) for t, _, _ in copies}
        if len(targets) < len(copies) or any(id(v) in targets for _, v, _ in copies):
            raise NotInPlace("two of its kept arrays trade places")
        for target, value, (place, before) in copies:
            target[...] = value
            if isinstance(before, Tensor):
                before.array = self._array_at_start(before, start)
            _set(place, before)

    def _array_at_start(self, tensor, start):
        i = self.data_place.get(id(tensor))
        return tensor.array if i is None else start[i]


class NotInPlace(RuntimeError):
    """A step whose kept state cannot be written back in place."""


def _get(place):
    holder, key, _ = place
    return holder.get(key) if isinstance(holder, dict) else getattr(holder, key)


def _set(place, value):
    holder, key, _ = place
    if isinstance(holder, dict):
        holder[key] = value
    else:
        setattr(holder, key, value)


def _copy(value):
    return value.clone() if hasattr(value, "clone") else value


def _torch(args, caps):
    """The torch module, reached through the backend of the step's tensors."""
    return (args[0] if args else caps[0]).backend.library


def run_in_place(replay, args, caps, bindings):
    """Run `replay` (a collecting build of the program, see Program._build) and settle
    its state in place: what the graph captures. Returns its arrays and check flags."""
    start = bindings.read()
    arrays, checks = replay(args, caps)
    bindings.settle(start)
    return arrays, checks


class GraphedStep:
    """A recorded step replayed through a CUDA graph (see the module's notes)."""

    def __init__(self, program, title, strict, warmup=WARMUP, max_captures=MAX_CAPTURES):
        self.program = program
        self.title = title
        self.strict = strict
        self.warmup = warmup
        self.max_captures = max_captures
        self.owners = program.effect_owners()
        self.warmed = 0
        self.captures = 0
        self.launches = 0
        self.graph = None
        self.without = None  # why the step now replays without a graph
        self.static = None  # the arguments' buffers, which the graph reads
        self.side = None  # the stream of the warm-up replays and the captures

    def __repr__(self):
        if self.without is not None:
            return f"<CUDA graph of {self.title}: replaying without one, because it {self.without}>"
        return (f"<CUDA graph of {self.title}: {self.captures} capture(s), {self.launches} "
                "launch(es); captured again when an outside tensor, a .grad, a buffer or an "
                "optimizer's state is replaced, or an optimizer's or scheduler's numbers "
                "(learning rates, momentum) change>")

    def run(self, args, caps):
        if self.without is not None:
            return self.program.run(args, caps)
        if self.graph is not None:
            stale = self.stale(caps)
            if stale is None:
                return self._launch(args, caps)
            self.graph = None
            if self.captures >= self.max_captures:
                return self._give_up(
                    f"was captured {self.captures} times and is stale again ({stale}); pass "
                    "batches as arguments (they are copied into the graph's buffers) rather "
                    "than binding new tensors where the step finds them", args, caps)
        if self.warmed < self.warmup:
            return self._warm_up(args, caps)
        return self._capture(args, caps)

    def stale(self, caps):
        """Why the captured graph no longer fits this call, or None."""
        if any(a is not b for a, b in zip(caps, self.caps)):
            return "an outside tensor was replaced"
        place = self.bindings.changed(self.start)
        if place is not None:
            return f"{place} was replaced"
        if settings(self.owners) != self.settings:
            return "an optimizer's or scheduler's numbers (a learning rate, say) changed"
        return None

    def _refuse(self, reason):
        """From now on replay without a graph, saying why (raising, with `strict`)."""
        self.without = reason
        text = (f"ag.compile({self.title}, cuda_graph=True): replaying without a CUDA graph, "
                f"because the step {reason}")
        if self.strict:
            raise CompileError(text)
        warnings.warn(text, RuntimeWarning, stacklevel=5)

    def _give_up(self, reason, args, caps):
        self._refuse(reason)
        return self.program.run(args, caps)

    def _warm_up(self, args, caps):
        torch = _torch(args, caps)
        before = settings(self.owners)
        side = self._side_stream(torch)
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            result = self.program.run(args, caps)
        torch.cuda.current_stream().wait_stream(side)
        self.warmed += 1
        if settings(self.owners) != before:
            self._refuse("changes Python numbers its kernels would bake in (an optimizer's "
                         "step count, which Adam's bias correction reads, or a scheduler "
                         "stepped inside the function)")
        return result

    def _side_stream(self, torch):
        if self.side is None:
            self.side = torch.cuda.Stream()
        return self.side

    def _capture(self, args, caps):
        torch = _torch(args, caps)
        if self.static is None:
            self.static = [torch.empty_like(a.array) for a in args]
        static_args = [_wrap(s, a.backend) for s, a in zip(self.static, args)]
        bindings = Bindings(self.program, caps, self.owners)
        start = bindings.read()
        graph = torch.cuda.CUDAGraph()
        replay = self.program._build(collect=True)  # checks leave it as flags
        try:
            # On the warm-ups' stream, where the BLAS handles (cached per stream) that
            # the first matmuls create lazily already exist: none is made mid-capture.
            with torch.cuda.graph(graph, stream=self._side_stream(torch)):
                arrays, checks = run_in_place(replay, static_args, caps, bindings)
        except Exception as exc:  # noqa: BLE001  (what stream capture refuses is the library's to say)
            bindings.write(start)  # nothing ran on the device: the state is as it was
            return self._give_up(f"could not be captured ({type(exc).__name__}: {exc})", args, caps)
        if bindings.rebound:
            bindings.write(start)
            return self._give_up(f"keeps {', '.join(bindings.rebound)} in an array that cannot "
                                 "be written in place", args, caps)
        self.graph, self.arrays, self.checks = graph, arrays, checks
        self.bindings, self.start, self.final = bindings, start, bindings.read()
        self.caps = list(caps)
        self.settings = settings(self.owners)
        self.captures += 1
        return self._launch(args, caps)

    def _launch(self, args, caps):
        for buffer, a in zip(self.static, args):
            buffer.copy_(a.array)
        self.graph.replay()
        self.bindings.write(self.final)
        # The flags live in the graph's buffers, which the next launch overwrites: the
        # checks (queued until the next host read on a GPU) keep copies.
        self.program.raise_checks([(flag.clone(), tuple(_copy(a) for a in arrays))
                                   for flag, arrays in self.checks])
        self.launches += 1
        self.program.replays += 1
        copies = [a.clone() for a in self.arrays]
        return _rebuild(self.program.outputs, iter(copies), args, caps)
