"""Fusing chains of elementwise instructions of a recorded program into one function.

On a GPU an elementwise op on a small array costs a kernel launch and a round trip
through memory for its result, whatever it computes: a chain like the backward of tanh
(`g * (1 - y * y)`) is three launches and two temporaries. `plan` groups such chains —
elementwise instructions whose intermediate values nothing else reads — into one
`Fused` instruction that calls a generated function of the group's inputs. A backend
with an elementwise kernel compiler (`backend.fuse`: `cupy.fuse` on cupy) turns that
function into one kernel; everywhere else it runs as the plain function, the same array
operations in the same order, so a grouped replay equals the ungrouped one bitwise.

A group never swallows a value that is used twice, returned, stored, or accumulated into
a gradient (only its last value leaves it), and never spans an effect (an optimizer step
writes arrays in place, so work moved past it would read the new values).

The first call of a compiled kernel is checked against the plain function (dtype, shape
and values); a kernel that disagrees or fails is dropped for the plain function, with a
warning. Fusion is written from cupy's documentation and has not yet run on a GPU.
"""
from __future__ import annotations

import warnings

from .program import Apply, Dynamic, Effect, Instruction

__all__ = ["ELEMENTWISE", "Fused", "fuse_program", "plan"]

# Ops whose forward computes each output element from the same element of its
# (broadcast) inputs: nothing is reduced, gathered or reshaped.
ELEMENTWISE = frozenset({
    "abs", "acos", "acosh", "add", "asin", "asinh", "atan", "atan2", "atanh", "copysign",
    "cos", "cosh", "divide", "exp", "expm1", "hypot", "log", "log10", "log1p", "log2",
    "logaddexp", "maximum", "minimum", "multiply", "negative", "positive", "pow", "relu",
    "remainder", "sigmoid", "sin", "sinh", "sqrt", "square", "subtract", "tan", "tanh",
    "where", "clip", "astype",
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
    "logical_not", "logical_and", "logical_or", "logical_xor",
    "isnan", "isfinite", "isinf", "signbit", "sign", "ceil", "floor", "round", "trunc",
})


def fuse_program(program):
    """Replace `program`'s elementwise chains by fused instructions and rebuild its
    replay. Returns the number of groups made."""
    code = plan(program.code, program.outputs)
    groups = sum(isinstance(ins, Fused) for ins in code)
    if groups:
        program.code = code
        program._run = program._build()
    return groups


def plan(code, outputs):
    """`code` with each group of two or more elementwise instructions replaced by one
    `Fused` instruction, placed where the group's last instruction was."""
    from .program import _output_refs

    escaping = {r.index for r in _output_refs(outputs)}
    readers = {}  # slot -> indices of the instructions that read it
    for i, ins in enumerate(code):
        for ref in ins.reads():
            readers.setdefault(ref.index, set()).add(i)
    epoch, epochs = 0, []
    for ins in code:
        epoch += isinstance(ins, Effect)
        epochs.append(epoch)

    root = {}  # instruction index -> index of the last instruction of its group
    for i in reversed(range(len(code))):
        if not _fusable(code[i]):
            continue
        root[i] = i
        slot = code[i].out.index
        if slot in escaping or len(readers.get(slot, ())) != 1:
            continue
        (j,) = readers[slot]
        if j in root and epochs[j] == epochs[i] and code[j].backend is code[i].backend:
            root[i] = root[j]

    members = {}
    for i, r in sorted(root.items()):
        members.setdefault(r, []).append(i)
    planned = []
    for i, ins in enumerate(code):
        group = members.get(root.get(i), ())
        if len(group) < 2:
            planned.append(ins)
        elif i == group[-1]:
            planned.append(Fused([code[k] for k in group]))
    return planned


def _fusable(ins):
    return (isinstance(ins, Apply) and ins.op.name in ELEMENTWISE
            and not any(isinstance(v, Dynamic) for v in ins.params.values()))


class Fused(Instruction):
    """out = one function of the group's inputs, running its instructions in order."""

    pure = True

    def __init__(self, members):
        self.members = members
        self.out = members[-1].out
        self.backend = members[-1].backend
        made = {m.out.index for m in members}
        inputs = {}
        for m in members:
            for ref in m.reads():
                if ref.index not in made:
                    inputs.setdefault(ref.index, ref)
        self.inputs = list(inputs.values())
        self.function = _function(members, self.inputs)
        self.kernel = Kernel(self.function, self.backend, self.label())

    def label(self):
        return "fused[" + ", ".join(m.op.name for m in self.members) + "]"

    def reads(self):
        return list(self.inputs)

    def show(self):
        return f"{self.out!r} = {self.label()}({', '.join(map(repr, self.inputs))})"

    def emit(self, name):
        args = ", ".join(f"s{r.index}" for r in self.inputs)
        call = self.kernel if self.kernel.compiled is not None else self.function
        return f"s{self.out.index} = {name}_f({args})", {f"{name}_f": call}


def _function(members, inputs):
    """The group as one Python function of its input arrays, made of the lines the
    members would have been replayed as."""
    env = {}
    body = []
    for j, m in enumerate(members):
        line, extra = m.emit(f"m{j}")
        env.update(extra)
        body.append(line)
    params = ", ".join(f"s{r.index}" for r in inputs)
    source = (f"def fused({params}):\n" + "".join(f"    {line}\n" for line in body)
              + f"    return s{members[-1].out.index}\n")
    exec(compile(source, "<ag.compile fused group>", "exec"), env)
    function = env["fused"]
    function.source = source
    return function


class Kernel:
    """A group's function compiled by its backend into one kernel (None where the
    backend has no such compiler); its first call is checked against the function."""

    def __init__(self, function, backend, label):
        self.function = function
        self.backend = backend
        self.label = label
        compiler = getattr(backend, "fuse", None)
        self.compiled = None if compiler is None else compiler(function)
        self.checked = False

    def __call__(self, *arrays):
        if self.checked:
            return self.compiled(*arrays) if self.compiled is not None else self.function(*arrays)
        self.checked = True
        expected = self.function(*arrays)
        try:
            problem = disagreement(expected, self.compiled(*arrays), self.backend)
        except Exception as exc:  # noqa: BLE001  (a function the kernel compiler cannot trace)
            problem = f"it failed ({type(exc).__name__}: {exc})"
        if problem is not None:
            warnings.warn(f"ag.compile: the fused kernel for {self.label} on {self.backend.name} "
                          f"was dropped for the unfused operations, because {problem}",
                          RuntimeWarning, stacklevel=2)
            self.compiled = None
        return expected


def disagreement(expected, got, backend):
    """Why array `got` is not `expected` up to float rounding (None when it is): a
    fused kernel may contract a multiply and an add, so values may differ by an ulp."""
    xp = backend.xp
    if tuple(got.shape) != tuple(expected.shape) or got.dtype != expected.dtype:
        return (f"it gives {got.dtype}{list(got.shape)} where the operations give "
                f"{expected.dtype}{list(expected.shape)}")
    if xp.isdtype(expected.dtype, "real floating"):
        tolerance = 64 * xp.finfo(expected.dtype).eps
        close = ((got == expected) | (xp.isnan(got) & xp.isnan(expected))
                 | (xp.abs(got - expected) <= tolerance * (1 + xp.abs(expected))))
    else:
        close = got == expected
    return None if bool(xp.all(close)) else "its values differ from the operations'"
