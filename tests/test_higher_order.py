"""Derivatives of derivatives: Newton's method, closed forms to fourth order, Hessians,
and gradgradcheck over every op of the gradcheck table."""
from __future__ import annotations

import numpy as np
import pytest

import anygrad as ag
from conftest import host, make, random
from test_ops_gradcheck import CASES, INDEX_CASES, UNSUPPORTED, _inputs


def derivative(f):
    """The elementwise derivative of an elementwise f, as a function (sum, then grad)."""
    return ag.grad(lambda x: ag.sum(f(x)))


# ----------------------------------------------------------------- Newton's method
ROOT = 2.0945514815423265  # the real root of x^3 - 2x - 5 (Newton's own example)


def test_newton_minimisation_converges_quadratically(backend):
    # Minimising F = x^4/4 - x^2 - 5x takes Newton steps x -= F'(x) / F''(x) with
    # F' = x^3 - 2x - 5, so the iterates are those of Newton's root finding for that
    # cubic. From x0 = 2 the error is 0.095, 5.4e-3, 1.7e-5, 1.6e-10, then below
    # float64 resolution: exactly 4 steps to converge, and e_{n+1} / e_n^2 tends to
    # F'''(r) / (2 F''(r)) = 6r / (2 (3r^2 - 2)).
    def F(x):
        return x ** 4 / 4 - x ** 2 - 5 * x

    dF = ag.grad(F)
    d2F = ag.grad(dF)
    x = make(2.0, backend, requires_grad=False)
    errors = [abs(float(x) - ROOT)]
    steps = 0
    while errors[-1] > 4e-16 * ROOT and steps < 10:
        x = x - dF(x) / d2F(x)
        errors.append(abs(float(x) - ROOT))
        steps += 1
    assert steps == 4
    limit = 6 * ROOT / (2 * (3 * ROOT ** 2 - 2))
    for n in (1, 2):
        assert errors[n + 1] / errors[n] ** 2 == pytest.approx(limit, rel=0.02)


def test_newton_finds_sqrt2_in_five_steps_from_one(backend):
    # Newton on f(x) = x^2 - 2 from x0 = 1: 1.5, 1.41667, 1.414216, 1.41421356237469,
    # 1.4142135623730951. Errors 8.6e-2, 2.5e-3, 2.1e-6, 1.6e-12, then 0: five steps.
    f = lambda x: x * x - 2.0  # noqa: E731
    df = ag.grad(f)
    x = make(1.0, backend, requires_grad=False)
    steps = 0
    while abs(float(x) - np.sqrt(2.0)) > 4e-16 and steps < 10:
        x = x - f(x) / df(x)
        steps += 1
    assert steps == 5


# ----------------------------------------------------------------- closed forms
def test_tanh_derivatives_to_fourth_order(backend):
    # t = tanh x, t' = 1 - t^2. Each derivative is a polynomial p(t), and
    # d/dx p(t) = p'(t) (1 - t^2):
    #   t''   = -2t (1 - t^2)             = -2t + 2t^3
    #   t'''  = (-2 + 6t^2)(1 - t^2)      = -2 + 8t^2 - 6t^4
    #   t'''' = (16t - 24t^3)(1 - t^2)    = 16t - 40t^3 + 24t^5
    data = np.linspace(-2.0, 2.0, 9)
    t = np.tanh(data)
    x = make(data, backend, requires_grad=False)
    d1 = derivative(ag.tanh)
    d2 = derivative(d1)
    d3 = derivative(d2)
    d4 = derivative(d3)
    np.testing.assert_allclose(host(d1(x)), 1 - t ** 2, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(host(d2(x)), -2 * t + 2 * t ** 3, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(host(d3(x)), -2 + 8 * t ** 2 - 6 * t ** 4, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(host(d4(x)), 16 * t - 40 * t ** 3 + 24 * t ** 5,
                               rtol=1e-12, atol=1e-13)


def test_sin_derivatives_cycle(backend):
    # sin -> cos -> -sin -> -cos -> sin: the fourth derivative is the function again.
    data = random((5,), seed=3)
    x = make(data, backend, requires_grad=False)
    d4 = derivative(derivative(derivative(derivative(ag.sin))))
    np.testing.assert_allclose(host(d4(x)), np.sin(data), rtol=1e-12, atol=1e-14)


def test_inverse_trigonometric_second_derivatives(backend):
    # atan'' = -2x / (1 + x^2)^2, asin'' = x / (1 - x^2)^(3/2), atanh'' = 2x / (1 - x^2)^2,
    # asinh'' = -x / (1 + x^2)^(3/2), acosh'' = -x / (x^2 - 1)^(3/2).
    data = np.linspace(-0.9, 0.9, 7)
    x = make(data, backend, requires_grad=False)
    cases = [
        (ag.atan, -2 * data / (1 + data ** 2) ** 2),
        (ag.asin, data / (1 - data ** 2) ** 1.5),
        (ag.atanh, 2 * data / (1 - data ** 2) ** 2),
        (ag.asinh, -data / (1 + data ** 2) ** 1.5),
    ]
    for f, expected in cases:
        np.testing.assert_allclose(host(derivative(derivative(f))(x)), expected,
                                   rtol=1e-12, atol=1e-14)
    far = data + 2.0
    got = derivative(derivative(ag.acosh))(make(far, backend, requires_grad=False))
    np.testing.assert_allclose(host(got), -far / (far ** 2 - 1) ** 1.5, rtol=1e-12)


def test_logaddexp_is_stable_far_from_zero(backend):
    # log(e^1000 + e^999) = 1000 + log(1 + e^-1); d/da = sigmoid(1), d/db = sigmoid(-1).
    a, b = make(1000.0, backend), make(999.0, backend)
    out = ag.logaddexp(a, b)
    out.backward()
    assert float(out) == pytest.approx(1000 + np.log1p(np.exp(-1.0)), rel=1e-15)
    assert float(a.grad) == pytest.approx(1 / (1 + np.exp(-1.0)), rel=1e-14)
    assert float(b.grad) == pytest.approx(1 / (1 + np.exp(1.0)), rel=1e-14)


def rosenbrock(x):
    """sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2."""
    head, tail = x[:-1], x[1:]
    return ag.sum(100.0 * (tail - head * head) ** 2 + (1.0 - head) ** 2)


def rosenbrock_hessian(x):
    """The closed form (as in scipy.optimize.rosen_hess): tridiagonal, with
    H[i, i+1] = H[i+1, i] = -400 x_i, and on the diagonal 1200 x_i^2 - 400 x_{i+1} + 2
    from the i-th term, plus 200 from the (i-1)-th term for every i but the first."""
    n = len(x)
    h = np.zeros((n, n))
    for i in range(n - 1):
        h[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        h[i + 1, i + 1] += 200
        h[i, i + 1] = h[i + 1, i] = -400 * x[i]
    return h


def test_rosenbrock_hessian_matches_closed_form(backend):
    data = np.array([-1.2, 1.0, 0.5, 2.0, -0.3])
    h = ag.hessian(rosenbrock)(make(data, backend, requires_grad=False))
    assert h.shape == (5, 5)
    np.testing.assert_allclose(host(h), rosenbrock_hessian(data), rtol=1e-12, atol=1e-10)


def test_hessian_of_quadratic_form_is_symmetrised_matrix(backend):
    a = random((4, 4), seed=1)
    a_t = make(a, backend, requires_grad=False)
    h = ag.hessian(lambda x: x @ (a_t @ x))(make(random((4,), seed=2), backend))
    np.testing.assert_allclose(host(h), a + a.T, rtol=1e-12, atol=1e-14)


def test_hvp_equals_finite_difference_of_gradient(backend):
    # Central differences of the gradient have error eps^2 |f''''| / 6 ~ 1e-11 plus
    # rounding 1e-16 |g| / eps ~ 1e-11 at eps = 1e-5: well inside rtol 1e-7.
    def f(x):
        return ag.sum(ag.exp(x) * ag.sin(x)) + ag.sum(x) ** 3 / 6.0

    x0, v = random((6,), seed=4), random((6,), seed=5)
    eps = 1e-5
    g = ag.grad(f)
    plus, minus = host(g(make(x0 + eps * v, backend))), host(g(make(x0 - eps * v, backend)))
    numeric = (plus - minus) / (2 * eps)
    got = ag.hvp(f, make(x0, backend), make(v, backend, requires_grad=False))
    np.testing.assert_allclose(host(got), numeric, rtol=1e-7, atol=1e-9)


def test_hvp_equals_hessian_times_vector(backend):
    x0, v = np.array([-1.2, 1.0, 0.5, 2.0]), random((4,), seed=6)
    got = ag.hvp(rosenbrock, make(x0, backend), make(v, backend, requires_grad=False))
    np.testing.assert_allclose(host(got), rosenbrock_hessian(x0) @ v, rtol=1e-12, atol=1e-10)


def test_third_order_mixed_partial(backend):
    # f(x, y) = x^2 y^3: d/dx d/dy d/dy f = 2x * 6y = 12 x y.
    f = lambda x, y: x * x * y ** 3  # noqa: E731
    fxyy = ag.grad(ag.grad(ag.grad(f, argnums=1), argnums=1), argnums=0)
    x, y = make(0.7, backend), make(-1.3, backend)
    assert float(fxyy(x, y)) == pytest.approx(12 * 0.7 * -1.3, rel=1e-13)


def test_gradient_penalty_differentiates_through_input_gradient(backend):
    # WGAN-GP style: the penalty (|d f/dx|^2) differentiated with respect to a weight the
    # closure captures. f = sum(tanh(w x)); df/dx = w (1 - t^2); P = w^2 sum (1 - t^2)^2;
    # dP/dw = 2w sum (1-t^2)^2 + w^2 sum 2 (1-t^2)(-2t)(1-t^2) x.
    xs = random((5,), seed=7)
    w = make(0.8, backend)
    gx = ag.grad(lambda x: ag.sum(ag.tanh(w * x)))(make(xs, backend, requires_grad=False))
    assert gx.requires_grad  # it depends on w
    penalty = ag.sum(gx * gx)
    (dw,) = ag.gradients(penalty, w)
    t = np.tanh(0.8 * xs)
    s = 1 - t ** 2
    expected = 2 * 0.8 * np.sum(s ** 2) + 0.8 ** 2 * np.sum(-4 * t * s ** 2 * xs)
    np.testing.assert_allclose(host(dw), expected, rtol=1e-12)


# ----------------------------------------------------------------- every op, second order
# Cases whose gradient is built from ops that are themselves piecewise constant in the
# input (masks and selections) pass too: their second derivative is zero away from the
# kinks, where the random inputs never land. None needs excluding.
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_gradgradcheck_every_case(case, backend):
    name, fn, shapes, rng_kw = case
    if (backend, name) in UNSUPPORTED:
        pytest.skip(UNSUPPORTED[backend, name])
    assert ag.gradgradcheck(fn, _inputs(shapes, rng_kw, backend))


@pytest.mark.parametrize("case", INDEX_CASES, ids=[c[0] for c in INDEX_CASES])
def test_gradgradcheck_repeated_indices(case, backend):
    name, fn, shape, index = case
    x = make(random(shape), backend)
    idx = ag.tensor(np.asarray(index, dtype="int64"), backend=backend)
    # The gradient of a gather is a scatter-add, and the scatter's gradient is the gather
    # again: check that second link with a function that is not linear in x.
    assert ag.gradgradcheck(lambda a: fn(a, idx) ** 2, [x])
