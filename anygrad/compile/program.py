"""A recorded call as a flat program over array slots, turned into Python source.

Every value a call computed is a numbered slot (`%3`). The instructions load tensors
(arguments, and tensors reached from outside), apply ops' forward functions to slots,
draw random numbers, call effects (optimizer steps), accumulate leaf gradients and store
module buffers. `build()` writes the program as one straight-line Python function, so a
replay pays one bytecode line per array operation instead of the engine's dispatch,
graph recording and backward bookkeeping. `str(program)` shows it to the user.
"""
from __future__ import annotations

import functools
import re
import time
import warnings

from ..checks import raise_if, run_check
from ..engine import _wrap

__all__ = ["Program", "Ref"]


class Ref:
    """A slot of the program (an operand that is not a constant)."""

    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index

    def __repr__(self):
        return f"%{self.index}"


class Dynamic:
    """A parameter rebuilt from slots at replay (a selection whose index is data)."""

    __slots__ = ("build", "refs", "label")

    def __init__(self, build, refs, label):
        self.build = build
        self.refs = refs
        self.label = label

    def __repr__(self):
        return f"{self.label}({', '.join(map(repr, self.refs))})"


# ------------------------------------------------------------------ instructions
class Instruction:
    out = None  # the slot written, if any
    pure = False  # may be dropped when its slot is never read
    array_only = False  # reads and writes slots only: a backend's compiler may take it
    where = None  # the line of the function that made it, "file:line", where known

    def reads(self):
        return ()


class LoadArg(Instruction):
    pure = True
    array_only = True

    def __init__(self, position, out):
        self.position, self.out = position, out

    def show(self):
        return f"{self.out!r} = argument {self.position}"

    def emit(self, name):
        return f"s{self.out.index} = args[{self.position}].array"


class LoadCapture(Instruction):
    pure = True
    array_only = True

    def __init__(self, capture, out):
        self.capture, self.out = capture, out

    def show(self):
        return f"{self.out!r} = outside tensor {self.capture}"

    def emit(self, name):
        return f"s{self.out.index} = caps[{self.capture}].array"


class _LoadPositional(Instruction):
    """An array handed to a program by position: `source[position]`."""

    pure = True
    array_only = True
    source = ""

    def __init__(self, position, out):
        self.position, self.out = position, out

    def emit(self, name):
        return f"s{self.out.index} = {self.source}[{self.position}]"


class LoadSaved(_LoadPositional):
    """A value the forward computed and kept for the backward (a program of a
    backward recorded ahead of time reads it: see aot.py)."""

    source = "args"

    def show(self):
        return f"{self.out!r} = saved by the forward"


class LoadCotangent(_LoadPositional):
    """The gradient arriving at output `position` of a compiled forward."""

    source = "caps"

    def show(self):
        return f"{self.out!r} = gradient of output {self.position}"


class LoadGrad(Instruction):
    """The `.grad` of a leaf, read where the call read it."""

    pure = True

    def __init__(self, target, out):
        self.target, self.out = target, out

    def show(self):
        return f"{self.out!r} = grad of {_target_text(self.target)}"

    def emit(self, name):
        return f"s{self.out.index} = grad_of({_target_code(self.target)})"


class Apply(Instruction):
    """out = op.forward(backend.ops, *operands, **params), as `engine.apply` runs it."""

    pure = True
    array_only = True

    def __init__(self, op, backend, operands, params, out):
        self.op, self.backend, self.operands, self.params, self.out = op, backend, operands, params, out

    def reads(self):
        refs = [a for a in self.operands if isinstance(a, Ref)]
        for v in self.params.values():
            if isinstance(v, Dynamic):
                refs.extend(v.refs)
        return refs

    def show(self):
        args = [repr(a) if isinstance(a, Ref) else _short(a) for a in self.operands]
        args += [f"{k}={v!r}" if isinstance(v, Dynamic) else f"{k}={_short(v)}"
                 for k, v in self.params.items()]
        return f"{self.out!r} = {self.op.name}({', '.join(args)})"

    def emit(self, name):
        env = {f"{name}_f": self.op.forward, f"{name}_xp": self.backend.ops}
        inline = _inline(self.op.forward)
        if inline is not None and not self.params and len(self.operands) == inline.count("{}"):
            operands = [_operand(a, f"{name}_a{j}", env) for j, a in enumerate(self.operands)]
            return f"s{self.out.index} = " + inline.format(*operands, xp=f"{name}_xp"), env
        args = [f"{name}_xp"]
        for j, a in enumerate(self.operands):
            args.append(_operand(a, f"{name}_a{j}", env))
        for k, v in self.params.items():
            if isinstance(v, Dynamic):
                env[f"{name}_b{k}"] = v.build
                args.append(f"{k}={name}_b{k}({', '.join(f's{r.index}' for r in v.refs)})")
            else:
                args.append(f"{k}={_operand(v, f'{name}_p{k}', env)}")
        return f"s{self.out.index} = {name}_f({', '.join(args)})", env


class Call(Instruction):
    """out = fn(*operands), run again at replay: a random draw, an index conversion or
    an index's positions, an in-place update outside the graph."""

    def __init__(self, fn, operands, out, label):
        self.fn, self.operands, self.out, self.label = fn, operands, out, label

    def reads(self):
        return [a for a in self.operands if isinstance(a, Ref)]

    def show(self):
        args = [repr(a) if isinstance(a, Ref) else _short(a) for a in self.operands]
        return f"{self.out!r} = {self.label}({', '.join(args)})"

    def emit(self, name):
        env = {f"{name}_f": self.fn}
        args = [_operand(a, f"{name}_a{j}", env) for j, a in enumerate(self.operands)]
        return f"s{self.out.index} = {name}_f({', '.join(args)})", env


class Check(Instruction):
    """A check on values (labels in range, indices in bounds; see checks.py), run on
    each replay's own arrays."""

    array_only = True

    def __init__(self, backend, label, predicate, operands, error):
        self.backend, self.label, self.predicate = backend, label, predicate
        self.operands, self.error = operands, error

    def reads(self):
        return [a for a in self.operands if isinstance(a, Ref)]

    def show(self):
        args = [repr(a) if isinstance(a, Ref) else _short(a) for a in self.operands]
        return f"check {self.label}: {', '.join(args)}"

    def emit(self, name, collect=False):
        env = {f"{name}_b": self.backend, f"{name}_p": self.predicate, f"{name}_e": self.error}
        args = ", ".join(_operand(a, f"{name}_a{j}", env) for j, a in enumerate(self.operands))
        if collect:  # the flag leaves the function, to be checked by its caller
            return f"checks.append(({name}_p({name}_b.xp, {args}), ({args},)))", env
        return f"check({name}_b, {name}_p, {name}_e, {args})", env

    def raise_if(self, flag, arrays, defer=None):
        """The check of a flag and arrays that left the program (see `emit`)."""
        raise_if(self.backend, flag, self.error, arrays, defer)


class Effect(Instruction):
    """A method call replayed as a call (optimizer step, zero_grad, scheduler step)."""

    def __init__(self, fn, label):
        self.fn, self.label = fn, label

    def show(self):
        return self.label

    def emit(self, name):
        return f"{name}_f()", {f"{name}_f": self.fn}


class Accumulate(Instruction):
    """leaf.grad = g, or leaf.grad + g when it has one: backward's last step, decided at
    replay as eager backward decides it."""

    def __init__(self, target, grad, backend, out):
        self.target, self.grad, self.backend, self.out = target, grad, backend, out

    def reads(self):
        return [self.grad] if isinstance(self.grad, Ref) else []

    def show(self):
        return f"{self.out!r} = accumulate into grad of {_target_text(self.target)}: {self.grad!r}"

    def emit(self, name):
        env = {f"{name}_b": self.backend}
        g = _operand(self.grad, f"{name}_g", env)
        return f"s{self.out.index} = accumulate({_target_code(self.target)}, {g}, {name}_b)", env


class ClearGrad(Instruction):
    """leaf.grad = None, written by the function itself."""

    def __init__(self, target):
        self.target = target

    def show(self):
        return f"grad of {_target_text(self.target)} = None"

    def emit(self, name):
        return f"{_target_code(self.target)}.grad = None"


class Store(Instruction):
    """module.<name> = tensor: a buffer written during the call (running statistics)."""

    def __init__(self, module, name, value, backend):
        self.module, self.name, self.value, self.backend = module, name, value, backend

    def reads(self):
        return [self.value] if isinstance(self.value, Ref) else []

    def show(self):
        return f"{type(self.module).__name__}.{self.name} = {self.value!r}"

    def emit(self, name):
        env = {f"{name}_m": self.module._buffers, f"{name}_b": self.backend}
        value = _operand(self.value, f"{name}_v", env)
        if self.value is None:
            return f"{name}_m[{self.name!r}] = None", env
        return f"{name}_m[{self.name!r}] = wrap({value}, {name}_b)", env


# ------------------------------------------------------------------ the program
class Program:
    """A replayable recording: instructions, the outside tensors it loads, its outputs."""

    def __init__(self, title, code, captures, outputs, meta, guards):
        self.title = title
        self.code = _live(code, outputs)
        self.captures = captures  # Capture objects: how to find each outside tensor
        self.outputs = outputs  # the returned structure, with Refs for tensors
        self.meta = meta  # slot -> (shape, dtype) at recording, for display
        self.guards = guards
        self.replays = 0
        self.confirmed = False  # by a second recording that agrees (see fingerprint)
        self.attempts = 0
        self.fingerprint = fingerprint(self.code, captures, outputs)
        self._run = self._build()
        self.jitted = None  # the backend's compiled form, where ag.compile(jit=True) made one
        self.graphed = None  # its CUDA-graph replay, where ag.compile(cuda_graph=True) made one
        self.backward = None  # the backward recorded ahead of time of a forward (aot.py)

    @property
    def pure(self):
        """Whether the program is a function of its input arrays alone: no effects, random
        draws, gradient or buffer writes. Only such a program can be handed to a
        backend's own compiler."""
        return all(ins.array_only or isinstance(ins, Call) and ins.label == "index"
                   for ins in self.code)

    @functools.cached_property
    def checks(self):
        """The program's checks, in the order a collecting build returns their flags."""
        return [ins for ins in self.code if isinstance(ins, Check)]

    def effect_owners(self):
        """The objects whose methods the program calls as effects (optimizers,
        schedulers), each once."""
        owners = {}
        for ins in self.code:
            if isinstance(ins, Effect) and getattr(ins.fn, "args", None):
                owners.setdefault(id(ins.fn.args[0]), ins.fn.args[0])
        return list(owners.values())

    def backend_compiled(self):
        """The program as a function of arrays, compiled by the backend (jax.jit), or
        None where the program is not pure or its backend has no compiler."""
        backends = {c.backend for c in self.captures}
        backends.update(ins.backend for ins in self.code if isinstance(ins, Apply))
        if not self.pure or len(backends) != 1:
            return None
        compiler = getattr(next(iter(backends)), "jit", None)
        return None if compiler is None else compiler(self._build(arrays=True))

    def __str__(self):
        lines = [f"{self.title}: {len(self.code)} instructions, "
                 f"{len(self.captures)} outside tensors"]
        for k, c in enumerate(self.captures):
            lines.append(f"  outside tensor {k}: {c.describe()}")
        for ins in self.code:
            text = ins.show()
            out = ins.out
            if out is not None and out.index in self.meta:
                shape, dtype = self.meta[out.index]
                text = f"{text:<60} {_dtype_text(dtype)}{list(shape)}"
            lines.append("  " + text)
        lines.append(f"  return {_show_outputs(self.outputs)}")
        return "\n".join(lines)

    def _build(self, arrays=False, timed=False, collect=False):
        """The replay as Python source: of tensors (args, caps), or with `arrays` of
        their arrays (the pure function a backend compiler takes); with `timed`, it
        also returns the clock read after each instruction (see `line_times`). With
        `arrays` or `collect` the checks do not raise inside: it also returns their
        flags and arrays, for `raise_checks` (a compiled or captured function cannot
        read values midway)."""
        collect = collect or arrays
        env = {"wrap": _wrap, "accumulate": _accumulate, "grad_of": _grad_of,
               "clock": time.perf_counter, "check": run_check}
        body = ["ticks = [clock()]"] if timed else []
        if collect:
            body.append("checks = []")
        last, read = _last_reads(self.code, self.outputs)
        for i, ins in enumerate(self.code):
            emitted = _bias_in_place(ins, self.meta, f"i{i}") or (
                ins.emit(f"i{i}", collect=True) if collect and isinstance(ins, Check)
                else ins.emit(f"i{i}"))
            if arrays and isinstance(ins, (LoadArg, LoadCapture)):
                emitted = emitted.replace(".array", "")
            line, extra = emitted if isinstance(emitted, tuple) else (emitted, {})
            env.update(extra)
            body.append(line)
            if timed:
                body.append("ticks.append(clock())")
            dead = list(last.get(i, ()))
            if ins.out is not None and ins.out.index not in read:
                dead.append(ins.out.index)
            if dead:
                body.append("del " + ", ".join(f"s{k}" for k in sorted(set(dead))))
        refs = _output_refs(self.outputs)
        body.append("return (" + "".join(f"s{r.index}, " for r in refs) + ")"
                    + (", ticks" if timed else "") + (", checks" if collect else ""))
        source = "def replay(args, caps):\n" + "\n".join("    " + line for line in body) + "\n"
        if not arrays and not timed and not collect:
            self.source = source
        exec(compile(source, f"<ag.compile {self.title}>", "exec"), env)
        return env["replay"]

    def line_times(self, args, caps, repeats=20):
        """[(instruction as shown, median seconds)] over `repeats` replays with the
        clock read between instructions: where a replay spends its time. The replays
        are real ones (they update parameters, draw random numbers)."""
        timed = self._build(timed=True)
        samples = []
        for _ in range(repeats):
            _, ticks = timed(args, caps)
            samples.append([b - a for a, b in zip(ticks, ticks[1:])])
        medians = [sorted(column)[len(column) // 2] for column in zip(*samples)]
        return [(ins.show(), t) for ins, t in zip(self.code, medians)]

    def raise_checks(self, checks, defer=None):
        """Run the checks whose flags a collecting build returned (see `_build`)."""
        for ins, (flag, arrays) in zip(self.checks, checks):
            ins.raise_if(flag, arrays, defer)

    def run(self, args, caps):
        arrays = self._replay([t.array for t in args], [t.array for t in caps], args, caps)
        if self.backward is not None:
            return self.backward.attach(arrays, args, caps)
        return _rebuild(self.outputs, iter(arrays), args, caps)

    def run_arrays(self, args, caps):
        """The replay of a program of arrays (a backward: see aot.py): its raw results."""
        return self._replay(list(args), list(caps), args, caps)

    def _replay(self, arg_arrays, cap_arrays, args, caps):
        """The program's result arrays, by the backend's compiler where it has one."""
        self.replays += 1
        if self.jitted is None:
            return self._run(args, caps)
        try:
            arrays, checks = self.jitted(arg_arrays, cap_arrays)
        except Exception as error:  # noqa: BLE001  (the backend's compiler failed)
            if self.replays > 1:
                raise
            # A compiler compiles at its first call and may fail there (torch.compile
            # without a C++ toolchain): replay as usual instead.
            warnings.warn(f"ag.compile({self.title}): the backend's compiler failed "
                          f"({type(error).__name__}: {error}); replaying without it",
                          RuntimeWarning, stacklevel=4)
            self.jitted = None
            return self._run(args, caps)
        # Queued until the next host read, as on a GPU: reading a flag now would wait for
        # the compiled step and stop the library's asynchronous dispatch.
        self.raise_checks(checks, defer=True)
        return arrays


class Capture:
    """An outside tensor and how a replay finds it again: a path from the function's
    closure, globals or `self` (read afresh each call), or, when no path reaches it, the
    object itself (a constant made during the recording)."""

    __slots__ = ("tensor", "path", "root", "shape", "dtype", "backend", "requires_grad", "where")

    def __init__(self, tensor):
        self.tensor = tensor
        self.where = None  # the line of the function that first read it, where known
        self.path = None
        self.root = None
        self.shape = tuple(tensor.array.shape)
        self.dtype = tensor.array.dtype
        self.backend = tensor.backend
        self.requires_grad = tensor.requires_grad

    def describe(self):
        if self.path is None:
            where = "a constant of the recording"
        else:  # a helper function's closure cell or global, said briefly
            where = self.root_text() + "".join(_step_text(s) for s in self.path)
            where = re.sub(r"\.__closure__\[(\d+)\]\.cell_contents", r".<closure \1>", where)
            where = re.sub(r"\.__globals__\[('\w+')\]", r".<global \1>", where)
        return f"{where} {_dtype_text(self.dtype)}{list(self.shape)}"

    def root_text(self):
        kind, name = self.root[0], self.root[1]
        return {"self": "self", "cell": name, "global": name}[kind]

    def find(self):
        if self.path is None:
            return self.tensor
        kind, _name, obj = self.root
        value = obj.cell_contents if kind == "cell" else obj[_name] if kind == "global" else obj
        for step, key in self.path:
            value = value[key] if step == "item" else getattr(value, key)
        return value


def _step_text(step):
    kind, key = step
    return f"[{key!r}]" if kind == "item" else f".{key}"


# ------------------------------------------------------------------ inlining
# Forwards that are one expression are written into the replay as that expression,
# which saves a Python call per op. An op qualifies only while its forward compiles to
# the same bytecode as the reference here, so a changed forward is called, never
# mistranslated.
_REFERENCES = [
    (lambda xp, a, b: a + b, "{} + {}"),
    (lambda xp, a, b: a - b, "{} - {}"),
    (lambda xp, a, b: a * b, "{} * {}"),
    (lambda xp, a, b: a / b, "{} / {}"),
    (lambda xp, a: -a, "-{}"),
    (lambda xp, a, b: a > b, "{} > {}"),
    (lambda xp, a, b: a < b, "{} < {}"),
    (lambda xp, a, b: a == b, "{} == {}"),
    (lambda xp, x: xp.exp(x), "{xp}.exp({})"),
    (lambda xp, x: xp.log(x), "{xp}.log({})"),
    (lambda xp, x: xp.tanh(x), "{xp}.tanh({})"),
    (lambda xp, x: xp.sqrt(x), "{xp}.sqrt({})"),
    (lambda xp, x: xp.maximum(x, 0), "{xp}.maximum({}, 0)"),
    (lambda xp, a, b: xp.matmul(a, b), "{xp}.matmul({}, {})"),
    (lambda xp, x: xp.matrix_transpose(x), "{xp}.matrix_transpose({})"),
]
_INLINE = {}


def _linear_reference(xp, x, weight, bias=None):
    out = xp.matmul(x, xp.matrix_transpose(weight))
    return out if bias is None else out + bias


def _bias_in_place(ins, meta, name):
    """A dense layer's `x @ W.T + b` with the bias added into the product's own fresh
    array, one allocation less (the same additions), where the backend's arrays are
    mutable and the recording shows that the sum has the product's shape and dtype.
    None when that does not hold."""
    if not (isinstance(ins, Apply) and ins.backend.writable_views and not ins.params
            and len(ins.operands) == 3 and all(isinstance(a, Ref) for a in ins.operands)
            and _code_key(ins.op.forward) == _code_key(_linear_reference)):
        return None
    (x, dx), (w, dw), (_, db) = (meta[a.index] for a in ins.operands)
    shape, dtype = meta[ins.out.index]
    product = tuple(x[:-1]) + tuple(w[:1])
    if len(w) != 2 or not x or product != tuple(shape) or not dx == dw == db == dtype:
        return None
    a, b, c = (f"s{r.index}" for r in ins.operands)
    out = f"s{ins.out.index}"
    xp = f"{name}_xp"
    line = f"{out} = {xp}.matmul({a}, {xp}.matrix_transpose({b})); {out} += {c}"
    return line, {xp: ins.backend.ops}


def _code_key(fn):
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    return (code.co_code, code.co_consts, code.co_names, code.co_varnames, code.co_argcount)


def _inline(forward):
    """The expression template for `forward`, or None."""
    if not _INLINE:
        _INLINE.update((_code_key(fn), template) for fn, template in _REFERENCES)
    key = _code_key(forward)
    return None if key is None else _INLINE.get(key)


# ------------------------------------------------------------------ replay helpers
def _accumulate(leaf, g, backend):
    """Eager backward's `_accumulate_leaf`, on raw arrays."""
    if leaf.grad is None:
        leaf.grad = _wrap(g, backend)
        return g
    total = leaf.grad.array + g
    leaf.grad = _wrap(total, backend)
    return total


def _grad_of(leaf):
    if leaf.grad is None:
        raise RuntimeError(
            "ag.compile: the recorded call read the .grad of a tensor of shape "
            f"{leaf.shape}, which has no gradient in this call; clear gradients the same "
            "way in every call (or call the function eagerly)"
        )
    return leaf.grad.array


def _rebuild(template, arrays, args, caps, attach=None):
    """The returned structure of a replay from its arrays. `attach(k, array)` makes the
    tensor of output k of a forward whose backward was recorded ahead of time."""
    kind = template[0]
    if kind == "slot":
        return _wrap(next(arrays), template[2])
    if kind == "grad":
        return attach(template[3], next(arrays))
    if kind == "arg":
        return args[template[1]]
    if kind == "capture":
        return caps[template[1]]
    if kind == "const":
        return template[1]
    items = [_rebuild(t, arrays, args, caps, attach) for t in template[1]]
    if kind == "list":
        return items
    if kind == "tuple":
        made = template[2] if len(template) > 2 else tuple
        return tuple(items) if made is tuple else made(*items)  # a namedtuple's fields
    return dict(zip(template[2], items))


def _output_refs(template, found=None):
    found = [] if found is None else found
    if template[0] in ("slot", "grad"):
        found.append(template[1])
    elif template[0] in ("list", "tuple", "dict"):
        for t in template[1]:
            _output_refs(t, found)
    elif template[0] == "aot":  # the returned structure, then what the backward reads
        _output_refs(template[1], found)
        found.extend(template[2])
    return found


def _show_outputs(template):
    kind = template[0]
    if kind in ("slot", "grad"):
        return repr(template[1])
    if kind == "aot":
        saved = ", ".join(map(repr, template[2]))
        return f"{_show_outputs(template[1])}; saved for the backward: [{saved}]"
    if kind == "arg":
        return f"argument {template[1]}"
    if kind == "capture":
        return f"outside tensor {template[1]}"
    if kind == "const":
        return _short(template[1])
    inner = ", ".join(_show_outputs(t) for t in template[1])
    return {"list": f"[{inner}]", "tuple": f"({inner})", "dict": f"{{{inner}}}"}[kind]


def _live(code, outputs):
    """Drop pure instructions whose slots nothing reads (dead values of the recording)."""
    needed = {r.index for r in _output_refs(outputs)}
    kept = []
    for ins in reversed(code):
        if ins.pure and ins.out.index not in needed:
            continue
        kept.append(ins)
        needed.update(r.index for r in ins.reads())
    kept.reverse()
    return kept


def _last_reads(code, outputs):
    """instruction index -> slots read there for the last time (freed right after, so a
    replay holds no more memory than eager execution does), and every slot read."""
    keep = {r.index for r in _output_refs(outputs)}
    last = {}
    for i, ins in enumerate(code):
        for r in ins.reads():
            last[r.index] = i
    by_instruction = {}
    for slot, i in last.items():
        if slot not in keep:
            by_instruction.setdefault(i, []).append(slot)
    return by_instruction, set(last) | keep


def _operand(value, name, env):
    """Source text for a constant or slot operand."""
    if isinstance(value, Ref):
        return f"s{value.index}"
    if value is None or isinstance(value, bool) or type(value) is int:
        return repr(value)
    if type(value) is float and value == value and value not in (float("inf"), float("-inf")):
        return repr(value)  # repr round-trips a float exactly
    if type(value) is tuple and all(type(v) is int for v in value):
        return repr(value)
    env[name] = value
    return name


def _target_code(target):
    kind, index = target
    return f"args[{index}]" if kind == "arg" else f"caps[{index}]"


def _target_text(target):
    kind, index = target
    return f"argument {index}" if kind == "arg" else f"outside tensor {index}"


def _short(value):
    if isinstance(value, type):  # a dtype given as a scalar type (numpy.float64)
        return value.__name__
    is_array = hasattr(value, "shape") and hasattr(value, "dtype")
    text = repr(value) if not is_array else \
        f"array {_dtype_text(value.dtype)}{list(value.shape)}"
    return text if len(text) <= 40 else text[:37] + "..."


def _dtype_text(dtype):
    return str(dtype).rsplit(".", 1)[-1]


# ------------------------------------------------------------------ fingerprints
def fingerprint(code, captures, outputs):
    """What two recordings of one signature must share for either to be replayed: the
    same instructions on the same slots, and equal constants. A constant that differs
    between two calls was computed from data the recorder never saw (raw arrays)."""
    return (
        tuple(_fingerprint(ins) for ins in code),
        tuple(("path", c.root[:2], c.path) if c.path is not None
              else ("constant", _Constant(c)) for c in captures),
        _value_print(outputs, None),
    )


def difference(first, second):
    """Where two recordings of one signature part, in words: the first instruction or
    outside tensor that differs, and the line of the function that made it."""
    a, b = first.fingerprint, second.fingerprint
    if first.backward is not None and second.backward is not None:
        a, b = a[0], b[0]  # the forwards first; then the backwards
        if a == b:
            return difference(first.backward.program, second.backward.program)
    for i, (x, y) in enumerate(zip(a[0], b[0])):
        if x != y:
            old, new = first.code[i], second.code[i]
            where = getattr(new, "where", None)
            return (f"instruction {i} was `{old.show()}` and is now `{new.show()}`"
                    + (f", at {where}" if where else ""))
    if len(a[0]) != len(b[0]):
        return f"{len(a[0])} instructions, then {len(b[0])}"
    for k, (x, y) in enumerate(zip(a[1], b[1])):
        if x != y:
            where = second.captures[k].where
            return (f"outside tensor {k} ({second.captures[k].describe()}) differs"
                    + (f", first read at {where}" if where else ""))
    if len(a[1]) != len(b[1]):
        return f"{len(a[1])} outside tensors, then {len(b[1])}"
    return "the returned values differ"


class _Constant:
    """An outside tensor no path reaches, in a fingerprint: two recordings agree on it
    if it is the same tensor (read afresh at every replay, as a parameter is, whatever
    its values did in between) or a tensor of equal values (a constant the call made)."""

    __slots__ = ("tensor", "values")

    def __init__(self, capture):
        self.tensor = capture.tensor
        self.values = _value_print(capture.tensor.array, capture.backend)

    def __eq__(self, other):
        return isinstance(other, _Constant) and (
            self.tensor is other.tensor or self.values == other.values)

    __hash__ = None


def _fingerprint(ins):
    if isinstance(ins, Apply):
        return ("apply", ins.op.name, ins.out.index,
                tuple(_value_print(a, ins.backend) for a in ins.operands),
                tuple((k, _value_print(v, ins.backend)) for k, v in ins.params.items()))
    if isinstance(ins, Call):
        return ("call", ins.label, ins.out.index, tuple(_value_print(a, None) for a in ins.operands))
    if isinstance(ins, Check):
        return ("check", ins.label, tuple(_value_print(a, ins.backend) for a in ins.operands))
    if isinstance(ins, Effect):
        return ("effect", ins.label, id(ins.fn.args[0]) if getattr(ins.fn, "args", None) else 0)
    if isinstance(ins, Store):
        return ("store", id(ins.module), ins.name, _value_print(ins.value, ins.backend))
    if isinstance(ins, Accumulate):
        return ("accumulate", ins.target, _value_print(ins.grad, ins.backend), ins.out.index)
    return (type(ins).__name__, getattr(ins, "position", None), getattr(ins, "capture", None),
            getattr(ins, "target", None), None if ins.out is None else ins.out.index)


def _value_print(value, backend):
    import hashlib

    from ..backends import GatherSpec, backend_of
    from ..tensor import Tensor

    if isinstance(value, Ref):
        return ("slot", value.index)
    if isinstance(value, Dynamic):
        return ("dynamic", value.label, tuple(r.index for r in value.refs))
    if isinstance(value, Tensor):
        return _value_print(value.array, value.backend)
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_value_print(v, backend) for v in value))
    if isinstance(value, GatherSpec):
        return ("spec", value.kind, value.axis, _value_print(value.index, backend))
    if hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, type):
        try:
            owner = backend if backend is not None and backend.owns(value) else backend_of(value)
            host = owner.to_numpy(value)
        except Exception:  # noqa: BLE001  (an array no backend knows: compare by identity)
            return ("array", id(value))
        return ("array", tuple(host.shape), str(host.dtype), hashlib.sha1(host.tobytes()).hexdigest())
    if isinstance(value, (int, float, bool, str, type(None))):
        return (type(value).__name__, value)
    if type(value).__repr__ is object.__repr__:
        return ("object", type(value).__name__)
    return ("object", repr(value))
