"""Derivatives written by the user: `custom_vjp` (JAX's form) and `Function` (PyTorch's).

    @ag.custom_vjp
    def clip_gradient(x, lo, hi):
        return x

    def fwd(x, lo, hi):
        return x, (lo, hi)            # output, residuals

    def bwd(res, g):
        lo, hi = res
        return ag.clip(g, lo, hi), None, None   # one cotangent per argument

    clip_gradient.defvjp(fwd, bwd)

Each call records one node whose rule calls the user's backward; nothing is registered
globally (the op registry, `anygrad.ops.registry`, is for the library's own ops). Rules
always see Tensors and may return Tensors or the backend's arrays, one per positional
argument (None: no gradient; arguments that are not tensors get None). Their results are
checked once: count, shape and dtype, never broadcast.

Forward runs with gradient recording off, as in PyTorch. When a gradient is itself
recorded (`create_graph`, so: gradients of gradients, `hessian`, `hvp`), the forward is
run again with recording on, on the node's inputs, so that its residuals (or what
`ctx.save_for_backward` kept) are differentiable functions of the inputs, and the rule,
written with anygrad's ops, is differentiated like any other code. A rule or forward
that leaves anygrad (scipy, `.numpy()`, a C library) gives results with no graph back to
the inputs; then second order raises an error naming the function instead of silently
dropping a term. The test: under `create_graph`, each cotangent must depend on something
other than the incoming cotangent g when an input requires grad, and the recomputed
outputs must carry a graph. A cotangent that fails it is still returned (first-order
results are right), through a guard whose own derivative raises; so the error comes only
when that gradient is differentiated again, which includes forward mode (`jvp`, a
forward-mode `jacobian`, `hvp`), built here on differentiating a rule. Under `ag.compile`
such a failure, like a host read (`.numpy()`, `.item()`) in the forward or the rule,
makes the call run eagerly instead, naming the function (or raise, with `strict=True`).
A rule that is truly independent of the inputs (a straight-through estimator, a
gradient reversal: g times constants) declares `linear=True`: then only its dependence
on g is checked and the forward is not rerun.
"""
from __future__ import annotations

import functools

from .creation import as_tensor
from .engine import Node, Op, _wrap
from .modes import _anomaly_mode, _recording, enable_grad, is_grad_enabled, no_grad
from .tensor import Tensor

__all__ = ["custom_vjp", "Function", "FunctionCtx"]


# ----------------------------------------------------------------- the shared core
def _call(name, fwd, bwd, args, kwargs, linear, plain=None):
    """Run `fwd(*args, **kwargs) -> (outputs, residuals)` and record one node per
    floating output whose rule is `bwd(residuals, cotangents) -> per-argument tuple`.

    `plain(*args, **kwargs)`, when given, is the primal used where nothing needs a
    gradient (no residuals kept)."""
    args = tuple(_admit(a) for a in args)
    tensors = [a for a in args if isinstance(a, Tensor)]
    differentiable = is_grad_enabled() and any(t.requires_grad for t in tensors)
    if not differentiable and plain is not None:
        return plain(*args, **kwargs)
    for i, t in enumerate(args):
        if isinstance(t, Tensor) and t.requires_grad and t.dtype.kind == "complex floating":
            raise TypeError(f"{name}: argument {i} is complex ({t.dtype}); custom derivatives "
                            "are defined for real inputs only")
    with _in_user_code(name, "forward"), no_grad():
        result, residuals = fwd(*args, **kwargs)
    single = not isinstance(result, (tuple, list))
    outputs = [_as_output(name, o, k) for k, o in enumerate([result] if single else result)]
    if not differentiable:
        return outputs[0] if single else tuple(outputs)
    for k, o in enumerate(outputs):
        if o.dtype.kind == "complex floating":
            raise TypeError(f"{name}: output {k} is complex ({o.dtype}); custom derivatives "
                            "are defined for real outputs only")
    call = _Call(name, fwd, bwd, args, kwargs, residuals, outputs, linear)
    anomaly = _anomaly_mode.get()
    recorder = _recording.get()
    wrapped = []
    for k, o in enumerate(outputs):
        out = _wrap(o.array, o.backend)
        if o.dtype.is_floating and k not in call.constant:
            op = Op(name, None, *[call.rule(k, i) for i in range(len(args))])
            out._requires_grad = True
            out.node = Node(op, list(args), o.array, {}, o.backend)
            if anomaly is not None:
                anomaly.on_forward(op, out)
            if recorder is not None:
                recorder.on_custom_node(out.node)
        wrapped.append(out)
    call.outputs = None  # only shapes and dtypes are needed from here on
    return wrapped[0] if single else tuple(wrapped)


def _admit(a):
    """Backend arrays become constant tensors; numbers and None pass through."""
    if isinstance(a, Tensor) or not (hasattr(a, "shape") and hasattr(a, "dtype")):
        return a
    return as_tensor(a)


def _as_output(name, o, k):
    if isinstance(o, Tensor):
        return o
    if hasattr(o, "shape") and hasattr(o, "dtype"):
        return as_tensor(o)
    raise TypeError(f"{name}: forward must return tensors or arrays (or a tuple of them); "
                    f"output {k} is a {type(o).__name__}")


class _in_user_code:
    """While user code runs inside a recording, say which function a problem came from."""

    def __init__(self, name, part):
        self.label = f"custom function {name!r} ({part})"

    def __enter__(self):
        recorder = _recording.get()
        self.recorder, self.before = recorder, len(recorder.problems) if recorder else 0
        return self

    def __exit__(self, kind, exc, tb):
        from .compile.recorder import CompileError

        if isinstance(exc, CompileError):
            raise CompileError(f"{exc} [in {self.label}]") from None
        if self.recorder is not None:
            problems = self.recorder.problems
            for j in range(self.before, len(problems)):
                problems[j] = f"{problems[j]} [in {self.label}]"
        return False


class _Call:
    """One call of a custom function: what its rules need, shared by its outputs' nodes."""

    def __init__(self, name, fwd, bwd, args, kwargs, residuals, outputs, linear):
        self.name, self.fwd, self.bwd = name, fwd, bwd
        self.kwargs, self.residuals, self.linear = kwargs, residuals, linear
        self.n_args = len(args)
        self.needs = [isinstance(a, Tensor) and a.requires_grad for a in args]
        self.specs = [(tuple(a.shape), a.dtype) if isinstance(a, Tensor) else None for a in args]
        self.out_specs = [(tuple(o.shape), o.dtype, o.backend, o.backend.device(o.array))
                          for o in outputs]
        self.constant = set()  # outputs marked non-differentiable (Function only)
        if isinstance(residuals, FunctionCtx):
            self.constant = {k for k, o in enumerate(outputs) if id(o) in residuals._marked}
        self.outputs = outputs
        self.cache = None  # (output index, g, cotangents) of the rule call in progress

    def rule(self, k, i):
        """The engine's VJP rule for input i through output k; the user's rule runs once
        per output and node visit, whichever input asks first."""

        def vjp(ns, g, ans, *values):
            cache = self.cache
            if cache is None or cache[0] != k or cache[1] is not g:
                self.cache = cache = (k, g, self._cotangents(k, g, values))
            if i == cache[2][-1]:  # the last input asking: let g go
                self.cache = None
            gi = cache[2][0][i]
            if gi is None:  # no gradient for this input: a zero of its shape
                gi = _zeros(values[i], isinstance(g, Tensor), self.out_specs[k][2])
            return gi

        return vjp

    def _cotangents(self, k, g, values):
        graph = isinstance(g, Tensor)
        backend = self.out_specs[k][2]
        g = g if graph else _wrap(g, backend)
        gs = tuple(g if j == k else _zeros_like_spec(spec)
                   for j, spec in enumerate(self.out_specs))
        inputs = [v if isinstance(v, Tensor) or not hasattr(v, "shape") else _wrap(v, backend)
                  for v in values]
        # Whether this gradient is itself recorded. (ag.compile runs rules on Tensors
        # with recording off when the caller did not ask for create_graph.)
        higher = graph and is_grad_enabled()
        wants_inputs = higher and any(isinstance(t, Tensor) and t.requires_grad for t in inputs)
        residuals, why = self.residuals, None
        if wants_inputs and not self.linear:
            residuals, why = self._recompute(inputs)
        with _in_user_code(self.name, "backward"):
            found = self.bwd(residuals, gs)
        found = self._checked(found, inputs, backend)
        last = max(i for i, needed in enumerate(self.needs) if needed)
        if higher:
            return self._guarded(found, inputs, g, why), last
        if graph:
            return found, last
        return [None if c is None else c.array for c in found], last

    def _recompute(self, inputs):
        """The forward again, recorded, so that its residuals carry graphs to the inputs.
        Returns (residuals, why the rule's results cannot be differentiated, or None)."""
        with _in_user_code(self.name, "forward"), enable_grad():
            result, residuals = self.fwd(*inputs, **self.kwargs)
        outs = [result] if not isinstance(result, (tuple, list)) else result
        for k, o in enumerate(outs):
            if (isinstance(o, Tensor) and k not in self.constant and o.dtype.is_floating
                    and not o.requires_grad):
                return residuals, (f"its forward's output {k} has no graph back to the inputs "
                                   "(the forward leaves anygrad: scipy, .numpy(), raw arrays)")
        return residuals, None

    def _checked(self, found, inputs, backend):
        name = self.name
        if not isinstance(found, (tuple, list)):
            found = (found,)
        if len(found) != self.n_args:
            raise TypeError(f"{name}: the backward rule returned {len(found)} cotangent(s) for "
                            f"{self.n_args} argument(s); return one per argument (None for no "
                            "gradient)")
        checked = []
        for i, (c, spec) in enumerate(zip(found, self.specs)):
            if c is None or spec is None:
                checked.append(None)
                continue
            if not isinstance(c, Tensor):
                if not (hasattr(c, "shape") and hasattr(c, "dtype")):
                    raise TypeError(f"{name}: the backward rule's cotangent for argument {i} is "
                                    f"a {type(c).__name__}; return a tensor or an array")
                c = as_tensor(c)
            if c.backend is not backend:
                raise TypeError(f"{name}: the backward rule's cotangent for argument {i} lives on "
                                f"backend {c.backend.name!r}, the argument on {backend.name!r}")
            shape, dtype = spec
            if tuple(c.shape) != shape:
                raise ValueError(f"{name}: the backward rule's cotangent for argument {i} has "
                                 f"shape {tuple(c.shape)}, but the argument has shape {shape}")
            if c.dtype != dtype:
                raise TypeError(f"{name}: the backward rule's cotangent for argument {i} has "
                                f"dtype {c.dtype}, but the argument has dtype {dtype}")
            checked.append(c)
        return checked

    def _guarded(self, found, inputs, g, why):
        """Under create_graph, a cotangent with no graph where one is due means the rule
        (or forward) left anygrad: differentiating it would silently drop a term. Such a
        cotangent is passed on through a guard whose derivative raises, so first-order
        results stay available and second order fails with the reason."""
        watched = [g] if self.linear else [t for t in inputs
                                           if isinstance(t, Tensor) and t.requires_grad]
        result = []
        for i, c in enumerate(found):
            reason = why
            if c is None or not self.needs[i]:
                result.append(c)
                continue
            if reason is None and self.linear and g.requires_grad and not c.requires_grad:
                reason = (f"the cotangent for argument {i} has no graph back to the incoming "
                          "cotangent")
            elif reason is None and not self.linear and not _depends_beyond(c, g, watched):
                reason = f"the cotangent for argument {i} has no graph back to the inputs"
            if reason is None:
                result.append(c)
                continue
            text = (f"second-order derivative through custom function {self.name!r}: "
                    f"{reason}, so its derivative cannot be taken; write the rule (and "
                    "forward) with anygrad's ops, or, if the rule is truly independent of the "
                    "inputs (g times constants), declare it with linear=True")
            recorder = _recording.get()
            if recorder is not None:  # ag.compile records backward with create_graph itself
                recorder.problem(text)
                result.append(c)
                continue
            result.append(_guard(text, c, watched))
        return result


def _guard(text, c, watched):
    def refuse(*_):
        raise RuntimeError(text)

    rules = [lambda ns, g, ans, *values: g] + [refuse] * len(watched)
    guard = Op("custom rule without a graph", lambda xp, c, *others: c, *rules, passes=(0,))
    return guard(c, *watched)


def _depends_beyond(c, g, inputs):
    """Whether the graph of `c` reaches a tensor requiring grad other than through `g`:
    one of `inputs` (where the walk stops, short of the graph before them) or a leaf."""
    if not c.requires_grad:
        return False
    stop = g.node
    targets = {id(t) for t in inputs}
    seen = set()
    stack = [c]
    while stack:
        t = stack.pop()
        if t is g or not (isinstance(t, Tensor) and t.requires_grad):
            continue
        if id(t) in targets:
            return True
        node = t.node
        if node is None:
            return True  # a leaf other than g: an input, or a parameter the rule uses
        if node is stop or id(node) in seen:
            continue
        seen.add(id(node))
        if node.inputs is None:
            return True
        stack.extend(node.inputs)
    return False


def _zeros(like, graph, backend):
    from .creation import zeros_like

    return zeros_like(like) if graph else backend.xp.zeros_like(like)


def _zeros_like_spec(spec):
    shape, dtype, backend, device = spec
    return _wrap(backend.xp.zeros(shape, dtype=backend.dtype(dtype.name), device=device), backend)


# ----------------------------------------------------------------- JAX's form
class custom_vjp:
    """A function with a user-defined vector-Jacobian product, as JAX's `custom_vjp`.

    `f.defvjp(fwd, bwd)`: `fwd(*args)` returns `(output, residuals)`; `bwd(residuals, g)`
    returns one cotangent per positional argument of f (None for no gradient). `g` is
    one tensor for a single output, a tuple for a tuple of outputs. Keyword arguments
    are passed to f and fwd unchanged and are never differentiated. `linear=True`
    declares a rule independent of the inputs (see the module's docstring).
    """

    def __init__(self, fun=None, *, linear=False):
        self.fun = fun
        self.linear = linear
        self.fwd = self.bwd = None
        if fun is not None:
            functools.update_wrapper(self, fun)

    def __call__(self, *args, **kwargs):
        if self.fun is None:  # @custom_vjp(linear=True)
            return custom_vjp(args[0], linear=self.linear)
        if self.fwd is None:
            raise TypeError(f"custom_vjp {self.__name__!r}: no rule yet; call "
                            f"{self.__name__}.defvjp(fwd, bwd)")
        bwd = self.bwd

        def rule(residuals, gs):
            return bwd(residuals, gs[0] if len(gs) == 1 else gs)

        return _call(self.__name__, self.fwd, rule, args, kwargs, self.linear, plain=self.fun)

    def defvjp(self, fwd, bwd):
        self.fwd, self.bwd = fwd, bwd
        return self


# ----------------------------------------------------------------- PyTorch's form
class FunctionCtx:
    """What `Function.forward` hands to `backward`: saved tensors and flags."""

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self.saved_tensors = ()
        self._marked = set()

    def save_for_backward(self, *tensors):
        self.saved_tensors = tuple(tensors)

    def mark_non_differentiable(self, *outputs):
        self._marked.update(id(o) for o in outputs)


class Function:
    """A differentiable function as a class, as PyTorch's `torch.autograd.Function`:

        class Exp(ag.Function):
            @staticmethod
            def forward(ctx, x):
                y = ag.exp(x)
                ctx.save_for_backward(y)
                return y

            @staticmethod
            def backward(ctx, g):
                y, = ctx.saved_tensors
                return g * y

        y = Exp.apply(x)

    forward runs with gradient recording off and gets the arguments as they were passed
    (arrays as constant tensors); backward returns one gradient per argument of forward.
    With `create_graph` the forward is run again with recording on (see the module's
    docstring), so it should have no side effects. Set `linear = True` on the class for
    a backward independent of the inputs.
    """

    linear = False

    def __init__(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__}: call {type(self).__name__}.apply(...), "
                        "not the class itself")

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        needs = tuple(isinstance(a, Tensor) and a.requires_grad and is_grad_enabled()
                      for a in args)

        def fwd(*inputs, **kw):
            ctx = FunctionCtx(needs)
            return cls.forward(ctx, *inputs, **kw), ctx

        def bwd(ctx, gs):
            return cls.backward(ctx, *gs)

        return _call(cls.__qualname__, fwd, bwd, args, kwargs, cls.linear)
