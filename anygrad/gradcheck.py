"""Gradient checks against central differences, in float64.

The analytic side is one backward pass with a random output cotangent `u`, giving
J^T u for every input at once. The numeric side perturbs inputs: element by element
for small inputs (so a failure names the element), along random directions for large
ones (one inner product each, as HIPS autograd and Chainer do).

Complex inputs and outputs are checked as pairs of real numbers. The function checked
is the real number L = sum(Re(o) Re(u) + Im(o) Im(u)) over the outputs o, whose
gradient with respect to o is u in anygrad's (PyTorch's) convention; the real and
imaginary part of each complex input element are perturbed separately, and compared
with the real and imaginary part of its gradient, dL/dRe + i dL/dIm.

Inputs may also be raw arrays and Python floats, as HIPS autograd's `check_grads`
takes them: a floating one (a float64 numpy array, say) is checked as if it were a
tensor requiring grad, so a function of numpy arrays written with `anygrad.numpy` is
checked directly; other raw inputs (integer labels, masks) are passed as they are.
"""
from __future__ import annotations

from .coercion import is_array
from .creation import tensor, zeros_like
from .dtypes import is_complex, is_floating
from .engine import backward
from .modes import enable_grad
from .tensor import Tensor

_ELEMENTWISE_LIMIT = 64  # inputs up to this size are checked element by element
_DIRECTIONS = 3


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, grad_outputs=None):
    """True if fn's backward matches central differences; else AssertionError with a report.

    `inputs` is a tensor or a sequence of them; those that require grad are checked and
    must be float64 or complex128, and so are floating raw arrays and Python floats
    (see the module docstring). `fn` returns a tensor or a sequence of tensors.
    """
    inputs = _variables(_as_list(inputs))
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; pass requires_grad=True tensors")
    for i in checked:
        if inputs[i].dtype.name not in ("float64", "complex128"):
            raise TypeError(
                f"gradcheck: input {i} has dtype {inputs[i].dtype}; finite differences need "
                "float64 or complex128 inputs"
            )
    with enable_grad():
        outputs = _as_list(fn(*inputs))
    cotangents = grad_outputs or [_random_like(o, seed + k) for k, o in enumerate(outputs)]
    differentiable = [(o, u) for o, u in zip(outputs, cotangents) if o.requires_grad]
    analytic = [None] * len(inputs)
    if differentiable:
        found = backward([o for o, _ in differentiable], [u.array for _, u in differentiable],
                         inputs=[inputs[i] for i in checked])
        for i, g in zip(checked, found):
            analytic[i] = g

    def projected(args):
        with enable_grad():
            outs = _as_list(fn(*args))
        total = 0.0
        for o, u in zip(outs, cotangents):
            xp = o.backend.xp
            if is_complex(u.array.dtype):  # Re(o) Re(u) + Im(o) Im(u)
                total += float(xp.real(xp.sum(o.array * xp.conj(u.array))))
            else:
                total += float(xp.sum(o.array * u.array))
        return total

    for i in checked:
        x = inputs[i]
        xp = x.backend.xp
        got = analytic[i]
        got = xp.zeros_like(x.array) if got is None else got.array
        if x.size <= _ELEMENTWISE_LIMIT:
            _check_elements(projected, inputs, i, got, eps, atol, rtol)
        else:
            _check_directions(projected, inputs, i, got, eps, atol, rtol, seed)
    return True


def check_grads(fn, modes=("fwd", "rev"), order=2, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """HIPS autograd's spelling of the checks: `check_grads(f, modes=["rev"], order=2)(*args)`
    raises AssertionError unless f's derivatives up to `order` (1 or 2) match central
    differences at args.

    "rev" is `gradcheck` (and `gradgradcheck` for order 2); "fwd" compares `ag.jvp`
    along a random direction with the difference of f's outputs (and, for order 2,
    checks the derivative of that product with `gradcheck`). Every floating argument is
    checked, as in HIPS autograd (tensors that do not require grad too); they must be
    float64 or complex128.
    """
    unknown = set(modes) - {"fwd", "rev"}
    if unknown:
        raise ValueError(f"check_grads: modes are 'fwd' and 'rev', not {sorted(unknown)}")
    if order not in (1, 2):
        raise ValueError(f"check_grads: order must be 1 or 2, not {order!r}")
    options = dict(eps=eps, atol=atol, rtol=rtol, seed=seed)

    def check(*args):
        args = _variables(args, every=True)  # as HIPS autograd, every floating argument
        if "rev" in modes:
            gradcheck(fn, args, **options)
            if order == 2:
                gradgradcheck(fn, args, **options)
        if "fwd" in modes:
            _check_forward(fn, args, order, options)

    return check


def _check_forward(fn, inputs, order, options):
    from .transforms import jvp

    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("check_grads: no argument to differentiate; pass float64 arrays")
    tangents = [_random_like(inputs[i], options["seed"] + 2000 + i) for i in checked]

    def pushed(*args):
        def of_checked(*xs):
            full = list(args)
            for i, x in zip(checked, xs):
                full[i] = x
            return fn(*full)

        return jvp(of_checked, tuple(args[i] for i in checked), tuple(tangents))[1]

    eps = options["eps"]
    plus, minus = list(inputs), list(inputs)
    for i, v in zip(checked, tangents):
        x = inputs[i]
        plus[i] = Tensor(x.array + eps * v.array, backend=x.backend)
        minus[i] = Tensor(x.array - eps * v.array, backend=x.backend)
    with enable_grad():
        got = _as_list(pushed(*inputs))
        ups, downs = _as_list(fn(*plus)), _as_list(fn(*minus))
    for k, (g, up, down) in enumerate(zip(got, ups, downs)):
        xp = g.backend.xp
        numeric = (up.array - down.array) / (2 * eps)
        error = float(xp.max(xp.abs(g.array - numeric) - options["rtol"] * xp.abs(numeric)))
        if not error <= options["atol"]:
            raise AssertionError(
                f"check_grads: forward mode, output {k} (shape {g.shape}): the Jacobian-vector "
                f"product differs from central differences by up to {error:.3g} beyond the "
                "relative tolerance"
            )
    if order == 2:
        gradcheck(pushed, inputs, **options)


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """True if the gradient of fn (built with create_graph=True) passes gradcheck itself.
    Inputs as for `gradcheck`."""
    inputs = _variables(_as_list(inputs))
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


def _variables(inputs, every=False):
    """The inputs with floating raw arrays and Python floats (and with `every`, floating
    tensors too) made tensors requiring grad: copies, the caller's are never touched."""
    made = []
    for x in inputs:
        floating = (is_array(x) or isinstance(x, Tensor)) and (
            is_floating(x.dtype) or is_complex(x.dtype))
        if type(x) is float or (floating and not isinstance(x, Tensor)) or (
                every and floating and not x.requires_grad):
            x = tensor(x, requires_grad=True)
        made.append(x)
    return made


def _random_like(t, seed):
    backend = t.backend
    state = backend._rng
    backend.seed(seed)
    try:
        values = backend.normal(t.shape, "float64", backend.device(t.array))
        if is_complex(t.array.dtype):
            imag = backend.normal(t.shape, "float64", backend.device(t.array))
            values = backend.xp.astype(values, t.array.dtype) + 1j * backend.xp.astype(
                imag, t.array.dtype)
    finally:
        backend._rng = state
    return Tensor(backend.xp.astype(values, t.array.dtype), backend=backend)


def _with(inputs, i, data):
    args = list(inputs)
    args[i] = Tensor(data, backend=inputs[i].backend)
    args[i].requires_grad = inputs[i].requires_grad
    return args


def _parts(xp, x):
    """The real directions of perturbation of x's elements: (name, unit, part of the
    gradient that answers it)."""
    if is_complex(x.dtype):
        return [("real part of ", 1.0, xp.real), ("imaginary part of ", 1j, xp.imag)]
    return [("", 1.0, None)]


def _check_elements(projected, inputs, i, analytic, eps, atol, rtol):
    x = inputs[i]
    xp = x.backend.xp
    flat = xp.reshape(x.array, (-1,))
    positions = xp.arange(flat.shape[0], device=x.backend.device(flat))
    for part, unit, take in _parts(xp, x):
        got = xp.reshape(analytic if take is None else take(analytic), (-1,))
        for k in range(flat.shape[0]):
            step = xp.where(positions == k, xp.asarray(eps * unit, dtype=flat.dtype),
                            xp.zeros_like(flat))
            plus = projected(_with(inputs, i, xp.reshape(flat + step, x.shape)))
            minus = projected(_with(inputs, i, xp.reshape(flat - step, x.shape)))
            numeric = (plus - minus) / (2 * eps)
            value = float(got[k])
            if not abs(value - numeric) <= atol + rtol * abs(numeric):
                raise AssertionError(
                    f"gradcheck: input {i} (shape {x.shape}), {part}element "
                    f"{_unravel(k, x.shape)}: analytic {value:.8g} vs numerical {numeric:.8g} "
                    f"(difference {abs(value - numeric):.3g}, "
                    f"allowed {atol + rtol * abs(numeric):.3g})"
                )


def _check_directions(projected, inputs, i, analytic, eps, atol, rtol, seed):
    x = inputs[i]
    xp = x.backend.xp
    for d in range(_DIRECTIONS):
        v = _random_like(x, seed + 1000 + d).array
        plus = projected(_with(inputs, i, x.array + eps * v))
        minus = projected(_with(inputs, i, x.array - eps * v))
        numeric = (plus - minus) / (2 * eps)
        if is_complex(v.dtype):  # the inner product of the two as real vectors
            value = float(xp.real(xp.sum(xp.conj(analytic) * v)))
        else:
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
