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

Complex tensors. For a real loss L of a complex tensor z, `z.grad` is PyTorch's
dL/dRe(z) + i dL/dIm(z) (twice the conjugate Wirtinger derivative dL/d conj(z)); a real
tensor's gradient is real. Inside the walk, though, gradients of complex tensors are
the conjugates of those, which is JAX's convention: a rule is then the transpose of
the op's complex-linear Jacobian, g * f'(z) for a holomorphic f with no conjugate
anywhere, so the rule of every holomorphic op (exp, multiply, fft, ...) is its real
rule, unchanged. The engine converts at the edges, where a gradient enters (root
cotangents) or leaves the walk (.grad, hooks, retain_grad, requested inputs): it
conjugates a complex one, and a real tensor whose gradient came back complex
(promotion to complex on the way) takes its real part. Those are the only places that
look at dtypes, so real graphs pay nothing for complex support. An op whose rules hold
for complex inputs says so (`complex=True`); recording any other op on a complex input
is refused at forward time, rather than giving a wrong gradient.
"""
from __future__ import annotations

from .modes import _anomaly_mode, _grad_enabled, _observed, _recording

_EMPTY: dict = {}


class Node:
    """One application of an op: what backward needs, and nothing that points forward.

    A node holds its inputs strongly and its output's array (which rules such as
    exp' = exp reuse), never the output Tensor, so a graph is freed by reference
    counting alone once the user drops the output. `clock` is the clock's tick when
    the node was recorded: an input changed in place after that makes backward refuse.
    """

    # `trace` (where the op was called) is set only under detect_anomaly.
    __slots__ = ("op", "inputs", "out", "params", "backend", "hooks", "retained", "trace",
                 "clock", "__weakref__")

    def __init__(self, op, inputs, out, params, backend):
        self.op = op
        self.inputs = inputs
        self.out = out
        self.params = params
        self.backend = backend
        self.hooks = None  # gradient hooks of the output tensor
        self.retained = None  # the output tensor, when it asked to retain its grad
        _inplace_clock[0] += 1
        self.clock = _inplace_clock[0]

    def __repr__(self):
        return f"<Node {self.op.name}>"


# Ticks once per in-place update, whose tick the tensor keeps (`_version`), and once per
# recorded node, so that the nodes recorded since a tensor took its value are known
# exactly: an in-place update searches only those (`anygrad.inplace._reroute`).
_inplace_clock = [0]
# A node's clock once its own output was changed in place: below every tick, so that
# backward through it always refuses.
OUTPUT_CHANGED = -1


def tick_inplace():
    """Advance the in-place clock and return the new tick (stamped on the tensor)."""
    _inplace_clock[0] += 1
    return _inplace_clock[0]


class _OwnDoc:
    """`__doc__` for Op and its subclasses: the class's own text on the class, and on an
    op the text of its `doc` slot (what this op computes), else the class's. A slot costs
    nothing when the op is called; `help` and `inspect.getdoc` read `__doc__`."""

    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text

    def __get__(self, instance, owner=None):
        if instance is None:
            return self.text
        return getattr(instance, "doc", None) or self.text


class Op:
    """A differentiable operation: a forward on raw arrays and one VJP rule per input.

    `forward(xp, *arrays, **params)` returns the output array; each rule
    `vjp(ns, g, ans, *inputs, **params)` returns the gradient for its input given the
    output gradient `g` and output `ans`. A rule may return a gradient with broadcast
    dimensions; the engine reduces it to the input's shape. An op with no rules has no
    derivative (comparisons, argmax): its result never records a graph.

    `promotes` is the index of the first argument that takes part in dtype promotion
    (elementwise arithmetic, comparisons; 1 for `where`, whose condition does not), or
    None. `floating` ops (true division, exp, mean, ...) take integer and boolean
    tensors as the default float dtype. `complex` says the rules hold for complex
    inputs, written in the engine's convention (the transposed Jacobian: see the
    module's docstring); without it, recording the op on a complex input raises.
    `batch` says how `ag.vmap` maps the op over a batch axis: a kind named in
    `anygrad.batching.rules` ("elementwise", "reduce", ...) or a rule of its own.
    `doc` is the op's own docstring, shown as its `__doc__`.
    """

    __slots__ = ("name", "forward", "vjps", "variadic", "promotes", "floating", "passes",
                 "complex", "_signature", "batch", "doc")

    def __init__(self, name, forward, *vjps, promotes=None, floating=False, passes=(),
                 complex=False, batch=None, doc=None):
        self.name = name
        self.doc = doc
        self.forward = forward
        self.vjps = vjps
        self.variadic = False
        self.promotes = promotes
        self.floating = floating
        # Inputs whose rule may hand back g itself or a view of it (add, reshape, ...).
        self.passes = passes
        self.complex = complex
        self.batch = batch

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.__doc__ = _OwnDoc(cls.__dict__.get("__doc__"))

    def __repr__(self):
        return f"Op({self.name})"

    @property
    def __signature__(self):
        """The call's signature, for `inspect.signature` (help, IDEs, the Array API's
        conformance checks): the forward's, less its leading namespace argument."""
        try:
            return self._signature
        except AttributeError:
            import inspect

            signature = inspect.signature(self.forward)
            self._signature = signature.replace(
                parameters=list(signature.parameters.values())[1:])
            return self._signature

    def __call__(self, *args, **params):
        if params and ("dim" in params or "keepdim" in params):  # PyTorch's spelling
            params = standard_names(self.name, params)
        return apply(self, args, params)


Op.__doc__ = _OwnDoc(Op.__doc__)


class VariadicOp(Op):
    """An op over a sequence of tensors (concat, stack): one rule
    `vjp(ns, g, ans, index, inputs, **params)`, told which input it differentiates."""

    __slots__ = ()

    def __init__(self, name, forward, vjp, batch=None):
        # The rule hands each input its slice of g: a view, which the engine copies
        # before it becomes a .grad.
        super().__init__(name, forward, vjp, promotes=0, passes=_EVERY_INPUT, complex=True,
                         batch=batch)
        self.variadic = True


class _EveryInput:
    """`passes` of an op over any number of inputs: every one of them."""

    def __contains__(self, index):
        return True


_EVERY_INPUT = _EveryInput()

# The last native dtype found to be floating: the common case costs one identity test.
_last_floating = [None]
# The last native dtype found to be real, for the same test before an op that has no
# complex rules is recorded.
_last_real = [None]

# Argument types that pass to a forward as they are (scalars, None, shapes, axes, names).
_PLAIN = (int, float, bool, type(None), tuple, list, str, slice)

# While an ag.vmap runs: [the batching interpreter] (`anygrad.batching.dispatch`), which
# takes the ops and backward passes that meet batched tensors. Empty otherwise, so that
# apply pays one truth test for vmap's existence.
_batching = []


def apply(op, args, params=_EMPTY):
    """Run `op` on tensors (Python scalars and arrays are constants) and record it."""
    if _batching:
        batched = _batching[0].apply(op, args, params)
        if batched is not NotImplemented:
            return batched
    backend = None
    needs_grad = False
    several = False  # two or more tensors meet: their devices must agree
    mixed = False  # the tensors' dtypes differ, or a constant other than a number meets them
    numbers = False  # a Python int or float meets them
    loose = False  # an argument that is neither a tensor nor a plain Python value
    dtype = None
    arrays = []
    for a in args:
        if isinstance(a, Tensor):
            data = a.array
            if backend is None:
                backend = a.backend
                dtype = data.dtype
            else:
                several = True
                if a.backend is not backend:
                    _mixed_backends(op, backend, a.backend)
                other = data.dtype
                if other is not dtype and other != dtype:
                    mixed = True
            if a._requires_grad:
                needs_grad = True
            arrays.append(data)
        else:
            kind = type(a)
            if kind is float or kind is int:
                numbers = True
            else:
                if kind not in _PLAIN:
                    loose = True
                mixed = True
            arrays.append(a)
    if backend is None:
        args, backend = _constants(op, args)
        loose, mixed = False, True
        needs_grad = any(isinstance(a, Tensor) and a._requires_grad for a in args)
        arrays = [a.array if isinstance(a, Tensor) else a for a in args]
    elif several and backend.multi_device:
        _check_devices(op, backend, args)
    if (numbers or op.floating) and not mixed and dtype is not _last_floating[0]:
        if is_floating(dtype):
            _last_floating[0] = dtype  # the next op on this dtype skips the lookup
        else:
            # A number can widen a non-floating tensor (int + 0.5 is a float), and
            # floating ops (exp, true division) take integers as floats.
            mixed = True
    if loose or (mixed and op.promotes is not None):
        given = args
        if loose:
            args = coercion.admit(op, backend, args)
        if op.promotes is not None:
            args = coercion.promote(op, args)
        if args is not given:
            arrays = [a.array if isinstance(a, Tensor) else a for a in args]
    # Before the forward, so that every backend gives this error, not its own.
    if needs_grad and not op.complex and (dtype is not _last_real[0] or mixed) and op.vjps \
            and _grad_enabled.get():
        _refuse_complex(op, args, dtype)
    try:
        if backend.device_guard is None:
            out = op.forward(backend.ops, *arrays, **params)
        else:  # several GPUs: run where the inputs live, not on the current device
            with backend.device_guard(arrays):
                out = op.forward(backend.ops, *arrays, **params)
    except Exception as exc:
        coercion.explain_failure(op, args, params, exc)
        raise
    result = Tensor.__new__(Tensor)
    result.array = out
    result.backend = backend
    result._grad = None
    result._version = 0
    if needs_grad and _grad_enabled.get() and op.vjps:
        result._requires_grad = True
        result.node = Node(op, args, out, params, backend)
    else:
        result._requires_grad = False
        result.node = None
    if _observed.get():  # one lookup per op while neither mode is on
        anomaly = _anomaly_mode.get()
        if anomaly is not None:
            anomaly.on_forward(op, result)
        recorder = _recording.get()
        if recorder is not None:
            recorder.on_apply(op, args, params, result)
    return result


def _constants(op, args):
    """No argument is a Tensor: the first array names the backend (or, with Python
    numbers alone, the current backend); the arguments become constants on it."""
    from .creation import as_tensor

    args = [coercion.python_scalar(a) for a in args]
    first = next((i for i, a in enumerate(args) if coercion.is_array(a)), 0)
    args[first] = as_tensor(args[first])
    return coercion.admit(op, args[first].backend, args), args[first].backend


def _refuse_complex(op, args, dtype):
    """Raise if a complex tensor is among `args` of `op`, whose rules are real only."""
    for a in args:
        if isinstance(a, Tensor) and is_complex(a.array.dtype):
            shapes = ", ".join(f"{t.dtype}{list(t.shape)}" for t in args if isinstance(t, Tensor))
            raise TypeError(
                f"{op.name} does not support complex inputs when a gradient is recorded "
                f"(inputs: {shapes}): its derivative is defined for real inputs only; "
                "apply it to ag.real(z), ag.imag(z) or ag.abs(z) instead"
            )
    if dtype is not None and not is_complex(dtype):
        _last_real[0] = dtype  # the next op on this dtype skips the loop


def implicit_cotangent(t, caller):
    """The cotangent 1 that `t.backward()` and `grad(f)` start from when none is given.
    A complex output has no such seed: which real function of it is the loss?"""
    dtype = t.array.dtype
    if dtype is not _last_real[0] and is_complex(dtype):
        raise RuntimeError(
            f"{caller}: grad can be implicitly created only for real scalar outputs; this "
            f"output is {t.dtype}: take a real loss of it first (ag.real, ag.abs), or pass "
            "the gradient explicitly"
        )
    # Batched by vmap (a subclass): one seed for every example.
    if type(t) is not Tensor and getattr(t, "_level", None) is not None:
        return t.backend.xp.ones(tuple(t.shape), dtype=t.array.dtype, device=t.device)
    return t.backend.xp.ones_like(t.array)


def _mixed_backends(op, first, second):
    raise TypeError(
        f"{op.name}: inputs live on different backends ({first.name!r} and {second.name!r}); "
        f"move one with .to({first.name!r}) or .to({second.name!r}) first"
    )


def _check_devices(op, backend, args):
    # Comparing the arrays' device attributes is cheap; naming them is done only on failure.
    tensors = [a for a in args if isinstance(a, Tensor)]
    first = getattr(tensors[0].array, "device", None)
    if all(getattr(t.array, "device", None) == first for t in tensors[1:]):
        return
    devices = sorted({str(backend.device(t.array)) for t in tensors})
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
    # A sum over axes of length 1 alone (a bias's gradient from a one-row batch) is a
    # reshape: the same numbers, without a reduction.
    if axes and any(g.shape[a] != 1 for a in axes):
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
    roots = list(roots)
    if _batching:
        batched = _batching[0].backward(roots, root_grads, retain_graph, create_graph, inputs)
        if batched is not NotImplemented:
            return batched
    token = _grad_enabled.set(bool(create_graph))
    guard = roots[0].backend.device_guard if roots else None
    try:
        recorder = _recording.get()
        if recorder is not None:  # ag.compile records the rules as ops: see its recorder
            return recorder.on_backward(_backward, roots, root_grads, retain_graph,
                                        create_graph, inputs)
        if guard is None:
            return _backward(roots, root_grads, retain_graph, create_graph, inputs)
        with guard([r.array for r in roots]):  # the rules run where the graph lives
            return _backward(roots, root_grads, retain_graph, create_graph, inputs)
    finally:
        _grad_enabled.reset(token)


def _backward(roots, root_grads, retain_graph, create_graph, inputs):
    graph_ops = _graph_ops() if create_graph else None
    for root in roots:
        if not root._requires_grad:
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
    # Gradients that may share memory with the caller's cotangent or with each other
    # (pass-through rules return g or a view of it); copied before they become a .grad.
    borrowed = set()
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
            if is_complex(g.array.dtype):  # into the engine's convention
                g = graph_ops.conj(g)
        else:
            g = g.array if isinstance(g, Tensor) else g
            if g.dtype is not _last_real[0] and is_complex(g.dtype):
                g = root.backend.xp.conj(g)
            else:
                borrowed.add(id(g))
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
            wanted = _user_grad(g, node.out.dtype, node.backend, create_graph)
            results[wanted_nodes[node]] = wanted if create_graph else _wrap(wanted, node.backend)
        op = node.op
        params = node.params
        if create_graph:
            ns = graph_ops
            values = args
            ans = _wrap(node.out, node.backend, True)
            ans.node = node  # the same graph vertex as the original output
        else:
            ns = node.backend.ops
            values = [t.array if isinstance(t, Tensor) else t for t in args]
            ans = node.out
        passes = op.passes
        clock = node.clock
        for i, t in enumerate(args):
            if not isinstance(t, Tensor):
                continue
            if t._version > clock:
                _modified_in_place(node, t)
            if not t._requires_grad:
                continue
            if op.variadic:
                gi = op.vjps[0](ns, g, ans, i, values, **params)
            else:
                gi = op.vjps[i](ns, g, ans, *values, **params)
            if gi is None:  # no gradient reaches this input (see anygrad.compile.aot)
                continue
            if anomaly is not None:
                anomaly.on_backward(node, i, gi)
            data = t.array
            child = t.node
            if gi.shape != data.shape:
                gi = unbroadcast(ns, gi, tuple(data.shape))
            elif child is None and passes and i in passes and not create_graph:
                # g itself or a view of it reaches a leaf. (Handed to a node instead, it
                # is marked when that node's rule hands it on to a leaf.)
                borrowed.add(id(gi))
            # deliver(), inlined for the common case of a non-leaf input
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

    stored = set()
    for leaf, g in leaves.values():
        # A gradient has its tensor's dtype, whatever it met on the way (mixed dtypes are
        # promoted through recorded casts, so this is the rare case of a hook or a cast),
        # and the user's convention for complex tensors.
        if create_graph:
            g = _user_grad(g, leaf.array.dtype, leaf.backend, True)
        else:
            dtype = g.dtype
            if dtype != leaf.array.dtype or (dtype is not _last_real[0] and is_complex(dtype)):
                g = _user_grad(g, leaf.array.dtype, leaf.backend, False)  # a new array
            elif id(g) in borrowed or id(g) in stored:
                g = leaf.backend.xp.asarray(g, copy=True)
            stored.add(id(g))
            g = _wrap(g, leaf.backend)
        hooks = getattr(leaf, "_hooks", None)
        if hooks:
            g = _call_hooks(hooks, g)
        if inputs is None:
            _accumulate_leaf(leaf, g, create_graph, checked=not hooks)
        elif id(leaf) in wanted_leaves:
            results[wanted_leaves[id(leaf)]] = g
    return results


def _user_grad(g, dtype, backend, create_graph):
    """Gradient `g` in the engine's convention, as the user sees it for a tensor of
    native dtype `dtype`: conjugated if complex; its real part if the tensor is real
    (a real input promoted to complex on the way); cast to `dtype`. Without
    create_graph, a complex or cast `g` always comes back as a new array."""
    if create_graph:
        from . import ops as ns
    else:
        ns = backend.xp
    native = g.array.dtype if create_graph else g.dtype
    if is_complex(native):
        if is_complex(dtype):
            g = ns.conj(g)
        else:
            g = ns.real(g)
            if not create_graph:  # real() may be a view of g
                return ns.astype(g, dtype, copy=True)
        native = g.array.dtype if create_graph else g.dtype
    if native != dtype:
        g = ns.astype(g, dtype)
    return g


def _from_user(g, backend, create_graph):
    """A gradient a hook returned, back into the engine's convention."""
    if create_graph:
        from . import ops

        return ops.conj(g) if is_complex(g.array.dtype) else g
    return backend.xp.conj(g) if is_complex(g.dtype) else g


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


def _modified_in_place(node, t):
    if node.clock == OUTPUT_CHANGED:
        raise RuntimeError(
            f"backward: the output of {node.op.name} was changed in place after the op was "
            "recorded, and its gradient rule needs it; change a copy instead "
            "(y = y * 2 rather than y *= 2)"
        )
    raise RuntimeError(
        f"backward: an input of {node.op.name} (shape {t.shape}, dtype {t.dtype}) was "
        "changed in place after the op was recorded, so its gradient would be computed "
        "from the new values; compute the loss again after the update, or update a "
        "copy (x = x + 1 rather than x += 1)"
    )


def _wrap(array, backend, requires_grad=False):
    t = Tensor.__new__(Tensor)
    t.array = array
    t.backend = backend
    t._grad = None
    t._requires_grad = requires_grad
    t._version = 0
    t.node = None
    return t


def _accumulate_leaf(leaf, g, create_graph, checked=False):
    """Add `g` to leaf.grad. `checked`: g is the walk's own gradient, already of the
    leaf's shape, dtype and backend, so the .grad setter's validation is skipped (it
    costs a small step as much as an op); what a hook returned goes through it."""
    old = leaf._grad
    if old is None:
        new = g
    elif create_graph:
        new = old + g
    else:
        new = _wrap(old.array + g.array, leaf.backend)
    if checked:
        leaf._grad = new
    else:
        leaf.grad = new


def _graph_ops():
    """anygrad's op namespace, which rules run against under create_graph (imported on
    first use: it is built on this module)."""
    from . import ops

    return ops


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
    """Hooks and retain_grad of a non-leaf tensor see its fully summed gradient, in the
    user's convention for complex tensors."""
    g = _user_grad(g, node.out.dtype, node.backend, create_graph)
    g = g if create_graph else _wrap(g, node.backend)
    if node.hooks:
        g = _call_hooks(node.hooks, g)
    if node.retained is not None:
        owner = node.retained()
        if owner is not None:
            kept = g if create_graph else _wrap(g.array, node.backend)
            owner.grad = kept if owner.grad is None else owner.grad + kept
    return _from_user(g if create_graph else g.array, node.backend, create_graph)


from .tensor import Tensor  # noqa: E402  (Tensor's methods call back into this module)
from . import coercion  # noqa: E402
from .dtypes import is_complex, is_floating  # noqa: E402
from ._aliases import standard_names  # noqa: E402
