"""Operations a recording computed twice on the same values, computed once.

Backward rules recompute what the forward already had (a mask of labels to ignore, the
transpose of a weight); a flat program sees both as equal operations on equal slots.
`dedupe` turns the later one into an alias of the earlier, where that cannot change a
result: never across an instruction that may write arrays in place, never for a value
that leaves the program.
"""
from __future__ import annotations

from .program import (
    Accumulate, Apply, Call, Check, Dynamic, Instruction, LoadArg, LoadCapture, LoadCotangent,
    LoadGrad, LoadSaved, Ref, Store,
)

__all__ = ["Alias", "dedupe"]


class Alias(Instruction):
    """out = the value of an earlier slot: an operation computed twice on the same
    operands (see `dedupe`)."""

    pure = True
    array_only = True

    def __init__(self, source, out, shown):
        self.source, self.out, self.shown = source, out, shown

    def reads(self):
        return [self.source]

    def show(self):
        return f"{self.out!r} = {self.source!r}  (again {self.shown})"

    def emit(self, name):
        return f"s{self.out.index} = s{self.source.index}"


def dedupe(code, escaping=()):
    """`code` with each operation that repeats an earlier one (the same op on the same
    slots and constants, as backward rules recompute masks the forward made) turned
    into an alias of it. Never across an instruction that may write arrays in place (an
    optimizer step), after which equal operands may hold new values; never where an
    in-place update may write a shared array; never to or from values that leave the
    program (`escaping` slots: returned, stored in a module, or made a .grad), which
    eager execution gives arrays of their own and which others may write."""
    if any(isinstance(ins, Call) and ins.label.endswith("in place") for ins in code):
        return code
    escaping = set(escaping)
    for ins in code:
        if isinstance(ins, (Accumulate, Store)):
            escaping.update(r.index for r in ins.reads())
    seen = {}
    same = {}  # slot -> the earlier slot it aliases
    out = []
    for ins in code:
        if isinstance(ins, Apply):
            key = None if ins.out.index in escaping else _apply_key(ins, same)
            if key is not None:
                earlier = seen.setdefault(key, ins.out)
                if earlier is not ins.out:
                    out.append(Alias(earlier, ins.out, ins.op.name))
                    same[ins.out.index] = earlier.index
                    continue
        elif _may_write(ins):
            seen.clear()
        out.append(ins)
    return out


def _may_write(ins):
    """Whether an instruction may write arrays in place: an effect (an optimizer step),
    a gradient accumulation, a buffer store, an in-place update."""
    if isinstance(ins, Call):
        return ins.label.endswith("in place")
    return not isinstance(ins, (LoadArg, LoadCapture, LoadSaved, LoadCotangent, LoadGrad,
                                Check, Alias))


def _apply_key(ins, same):
    parts = [id(ins.op), id(ins.backend)]
    for a in ins.operands:
        part = _constant_key(a) if not isinstance(a, Ref) else ("slot", same.get(a.index, a.index))
        if part is None:
            return None
        parts.append(part)
    for k, v in ins.params.items():
        part = _constant_key(v)
        if part is None:
            return None
        parts.append((k, part))
    return tuple(parts)


def _constant_key(value):
    """A hashable stand-in equal only for operands that certainly give equal results,
    or None where that cannot be told cheaply (such an instruction is kept)."""
    if isinstance(value, Ref):
        return ("slot", value.index)
    if value is None or type(value) in (bool, int, str):
        return (type(value).__name__, value)
    if type(value) is float:
        return ("float", repr(value))  # tells 0.0 from -0.0
    if type(value) is tuple and all(type(v) in (int, bool) for v in value):
        return ("tuple", value)
    if isinstance(value, Dynamic):
        return None
    return ("object", id(value))
