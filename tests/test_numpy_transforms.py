"""The transforms and gradient checks called as numpy programs call them: raw arrays
(and pytrees of them) in, raw arrays out; HIPS autograd's `elementwise_grad`, `argnum`
and `check_grads`-style checks of functions of numpy arrays."""
import numpy as np
import pytest

import anygrad as ag
from conftest import make, random


def raw(data, backend):
    """The backend's own float64 array (not a Tensor) holding `data`."""
    return make(data, backend, requires_grad=False).array


def on_host(a):
    return ag.as_tensor(a).numpy()


# ----------------------------------------------------------------- raw in, raw out
def test_grad_and_value_of_raw_arrays_are_raw_arrays(backend):
    data = random((4,), seed=1)
    x = raw(data, backend)
    seen = []

    def f(x):
        seen.append(isinstance(x, ag.Tensor) and x.requires_grad)
        return ag.sum(ag.sin(x) * x)

    value, g = ag.value_and_grad(f)(x)
    assert seen == [True]  # the function itself differentiates a Tensor
    assert type(g) is type(x) and not isinstance(value, ag.Tensor)
    np.testing.assert_allclose(on_host(g), np.cos(data) * data + np.sin(data), rtol=1e-13)
    assert float(value) == pytest.approx(np.sum(np.sin(data) * data), rel=1e-13)
    assert type(ag.grad(f)(x)) is type(x)


def test_tensors_in_give_tensors_out(backend):
    x = make(random((3,)), backend, requires_grad=False)
    value, g = ag.value_and_grad(lambda x: ag.sum(x ** 2))(x)
    assert isinstance(value, ag.Tensor) and isinstance(g, ag.Tensor)
    np.testing.assert_allclose(g.numpy(), 2 * x.numpy(), rtol=1e-14)


def test_python_floats_give_python_floats(backend):
    value, g = ag.value_and_grad(lambda x: ag.tanh(x) * x)(0.5)
    assert type(value) is float and type(g) is float
    assert g == pytest.approx(np.tanh(0.5) + 0.5 * (1 - np.tanh(0.5) ** 2), rel=1e-13)


def test_pytree_of_raw_arrays_gives_the_same_structure_of_raw_arrays(backend):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    shapes = [(3, 4), (4, 2)]
    params = [(raw(rng.normal(size=s), backend), raw(rng.normal(size=s[1]), backend))
              for s in shapes]
    Xb, yb = raw(X, backend), raw(y, backend)

    def loss(params):
        h = ag.as_tensor(Xb)
        for W, b in params:
            h = ag.tanh(h @ W + b)
        return ag.sum((h - yb) ** 2)

    grads = ag.grad(loss)(params)
    assert ag.tree.structure(grads) == ag.tree.structure(params)
    assert all(type(g) is type(p) for g, p in zip(ag.tree.leaves(grads), ag.tree.leaves(params)))
    # The gradient of a two-layer tanh net by hand (chain rule, numpy on the host).
    (W1, b1), (W2, b2) = [(on_host(W), on_host(b)) for W, b in params]
    h1 = np.tanh(X @ W1 + b1)
    out = np.tanh(h1 @ W2 + b2)
    d2 = 2 * (out - y) * (1 - out ** 2)
    d1 = (d2 @ W2.T) * (1 - h1 ** 2)
    expected = [(X.T @ d1, d1.sum(0)), (h1.T @ d2, d2.sum(0))]
    for got, want in zip(ag.tree.leaves(grads), ag.tree.leaves(expected)):
        np.testing.assert_allclose(on_host(got), want, rtol=1e-12, atol=1e-14)


def test_hips_style_update_loop_on_numpy_arrays():
    # HIPS autograd's idiom: numpy arrays updated in place with the gradient.
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 3)), rng.normal(size=20)
    w = np.zeros(3)
    loss = lambda w: ag.sum((ag.as_tensor(X) @ w - y) ** 2) / 20  # noqa: E731
    for _ in range(200):
        w -= 0.1 * ag.grad(loss)(w)
    assert type(w) is np.ndarray
    np.testing.assert_allclose(w, np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-6)


def test_raw_gradients_are_fresh_writable_arrays():
    # The gradient of a sum or a mean is a broadcast of one number; numpy code scales
    # or clips its gradients in place.
    x, u = np.ones(3), np.array([1.0, 2.0, 3.0])
    for f in (ag.sum, ag.mean):
        g = ag.grad(f)(x)
        g *= 2.0
        np.testing.assert_allclose(g, 2.0 / (1 if f is ag.sum else 3) * np.ones(3))
    (g,) = ag.vjp(lambda x: x * 1.0, x)[1](u)
    g[0] = 7.0
    np.testing.assert_array_equal(u, [1.0, 2.0, 3.0])


def test_jacobian_hessian_vjp_jvp_of_raw_arrays(backend):
    data = random((3,), seed=2)
    x, v = raw(data, backend), raw(np.ones(3), backend)
    cube = lambda x: ag.sum(x ** 3)  # noqa: E731
    jac = ag.jacobian(ag.tanh)(x)
    hess = ag.hessian(cube)(x)
    out, vjp_fn = ag.vjp(ag.tanh, x)
    (gx,) = vjp_fn(v)
    tan_out, jv = ag.jvp(ag.tanh, (x,), (v,))
    hv = ag.hvp(cube, x, v)
    for got in (jac, hess, out, gx, tan_out, jv, hv):
        assert type(got) is type(x)
    d = 1 - np.tanh(data) ** 2
    np.testing.assert_allclose(on_host(jac), np.diag(d), rtol=1e-13)
    np.testing.assert_allclose(on_host(hess), np.diag(6 * data), rtol=1e-13)
    np.testing.assert_allclose(on_host(gx), d, rtol=1e-13)
    np.testing.assert_allclose(on_host(jv), d, rtol=1e-13)
    np.testing.assert_allclose(on_host(hv), 6 * data, rtol=1e-13)


def test_a_gradient_in_an_enclosing_graph_stays_a_tensor(backend):
    # d/dw sum((d/dx sum(x * w))^2) = d/dw sum(w^2) = 2w: the inner gradient (w) must
    # keep its graph although x came in raw, or the outer one would silently be zero.
    x = raw(random((3,), seed=3), backend)
    w = random((3,), seed=4)
    inner = lambda w: ag.sum(ag.grad(lambda x: ag.sum(x * w))(x) ** 2)  # noqa: E731
    np.testing.assert_allclose(on_host(ag.grad(inner)(raw(w, backend))), 2 * w, rtol=1e-13)
    # A parameter captured by the function: the gradient is part of its graph.
    p = make(w, backend)
    g = ag.grad(lambda x: ag.sum(x * p))(x)
    assert isinstance(g, ag.Tensor) and g.requires_grad
    ag.sum(g * g).backward()
    np.testing.assert_allclose(p.grad.numpy(), 2 * w, rtol=1e-13)


# ----------------------------------------------------------------- elementwise_grad
def test_elementwise_grad_matches_central_differences(backend):
    data = np.linspace(-2.0, 2.0, 7)
    f = lambda x: ag.tanh(x) * ag.exp(-x * x)  # noqa: E731
    g = ag.elementwise_grad(f)(raw(data, backend))
    h = 1e-6
    numeric = (np.tanh(data + h) * np.exp(-(data + h) ** 2)
               - np.tanh(data - h) * np.exp(-(data - h) ** 2)) / (2 * h)
    np.testing.assert_allclose(on_host(g), numeric, rtol=1e-7, atol=1e-9)
    # Of a non-elementwise f it is the gradient of the sum of f's outputs.
    x = make(random((2, 3), seed=5), backend)
    np.testing.assert_allclose(ag.elementwise_grad(lambda x: x @ x.mT)(x).numpy(),
                               ag.grad(lambda x: ag.sum(x @ x.mT))(x).numpy(), rtol=1e-13)


def test_elementwise_grad_argnum_and_nesting(backend):
    x = raw(np.linspace(-1.0, 1.0, 5), backend)
    y = raw(np.linspace(0.5, 1.5, 5), backend)
    f = lambda x, y: ag.sin(x) * y ** 3  # noqa: E731
    gy = ag.elementwise_grad(f, argnum=1)(x, y)
    xs, ys = on_host(x), on_host(y)
    np.testing.assert_allclose(on_host(gy), 3 * np.sin(xs) * ys ** 2, rtol=1e-13)
    second = ag.elementwise_grad(ag.elementwise_grad(ag.tanh))(x)  # HIPS's tanh.py idiom
    t = np.tanh(xs)
    np.testing.assert_allclose(on_host(second), -2 * t * (1 - t ** 2), rtol=1e-12)


def test_elementwise_grad_against_hips_autograd():
    autograd = pytest.importorskip("autograd")
    anp = autograd.numpy
    x = np.linspace(-7.0, 7.0, 50)
    ours = ag.elementwise_grad(ag.elementwise_grad(ag.tanh))(x)
    theirs = autograd.elementwise_grad(autograd.elementwise_grad(anp.tanh))(x)
    np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-15)
    loss = lambda w, x: anp.sum(anp.log1p(anp.exp(anp.dot(x, w))))  # noqa: E731
    ours_loss = lambda w, x: ag.sum(ag.log1p(ag.exp(ag.as_tensor(x) @ w)))  # noqa: E731
    w, X = np.array([0.3, -0.2]), np.random.default_rng(0).normal(size=(6, 2))
    np.testing.assert_allclose(ag.grad(ours_loss, argnum=0)(w, X),
                               autograd.grad(loss, argnum=0)(w, X), rtol=1e-13)


def test_argnum_is_argnums(backend):
    x, y = make(random((3,)), backend), make(random((3,), seed=1), backend)
    f = lambda x, y: ag.sum(x * y ** 2)  # noqa: E731
    np.testing.assert_allclose(ag.grad(f, argnum=1)(x, y).numpy(),
                               ag.grad(f, argnums=1)(x, y).numpy(), rtol=0)
    with pytest.raises(TypeError, match="argnums or argnum"):
        ag.grad(f, argnums=2, argnum=1)
    with pytest.raises(TypeError, match="argnums or argnum"):
        ag.jacobian(f, argnums=(0, 1), argnum=1)
    np.testing.assert_allclose(ag.hessian(f, argnum=1)(x, y).numpy(),
                               np.diag(2 * x.numpy()), rtol=1e-14)
    with pytest.raises(TypeError, match="must be an int"):
        ag.hessian(f, argnum=(0, 1))


# ----------------------------------------------------------------- gradient checks
def test_gradcheck_takes_raw_arrays(backend):
    x = raw(random((3,), seed=6), backend)
    labels = make(np.array([1, 0, 1]), backend, dtype="int64", requires_grad=False).array
    before = on_host(x).copy()
    f = lambda x, n: ag.log1p(ag.exp(x * x)) * n  # noqa: E731
    assert ag.gradcheck(f, (x, labels))
    assert ag.gradgradcheck(f, (x, labels))
    assert ag.gradcheck(lambda x, s: ag.sin(x * s), (x, 1.5))
    np.testing.assert_array_equal(on_host(x), before)  # the caller's array is untouched


def test_gradcheck_of_raw_arrays_catches_a_wrong_gradient(backend):
    @ag.custom_vjp
    def wrong_square(x):
        return x * x

    wrong_square.defvjp(lambda x: (x * x, x), lambda x, g: (g * x,))  # not 2 g x
    with pytest.raises(AssertionError, match="input 0"):
        ag.gradcheck(wrong_square, (raw(random((3,), seed=7), backend),))


def test_gradcheck_refuses_float32_raw_arrays():
    with pytest.raises(TypeError, match="float64"):
        ag.gradcheck(ag.tanh, (np.ones(3, dtype=np.float32),))


def test_check_grads_in_hips_autograd_form(backend):
    x = raw(random((4,), seed=8), backend)
    f = lambda x, y: ag.tanh(x) * y + x ** 3  # noqa: E731
    ag.check_grads(f)(x, 1.5)  # forward and reverse, to second order
    ag.check_grads(f, modes=["rev"], order=1)(make(random((4,)), backend, requires_grad=False), 2.0)

    @ag.custom_vjp
    def wrong_cube(x):
        return x ** 3

    wrong_cube.defvjp(lambda x: (x ** 3, x), lambda x, g: (g * x * x,))  # not 3 g x^2
    for modes in (["rev"], ["fwd"]):
        with pytest.raises(AssertionError):
            ag.check_grads(wrong_cube, modes=modes, order=1)(x)
    with pytest.raises(ValueError, match="modes"):
        ag.check_grads(f, modes=["backward"])
