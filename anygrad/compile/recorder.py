"""Recording one eager call of a function as a flat program over array slots.

While a recording is active (the `_recording` context variable, looked up once per op
like anomaly mode), the engine reports every op it applies and hands each backward to
`on_backward`, which runs the VJP rules as ops too (as `create_graph` does, but with no
graph kept), so they are recorded like the forward. Optimizer and scheduler methods are
effects (see effects.py): recorded as calls. Random draws are recorded as draws from the
same backend stream, and BatchNorm's running statistics as buffer stores.

Everything the recorder cannot replay faithfully is a *problem*: reading a tensor's value
on the host (`.item()`, `bool()`, `float()`), hooks, assigning `.data`, a backward into a
graph built outside the call. A call with problems is not replayed: the caller falls
back to eager execution with a warning, or raises in strict mode. Outputs whose graphs
are still needed are differentiated once more at the end (`trace_backward`), for the
backward a replay hands to the caller (aot.py).
"""
from __future__ import annotations

import functools
import hashlib
import os
import sys

from ..backends import GatherSpec
from ..engine import _wrap
from ..engine import backward as engine_backward
from ..modes import _recording
from ..tensor import Tensor
from .guards import PathIndex
from .program import (
    Accumulate, Apply, Call, Capture, Check, ClearGrad, Dynamic, Effect, LoadArg, LoadCapture,
    LoadCotangent, LoadGrad, Ref, Store,
)

__all__ = ["CompileError", "Recorder"]


class CompileError(RuntimeError):
    """A compiled function did something a replay could not repeat faithfully."""


class Recorder:
    def __init__(self, fn, title, args, strict=False):
        self.paths = PathIndex(fn)
        self.title = title
        self.strict = strict
        self.args = args  # the call's tensors, flattened
        self.arg_positions = {id(t): i for i, t in enumerate(args)}
        self.arg_states = [(t.array, _digest(t)) for t in args]
        # A tensor sharing an argument's array (a transform's fresh leaf) reads the argument.
        self.arg_arrays = {id(t.array): i for i, t in reversed(list(enumerate(args)))}
        self.refs = {}  # id(array) -> Ref of the slot holding it
        self.loaded = set()  # slots holding tensors the call did not compute (loads)
        self.keep = []  # every recorded array stays alive, so no id is reused meanwhile
        self.meta = {}
        self.code = []
        self.captures = []
        self.capture_index = {}  # id(tensor) -> capture number
        self.capture_arrays = {}  # capture number -> (the array last loaded, its digest)
        self.nodes = set()  # ids of the nodes built during the recording
        self.modules = {}  # id -> (module, training flag) of every module called
        self.problems = []
        self.effect_depth = 0
        self.graph_outputs = []  # returned tensors whose graphs are still needed
        self.graph_index = {}
        self.aot_inputs = []  # ("arg", i) / ("capture", k) of what they are differentiated by
        self.aot_grads = []  # (slot, backend) of the gradient of each
        self.aot_outputs = []  # the backend of each graph output
        self.aot_reaches = []  # for each input, the graph outputs whose graphs reach it
        # The .grad of every tensor the function can reach, as last seen: a change the
        # recording did not make itself is the function assigning .grad.
        self.grads = {id(t): (t, t.grad) for t in (*args, *self.paths.tensors())}

    # ------------------------------------------------------------ bookkeeping
    def problem(self, text):
        if self.strict:
            raise CompileError(f"ag.compile({self.title}): {text}")
        if text not in self.problems:
            self.problems.append(text)

    def produce(self, array):
        ref = Ref(len(self.meta))
        self.refs[id(array)] = ref
        self.keep.append(array)
        self.meta[ref.index] = (tuple(getattr(array, "shape", ())), getattr(array, "dtype", None))
        return ref

    def operand(self, value):
        if isinstance(value, Tensor):
            ref = self.refs.get(id(value.array))
            return ref if ref is not None else self.capture(value)
        ref = self.refs.get(id(value)) if not isinstance(value, (int, float, bool)) else None
        return value if ref is None else ref

    def capture(self, t):
        """The first read of a tensor the call did not compute: an argument, an outside
        tensor (a parameter, a buffer, a captured batch), or the gradient of one."""
        position = self.arg_positions.get(id(t), self.arg_arrays.get(id(t.array)))
        if position is not None:
            out = self.produce(t.array)
            self.loaded.add(out.index)
            self.code.append(LoadArg(position, out))
            return out
        owner = self._grad_owner(t)
        if owner is not None:
            out = self.produce(t.array)
            self.loaded.add(out.index)
            self.code.append(LoadGrad(owner, out))
            return out
        k = self.capture_index.get(id(t))
        if k is None:
            k = self.capture_index[id(t)] = len(self.captures)
            capture = Capture(t)
            capture.root, capture.path = self.paths.find(t)
            capture.where = _user_line()
            self.captures.append(capture)
        self.capture_arrays[k] = (t.array, _digest(t))
        out = self.produce(t.array)
        self.loaded.add(out.index)
        self.code.append(LoadCapture(k, out))
        return out

    def _grad_owner(self, t):
        for leaf, target in self._leaves():
            if leaf.grad is t:
                return target
        return None

    def _leaves(self):
        for i, a in enumerate(self.args):
            yield a, ("arg", i)
        for k, c in enumerate(self.captures):
            yield c.tensor, ("capture", k)

    def target_of(self, leaf):
        position = self.arg_positions.get(id(leaf))
        if position is not None:
            return ("arg", position)
        k = self.capture_index.get(id(leaf))
        return None if k is None else ("capture", k)

    # ------------------------------------------------------------ the engine's reports
    def on_apply(self, op, args, params, result):
        if self.effect_depth:
            return
        if op.name == "unique_values":
            self.shape_from_values("unique_values")
        if _masked_by_data(params.get("spec") if params else None, self.refs):
            self.shape_from_values("selects with a boolean mask")
        operands = [self.operand(a) for a in args]
        params = {k: self._param(v) for k, v in params.items()} if params else {}
        out = self.produce(result.array)
        ins = Apply(op, result.backend, operands, params, out)
        ins.where = _user_line()
        self.code.append(ins)
        if result.node is not None:
            self.nodes.add(id(result.node))
            self.keep.append(result.node)

    def on_custom_node(self, node):
        """A node of a user-defined derivative (custom.py): its forward's ops were
        recorded one by one; backward may go through it."""
        if not self.effect_depth:
            self.nodes.add(id(node))
            self.keep.append(node)

    def _param(self, value):
        """A parameter as recorded: constant, or rebuilt from slots when it holds data
        the call computed or received (the index of a selection: labels, say)."""
        if isinstance(value, GatherSpec):
            parts = value.index if isinstance(value.index, tuple) else (value.index,)
            found = [self.refs.get(id(p)) for p in parts]
            if not any(found):
                return value
            positions = [i for i, r in enumerate(found) if r is not None]
            fixed = [None if r is not None else p for p, r in zip(parts, found)]
            as_tuple = isinstance(value.index, tuple)

            def build(*arrays, kind=value.kind, axis=value.axis):
                index = list(fixed)
                for i, a in zip(positions, arrays):
                    index[i] = a
                return GatherSpec(kind, tuple(index) if as_tuple else index[0], axis)

            return Dynamic(build, [found[i] for i in positions], value.kind)
        if isinstance(value, (int, float, bool, str, type(None), tuple)):
            return value
        ref = self.refs.get(id(value))
        if ref is None:
            return value
        return Dynamic(lambda a: a, [ref], "array")

    def on_backward(self, run, roots, root_grads, retain_graph, create_graph, inputs):
        """Run backward with the rules applied as ops (recorded), then record the
        gradients it leaves on leaves as accumulations decided at replay."""
        if self.effect_depth:
            return run(roots, root_grads, retain_graph, create_graph, inputs)
        self._check_grads()
        leaves = self._check_graph(roots)
        stashed = {}
        if inputs is None:
            for leaf in leaves:
                stashed[id(leaf)] = leaf.grad
                leaf.grad = None
        try:
            results = run(roots, root_grads, retain_graph, True, inputs)
        finally:
            fresh = {}
            for leaf in leaves if inputs is None else ():
                fresh[id(leaf)] = leaf.grad
                leaf.grad = stashed[id(leaf)]
        for leaf in leaves if inputs is None else ():
            g = fresh[id(leaf)]
            if g is None:
                continue
            self._accumulate(leaf, g, create_graph)
        return results

    def _accumulate(self, leaf, g, create_graph):
        target = self.target_of(leaf)
        if target is None:
            self.problem("gives a gradient (in backward) to a tensor created inside it, whose .grad "
                         "would not survive a replay")
        old = leaf.grad
        if create_graph and old is not None:
            self.problem("adds a create_graph gradient to an existing .grad; clear gradients "
                         "first inside the function")
        grad = self.operand(g)
        if old is None:
            leaf.grad = g if create_graph else _wrap(g.array, leaf.backend)
        else:
            leaf.grad = _wrap(old.array + g.array, leaf.backend)
        out = self.produce(leaf.grad.array)
        self.grads[id(leaf)] = (leaf, leaf.grad)
        if target is not None:
            self.code.append(Accumulate(target, grad, leaf.backend, out))

    def _check_graph(self, roots):
        """The leaves a backward reaches; hooks and outside graphs are problems."""
        leaves = {}
        stack = [r.node for r in roots if r.node is not None]
        seen = set()
        for r in roots:
            if r.node is None and r.requires_grad:
                leaves[id(r)] = r
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if id(node) not in self.nodes:
                self.problem(f"backpropagates into a graph built outside it "
                             f"(at {node.op.name}); pass its inputs as arguments instead")
                continue
            if node.hooks or node.retained is not None:
                self.problem("runs a gradient hook or retain_grad() during backward")
            for t in node.inputs or ():
                if isinstance(t, Tensor):
                    if t.node is not None:
                        stack.append(t.node)
                    elif t.requires_grad:
                        leaves[id(t)] = t
        for leaf in leaves.values():
            if getattr(leaf, "_hooks", None):
                self.problem(f"differentiates a leaf of shape {leaf.shape} that has a gradient hook")
        return list(leaves.values())

    # ------------------------------------------------------------ the rest of the library's
    def on_effect(self, method, obj, args, kwargs):
        if self.effect_depth:
            return method(obj, *args, **kwargs)
        label = f"{type(obj).__name__}.{method.__name__}()"
        if any(isinstance(v, Tensor) or callable(v) for v in (*args, *kwargs.values())):
            self.problem(f"calls {label} with a tensor or a closure, which a replay "
                         "cannot call again faithfully")
        self._check_writes()
        self._check_grads()
        self.code.append(Effect(functools.partial(method, obj, *args, **kwargs), label))
        self.effect_depth += 1
        try:
            return method(obj, *args, **kwargs)
        finally:
            self.effect_depth -= 1
            for k, c in enumerate(self.captures):
                self.capture_arrays[k] = (c.tensor.array, _digest(c.tensor))
            self.arg_states = [(t.array, _digest(t)) for t in self.args]
            for key, (t, _) in self.grads.items():
                self.grads[key] = (t, t.grad)

    def on_read(self, tensor, backend):
        """A tensor read as data outside an op (an index array): loaded as a slot, so
        that the replay reads this call's tensor, not the recorded one's values."""
        if self.effect_depth:
            return
        if tensor.backend is not backend:
            self.problem(f"indexes a tensor of backend {backend.name} with one of backend "
                         f"{tensor.backend.name}, a conversion a replay would not repeat; "
                         "index with a tensor of the indexed tensor's backend")
            return
        self.operand(tensor)

    def on_check(self, backend, label, predicate, values, error):
        if not self.effect_depth:
            operands = [self.operand(v) for v in values]
            self.code.append(Check(backend, label, predicate, operands, error))

    def shape_from_values(self, what):
        """An op whose result's shape depends on values (a boolean mask's count, nonzero,
        unique): a replay would keep the recorded shapes, so the call runs eagerly."""
        self.not_replayable(
            f"{what}, whose result's shape depends on the values it reads; a replay would "
            "keep the shapes of the recording")

    def not_replayable(self, text):
        """A problem the library's own code reports (outside optimizer steps)."""
        if not self.effect_depth:
            self.problem(text)

    def on_inplace(self, name, update, before, after, other):
        """`t op= other` outside the graph (no gradient recorded): replayed as the same
        update of the replay's array, where the call computed that tensor itself."""
        if self.effect_depth:
            return
        ref = self.refs.get(id(before))
        if ref is None or ref.index in self.loaded:
            self.problem(f"updates in place ({name}) a tensor it did not compute (an argument "
                         "or an outside tensor); only optimizer steps may update those")
            return
        operand = self.operand(other)
        self.code.append(Call(update, [ref, operand], self.produce(after), f"{name} in place"))

    def on_host_read(self, tensor, what):
        if self.effect_depth:
            return
        self.problem(f"reads a tensor's value on the host with {what} (shape {tensor.shape}); "
                     "Python control flow on tensor values cannot be replayed")

    def on_module(self, module):
        if not self.effect_depth:
            self.modules.setdefault(id(module), (module, module.training))

    def on_store(self, module, name, value, kind):
        if self.effect_depth:
            return
        if kind != "buffer":
            self.problem(f"assigns parameter {name!r} of {type(module).__name__} inside the "
                         "function")
            return
        operand = None if value is None else self.operand(value)
        backend = None if value is None else value.backend
        self.code.append(Store(module, name, operand, backend))

    def on_backend_call(self, name, original, args, kwargs, out):
        if self.effect_depth:
            return
        if name == "index_positions":  # (shape, key, device): positions on the host
            shape, key, device = args
            self._index_positions(original, shape, key, device, out)
            return
        if name == "index":
            ref = self.refs.get(id(args[0]))
            if ref is not None and out is not args[0]:
                self.code.append(Call(original, [ref], self.produce(out), "index"))
            return
        fn = functools.partial(original, *args, **kwargs) if kwargs else original
        operands = [] if kwargs else list(args)
        self.code.append(Call(fn, operands, self.produce(out), f"draw {name}"))

    def _index_positions(self, original, shape, key, device, out):
        """The positions a numpy-style index selects, computed again at replay from the
        key's arrays where the call computed or received them."""
        found = [self.refs.get(id(k)) if hasattr(k, "shape") else None for k in key]
        if not any(found):
            return  # a constant key: constant positions
        if any(r is not None and _is_bool(k) for k, r in zip(key, found)):
            self.shape_from_values("selects with a boolean mask")
        positions = [i for i, r in enumerate(found) if r is not None]

        def build(*arrays):
            parts = list(key)
            for i, a in zip(positions, arrays):
                parts[i] = a
            return original(shape, tuple(parts), device)

        self.code.append(Call(build, [found[i] for i in positions], self.produce(out),
                              "index positions"))

    def _check_grads(self):
        """`t.grad = None` written by the function becomes an instruction; any other
        assignment to .grad is a problem."""
        for key, (t, seen) in list(self.grads.items()):
            if t.grad is seen:
                continue
            self.grads[key] = (t, t.grad)
            if t.grad is not None:
                self.problem(f"assigns the .grad of a tensor of shape {t.shape}; only "
                             "backward, zero_grad and `.grad = None` can be replayed")
                continue
            target = self.target_of(t)
            if target is None:
                self.capture(t)
                target = self.target_of(t)
            self.code.append(ClearGrad(target))

    def _check_writes(self):
        """Arguments and outside tensors must change only through effects (optimizer
        steps): a new `.data`, or the same array written in place, would not happen in a
        replay."""
        for i, t in enumerate(self.args):
            loaded, digest = self.arg_states[i]
            if t.array is not loaded or _digest(t) != digest:
                self.problem(f"changes argument {i} (shape {t.shape}) in place or assigns "
                             "its .data; a replay would leave it as it was passed")
                self.arg_states[i] = (t.array, _digest(t))
        for k, c in enumerate(self.captures):
            loaded, digest = self.capture_arrays[k]
            data = c.tensor.array
            if data is not loaded or _digest(c.tensor) != digest:
                self.problem(f"changes .data of a tensor of shape {c.shape} that it reads "
                             "(only optimizer steps may update tensors)")
                self.capture_arrays[k] = (data, _digest(c.tensor))

    # ------------------------------------------------------------ the end of the call
    def outputs(self, result):
        """The returned structure, with slots for the tensors the call computed."""
        if isinstance(result, Tensor):
            position = self.arg_positions.get(id(result))
            if position is not None:
                return ("arg", position)
            k = self.capture_index.get(id(result))
            if k is not None:
                return ("capture", k)
            if result.node is not None and result.node.inputs is not None:
                # Its graph is still needed: the caller may call backward (see aot.py).
                k = self.graph_index.setdefault(id(result), len(self.graph_outputs))
                if k == len(self.graph_outputs):
                    self.graph_outputs.append(result)
                return ("grad", self.operand(result), result.backend, k)
            return ("slot", self.operand(result), result.backend)
        if isinstance(result, (list, tuple)):
            kind = "list" if isinstance(result, list) else "tuple"
            # The tuple's own type: a namedtuple comes back as one.
            return (kind, [self.outputs(r) for r in result], type(result))
        if isinstance(result, dict):
            return ("dict", [self.outputs(v) for v in result.values()], list(result))
        return ("const", result)

    def trace_backward(self):
        """Differentiate the returned tensors whose graphs are still needed once more, the
        gradients arriving at them as slots, with respect to the tensors that require
        grad where their graphs begin: the backward a replay runs when the caller calls
        backward (see aot.py). Returns where in the code that backward begins, or None
        when it cannot be recorded (a problem says why)."""
        outs = self.graph_outputs
        inputs, reaches = self._graph_inputs(outs)
        for t in (*outs, *inputs):
            if "complex" in str(t.array.dtype):
                self.problem(f"returns a graph through a complex tensor ({t.array.dtype}, shape "
                             f"{t.shape}), whose backward is not recorded ahead of time")
        if self.problems:
            return None
        self.aot_inputs = [self.target_of(t) for t in inputs]
        start = len(self.code)
        seeds = []
        for k, o in enumerate(outs):
            # The gradient arriving at output k: a slot, read at replay (values unused here).
            array = o.backend.xp.ones_like(o.array)
            self.code.append(LoadCotangent(k, self.produce(array)))
            seeds.append(_wrap(array, o.backend))
        # The inputs stand as leaves for the trace: no graph before them is walked, and
        # their hooks are the engine's to run at replay, not the trace's.
        cut = [(t, t.node, getattr(t, "_hooks", None)) for t in inputs]
        try:
            for t, _, hooks in cut:
                t.node = None
                if hooks:
                    t._hooks = None
            results = engine_backward(outs, seeds, retain_graph=True, create_graph=True,
                                      inputs=inputs)
        finally:
            for t, node, hooks in cut:
                t.node = node
                if hooks:
                    t._hooks = hooks
        kept = [(target, g, r) for target, g, r in zip(self.aot_inputs, results, reaches)
                if g is not None]
        self.aot_inputs = [target for target, _, _ in kept]
        self.aot_grads = [(self.operand(g), g.backend) for _, g, _ in kept]
        self.aot_reaches = [r for _, _, r in kept]
        self.aot_outputs = [o.backend for o in outs]
        for ins in self.code[start:]:
            if not isinstance(ins, (LoadCotangent, LoadArg, LoadCapture, Apply, Call, Check)):
                self.problem(f"has a backward that does more than compute gradients "
                             f"({ins.show()})")
        return None if self.problems else start

    def _graph_inputs(self, outs):
        """The tensors requiring grad where the graphs of `outs` built by the call begin:
        arguments and outside tensors (parameters, or results of an outside graph); and
        for each, the outputs whose graphs reach it."""
        inputs = {}
        reaches = {}
        for k, out in enumerate(outs):
            stack = [out.node]
            seen = set()
            while stack:
                node = stack.pop()
                if id(node) in seen:
                    continue
                seen.add(id(node))
                if node.hooks or node.retained is not None:
                    self.problem("returns a graph in which a tensor it computed has a gradient "
                                 "hook or retain_grad(), which a replay would not make")
                for t in node.inputs or ():
                    if not isinstance(t, Tensor) or not t.requires_grad:
                        continue
                    if t.node is not None and id(t.node) in self.nodes and \
                            self.target_of(t) is None:
                        stack.append(t.node)
                        continue
                    if id(t) not in inputs and self.target_of(t) is None:
                        self.problem(f"returns a graph that begins at a tensor of shape "
                                     f"{t.shape} it neither received nor can find outside "
                                     "(made inside the call)")
                    inputs[id(t)] = t
                    reaches.setdefault(id(t), set()).add(k)
        return list(inputs.values()), [frozenset(reaches[key]) for key in inputs]

    def finish(self):
        self._check_writes()
        self._check_grads()


_LIBRARY_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _user_line():
    """'file:line' of the innermost caller outside anygrad (the user's code)."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith(_LIBRARY_DIR):
        frame = frame.f_back
    if frame is None:
        return None
    return f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"


def _is_bool(array):
    return "bool" in str(getattr(array, "dtype", ""))


def _masked_by_data(spec, refs):
    """Whether a selection's index holds a boolean mask the call computed or received."""
    if not isinstance(spec, GatherSpec):
        return False
    parts = spec.index if isinstance(spec.index, tuple) else (spec.index,)
    return any(_is_bool(p) and id(p) in refs for p in parts)


def _digest(t):
    """A fingerprint of a tensor's values, to notice arrays written in place."""
    return hashlib.sha1(t.backend.to_numpy(t.array).tobytes()).digest()


# ------------------------------------------------------------------ backend hooks
_HOOKED = ("normal", "uniform", "integers", "permutation", "bernoulli", "index",
           "index_positions")


def hook_backends():
    """Report random draws and index conversions of every backend made so far.

    Installed on the backend objects once a function is first recorded; when no
    recording is active each hook costs one context-variable lookup.
    """
    from ..backends.registry import _cache

    for backend in set(_cache.values()):
        if backend.__dict__.get("_compile_hooks"):
            continue
        for name in _HOOKED:
            original = getattr(backend, name)
            setattr(backend, name, _reporting(name, original))
        backend._compile_hooks = True


def _reporting(name, original):
    @functools.wraps(original)
    def call(*args, **kwargs):
        out = original(*args, **kwargs)
        recorder = _recording.get()
        if recorder is not None:
            recorder.on_backend_call(name, original, args, kwargs, out)
        return out

    return call
