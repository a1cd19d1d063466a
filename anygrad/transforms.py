"""Function transforms (grad, value_and_grad, vjp, jvp, jacobian, hessian, hvp) and
`gradients`, the tensor-level call they are built on (PyTorch's `autograd.grad`).

How transforms nest. Each call makes the differentiated arguments variables of its
own: a fresh leaf when the argument carries no graph (a raw array, a constant, or
anything under `no_grad`), else an identity op ("alias") applied to it. The alias does
two jobs. Gradients flow through it back to an outer transform's variable, and an inner
transform differentiates with respect to the alias, not the outer variable itself, so
`grad(lambda x: x * grad(lambda y: x * y)(x))` sees d(xy)/dy = x, not 2x (what JAX
calls perturbation confusion).

Whether a gradient is itself recorded (`create_graph`) is decided per call: only when
grad mode was on where the transform was called and the function's graph reaches a
tensor requiring grad that the call did not create (an outer transform's variable, or
a parameter captured by a closure). A top-level `grad` of raw arrays thus runs the
plain backward on raw arrays and returns results without a graph, while in
`grad(grad(f))` the inner gradient is recorded for the outer one, to any depth.

Forward mode (`jvp`, and `jacobian` on tall functions) uses the double-VJP trick:
u -> J^T u is linear in u, so recording it with `create_graph` and differentiating
<J^T u, v> with respect to u gives J v. That is exact (no finite differences) and
costs about two reverse passes and a forward pass per product.

Pytrees. Every argument a transform differentiates may be a nested tuple, list, dict or
namedtuple of tensors, arrays and numbers (see tree.py), and so may f's output; results
keep those structures: `grad(loss)(params)` with `params = [(W1, b1), (W2, b2)]` gives
`[(gW1, gb1), (gW2, gb2)]`, and the Jacobian of a pytree output is that pytree with a
Jacobian (in the argument's structure) at each leaf.

Raw arrays in, raw arrays out. A differentiated argument given as a raw array (a numpy
array, or any backend's array) or a Python number is made a variable of the call, so
the function sees a Tensor that requires grad, as always; its result (gradient, Jacobian
block, tangent) comes back as the same kind: the backend's array, or a Python number,
detached as HIPS autograd and JAX return plain arrays. A numpy program can then update
its own arrays with the gradient (`w -= rate * g`) and hand it to scipy. When every
differentiated argument was raw, so is the value (`value_and_grad`, `vjp`, `jvp`).
Tensors in, Tensors out. One exception keeps every answer right: a result that belongs
to an enclosing graph (an outer transform's, or a parameter's captured by the function)
stays a Tensor, since returning its array would silently cut that graph.
"""
from __future__ import annotations

import functools
import numbers

from . import ops
from . import tree as _tree
from .creation import as_tensor, ones_like, zeros_like
from .batching.tensor import physical as _physical
from .engine import Op, _batching, _wrap, backward, implicit_cotangent
from .modes import enable_grad, is_grad_enabled, set_grad_enabled
from .tensor import Tensor, _cotangent_for

__all__ = ["gradients", "grad", "value_and_grad", "elementwise_grad", "vjp", "jvp", "jacobian",
           "hessian", "hvp"]

# The identity as an op of its own: the vertex a transform differentiates with respect
# to when its argument already has a graph (see the module docstring).
_alias = Op("alias", lambda xp, x: x, lambda ns, g, ans, x: g, complex=True, batch="identity")


# ----------------------------------------------------------------- tensor level
def gradients(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
              allow_unused=False):
    """The gradients of `outputs` with respect to `inputs`, as a list; `.grad` is untouched.

    As PyTorch's `torch.autograd.grad`: `grad_outputs` holds one cotangent per output
    (a tensor or array of the output's shape; None means 1 for a one-element output).
    An input the outputs do not depend on is an error naming it, or None with
    `allow_unused=True`. `retain_graph` defaults to `create_graph`; with `create_graph`
    the gradients are graphs themselves and can be differentiated again.

    `outputs`, `grad_outputs` and `inputs` may be pytrees (tree.py); the gradients come
    back in the structure of `inputs`, except that a single tensor or a flat list or
    tuple of them gives a list.
    """
    outputs = _tree.leaves(outputs)
    if isinstance(grad_outputs, (dict, tuple, list)) and not (
            type(grad_outputs) in (tuple, list) and len(grad_outputs) == len(outputs)):
        grad_outputs = _tree.leaves(grad_outputs)  # nested, like the outputs
    flat = isinstance(inputs, Tensor) or (
        isinstance(inputs, (tuple, list)) and all(isinstance(t, Tensor) for t in inputs))
    inputs, in_def = _tree.flatten(inputs)
    for i, t in enumerate(inputs):
        if not (isinstance(t, Tensor) and t.requires_grad):
            raise RuntimeError(
                f"gradients: input {i} does not require grad, so it has no gradient; make it "
                "with requires_grad=True (and not under no_grad())"
            )
    for i, o in enumerate(outputs):
        if not (isinstance(o, Tensor) and o.requires_grad):
            raise RuntimeError(
                f"gradients: output {i} does not require grad and has no graph; check that it "
                "is computed from the inputs, and not under no_grad()"
            )
    cotangents = _cotangents(outputs, grad_outputs, "gradients")
    if retain_graph is None:
        retain_graph = create_graph
    unique = list({id(t): t for t in inputs}.values())  # the engine wants each input once
    with set_grad_enabled(create_graph):
        found = backward(outputs, cotangents, retain_graph=retain_graph,
                         create_graph=create_graph, inputs=unique)
    by_id = {id(t): g for t, g in zip(unique, found)}
    grads = [by_id[id(t)] for t in inputs]
    if not allow_unused:
        for i, (t, g) in enumerate(zip(inputs, grads)):
            if g is None:
                raise RuntimeError(
                    f"gradients: input {i} (shape {t.shape}) was not used to compute the "
                    "outputs; pass allow_unused=True to get None for it"
                )
    return grads if flat else _tree.unflatten(in_def, grads)


def _cotangents(outputs, grad_outputs, where):
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    else:
        grad_outputs = _as_list(grad_outputs)
        if len(grad_outputs) != len(outputs):
            raise ValueError(
                f"{where}: {len(grad_outputs)} grad_outputs for {len(outputs)} outputs"
            )
    result = []
    for i, (o, g) in enumerate(zip(outputs, grad_outputs)):
        if g is None:
            if o.size != 1:
                raise RuntimeError(
                    f"{where}: output {i} has shape {o.shape}; grad_outputs may be left out "
                    "only for outputs of one element"
                )
            g = _wrap(implicit_cotangent(o, where), o.backend)
        else:
            g = _cotangent_for(o, g, where)
        result.append(g)
    return result


# ----------------------------------------------------------------- one linearization
class _Linearization:
    """`f` evaluated once at fixed arguments, ready for any number of products with its
    Jacobian: J^T u (`pullback`, reverse mode) and J v (`pushforward`, forward mode)."""

    def __init__(self, f, args, argnums, where, has_aux=False):
        self.where = where
        self.connected = is_grad_enabled()  # may results join the caller's graph?
        call_args, self.variables, self.arg_defs, own, self.raw = _variables(
            args, argnums, self.connected, where)
        with enable_grad():
            result = f(*call_args)
        self.aux = None
        if has_aux:
            if not (isinstance(result, (tuple, list)) and len(result) == 2):
                raise TypeError(f"{where}: with has_aux=True, f must return a pair (output, aux)")
            result, self.aux = result
        self.single = isinstance(result, Tensor)
        self.outputs, self.out_def = _tree.flatten(result)
        for i, o in enumerate(self.outputs):
            if not isinstance(o, Tensor):
                raise TypeError(
                    f"{where}: f must return tensors (or a pytree of them); output leaf {i} is "
                    f"a {type(o).__name__}"
                )
        # The graph reaches a tensor requiring grad that this call did not make.
        self.outside = _reaches_outside(self.outputs, own)
        self._transposed = None  # (cotangent variables, J^T u), built on first pushforward

    def visible_outputs(self):
        """The outputs for the caller: still in the graph only where it can be used;
        raw when every differentiated argument was."""
        if self.connected and self.outside:
            return self.for_caller(self.outputs)
        return self.for_caller([o.detach() for o in self.outputs])

    def for_caller(self, outputs):
        """Output-shaped results, raw when every differentiated argument was."""
        if not (self.raw and all(self.raw)):
            return outputs
        kind = "array" if "array" in self.raw else "number"
        return [_returned(o, kind) for o in outputs]

    def pullback(self, cotangents, keep=True, record=None):
        """J^T u for each variable (zeros where unused). `keep` keeps the graph for
        more calls; `record` forces or forbids recording the result's own graph."""
        cotangents = [None if u is None else _cotangent_for(o, u, self.where)
                      for o, u in zip(self.outputs, cotangents)]
        live = [(o, u) for o, u in zip(self.outputs, cotangents)
                if u is not None and o.requires_grad]
        if record is None:
            record = is_grad_enabled() and (
                (self.connected and self.outside) or any(u.requires_grad for _, u in live)
            )
        grads = [None] * len(self.variables)
        if live:
            with set_grad_enabled(record):
                grads = backward([o for o, _ in live], [u for _, u in live],
                                 retain_graph=keep or record or self.outside,
                                 create_graph=record, inputs=self.variables)
        return [zeros_like(v) if g is None else g for g, v in zip(grads, self.variables)]

    def pushforward(self, tangents):
        """J v for each output, from one tangent per variable (None for zero)."""
        if self._transposed is None:
            dummies = [zeros_like(o, requires_grad=True) for o in self.outputs]
            self._transposed = (dummies, self.pullback(dummies, record=True))
        dummies, transposed = self._transposed
        pairs = [(g, _cotangent_for(v, t, self.where))
                 for g, v, t in zip(transposed, self.variables, tangents) if t is not None]
        pairs = [(g, t) for g, t in pairs if g.requires_grad]
        record = is_grad_enabled() and (
            (self.connected and self.outside) or any(t.requires_grad for _, t in pairs)
        )
        found = [None] * len(dummies)
        if pairs:
            with set_grad_enabled(record):
                found = backward([g for g, _ in pairs], [t for _, t in pairs],
                                 retain_graph=True, create_graph=record, inputs=dummies)
        return [zeros_like(o) if g is None else g for g, o in zip(found, self.outputs)]

    def per_argument(self, flat):
        """Per-variable results regrouped into each differentiated argument's structure,
        each in the kind its argument came in (see the module docstring)."""
        flat = [_returned(t, kind) for t, kind in zip(flat, self.raw)]
        grouped, start = [], 0
        for d in self.arg_defs:
            grouped.append(_tree.unflatten(d, flat[start:start + d.num_leaves]))
            start += d.num_leaves
        return grouped


def _variables(args, argnums, connected, where):
    """The call's arguments with args[i], i in argnums, made variables of this call
    (each leaf of it, when it is a pytree).

    Returns (arguments, variables, each argument's tree structure, ids of the fresh
    leaves this call made, and per variable the kind its results come back as: None
    for a Tensor, "array" or "number" for a raw argument)."""
    args = list(args)
    variables, defs, own, raw = [], [], set(), []
    for i in argnums:
        if not -len(args) <= i < len(args):
            raise ValueError(f"{where}: argnums {i} is out of range for {len(args)} arguments")
        found, treedef = _tree.flatten(args[i])
        made = []
        for k, a in enumerate(found):
            raw.append(None if _batching or isinstance(a, Tensor) else _raw_kind(a))
            if _batching:  # inside ag.vmap: a gradient row per example
                a = _batching[0].lift(as_tensor(a))
            if connected and isinstance(a, Tensor) and a.requires_grad:
                v = _alias(a)
            else:
                v = as_tensor(a).detach()
                try:
                    v.requires_grad_(True)
                except TypeError as exc:
                    leaf = "" if treedef.is_leaf else f" (leaf {k} of {treedef})"
                    raise TypeError(f"{where}: argument {i}{leaf}: {exc}") from None
                own.add(id(v))
                own.add(id(_physical(v)))
            made.append(v)
        args[i] = _tree.unflatten(treedef, made)
        variables.extend(made)
        defs.append(treedef)
    return args, variables, defs, own, raw


def _raw_kind(leaf):
    """How the results for a raw argument leaf are returned: a Python number for a
    number (numpy's scalars among them), else an array of the argument's backend."""
    return "number" if isinstance(leaf, numbers.Number) else "array"


def _returned(t, kind):
    """`t` for the caller of a transform whose argument was of `kind` (see _variables).
    A result still recording a graph stays a Tensor: its array would cut the graph. An
    array is a fresh, writable copy: the backward may hand back a read-only broadcast
    view, or the very array given as a cotangent, and numpy code updates its gradients
    in place."""
    if kind is None or not isinstance(t, Tensor) or t.requires_grad:
        return t
    if kind == "number" and t.ndim == 0:
        return t.item()
    return t.backend.xp.asarray(t.array, copy=True)


def _reaches_outside(tensors, own):
    """Whether the graph of `tensors` reaches a tensor requiring grad not in `own`: then
    a gradient may be differentiated again from outside, and the graph must be kept."""
    seen = set()
    stack = list(tensors)
    while stack:
        t = stack.pop()
        if not (isinstance(t, Tensor) and t.requires_grad):
            continue
        node = t.node
        if node is None:
            if id(t) not in own:
                return True
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.inputs is None:
            return True  # freed by an earlier backward: not ours, ours is intact
        stack.extend(node.inputs)
    return False


# ----------------------------------------------------------------- transforms
def value_and_grad(f, argnums=0, has_aux=False, *, argnum=None):
    """A function returning (f(*args), gradient of f with respect to args[argnums]).

    `f` returns a tensor of one element (or `(output, aux)` with `has_aux=True`, and
    then the value is `(output, aux)`). `argnums` is an int, giving one gradient, or a
    tuple, giving a tuple. Arguments may be Tensors, backend arrays or Python floats, or
    pytrees of them (a list of `(W, b)` pairs, a dict of parameters): each gradient has
    its argument's structure. Gradients of Tensors are Tensors; an argument given as a
    raw array (or Python number) gets its gradient as one, and when all of them were,
    the value is raw too (a 0-d array, or a Python number): see the module docstring.
    Transforms nest: `grad(grad(f))` is the second derivative. `argnum` is HIPS
    autograd's spelling of `argnums`.
    """
    argnums, single = _argnums(argnums, "value_and_grad", argnum)

    @functools.wraps(f)
    def value_and_grad_f(*args, **kwargs):
        lin = _Linearization(_bind(f, kwargs), args, argnums, "grad", has_aux)
        out = lin.outputs[0]
        if not lin.single or out.size != 1:
            shape = out.shape if lin.single else f"a {len(lin.outputs)}-tuple"
            raise TypeError(
                f"grad: f must return a tensor of one element, got {shape}; use jacobian or "
                "vjp for other outputs"
            )
        ones = _wrap(implicit_cotangent(out, "grad"), out.backend)
        grads = lin.per_argument(lin.pullback([ones], keep=False))
        value = lin.visible_outputs()[0]
        if has_aux:
            value = (value, lin.aux)
        return value, (grads[0] if single else tuple(grads))

    return value_and_grad_f


def grad(f, argnums=0, has_aux=False, *, argnum=None):
    """The gradient of a scalar function, as a function: `grad(f)(x)` is df/dx.

    Same arguments as `value_and_grad`; with `has_aux=True` it returns (gradient, aux).
    A numpy array in gives a numpy array out, so HIPS autograd's loop
    `w -= rate * grad(loss)(w)` runs on numpy arrays unchanged.
    """
    value_and_grad_f = value_and_grad(f, argnums, has_aux, argnum=argnum)

    @functools.wraps(f)
    def grad_f(*args, **kwargs):
        value, g = value_and_grad_f(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return grad_f


def elementwise_grad(f, argnums=0, *, argnum=None):
    """HIPS autograd's `elementwise_grad`: the gradient of sum(f(*args)) with respect
    to args[argnums], that is the VJP of f with ones for every output element.

    For f acting elementwise (output element i depends on input element i alone, as
    `tanh` or `x ** 3 + y`) that is each element's own derivative, in the argument's
    shape, from one backward pass. For any other f it is still the gradient of the sum
    of f's outputs, not a derivative per element: take `jacobian` for those. Arguments
    and results follow `grad` (pytrees, raw arrays in giving raw arrays out).
    """
    argnums, single = _argnums(argnums, "elementwise_grad", argnum)

    @functools.wraps(f)
    def elementwise_grad_f(*args, **kwargs):
        lin = _Linearization(_bind(f, kwargs), args, argnums, "elementwise_grad")
        grads = lin.per_argument(lin.pullback([ones_like(o) for o in lin.outputs], keep=False))
        return grads[0] if single else tuple(grads)

    return elementwise_grad_f


def vjp(f, *primals):
    """`(f(*primals), vjp_fn)`: `vjp_fn(u)` gives u^T J, one gradient per primal, as a tuple.

    `f` returns a tensor (then u is one tensor) or a pytree of them (then u has that
    structure). Primals may be pytrees; each gradient has its primal's structure.
    `vjp_fn` can be called many times; the graph lives as long as it does.
    """
    lin = _Linearization(f, primals, range(len(primals)), "vjp")

    def vjp_fn(cotangents):
        if type(cotangents) in (tuple, list) and lin.out_def.kind in (tuple, list):
            cotangents = lin.out_def.kind(cotangents)  # either sequence for f's sequence
        found, treedef = _tree.flatten(cotangents)
        if treedef != lin.out_def:
            raise ValueError(f"vjp: the cotangents have structure {treedef}, but f's output has "
                             f"{lin.out_def}")
        return tuple(lin.per_argument(lin.pullback(found)))

    return _shaped(lin), vjp_fn


def jvp(f, primals, tangents):
    """`(f(*primals), J v)` for tangents v, one per primal (tuples, or single tensors).

    Forward mode by the double-VJP trick (see the module docstring): exact, at the
    price of two reverse passes. Primals may be pytrees, each tangent of its primal's
    structure; J v has the structure of f's output.
    """
    primals, tangents = _as_tuple(primals), _as_tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(tangents)} tangents for {len(primals)} primals")
    lin = _Linearization(f, primals, range(len(primals)), "jvp")
    pushed = lin.for_caller(lin.pushforward(_matching_leaves(tangents, lin, "jvp")))
    return _shaped(lin), _tree.unflatten(lin.out_def, pushed)


def jacobian(f, argnums=0, mode=None, *, argnum=None):
    """A function giving the Jacobian of f (one output tensor) with respect to
    args[argnums], of shape out.shape + arg.shape (a tuple for a tuple of argnums).
    A pytree argument gives its structure of such blocks; a pytree output gives its
    structure with the argument's Jacobian at each leaf.

    `mode="reverse"` builds it row by row from VJPs, `mode="forward"` column by column
    from JVPs; by default the cheaper one for the shapes: reverse unless there are more
    outputs than inputs.
    """
    argnums, single = _argnums(argnums, "jacobian", argnum)
    if mode not in (None, "reverse", "forward"):
        raise ValueError(f"jacobian: mode must be 'reverse', 'forward' or None, not {mode!r}")

    @functools.wraps(f)
    def jacobian_f(*args, **kwargs):
        lin = _Linearization(_bind(f, kwargs), args, argnums, "jacobian")
        n_in = sum(v.size for v in lin.variables)
        n_out = sum(o.size for o in lin.outputs)
        chosen = mode or _cheaper_mode(n_out, n_in)
        jac = _by_rows(lin) if chosen == "reverse" else _by_columns(lin)
        blocks = []
        for per_variable in jac:
            grouped = lin.per_argument(per_variable)
            blocks.append(grouped[0] if single else tuple(grouped))
        return _tree.unflatten(lin.out_def, blocks)

    return jacobian_f


def _cheaper_mode(n_out, n_in):
    """Reverse mode costs one backward per output, forward one per input."""
    return "reverse" if n_out <= n_in else "forward"


def _by_rows(lin):
    """jac[output][variable], one pullback per output element: all of them in one
    vmapped pullback where the graph's ops batch, else one at a time."""
    if _vmappable(lin, lin.outputs):
        return [_rows_by_vmap(lin, j, out) for j, out in enumerate(lin.outputs)]
    jac = []
    for j, out in enumerate(lin.outputs):
        rows = [[] for _ in lin.variables]
        for k in range(out.size):
            cotangents = [None] * len(lin.outputs)
            cotangents[j] = _basis(out, k)
            for i, g in enumerate(lin.pullback(cotangents)):
                rows[i].append(g)
        jac.append([_assemble(r, 0, out, v) for r, v in zip(rows, lin.variables)])
    return jac


def _by_columns(lin):
    """jac[output][variable], one pushforward per variable element (vmapped, as rows)."""
    if _vmappable(lin, lin.variables):
        found = [_columns_by_vmap(lin, i, v) for i, v in enumerate(lin.variables)]
        return [[per_var[j] for per_var in found] for j in range(len(lin.outputs))]
    columns = [[[] for _ in lin.variables] for _ in lin.outputs]
    for i, v in enumerate(lin.variables):
        for k in range(v.size):
            tangents = [None] * len(lin.variables)
            tangents[i] = _basis(v, k)
            for j, pushed in enumerate(lin.pushforward(tangents)):
                columns[j][i].append(pushed)
    return [[_assemble(c, -1, out, v) for c, v in zip(per_out, lin.variables)]
            for per_out, out in zip(columns, lin.outputs)]


def _vmappable(lin, mapped):
    """Whether the Jacobian can be one vmap of products: not inside another vmap,
    something to map over, and a batching rule for every op of the graph."""
    if _batching or any(t.size == 0 for t in mapped):
        return False
    seen, stack = set(), [o.node for o in lin.outputs if o.node is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.op.batch is None or node.inputs is None:
            return False
        stack.extend(t.node for t in node.inputs if isinstance(t, Tensor) and t.node is not None)
    return True


def _rows_by_vmap(lin, j, out):
    from .vmap import vmap

    def pull(u):
        cotangents = [None] * len(lin.outputs)
        cotangents[j] = u
        return lin.pullback(cotangents)

    rows = vmap(pull)(_identity(out))
    return [ops.reshape(r, out.shape + v.shape) for r, v in zip(rows, lin.variables)]


def _columns_by_vmap(lin, i, v):
    from .vmap import vmap

    def push(t):
        tangents = [None] * len(lin.variables)
        tangents[i] = t
        return lin.pushforward(tangents)

    columns = vmap(push, out_axes=-1)(_identity(v))
    return [ops.reshape(c, out.shape + v.shape) for c, out in zip(columns, lin.outputs)]


def _identity(like):
    """Every standard basis tensor in `like`'s shape, dtype and device, stacked."""
    xp = like.backend.xp
    eye = xp.eye(like.size, dtype=like.array.dtype, device=like.backend.device(like.array))
    return _wrap(xp.reshape(eye, (like.size,) + tuple(like.shape)), like.backend)


def _basis(like, k):
    """The k-th standard basis tensor in `like`'s shape, dtype and device."""
    xp = like.backend.xp
    positions = xp.arange(like.size, device=like.backend.device(like.array))
    flat = xp.astype(positions == k, like.array.dtype)
    return _wrap(xp.reshape(flat, like.shape), like.backend)


def _assemble(pieces, axis, out, variable):
    """Rows (axis 0) or columns (axis -1) of flattened derivatives -> out.shape + var.shape."""
    shape = out.shape + variable.shape
    if not pieces:
        xp = out.backend.xp
        return _wrap(xp.zeros(shape, dtype=out.array.dtype, device=out.backend.device(out.array)),
                     out.backend)
    flat = [ops.reshape(p, (-1,)) for p in pieces]
    return ops.reshape(ops.stack(flat, axis=axis), shape)


def hessian(f, argnums=0, *, argnum=None):
    """The Hessian of a scalar f with respect to args[argnums] (an int): the Jacobian of
    its gradient, of shape arg.shape + arg.shape (for a pytree argument, a pytree of
    pytrees of such blocks, as `jacobian(grad(f))`)."""
    positions, single = _argnums(argnums, "hessian", argnum)
    if not single:
        raise TypeError("hessian: argnums must be an int; take jacobian(grad(f, ...)) for blocks")
    return jacobian(grad(f, positions[0]), positions[0])


def hvp(f, primals, tangents):
    """The Hessian of a scalar f at `primals` times `tangents`, without forming the Hessian.

    Reverse over reverse: the gradient of <grad f, v>, so two backward passes. Takes
    and returns single tensors or tuples (one per primal), like `jvp`; each primal may
    be a pytree, its tangent and result of the same structure.
    """
    single = not isinstance(primals, (tuple, list))
    primals, tangents = _as_tuple(primals), _as_tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"hvp: {len(tangents)} tangents for {len(primals)} primals")
    argnums = tuple(range(len(primals)))
    gradient = grad(f, argnums)

    def directional(*args):
        total = 0.0
        for g, x, v in zip(gradient(*args), args, tangents):
            for gl, xl, vl in zip(_tree.leaves(g), _tree.leaves(x), _matching(v, x, "hvp")):
                total = total + ops.sum(gl * _cotangent_for(xl, vl, "hvp"))
        return total

    result = grad(directional, argnums)(*primals)
    return result[0] if single else result


# ----------------------------------------------------------------- helpers
def _argnums(argnums, where, argnum=None):
    """(the argument positions, whether one int was given). `argnum` is HIPS autograd's
    spelling of `argnums`, taken by every transform that takes `argnums`."""
    if argnum is not None:
        if argnums != 0 and argnums != argnum:
            raise TypeError(f"{where}: give argnums or argnum (its HIPS autograd spelling), "
                            f"not both ({argnums!r} and {argnum!r})")
        argnums = argnum
    if isinstance(argnums, int):
        return (argnums,), True
    if isinstance(argnums, tuple) and argnums and all(isinstance(i, int) for i in argnums):
        if len(set(argnums)) != len(argnums):
            raise ValueError(f"{where}: argnums {argnums} names an argument twice")
        return argnums, False
    raise TypeError(
        f"{where}: argnums must be an int or a non-empty tuple of ints, not {argnums!r}"
    )


def _bind(f, kwargs):
    return functools.partial(f, **kwargs) if kwargs else f


def _shaped(lin):
    return _tree.unflatten(lin.out_def, lin.visible_outputs())


def _matching(tangent, primal, where):
    """The leaves of `tangent`, which must have `primal`'s structure."""
    found, treedef = _tree.flatten(tangent)
    expected = _tree.structure(primal)
    if treedef != expected:
        raise ValueError(f"{where}: a tangent has structure {treedef}, but its primal has "
                         f"{expected}")
    return found


def _matching_leaves(tangents, lin, where):
    """One tangent leaf (None for zero) per variable of `lin`, from per-primal pytrees."""
    flat = []
    for t, d in zip(tangents, lin.arg_defs):
        found, treedef = _tree.flatten(t)
        if t is None:
            found, treedef = [None] * d.num_leaves, d
        if treedef != d:
            raise ValueError(f"{where}: a tangent has structure {treedef}, but its primal "
                             f"has {d}")
        flat.extend(found)
    return flat


def _as_list(x):
    return list(x) if isinstance(x, (tuple, list)) else [x]


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)
