"""Gradient checks against central differences, in float64.

The analytic side is one backward pass with a random output cotangent `u`, giving
J^T u for every input at once. The numeric side perturbs inputs: element by element
for small inputs (so a failure names the element), along random directions for large
ones (one inner product each, as HIPS autograd and Chainer do).
"""
from __future__ import annotations

from .creation import zeros_like
from .engine import backward
from .modes import enable_grad
from .tensor import Tensor

_ELEMENTWISE_LIMIT = 64  # inputs up to this size are checked element by element
_DIRECTIONS = 3


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, grad_outputs=None):
    """True if fn's backward matches central differences; else AssertionError with a report.

    `inputs` is a tensor or a sequence of them; those that require grad are checked and
    must be float64. `fn` returns a tensor or a sequence of tensors.
    """
    inputs = _as_list(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; pass requires_grad=True tensors")
    for i in checked:
        if inputs[i].dtype != inputs[i].backend.xp.float64:
            raise TypeError(
                f"gradcheck: input {i} has dtype {inputs[i].dtype}; finite differences need "
                "float64 inputs"
            )
    with enable_grad():
        outputs = _as_list(fn(*inputs))
    cotangents = grad_outputs or [_random_like(o, seed + k) for k, o in enumerate(outputs)]
    differentiable = [(o, u) for o, u in zip(outputs, cotangents) if o.requires_grad]
    analytic = [None] * len(inputs)
    if differentiable:
        analytic = backward([o for o, _ in differentiable], [u.data for _, u in differentiable],
                            inputs=inputs)

    def projected(args):
        with enable_grad():
            outs = _as_list(fn(*args))
        total = 0.0
        for o, u in zip(outs, cotangents):
            total += float(o.backend.xp.sum(o.data * u.data))
        return total

    for i in checked:
        x = inputs[i]
        xp = x.backend.xp
        got = analytic[i]
        got = xp.zeros_like(x.data) if got is None else got.data
        if x.size <= _ELEMENTWISE_LIMIT:
            _check_elements(projected, inputs, i, got, eps, atol, rtol)
        else:
            _check_directions(projected, inputs, i, got, eps, atol, rtol, seed)
    return True


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """True if the gradient of fn (built with create_graph=True) passes gradcheck itself."""
    inputs = _as_list(inputs)
    with enable_grad():
        outputs = _as_list(fn(*inputs))
    cotangents = [_random_like(o, seed + 100 + k) for k, o in enumerate(outputs)]
    checked = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]

    def first_derivative(*args):
        wrt = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
        outs = _as_list(fn(*args))
        pairs = [(o, u) for o, u in zip(outs, cotangents) if o.requires_grad]
        grads = backward([o for o, _ in pairs], [u for _, u in pairs], create_graph=True,
                         retain_graph=True, inputs=wrt)
        # A gradient that fell out of the graph still counts: its analytic second
        # derivative is then zero, and the numerical one will say whether that is true.
        return [zeros_like(t) if g is None else g for g, t in zip(grads, wrt)]

    if not checked:
        raise ValueError("gradgradcheck: no input requires grad")
    return gradcheck(first_derivative, inputs, eps=eps, atol=atol, rtol=rtol, seed=seed + 1)


# ----------------------------------------------------------------- helpers
def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _random_like(t, seed):
    backend = t.backend
    state = backend._rng
    backend.seed(seed)
    try:
        values = backend.normal(t.shape, "float64", backend.device(t.data))
    finally:
        backend._rng = state
    return Tensor(backend.xp.astype(values, t.data.dtype), backend=backend)


def _with(inputs, i, data):
    args = list(inputs)
    args[i] = Tensor(data, backend=inputs[i].backend)
    args[i].requires_grad = inputs[i].requires_grad
    return args


def _check_elements(projected, inputs, i, analytic, eps, atol, rtol):
    x = inputs[i]
    xp = x.backend.xp
    flat = xp.reshape(x.data, (-1,))
    got = xp.reshape(analytic, (-1,))
    positions = xp.arange(flat.shape[0], device=x.backend.device(flat))
    for k in range(flat.shape[0]):
        step = xp.where(positions == k, xp.asarray(eps, dtype=flat.dtype), xp.zeros_like(flat))
        plus = projected(_with(inputs, i, xp.reshape(flat + step, x.shape)))
        minus = projected(_with(inputs, i, xp.reshape(flat - step, x.shape)))
        numeric = (plus - minus) / (2 * eps)
        value = float(got[k])
        if not abs(value - numeric) <= atol + rtol * abs(numeric):
            raise AssertionError(
                f"gradcheck: input {i} (shape {x.shape}), element {_unravel(k, x.shape)}: "
                f"analytic {value:.8g} vs numerical {numeric:.8g} "
                f"(difference {abs(value - numeric):.3g}, allowed {atol + rtol * abs(numeric):.3g})"
            )


def _check_directions(projected, inputs, i, analytic, eps, atol, rtol, seed):
    x = inputs[i]
    xp = x.backend.xp
    for d in range(_DIRECTIONS):
        v = _random_like(x, seed + 1000 + d).data
        plus = projected(_with(inputs, i, x.data + eps * v))
        minus = projected(_with(inputs, i, x.data - eps * v))
        numeric = (plus - minus) / (2 * eps)
        value = float(xp.sum(analytic * v))
        if not abs(value - numeric) <= atol + rtol * abs(numeric):
            raise AssertionError(
                f"gradcheck: input {i} (shape {x.shape}), random direction {d}: analytic "
                f"directional derivative {value:.8g} vs numerical {numeric:.8g}"
            )


def _unravel(k, shape):
    index = []
    for n in reversed(shape):
        index.append(k % n)
        k //= n
    return tuple(reversed(index))
