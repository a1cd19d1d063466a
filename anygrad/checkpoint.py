"""Recomputation: keep a function's inputs, drop its activations, recompute them in backward.

    y = ag.checkpoint(block, x)          # block's intermediates are freed after the call
    y = ag.checkpoint_sequential(model, 4, x)

The function runs once with the graph recorded, as it would without checkpointing: the
graph is real, so parameters the function captures (a module's weights) get their
gradients, hooks and gradients of gradients work, and the result is bitwise what the
plain run gives. What changes is that the arrays of the graph's interior (the outputs of
the ops the function recorded, except its own outputs) are released once it returns.
The first time backward reaches one of the function's outputs, the function is run again
on the same inputs, with every backend's random stream rewound to where the first run
started (so dropout draws the same masks), and its arrays are put back into the kept
graph before any of its gradient rules runs. The random streams are then restored, so
backward leaves them as it found them.

Constants the function makes that carry no graph (a dropout mask, zeros) are kept, since
nothing tells them apart from the tensors it captures from outside. The recomputed run
must record the same ops in the same order as the first (no branching on random draws
or on values that change between the two runs); a difference is reported, not ignored.
Under ag.compile, a step whose backward recomputes is not replayed: the recorder sees the
recomputation hook and runs the step eagerly (or refuses it in strict mode).
"""
from __future__ import annotations

from .backends.registry import rng_states, set_rng_states
from .engine import tick_inplace
from .modes import enable_grad, is_grad_enabled
from .tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]


def checkpoint(function, *args, use_reentrant=None, preserve_rng_state=True, **kwargs):
    """`function(*args, **kwargs)`, with its intermediate arrays recomputed during backward
    rather than kept (PyTorch's non-reentrant checkpoint). Outputs may be a tensor or any
    nesting of tuples, lists and dicts of tensors."""
    if use_reentrant:
        raise ValueError("checkpoint: only use_reentrant=False (recomputation into the kept "
                         "graph) is supported")
    if not is_grad_enabled():
        return function(*args, **kwargs)
    saved = _snapshot() if preserve_rng_state else None
    start = tick_inplace()  # every node recorded from here on has a clock >= start
    outputs = function(*args, **kwargs)
    results = list(_tensors(outputs))
    region = _region(results, start)
    if not region:
        return outputs
    kept = {id(t) for t in results}
    for node in region:
        if not _is_output(node, results):
            node.out = None
        for t in node.inputs:
            if isinstance(t, Tensor) and t.node is not None and t.node.clock >= start \
                    and id(t) not in kept:
                t.array = None
    replay = _Replay(function, args, kwargs, saved, region)
    for t in results:
        if t.node is not None and t.node.clock >= start:
            t.register_hook(replay.hook)
    return outputs


def checkpoint_sequential(functions, segments, input, use_reentrant=None,
                          preserve_rng_state=True):
    """Run `functions` (a Sequential or a list of callables) in order on `input`, split
    into `segments` runs of about equal length; every run but the last is checkpointed."""
    functions = list(functions.children()) if hasattr(functions, "children") else list(functions)
    if not functions:
        return input
    if not 1 <= segments <= len(functions):
        raise ValueError(f"checkpoint_sequential: segments must be between 1 and the number "
                         f"of functions ({len(functions)}), got {segments}")
    size = -(-len(functions) // segments)
    chunks = [functions[i:i + size] for i in range(0, len(functions), size)]

    def run(chunk):
        def apply(x):
            for f in chunk:
                x = f(x)
            return x
        return apply

    for chunk in chunks[:-1]:
        input = checkpoint(run(chunk), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve_rng_state)
    return run(chunks[-1])(input)


class _Replay:
    """The second run of a checkpointed function, done once, on the first output's hook."""

    def __init__(self, function, args, kwargs, saved, region):
        self.function = function
        self.args = args
        self.kwargs = kwargs
        self.saved = saved
        self.region = region

    def hook(self, grad):
        if self.region is None:  # already restored by another output's hook
            return None
        now = _snapshot() if self.saved is not None else None
        try:
            if self.saved is not None:
                set_rng_states(self.saved)
            with enable_grad():
                start = tick_inplace()
                outputs = self.function(*self.args, **self.kwargs)
        finally:
            if now is not None:
                set_rng_states(now)
        again = _region(list(_tensors(outputs)), start)
        _restore(self.region, again, self.function)
        self.region = self.function = self.args = self.kwargs = None
        return None


def _restore(region, again, function):
    """Put the arrays of the recomputed graph `again` into the kept graph `region`."""
    name = getattr(function, "__qualname__", type(function).__name__)
    if len(again) != len(region):
        raise RuntimeError(
            f"checkpoint: recomputing {name} recorded {len(again)} ops where the first run "
            f"recorded {len(region)}; the function must record the same ops on every call")
    for old, new in zip(region, again):
        if old.op is not new.op or old.inputs is None or len(old.inputs) != len(new.inputs):
            found = "a freed graph" if old.inputs is None else new.op.name
            raise RuntimeError(
                f"checkpoint: recomputing {name} recorded {found} where the first run "
                f"recorded {old.op.name}; the function must record the same ops on every call")
        if old.out is None:
            old.out = new.out
        for t, fresh in zip(old.inputs, new.inputs):
            if isinstance(t, Tensor) and t.array is None:
                t.array = fresh.array


def _snapshot():
    try:
        return rng_states()
    except NotImplementedError as exc:
        raise RuntimeError(f"checkpoint: {exc}; pass preserve_rng_state=False if the function "
                           "draws no random numbers") from None


def _is_output(node, results):
    return any(t.node is node for t in results)


def _region(results, start):
    """The nodes recorded since clock `start` that the outputs reach, in a fixed order
    (depth first, inputs in order), so two runs of one function list them alike."""
    order = []
    seen = set()
    stack = [t.node for t in reversed(results) if t.node is not None]
    while stack:
        node = stack.pop()
        if node in seen or node.clock < start or node.inputs is None:
            continue
        seen.add(node)
        order.append(node)
        for t in reversed(node.inputs):
            if isinstance(t, Tensor) and t.node is not None and t.node not in seen:
                stack.append(t.node)
    return order


def _tensors(obj):
    """The tensors in a nest of tuples, lists and dicts, in order."""
    if isinstance(obj, Tensor):
        yield obj
    elif isinstance(obj, (tuple, list)):
        for item in obj:
            yield from _tensors(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from _tensors(item)
