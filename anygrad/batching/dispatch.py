"""The interpreter the engine hands ops and backward passes to while a vmap runs.

`apply` takes an op call that meets batched tensors: it unwraps the innermost level's
tensors and calls the op's batching rule on them. `backward` takes a backward pass
whose outputs, cotangents or inputs are batched. Two cases:

- the output is batched (a loss per example): its graph was recorded on the
  underlying tensors, batch in front, and no example reaches another's; so the plain
  backward of the underlying tensors, with the cotangent spread over the batch, gives
  each example's gradient in its own row. `ag.grad` inside vmap makes its variables
  batched (`lift`), even those passed unbatched, so they get a row per example too.
- the output is not batched but the cotangents are (a Jacobian's rows as one vmap of
  pullbacks): the backward rules run on tensors, as when recording a gradient, so
  that each rule meets the batched cotangent and goes through the batching rules.
"""
from __future__ import annotations

from .. import engine
from ..modes import _grad_enabled
from . import rules
from .tensor import BatchedTensor, active_levels, size_of

_current = []  # the level whose rule is running, innermost last


def current_level():
    return _current[-1]


def apply(op, args, params):
    level = 0
    for a in args:
        if type(a) is BatchedTensor and a._level > level:
            level = a._level
    if params:  # an index array batched by vmap travels in a gather's spec
        spec = params.get("spec")
        index = getattr(spec, "index", None)
        for k in index if type(index) is tuple else (index,):  # a getitem key's parts
            if type(k) is BatchedTensor and k._level > level:
                level = k._level
    if not level:
        return NotImplemented
    kind = op.batch
    rule = rules.RULES.get(kind) if isinstance(kind, str) else kind
    if rule is None:
        _unsupported(op, args)
    size = size_of(level)
    values, batched = [], []
    for a in args:
        if type(a) is BatchedTensor and a._level == level:
            values.append(a._value)
            batched.append("uniform" if a._uniform else True)
        else:
            values.append(a)
            batched.append(False)
    _current.append(level)
    try:
        out = BatchedTensor(rule(op, values, batched, params, size), level)
    finally:
        _current.pop()
    if kind == "identity" and batched[0] == "uniform":
        out._uniform = True
    return out


def _unsupported(op, args):
    shapes = ", ".join(f"{a.dtype}{list(a.shape)}" for a in args if hasattr(a, "shape"))
    why = rules.UNSUPPORTED.get(op.name)
    raise NotImplementedError(
        f"vmap: {op.name} has no batching rule (inputs per example: {shapes})"
        + (f": {why}" if why else "") + "; call it outside ag.vmap, or loop over the examples"
    )


# ----------------------------------------------------------------- backward
def backward(roots, root_grads, retain_graph, create_graph, inputs):
    found = [t for t in (*roots, *root_grads, *(inputs or ())) if type(t) is BatchedTensor]
    if not found:
        return NotImplemented
    level = max(t._level for t in found)
    if inputs is None:
        raise RuntimeError(
            "vmap: backward() on a batched tensor would add every example's gradient into "
            ".grad; inside ag.vmap take gradients with ag.grad, ag.vjp or ag.gradients"
        )
    size = size_of(level)
    spread = any(type(r) is BatchedTensor and r._level == level for r in roots)
    if not spread:  # batched cotangents for an unbatched output: rules on tensors
        return _batched_walk(roots, root_grads, retain_graph, create_graph, inputs, level)
    from .. import ops

    new_roots, new_grads = [], []
    for r, g in zip(roots, root_grads):
        if not (type(r) is BatchedTensor and r._level == level):
            if type(g) is BatchedTensor and g._level == level:
                raise NotImplementedError(
                    "vmap: a backward pass from outputs batched and unbatched at once, with "
                    "batched cotangents for the unbatched ones, is not supported"
                )
            new_roots.append(r)
            new_grads.append(g)
            continue
        new_roots.append(r._value)
        if type(g) is BatchedTensor and g._level == level:
            new_grads.append(g._value)
        else:
            g = g if isinstance(g, engine.Tensor) else engine._wrap(g, r.backend)
            new_grads.append(ops.broadcast_to(g, (size,) + tuple(g.shape)))
    new_inputs, wrap = [], []
    for i, v in enumerate(inputs):
        if type(v) is BatchedTensor and v._level == level:
            new_inputs.append(v._value)
            wrap.append(True)
        else:
            raise RuntimeError(
                f"vmap: input {i} (shape {tuple(v.shape)}) of this gradient is not batched "
                "while the output is, so its gradient would be summed over the examples; "
                "differentiate with ag.grad inside ag.vmap (its variables get a row per "
                "example), or pass the tensor through vmap's in_axes"
            )
    results = engine.backward(new_roots, new_grads, retain_graph, create_graph, new_inputs)
    return [None if g is None else BatchedTensor(g, level) if w else g
            for g, w in zip(results, wrap)]


def _batched_walk(roots, root_grads, retain_graph, create_graph, inputs, level):
    for r in roots:
        if type(r) is BatchedTensor:
            raise NotImplementedError(
                "vmap: batched cotangents for outputs batched by an outer vmap are not "
                "supported; nest the vmaps the other way round"
            )
    grads = [g if isinstance(g, engine.Tensor) else engine._wrap(g, r.backend)
             for g, r in zip(root_grads, roots)]
    inputs = [v._value if type(v) is BatchedTensor and v._level == level else v for v in inputs]
    token = _grad_enabled.set(bool(create_graph))
    try:  # rules on tensors (create_graph's path), recording only if asked to
        return engine._backward(roots, grads, retain_graph, True, inputs)
    finally:
        _grad_enabled.reset(token)


def lift(t):
    """`t` batched at every vmap level in progress, as a variable of `ag.grad` inside
    vmap: each example then gets its own gradient row."""
    from .rules import _lift

    for level in active_levels():
        t = _lift_at(t, level, size_of(level), _lift)
    return t


def _lift_at(t, level, size, broadcast):
    if type(t) is BatchedTensor:
        if t._level == level:
            return t
        if t._level > level:
            return BatchedTensor(_lift_at(t._value, level, size, broadcast), t._level)
    lifted = BatchedTensor(broadcast(t, size), level)
    lifted._uniform = True
    return lifted
