"""`ag.compile`: record a function's first call, replay it on later calls.

    @ag.compile
    def train_step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

The first call with a new signature runs eagerly while the recorder (recorder.py) writes
down every array operation of the forward, the backward and the update as a flat
program (program.py). Later calls with the same signature (cache.py) replay that program
after checking it still applies (guards.py): no Tensor, node or backward bookkeeping is
made per op. What a replay cannot repeat faithfully makes the function run eagerly, with
a warning (or raise, with `strict=True`); so does a signature whose guards keep failing.

A function that returns tensors whose graphs are still needed (`loss = cfn(x);
loss.backward()`, a compiled model under an eager loss) has its backward recorded ahead
of time as a second program, which the caller's backward runs through one engine node
(aot.py). Arrays among the arguments are inputs, as tensors are (cache.py).
"""
from __future__ import annotations

import functools
import warnings

from ..modes import _anomaly_mode, _recording, observing
from .cache import SignatureCache, signature
from .cuda_graph import graphed_step
from .fusion import fuse_program
from .guards import Guards
from . import aot
from .dedupe import dedupe
from .program import Accumulate, LoadGrad, Program, _output_refs, difference
from .recorder import CompileError, Recorder, hook_backends

__all__ = ["CompileError", "Compiled", "compile"]

# Recordings of one signature before it runs eagerly for good: enough for each of the
# few guard outcomes a cache entry keeps (train and eval mode, ...) to be recorded and
# confirmed, and no more.
RECORDINGS_PER_SIGNATURE = 2 * SignatureCache.PER_SIGNATURE + 2


def compile(fn=None, *, cache_size=8, strict=False, jit=False, fuse=False, cuda_graph=False):
    """Compile `fn` (a function of tensors); usable as `@ag.compile` or
    `@ag.compile(cache_size=..., strict=...)`.

    `cache_size` bounds how many signatures are kept (least recently used dropped).
    With `strict`, what cannot be replayed raises CompileError when it is recorded
    instead of falling back to eager execution with a warning. With `jit`, a recording
    that is a pure function of arrays (no optimizer step, random draw or `.grad` write:
    inference, a loss value, `ag.grad(f)`) is handed to its backend's own compiler where
    it has one (`jax.jit` on jax); others replay as usual.

    On a GPU (see fusion.py and cuda_graph.py; both unverified until run on one): with
    `fuse`, chains of elementwise operations replay as one function each, compiled into
    one kernel where the backend can (`cupy.fuse` on cupy). With `cuda_graph`, a step on
    torch CUDA tensors is captured in a CUDA graph and replayed with one launch; returned
    tensors are copies, and what cannot be captured replays without a graph, with a
    warning (or raises, with `strict`).
    """
    options = dict(cache_size=cache_size, strict=strict, jit=jit, fuse=fuse, cuda_graph=cuda_graph)
    if fn is None:
        return lambda f: Compiled(f, **options)
    return Compiled(fn, **options)


class _Eager:
    """A signature whose call could not be recorded faithfully: always run eagerly (its
    guards always pass: what failed would likely fail again, and warn every call)."""

    def __init__(self, reasons):
        self.reasons = reasons
        self.guards = self

    def prepare(self):
        return ()

    def explain(self):
        return None


class Compiled:
    """A compiled function. `.program` is the latest recording (print it to read it);
    `.stats` counts recordings, replays and eager calls."""

    def __init__(self, fn, cache_size=8, strict=False, jit=False, fuse=False, cuda_graph=False):
        self.fn = fn
        self.strict = strict
        self.jit = jit
        self.fuse = fuse
        self.cuda_graph = cuda_graph
        self.cache = SignatureCache(cache_size)
        self.program = None
        self.stats = {"recordings": 0, "replays": 0, "eager": 0}
        self.name = getattr(fn, "__qualname__", None) or type(fn).__name__
        functools.update_wrapper(self, fn, updated=())

    def __repr__(self):
        return f"<ag.compile of {self.name}: {len(self.cache)} signature(s) recorded>"

    def __get__(self, obj, owner=None):
        # As a decorator on a method: compile the bound method once per instance.
        if obj is None:
            return self
        bound = obj.__dict__.get(f"_compiled_{self.name}")
        if bound is None:
            bound = Compiled(self.fn.__get__(obj, owner), self.cache.size, self.strict, self.jit,
                             self.fuse, self.cuda_graph)
            obj.__dict__[f"_compiled_{self.name}"] = bound
        return bound

    def __call__(self, *args, **kwargs):
        if _recording.get() is not None or _anomaly_mode.get() is not None:
            return self.fn(*args, **kwargs)  # inside another recording, or checking every op
        tensors, key, args, kwargs = signature(args, kwargs)
        entry = self.cache.get(key)
        changed = None
        if entry is not None:
            for program in entry:
                caps = program.guards.prepare()
                if caps is None:
                    continue
                if isinstance(program, _Eager):
                    self.stats["eager"] += 1
                    return self.fn(*args, **kwargs)
                if not program.confirmed:
                    return self._record(key, tensors, args, kwargs, confirming=program)
                self.stats["replays"] += 1
                self.program = program
                if program.graphed is not None:
                    return program.graphed.run(tensors, caps)
                return program.run(tensors, caps)
            if entry:
                changed = entry[0].guards.explain()
        if self.cache.count(key) >= RECORDINGS_PER_SIGNATURE:
            return self._give_up(key, args, kwargs, changed)
        return self._record(key, tensors, args, kwargs)

    def _give_up(self, key, args, kwargs, changed):
        """A signature recorded again and again, because what its guards check keeps
        changing: run it eagerly from now on, saying what changed."""
        why = (f"what it reads keeps changing between calls ({changed or 'see its guards'}), "
               f"so it was recorded {self.cache.count(key)} times without settling; pass "
               "values that change as tensor arguments")
        if self.strict:
            raise CompileError(f"ag.compile({self.name}): {why}")
        self.cache.add(key, _Eager([why]))
        warnings.warn(f"ag.compile({self.name}): running eagerly, because {why}",
                      RuntimeWarning, stacklevel=3)
        self.stats["eager"] += 1
        return self.fn(*args, **kwargs)

    def _record(self, key, tensors, args, kwargs, confirming=None):
        """Run the call eagerly while recording it. The second call of a signature is
        recorded too, and only replayed from then on if both recordings agree."""
        hook_backends()
        recorder = Recorder(self.fn, self.name, tensors, strict=self.strict)
        start = None
        with observing(_recording, recorder):
            result = self.fn(*args, **kwargs)
            recorder.finish()
            outputs = recorder.outputs(result)
            if recorder.graph_outputs and not recorder.problems:
                start = recorder.trace_backward()
        self.stats["recordings"] += 1
        self.cache.recorded(key)
        hooked = {i for kind, i in recorder.aot_inputs if kind == "capture"}
        hooked -= {ins.target[1] for ins in recorder.code if isinstance(ins, (Accumulate, LoadGrad))
                   and ins.target[0] == "capture"}
        guards = Guards(self.fn, recorder.captures, recorder.modules, hooked, (args, kwargs))
        if guards.unseen is not None:
            recorder.problem(f"{guards.unseen}, so the Python values it reads cannot all be "
                             "checked before a replay; pass what it needs as arguments")
        if not recorder.problems:
            escaping = [r.index for r in _output_refs(outputs)]
            escaping += [g.index for g, _ in recorder.aot_grads]
            recorder.code = dedupe(recorder.code, escaping)
            if start is None:
                program = Program(self.name, recorder.code, recorder.captures, outputs,
                                  recorder.meta, guards)
            else:
                program = aot.split(self.name, recorder, outputs, start, guards)
            if confirming is not None:
                if confirming.fingerprint == program.fingerprint:
                    confirming.confirmed = True
                    # Known now: the optimizers this step updates with, whose small
                    # parameters can be updated as one flat array from here on.
                    for owner in confirming.effect_owners():
                        flatten = getattr(owner, "use_flat_buffers", None)
                        if flatten is not None:
                            flatten()
                            confirming.guards.renew()
                    if self.jit:
                        confirming.jitted = confirming.backend_compiled()
                    self._accelerate(confirming, tensors)
                    self.program = confirming
                    return result
                self.cache.entries[key].remove(confirming)
                if confirming.attempts < 2:  # a first call may differ (state made lazily)
                    program.attempts = confirming.attempts + 1
                    self.cache.add(key, program)
                    return result
                recorder.problem(
                    "computes different operations or constants in two calls with the same "
                    "signature: Python state or raw arrays (.array) decide them, which the "
                    "recorder does not see (" + difference(confirming, program) + ")")
        if recorder.problems:
            if self.strict:
                raise CompileError(f"ag.compile({self.name}): " + "; ".join(recorder.problems))
            self.cache.add(key, _Eager(recorder.problems))
            warnings.warn(
                f"ag.compile({self.name}): running eagerly, because the function "
                + "; and it ".join(recorder.problems), RuntimeWarning, stacklevel=3)
            return result
        self.cache.add(key, program)
        self.program = program
        if self.stats["recordings"] == 16:
            warnings.warn(
                f"ag.compile({self.name}) has recorded 16 times: its signature keeps "
                "changing (new shapes, dtypes or static arguments: Python numbers, strings); "
                "pass changing numbers as tensors", RuntimeWarning, stacklevel=3)
        return result

    def _accelerate(self, program, tensors):
        """The GPU options, applied to a confirmed recording."""
        backward = program.backward.program if program.backward is not None else None
        if self.jit and backward is not None:
            backward.jitted = backward.backend_compiled()
        if self.fuse:
            for part in (program, backward):
                if part is not None and part.jitted is None:
                    fuse_program(part)
        if self.cuda_graph:
            if backward is not None:
                why = ("returns tensors whose backward runs outside it, which a CUDA graph of "
                       "the whole step cannot hold")
                if self.strict:
                    raise CompileError(f"ag.compile({self.name}): {why}")
                warnings.warn(f"ag.compile({self.name}): replaying without a CUDA graph, "
                              f"because it {why}", RuntimeWarning, stacklevel=4)
                return
            program.graphed = graphed_step(program, tensors, self.name, self.strict)
