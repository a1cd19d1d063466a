"""A compiled forward whose backward runs outside: the backward recorded ahead of time.

    cmodel = ag.compile(model)
    loss = F.cross_entropy(cmodel(x), y)
    loss.backward()

A function that returns tensors whose graphs are still needed is differentiated once
more while it is recorded (`Recorder.trace_backward`): the gradients of its outputs,
arriving as slots, with respect to the tensors that require grad among its inputs
(arguments, parameters and other outside tensors). The recording is then cut in two
programs (PyTorch's AOTAutograd idea). The forward also returns the values its backward
reads (saved); the backward is a function of those and of the outputs' gradients.

At replay the forward program runs, and its outputs are attached to one engine node
whose inputs are the input tensors of this call. When the caller's backward reaches the
node, the backward program runs once with the gradients of every output (zeros for an
output backward did not reach) and hands each input its gradient; the engine stores
them in `.grad` (running leaf hooks) or carries them on into the graph that computed an
argument, as for any op. The saved values belong to the node: this call's, freed with
its graph. Several outputs meet in one hidden tensor, so their gradients are summed
before the program runs once. Under create_graph the gradients are right but cannot be
differentiated again: the backward program computes on arrays and has no graph of its
own, so they come through an op whose derivative raises, saying so (as custom rules
that leave anygrad do, see custom.py).
"""
from __future__ import annotations

from ..engine import Node, Op, _wrap
from ..tensor import Tensor
from .fusion import ELEMENTWISE
from .program import Apply, LoadArg, LoadCapture, LoadSaved, Program, Ref

__all__ = ["Backward", "split"]

# Ops whose forward always makes a new array: a gradient made by one of them can become
# a .grad as it is. Any other (a reshape, a cast, a value the forward saved) may share
# memory with an incoming gradient or a saved value, and the engine copies it first.
FRESH = (ELEMENTWISE - {"astype", "positive"}) | {"matmul", "sum", "linear", "mean"}


def split(title, recorder, outputs, start, guards):
    """The recording cut at `start` (where the backward's trace began) into the forward
    program, which gets `.backward`, a `Backward`."""
    forward = recorder.code[:start]
    rest = recorder.code[start:]
    forward_slots = {ins.out.index for ins in forward if ins.out is not None}
    saved = sorted({r.index for ins in rest for r in ins.reads() if r.index in forward_slots})
    refs = [Ref(k) for k in saved]
    code = [LoadSaved(j, r) for j, r in enumerate(refs)] + rest
    grads = recorder.aot_grads
    template = ("tuple", [("slot", g, b) for g, b in grads], tuple)
    backward = Program(f"{title} (backward)", code, [], template, recorder.meta, None)
    program = Program(title, forward, recorder.captures, ("aot", outputs, refs),
                      recorder.meta, guards)
    # Which loaded tensors the backward reads: they are the node's inputs too, so that
    # one changed in place after the forward (an optimizer step) makes backward refuse,
    # as it would eagerly.
    loads = {ins.out.index: ("arg", ins.position) if isinstance(ins, LoadArg)
             else ("capture", ins.capture)
             for ins in forward if isinstance(ins, (LoadArg, LoadCapture))}
    watched = []
    for k in saved:
        target = loads.get(k)
        if target is not None and target not in recorder.aot_inputs and target not in watched:
            watched.append(target)
    program.backward = Backward(title, backward, recorder.aot_inputs, watched,
                                recorder.aot_outputs, outputs, len(refs),
                                _may_alias(backward.code, grads), recorder.aot_reaches)
    program.fingerprint = (program.fingerprint, backward.fingerprint,
                           tuple(recorder.aot_inputs))
    return program


def _may_alias(code, grads):
    """Indices of the gradients that are not certainly fresh arrays of the backward."""
    fresh = {ins.out.index for ins in code if isinstance(ins, Apply) and ins.op.name in FRESH}
    return tuple(i for i, (g, _) in enumerate(grads) if g.index not in fresh)


class Backward:
    """The backward half of a recording, and the engine node a replay's outputs get."""

    def __init__(self, title, program, inputs, watched, outputs, template, n_saved, aliasing,
                 reaches):
        self.title = title
        self.reaches = reaches  # for each input, the outputs whose graphs reach it
        self.program = program
        self.template = template  # the returned structure, its outputs with graphs marked
        self.inputs = list(inputs)  # ("arg", i) or ("capture", k): who gets gradient i
        self.watched = list(watched)  # other loaded tensors the backward reads
        self.outputs = outputs  # the backend of each output with a graph
        self.n_saved = n_saved
        name = f"ag.compile({title})"
        rules = [self._rule(i) for i in range(len(self.inputs))]
        rules += [_no_gradient] * len(self.watched)
        self.op = Op(name, None, *rules, passes=aliasing)
        self.selectors = [Op(f"{name} output {k}", None, _selector(k))
                          for k in range(len(outputs))] if len(outputs) > 1 else None

    def __str__(self):
        return str(self.program)

    def attach(self, arrays, args, caps):
        """The replay's returned structure, its outputs attached to this call's node."""
        from .program import _rebuild

        n = len(arrays) - self.n_saved
        saved = _Saved(arrays[n:], self.outputs)
        inputs = [args[i] if kind == "arg" else caps[i] for kind, i in self.inputs]
        inputs += [args[i] if kind == "arg" else caps[i] for kind, i in self.watched]
        backend = self.outputs[0]
        node = Node(self.op, inputs, saved, {}, backend)
        if self.selectors is None:

            def attach(k, array):
                saved.dtype = array.dtype  # what hooks on the output read
                t = _wrap(array, backend, True)
                t.node = node
                return t
        else:
            hidden = _wrap(_PACKED, backend, True)
            hidden.node = node
            nodes = {}

            def attach(k, array):
                out_backend = self.outputs[k]
                t = _wrap(array, out_backend, True)
                t.node = nodes.get(k)
                if t.node is None:
                    saved.outs[k] = array
                    t.node = nodes[k] = Node(self.selectors[k], [hidden], array, {}, out_backend)
                return t
        return _rebuild(self.template, iter(arrays[:n]), args, caps, attach)

    def _rule(self, i):
        last = len(self.inputs) - 1

        def vjp(ns, g, ans, *values):
            graph = isinstance(ans, Tensor)  # the engine's form under create_graph
            saved = ans.array if graph else ans
            cache = saved.cache
            if cache is None or cache[0] is not g:
                cotangents = saved.cotangents(g)
                if graph:
                    cotangents = [c.array if isinstance(c, Tensor) else c for c in cotangents]
                saved.cache = cache = (g, self.program.run_arrays(saved.arrays, cotangents))
            if i == last:  # the last input asking: the gradients are handed out
                saved.cache = None
            if isinstance(g, _Cotangents) and not self.reaches[i].intersection(g.parts):
                return None  # only outputs that do not depend on it were differentiated
            if graph:
                return self._guarded(cache[1][i], g, values[:len(self.inputs)])
            return cache[1][i]

        return vjp


    def _guarded(self, array, g, inputs):
        """A gradient asked for with create_graph: its value, right, through an op whose
        own derivative raises, so that only differentiating it again fails (the
        backward program computes on arrays: it has no graph of its own)."""
        parts = list(g.parts.values()) if isinstance(g, _Cotangents) else [g]
        watched = [t for t in (*parts, *inputs) if isinstance(t, Tensor) and t.requires_grad]
        value = _wrap(array, inputs[0].backend if inputs else parts[0].backend)
        if not watched:
            return value
        text = (f"ag.compile({self.title}): a gradient through the outputs of a compiled "
                "function was differentiated again (create_graph=True, hessian, a grad of a "
                "grad): their backward was recorded ahead of time as a program on arrays, "
                "with no graph of its own; call the function uncompiled (the compiled "
                "object's .fn) where gradients are differentiated again, or take them "
                "inside the compiled function")

        def refuse(*_):
            raise RuntimeError(text)

        guard = Op(f"ag.compile({self.title}) gradient", lambda xp, c, *others: c,
                   *([refuse] * (1 + len(watched))), passes=(0,))
        return guard(value, *watched)


class _Saved:
    """One call's saved values: the node's `out`, which the engine drops with the graph."""

    __slots__ = ("arrays", "backends", "outs", "cache", "dtype")
    shape = ()

    def __init__(self, arrays, backends):
        self.arrays = arrays
        self.backends = backends
        self.outs = [None] * len(backends)  # the outputs' arrays, where there are several
        self.cache = None
        self.dtype = None

    def cotangents(self, g):
        if not isinstance(g, _Cotangents):
            return (g,)
        return [g.parts[k] if k in g.parts else b.xp.zeros_like(out)
                for k, (out, b) in enumerate(zip(self.outs, self.backends))]


class _Cotangents:
    """The gradients of several outputs on their way to the one node: the engine sums
    what reaches a node with `+`, which here gathers them by output."""

    __slots__ = ("parts",)
    shape = ()

    def __init__(self, parts):
        self.parts = parts

    def __add__(self, other):
        parts = dict(self.parts)
        for k, g in other.parts.items():
            parts[k] = parts[k] + g if k in parts else g
        return _Cotangents(parts)


class _Packed:
    """The array of the hidden tensor several outputs hang from (never read)."""

    shape = ()
    dtype = None


_PACKED = _Packed()


def _selector(k):
    def vjp(ns, g, ans, *values):
        return _Cotangents({k: g})

    return vjp


def _no_gradient(ns, g, ans, *values):
    """A tensor the backward reads for its value only: none of this call's gradient
    reaches it (the engine skips a None)."""
    return None
