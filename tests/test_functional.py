"""The function transforms and `gradients`: semantics, errors, and how they compose."""
from __future__ import annotations

import numpy as np
import pytest

import anygrad as ag
from anygrad.transforms import _cheaper_mode
from conftest import host, make, random

W = random((4, 3), seed=11)


def wide(x):
    """R^3 -> R^4, nonlinear, with every output depending on every input."""
    w = ag.tensor(W, backend=x.backend)
    return ag.tanh(w @ x) * ag.sum(x * x)


def wide_jacobian(x):
    """Its closed form: d/dx [tanh(Wx) s] with s = |x|^2 is diag(1 - t^2) W s + t 2x^T."""
    t = np.tanh(W @ x)
    return (1 - t ** 2)[:, None] * W * np.sum(x * x) + np.outer(t, 2 * x)


# ----------------------------------------------------------------- gradients
def test_gradients_returns_list_and_leaves_grad_alone(backend):
    x, y = make([1.0, 2.0], backend), make(3.0, backend)
    out = ag.sum(x * x) * y
    gx, gy = ag.gradients(out, [x, y])
    np.testing.assert_allclose(host(gx), [6.0, 12.0])
    np.testing.assert_allclose(host(gy), 5.0)
    assert x.grad is None and y.grad is None
    assert not gx.requires_grad


def test_gradients_unused_input_names_its_index(backend):
    x, unused = make([1.0], backend), make([2.0], backend)
    out = ag.sum(x * 2.0)
    with pytest.raises(RuntimeError, match=r"input 1 \(shape \(1,\)\) was not used.*allow_unused"):
        ag.gradients(out, [x, unused], retain_graph=True)
    gx, gu = ag.gradients(out, [x, unused], allow_unused=True)
    np.testing.assert_allclose(host(gx), [2.0])
    assert gu is None


def test_gradients_retain_graph_defaults_to_create_graph(backend):
    x = make([0.5], backend)
    out = ag.sum(ag.exp(x))
    ag.gradients(out, x)
    with pytest.raises(RuntimeError, match="second time"):
        ag.gradients(out, x)
    out = ag.sum(ag.exp(x))
    (g,) = ag.gradients(out, x, create_graph=True)
    # g's graph reuses the forward graph, so keep it for the call after this one.
    (gg,) = ag.gradients(ag.sum(g), x, retain_graph=True)
    np.testing.assert_allclose(host(gg), np.exp([0.5]))
    (again,) = ag.gradients(out, x)  # which was kept, until this call frees it
    np.testing.assert_allclose(host(again), host(g))


def test_gradients_with_grad_outputs_and_several_outputs(backend):
    x = make([1.0, 2.0, 3.0], backend)
    a, b = x * 2.0, ag.sum(x * x)
    (g,) = ag.gradients([a, b], x, grad_outputs=[np.array([1.0, 0.0, -1.0]), None])
    np.testing.assert_allclose(host(g), [2.0 + 2.0, 4.0, -2.0 + 6.0])


def test_gradients_non_scalar_output_needs_grad_outputs(backend):
    x = make([1.0, 2.0], backend)
    with pytest.raises(RuntimeError, match=r"output 0 has shape \(2,\)"):
        ag.gradients(x * 2.0, x)


def test_gradients_rejects_inputs_and_outputs_without_grad(backend):
    x = make([1.0], backend)
    c = make([1.0], backend, requires_grad=False)
    with pytest.raises(RuntimeError, match="input 1 does not require grad"):
        ag.gradients(ag.sum(x * c), [x, c])
    with pytest.raises(RuntimeError, match="output 0 does not require grad"):
        ag.gradients(ag.sum(c), [x])


def test_gradients_with_the_same_input_twice(backend):
    x = make([2.0], backend)
    g1, g2 = ag.gradients(ag.sum(x ** 3), [x, x])
    np.testing.assert_allclose(host(g1), [12.0])
    np.testing.assert_allclose(host(g2), [12.0])


def test_gradients_create_graph_works_under_no_grad(backend):
    x = make([2.0], backend)
    out = ag.sum(x ** 3)
    with ag.no_grad():
        (g,) = ag.gradients(out, x, create_graph=True)
    (gg,) = ag.gradients(ag.sum(g), x)
    np.testing.assert_allclose(host(gg), [12.0])


# ----------------------------------------------------------------- grad and value_and_grad
def test_grad_of_raw_arrays_and_tensors(backend):
    f = lambda x: ag.sum(x * ag.exp(x))  # noqa: E731
    data = random((3,), seed=1)
    expected = np.exp(data) * (data + 1)
    raw = make(data, backend, requires_grad=False).array  # the backend's own array
    for arg in (make(data, backend), make(data, backend, requires_grad=False)):
        g = ag.grad(f)(arg)
        assert isinstance(g, ag.Tensor) and g.backend.name == backend
        np.testing.assert_allclose(host(g), expected, rtol=1e-13)
    g = ag.grad(f)(raw)  # a raw array in gives the backend's array out
    assert type(g) is type(raw)
    np.testing.assert_allclose(host(ag.as_tensor(g)), expected, rtol=1e-13)


def test_grad_records_a_graph_only_when_it_can_be_used(backend):
    f = lambda x: ag.sum(ag.tanh(x))  # noqa: E731
    # An argument without a graph: the plain backward on raw arrays, no graph kept.
    g = ag.grad(f)(make(random((3,)), backend, requires_grad=False))
    assert not g.requires_grad and g.node is None
    # A leaf that requires grad: the gradient joins its graph (as torch.func.grad does),
    # and .grad is left alone.
    x = make(random((3,)), backend)
    g = ag.grad(f)(x)
    assert g.requires_grad and x.grad is None
    with ag.no_grad():
        assert not ag.grad(f)(x).requires_grad


def test_grad_argnums_tuple_and_kwargs(backend):
    def f(x, y, scale=1.0):
        return ag.sum(x * y) * scale

    x, y = make([1.0, 2.0], backend), make([3.0, 4.0], backend)
    gx, gy = ag.grad(f, argnums=(0, 1))(x, y, scale=2.0)
    np.testing.assert_allclose(host(gx), [6.0, 8.0])
    np.testing.assert_allclose(host(gy), [2.0, 4.0])
    (gy_only,) = ag.grad(f, argnums=(1,))(x, y)
    np.testing.assert_allclose(host(gy_only), [1.0, 2.0])
    np.testing.assert_allclose(host(ag.grad(f, argnums=-1)(x, y)), [1.0, 2.0])


def test_value_and_grad_with_aux(backend):
    def loss(w, x):
        pred = x @ w
        return ag.mean(pred * pred), pred

    w, x = make(random((3,)), backend), make(random((4, 3), seed=2), backend, requires_grad=False)
    (value, pred), g = ag.value_and_grad(loss, has_aux=True)(w, x)
    p = host(x) @ host(w)
    np.testing.assert_allclose(host(value), np.mean(p * p), rtol=1e-13)
    np.testing.assert_allclose(host(pred), p, rtol=1e-13)
    np.testing.assert_allclose(host(g), 2 * host(x).T @ p / 4, rtol=1e-13)
    g2, aux = ag.grad(loss, has_aux=True)(w, x)
    np.testing.assert_allclose(host(g2), host(g))
    np.testing.assert_allclose(host(aux), p, rtol=1e-13)


def test_grad_of_constant_function_is_zero(backend):
    g = ag.grad(lambda x, y: ag.sum(y * 2.0))(make([1.0, 2.0], backend), make([1.0], backend))
    np.testing.assert_allclose(host(g), [0.0, 0.0])


def test_grad_errors_name_the_problem(backend):
    x = make([1.0, 2.0], backend)
    with pytest.raises(TypeError, match=r"one element, got \(2,\).*jacobian"):
        ag.grad(lambda x: x * 2.0)(x)
    with pytest.raises(ValueError, match="argnums 2 is out of range for 1 arguments"):
        ag.grad(lambda x: ag.sum(x), argnums=2)(x)
    with pytest.raises(TypeError, match="argnums must be an int"):
        ag.grad(lambda x: ag.sum(x), argnums=[0])
    with pytest.raises(ValueError, match=r"argnums \(0, 0\) names an argument twice"):
        ag.grad(lambda x: ag.sum(x), argnums=(0, 0))
    with pytest.raises(TypeError, match="argument 0: only floating-point"):
        ag.grad(lambda x: ag.sum(x))(ag.tensor(np.arange(3), backend=backend))
    with pytest.raises(TypeError, match="has_aux=True, f must return a pair"):
        ag.grad(lambda x: ag.sum(x), has_aux=True)(x)


def test_nested_grad_avoids_perturbation_confusion(backend):
    # d/dx [x * (d/dy x y)] = d/dx [x^2] = 2x. Differentiating the inner function with
    # respect to x itself, not a fresh variable, would give d/dx [x * 2x] = 4x.
    x = make(3.0, backend)
    inner = lambda x: ag.grad(lambda y: x * y)(x)  # noqa: E731
    assert float(ag.grad(lambda x: x * inner(x))(x)) == pytest.approx(6.0)


def test_grad_under_no_grad_still_differentiates(backend):
    x = make([1.0, 2.0], backend)
    with ag.no_grad():
        g = ag.grad(lambda x: ag.sum(x ** 3))(x)
        gg = ag.grad(lambda x: ag.sum(ag.grad(lambda y: ag.sum(y ** 3))(x)))(x)
    assert not g.requires_grad
    np.testing.assert_allclose(host(g), [3.0, 12.0])
    np.testing.assert_allclose(host(gg), [6.0, 12.0])


def test_grad_of_value_depending_on_outer_tensor_stays_in_graph(backend):
    # value_and_grad inside a differentiated function: both results carry the graph.
    def outer(w):
        value, g = ag.value_and_grad(lambda x: ag.sum(w * x * x))(make([1.0, 2.0], backend))
        return value + ag.sum(g)

    # value = w * 5, g = 2 w x = w * [2, 4] -> d/dw = 5 + 6
    assert float(ag.grad(outer)(make(0.5, backend))) == pytest.approx(11.0)


# ----------------------------------------------------------------- vjp, jvp, jacobian
def test_vjp_equals_v_times_jacobian(backend):
    x0, u = random((3,), seed=3), random((4,), seed=4)
    out, vjp_fn = ag.vjp(wide, make(x0, backend, requires_grad=False))
    np.testing.assert_allclose(host(out), host(wide(make(x0, backend))), rtol=1e-13)
    assert not out.requires_grad  # nothing outside the call to differentiate it by
    (g,) = vjp_fn(make(u, backend, requires_grad=False))
    np.testing.assert_allclose(host(g), u @ wide_jacobian(x0), rtol=1e-12)
    (g_again,) = vjp_fn(make(2 * u, backend, requires_grad=False))  # callable again
    np.testing.assert_allclose(host(g_again), 2 * u @ wide_jacobian(x0), rtol=1e-12)


def test_vjp_of_several_outputs_and_primals(backend):
    out, vjp_fn = ag.vjp(lambda a, b: (a * b, ag.sum(a)), make([1.0, 2.0], backend),
                         make([3.0, 4.0], backend))
    assert isinstance(out, tuple) and len(out) == 2
    ga, gb = vjp_fn((np.array([1.0, -1.0]), np.array(2.0)))
    np.testing.assert_allclose(host(ga), [3.0 + 2.0, -4.0 + 2.0])
    np.testing.assert_allclose(host(gb), [1.0, -2.0])


def test_jvp_equals_jacobian_times_v(backend):
    x0, v = random((3,), seed=5), random((3,), seed=6)
    out, tangent = ag.jvp(wide, (make(x0, backend),), (make(v, backend, requires_grad=False),))
    np.testing.assert_allclose(host(out), host(wide(make(x0, backend))), rtol=1e-13)
    np.testing.assert_allclose(host(tangent), wide_jacobian(x0) @ v, rtol=1e-12)


def test_jvp_of_two_primals_sums_their_contributions(backend):
    # d(a * b) = b da + a db
    a, b = random((3,), seed=7), random((3,), seed=8)
    da, db = random((3,), seed=9), random((3,), seed=10)
    _, t = ag.jvp(lambda a, b: a * b, (make(a, backend), make(b, backend)),
                  (make(da, backend), make(db, backend)))
    np.testing.assert_allclose(host(t), b * da + a * db, rtol=1e-13)


def test_jvp_is_linear_in_tangent_and_differentiable_in_it(backend):
    x = make(random((3,), seed=11), backend)
    v = make(random((3,), seed=12), backend)
    # d/dv sum(J v) = J^T 1
    g = ag.grad(lambda v: ag.sum(ag.jvp(wide, (x,), (v,))[1]))(v)
    np.testing.assert_allclose(host(g), np.ones(4) @ wide_jacobian(host(x)), rtol=1e-12)


@pytest.mark.parametrize("mode", ["reverse", "forward", None])
def test_jacobian_modes_agree_with_closed_form(backend, mode):
    x0 = random((3,), seed=13)
    jac = ag.jacobian(wide, mode=mode)(make(x0, backend))
    assert jac.shape == (4, 3)
    np.testing.assert_allclose(host(jac), wide_jacobian(x0), rtol=1e-12)


def test_jacobian_shapes_and_argnums(backend):
    a, b = make(random((2, 3), seed=14), backend), make(random((3,), seed=15), backend)
    ja, jb = ag.jacobian(lambda a, b: a @ b, argnums=(0, 1))(a, b)
    assert ja.shape == (2, 2, 3) and jb.shape == (2, 3)
    np.testing.assert_allclose(host(jb), host(a))
    expected = np.einsum("ij,k->ijk", np.eye(2), host(b))
    np.testing.assert_allclose(host(ja), expected)
    scalar = ag.jacobian(lambda x: ag.sum(x * x))(b)  # a 0-d output: the gradient
    np.testing.assert_allclose(host(scalar), 2 * host(b))
    empty = ag.jacobian(lambda x: x[:0])(b)
    assert empty.shape == (0, 3)


def test_jacobian_mode_choice_follows_shapes():
    assert _cheaper_mode(n_out=1, n_in=1000) == "reverse"
    assert _cheaper_mode(n_out=1000, n_in=3) == "forward"
    assert _cheaper_mode(n_out=5, n_in=5) == "reverse"


def test_jacobian_against_torch(backend):
    torch = pytest.importorskip("torch")
    x0 = random((3,), seed=16)
    expected = torch.autograd.functional.jacobian(
        lambda x: torch.tanh(torch.from_numpy(W) @ x) * torch.sum(x * x), torch.from_numpy(x0))
    for mode in ("reverse", "forward"):
        got = ag.jacobian(wide, mode=mode)(make(x0, backend))
        np.testing.assert_allclose(host(got), expected.numpy(), rtol=1e-12)


def test_jacobian_of_jacobian_is_second_derivative_tensor(backend):
    # f(x) = x * x[0] -> J = diag(x0) + x e_0^T; d J_ij / dx_k = d_ik d_j0 + d_i0... written out:
    # J_ij = d_ij x_0 + x_i d_j0, so dJ_ij/dx_k = d_ij d_k0 + d_ik d_j0.
    x = make(random((3,), seed=17), backend)
    hess = ag.jacobian(ag.jacobian(lambda x: x * x[0]))(x)
    eye = np.eye(3)
    expected = np.einsum("ij,k->ijk", eye, eye[0]) + np.einsum("ik,j->ijk", eye, eye[0])
    np.testing.assert_allclose(host(hess), expected)
