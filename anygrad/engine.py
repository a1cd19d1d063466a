"""The reverse-mode engine: ops, the recorded graph, and the backward walk.

An `Op` computes its forward on raw backend arrays and states one vector-Jacobian
product (VJP) rule per input. Calling it on tensors records a `Node` when a gradient
is needed. `backward` walks the nodes from the output in dependency order, without
recursion, summing the gradients of every consumer before a node's rule runs.

VJP rules are written against a namespace argument `ns`. Without `create_graph`, `ns`
is the backend's own array namespace and the rules run on raw arrays: no Tensor is
made, no graph recorded. With `create_graph`, `ns` is anygrad's op namespace and the
same rules run on Tensors, so the gradient is itself a graph that can be
differentiated again.
"""
from __future__ import annotations

from .modes import _anomaly_mode, _grad_enabled, _recording

_EMPTY: dict = {}


class Node:
    """One application of an op: what backward needs, and nothing that points forward.

    A node holds its inputs strongly and its output's array (which rules such as
    exp' = exp reuse), never the output Tensor, so a graph is freed by reference
    counting alone once the user drops the output.
    """

    # `trace` (where the op was called) is set only under detect_anomaly.
    __slots__ = ("op", "inputs", "out", "params", "backend", "hooks", "retained", "trace",
                 "__weakref__")

    def __init__(self, op, inputs, out, params, backend):
        self.op = op
        self.inputs = inputs
        self.out = out
        self.params = params
        self.backend = backend
        self.hooks = None  # gradient hooks of the output tensor
        self.retained = None  # the output tensor, when it asked to retain its grad

    def __repr__(self):
        return f"<Node {self.op.name}>"


class Op:
    """A differentiable operation: a forward on raw arrays and one VJP rule per input.

    `forward(xp, *arrays, **params)` returns the output array; each rule
    `vjp(ns, g, ans, *inputs, **params)` returns the gradient for its input given the
    output gradient `g` and output `ans`. A rule may return a gradient with broadcast
    dimensions; the engine reduces it to the input's shape.
    """

    __slots__ = ("name", "forward", "vjps", "variadic")

    def __init__(self, name, forward, *vjps):
        self.name = name
        self.forward = forward
        self.vjps = vjps
        self.variadic = False

    def __repr__(self):
        return f"Op({self.name})"

    def __call__(self, *args, **params):
        return apply(self, args, params)


class VariadicOp(Op):
    """An op over a sequence of tensors (concat, stack): one rule
    `vjp(ns, g, ans, index, inputs, **params)`, told which input it differentiates."""

    __slots__ = ()

    def __init__(self, name, forward, vjp):
        super().__init__(name, forward, vjp)
        self.variadic = True


def apply(op, args, params=_EMPTY):
    """Run `op` on tensors (Python scalars and arrays are constants) and record it."""
    backend = None
    needs_grad = False
    several = False  # two or more tensors meet: their devices must agree
    arrays = []
    for a in args:
        if isinstance(a, Tensor):
            if backend is None:
                backend = a.backend
            else:
                several = True
                if a.backend is not backend:
                    _mixed_backends(op, backend, a.backend)
            if a.requires_grad:
                needs_grad = True
            arrays.append(a.data)
        else:
            arrays.append(a)
    if backend is None:
        args, backend = _constants(args)
        arrays = [a.data if isinstance(a, Tensor) else a for a in args]
    elif several and backend.multi_device:
        _check_devices(op, backend, args)
    out = op.forward(backend.xp, *arrays, **params)
    result = Tensor.__new__(Tensor)
    result.data = out
    result.backend = backend
    result.grad = None
    if needs_grad and _grad_enabled.get():
        result.requires_grad = True
        result.node = Node(op, args, out, params, backend)
    else:
        result.requires_grad = False
        result.node = None
    anomaly = _anomaly_mode.get()
    if anomaly is not None:
        anomaly.on_forward(op, result)
    recorder = _recording.get()
    if recorder is not None:
        recorder.on_apply(op, args, params, result)
    return result


def _constants(args):
    """No argument is a Tensor: wrap arrays as constants so the op knows its backend."""
    from .creation import as_tensor

    wrapped = [as_tensor(a) if not isinstance(a, (int, float, bool)) else a for a in args]
    backend = next((a.backend for a in wrapped if isinstance(a, Tensor)), None)
    if backend is None:
        wrapped[0] = as_tensor(wrapped[0])
        backend = wrapped[0].backend
    return wrapped, backend


def _mixed_backends(op, first, second):
    raise TypeError(
        f"{op.name}: inputs live on different backends ({first.name!r} and {second.name!r}); "
        f"move one with .to({first.name!r}) or .to({second.name!r}) first"
    )


def _check_devices(op, backend, args):
    # Comparing the arrays' device attributes is cheap; naming them is done only on failure.
    tensors = [a for a in args if isinstance(a, Tensor)]
    first = getattr(tensors[0].data, "device", None)
    if all(getattr(t.data, "device", None) == first for t in tensors[1:]):
        return
    devices = sorted({str(backend.device(t.data)) for t in tensors})
    raise TypeError(
        f"{op.name}: inputs live on different {backend.name} devices ({', '.join(devices)}); "
        "move them to one device with .to(device=...)"
    )


# ------------------------------------------------------------------ unbroadcasting
def unbroadcast(ns, g, shape):
    """Sum `g` down to `shape`: the one place broadcasting is undone for every op."""
    extra = len(g.shape) - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and g.shape[i + extra] != 1
    )
    if axes:
        g = ns.sum(g, axis=axes, keepdims=False)
    if tuple(g.shape) != tuple(shape):
        g = ns.reshape(g, tuple(shape))
    return g


# ------------------------------------------------------------------ backward
def backward(roots, root_grads, retain_graph=False, create_graph=False, inputs=None):
    """Propagate `root_grads` from `roots` back through their graphs.

    With `inputs=None`, leaf gradients are added to `.grad`. With `inputs` given, the
    gradients of exactly those tensors are returned as a list (None where unreached)
    and every `.grad` is left alone. Gradient ops are recorded iff `create_graph`,
    whatever the surrounding grad mode.
    """
    token = _grad_enabled.set(bool(create_graph))
    try:
        recorder = _recording.get()
        if recorder is not None:  # ag.compile records the rules as ops: see its recorder
            return recorder.on_backward(_backward, list(roots), root_grads, retain_graph,
                                        create_graph, inputs)
        return _backward(list(roots), root_grads, retain_graph, create_graph, inputs)
    finally:
        _grad_enabled.reset(token)


def _backward(roots, root_grads, retain_graph, create_graph, inputs):
    from . import ops as graph_ops

    for root in roots:
        if not root.requires_grad:
            raise RuntimeError(
                "backward: the tensor does not require grad and has no graph; make a leaf "
                "with requires_grad=True, and check it was not computed under no_grad()"
            )
    wanted_nodes = {}  # node -> index in `inputs`, for non-leaf inputs
    wanted_leaves = {}  # id(leaf) -> index in `inputs`
    for i, t in enumerate(inputs or ()):
        if t.node is None:
            wanted_leaves[id(t)] = i
        else:
            wanted_nodes[t.node] = i
    results = None if inputs is None else [None] * len(inputs)
    anomaly = _anomaly_mode.get()
    pending = {}  # node -> summed gradient of its output
    leaves = {}  # id(leaf) -> [leaf, summed gradient]; hooks and storage run once, at the end
    counts = _dependency_counts([r.node for r in roots if r.node is not None])
    for root in roots:  # the roots count as consumers too, so none runs early
        if root.node is not None:
            counts[root.node] = counts.get(root.node, 0) + 1
    ready = []

    def deliver(t, g):
        """Add gradient `g` of tensor `t` to what its node or leaf has gathered."""
        child = t.node
        if child is None:
            entry = leaves.get(id(t))
            if entry is None:
                leaves[id(t)] = [t, g]
            else:
                entry[1] = entry[1] + g
            return
        if child in pending:
            pending[child] = pending[child] + g
        else:
            pending[child] = g
        counts[child] -= 1
        if counts[child] == 0:
            ready.append(child)

    for root, g in zip(roots, root_grads):
        if create_graph:
            g = g if isinstance(g, Tensor) else _wrap(g, root.backend)
        else:
            g = g.data if isinstance(g, Tensor) else g
        deliver(root, g)

    while ready:
        node = ready.pop()
        g = pending.pop(node)
        args = node.inputs
        if args is None:
            raise RuntimeError(
                f"backward through the graph a second time: the graph of {node.op.name} "
                "was freed by the first backward(); pass retain_graph=True to keep it"
            )
        if anomaly is not None:
            anomaly.on_rule(node)  # ops run from here on belong to this node's backward
        if node.hooks is not None or node.retained is not None:
            g = _run_hooks(node, g, create_graph)
        if wanted_nodes and node in wanted_nodes:
            results[wanted_nodes[node]] = g if create_graph else _wrap(g, node.backend)
        op = node.op
        params = node.params
        if create_graph:
            ns = graph_ops
            values = args
            ans = _wrap(node.out, node.backend, True)
            ans.node = node  # the same graph vertex as the original output
        else:
            ns = node.backend.ops
            values = [t.data if isinstance(t, Tensor) else t for t in args]
            ans = node.out
        for i, t in enumerate(args):
            if not (isinstance(t, Tensor) and t.requires_grad):
                continue
            if op.variadic:
                gi = op.vjps[0](ns, g, ans, i, values, **params)
            else:
                gi = op.vjps[i](ns, g, ans, *values, **params)
            if anomaly is not None:
                anomaly.on_backward(node, i, gi)
            if gi.shape != t.data.shape:
                gi = unbroadcast(ns, gi, tuple(t.data.shape))
            # deliver(), inlined for the common case of a non-leaf input
            child = t.node
            if child is None:
                deliver(t, gi)
                continue
            if child in pending:
                pending[child] = pending[child] + gi
            else:
                pending[child] = gi
            counts[child] -= 1
            if counts[child] == 0:
                ready.append(child)
        if not retain_graph:
            node.inputs = None
            node.out = None
    if anomaly is not None:
        anomaly.on_rule(None)

    for leaf, g in leaves.values():
        g = g if create_graph else _wrap(g, leaf.backend)
        hooks = getattr(leaf, "_hooks", None)
        if hooks:
            g = _call_hooks(hooks, g)
        if inputs is None:
            _accumulate_leaf(leaf, g, create_graph)
        elif id(leaf) in wanted_leaves:
            results[wanted_leaves[id(leaf)]] = g
    return results


def _dependency_counts(starts):
    """For each node reachable from `starts`, how many graph edges lead into it."""
    counts = {}
    seen = set(starts)
    stack = list(starts)
    while stack:
        node = stack.pop()
        if node.inputs is None:
            continue
        for t in node.inputs:
            if not isinstance(t, Tensor) or t.node is None:
                continue
            child = t.node
            counts[child] = counts.get(child, 0) + 1
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return counts


def _wrap(array, backend, requires_grad=False):
    t = Tensor.__new__(Tensor)
    t.data = array
    t.backend = backend
    t.grad = None
    t.requires_grad = requires_grad
    t.node = None
    return t


def _accumulate_leaf(leaf, g, create_graph):
    if leaf.grad is None:
        leaf.grad = g
    elif create_graph:
        leaf.grad = leaf.grad + g
    else:
        leaf.grad = _wrap(leaf.grad.data + g.data, leaf.backend)


def _call_hooks(hooks, g):
    for hook in list(hooks.values()):
        replaced = hook(g)
        if replaced is None:
            continue
        if not isinstance(replaced, Tensor) or replaced.shape != g.shape:
            shape = getattr(replaced, "shape", type(replaced).__name__)
            raise ValueError(
                f"gradient hook {getattr(hook, '__qualname__', hook)!r} returned {shape}, "
                f"but the gradient it replaces is a tensor of shape {g.shape}"
            )
        g = replaced
    return g


def _run_hooks(node, g, create_graph):
    """Hooks and retain_grad of a non-leaf tensor see its fully summed gradient."""
    g = g if create_graph else _wrap(g, node.backend)
    if node.hooks:
        g = _call_hooks(node.hooks, g)
    if node.retained is not None:
        owner = node.retained()
        if owner is not None:
            kept = g if create_graph else _wrap(g.data, node.backend)
            owner.grad = kept if owner.grad is None else owner.grad + kept
    return g if create_graph else g.data


from .tensor import Tensor  # noqa: E402  (Tensor's methods call back into this module)
