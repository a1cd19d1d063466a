"""User-defined derivatives: `ag.custom_vjp` and `ag.Function`, checked against central
differences, against PyTorch's `torch.autograd.Function`, and for every wrong rule."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import anygrad as ag
from conftest import host, make, random


# ----------------------------------------------------------------- functions under test
@ag.custom_vjp
def soft_sin(x, scale):
    return ag.sin(x) * scale


def _soft_sin_fwd(x, scale):
    return ag.sin(x) * scale, (ag.cos(x), scale)


def _soft_sin_bwd(res, g):
    cos, scale = res
    return g * cos * scale, None


soft_sin.defvjp(_soft_sin_fwd, _soft_sin_bwd)


@ag.custom_vjp
def polar(x, y):
    return ag.sqrt(x * x + y * y), ag.atan2(y, x)


def _polar_fwd(x, y):
    r = ag.sqrt(x * x + y * y)
    return (r, ag.atan2(y, x)), (x, y, r)


def _polar_bwd(res, gs):
    x, y, r = res
    gr, gt = gs
    return gr * x / r - gt * y / (r * r), gr * y / r + gt * x / (r * r)


polar.defvjp(_polar_fwd, _polar_bwd)


class Cube(ag.Function):
    @staticmethod
    def forward(ctx, x, offset):
        ctx.save_for_backward(x)
        ctx.offset = offset
        return x * x * x + offset

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3.0 * g * x * x, None


class ReverseGrad(ag.Function):
    linear = True  # -g: independent of the input

    @staticmethod
    def forward(ctx, x):
        return x * 1.0

    @staticmethod
    def backward(ctx, g):
        return -g


def _escaping(name):
    """sin with a rule that leaves anygrad: its cotangent is computed on the host."""

    def f(x):
        return ag.sin(x)

    f.__name__ = name
    f = ag.custom_vjp(f)

    def bwd(x, g):
        cos = ag.tensor(np.cos(x.numpy()), backend=x.backend)
        return (g * cos,)

    f.defvjp(lambda x: (ag.sin(x), x), bwd)
    return f


# ----------------------------------------------------------------- first and second order
def test_custom_vjp_gradcheck_and_gradgradcheck(backend):
    x = make(random((3,), seed=1), backend)
    assert ag.gradcheck(lambda x: soft_sin(x, 2.5), (x,))
    assert ag.gradgradcheck(lambda x: soft_sin(x, 2.5), (x,))


def test_custom_vjp_several_outputs(backend):
    x, y = make(random((3,), seed=2) + 2.0, backend), make(random((3,), seed=3), backend)
    assert ag.gradcheck(polar, (x, y))
    assert ag.gradgradcheck(polar, (x, y))


def test_function_gradcheck_and_gradgradcheck(backend):
    x = make(random((2, 3), seed=4), backend)
    assert ag.gradcheck(lambda x: Cube.apply(x, 0.5), (x,))
    assert ag.gradgradcheck(lambda x: Cube.apply(x, 0.5), (x,))


def test_hessian_and_hvp_through_an_anygrad_rule(backend):
    x0 = random((3,), seed=5)
    x = make(x0, backend, requires_grad=False)
    hess = ag.hessian(lambda x: ag.sum(soft_sin(x, 2.0) * x))(x)
    expected = np.diag(2.0 * (2 * np.cos(x0) - x0 * np.sin(x0)))
    np.testing.assert_allclose(host(hess), expected, rtol=1e-10, atol=1e-12)
    v = make([1.0, -2.0, 0.5], backend, requires_grad=False)
    np.testing.assert_allclose(host(ag.hvp(lambda x: ag.sum(Cube.apply(x, 0.0)), x, v)),
                               6.0 * x0 * np.array([1.0, -2.0, 0.5]), rtol=1e-10)


def test_value_is_the_primal_and_no_graph_without_grad(backend):
    x = make(random((3,), seed=6), backend, requires_grad=False)
    y = soft_sin(x, 3.0)
    assert not y.requires_grad
    np.testing.assert_allclose(host(y), 3.0 * np.sin(host(x)))
    with ag.no_grad():
        assert not Cube.apply(make([1.0], backend), 0.0).requires_grad


def test_functions_are_local_objects_two_may_share_a_name(backend):
    first, second = _escaping("twin"), _escaping("twin")
    second.defvjp(lambda x: (ag.sin(x), x), lambda x, g: (g * 0.0 + 7.0,))
    x = make([0.3, 0.4], backend)
    np.testing.assert_allclose(host(ag.grad(lambda x: ag.sum(first(x)))(x.detach())),
                               np.cos([0.3, 0.4]))
    np.testing.assert_allclose(host(ag.grad(lambda x: ag.sum(second(x)))(x.detach())), [7.0, 7.0])


def test_backend_arrays_as_cotangents_and_inputs(backend):
    f = ag.custom_vjp(lambda x, c: x * c)
    f.defvjp(lambda x, c: (x * c, c), lambda c, g: ((g * c).array, None))
    x = make([1.0, 2.0], backend)
    c = ag.tensor(np.array([3.0, 4.0]), backend=backend).array  # a raw array: a constant
    ag.sum(f(x, c)).backward()
    np.testing.assert_allclose(host(x.grad), [3.0, 4.0])


def test_function_ctx_flags_and_non_differentiable_outputs(backend):
    seen = {}

    class SortWithIndex(ag.Function):
        @staticmethod
        def forward(ctx, x, y):
            seen["needs"] = ctx.needs_input_grad
            values = x * 2.0
            index = ag.argsort(x)
            ctx.mark_non_differentiable(index)
            return values, index

        @staticmethod
        def backward(ctx, g, g_index):
            return g * 2.0, None

    x = make([3.0, 1.0], backend)
    y = make([1.0], backend, requires_grad=False)
    values, index = SortWithIndex.apply(x, y)
    assert seen["needs"] == (True, False)
    assert values.requires_grad and not index.requires_grad
    ag.sum(values).backward()
    np.testing.assert_allclose(host(x.grad), [2.0, 2.0])


def test_hooks_see_and_replace_the_gradient_of_a_custom_output(backend):
    x = make([0.1, 0.2], backend)
    y = soft_sin(x, 1.0)
    seen = []
    y.register_hook(lambda g: seen.append(host(g)) or g * 3.0)
    ag.sum(y).backward()
    np.testing.assert_allclose(seen[0], [1.0, 1.0])
    np.testing.assert_allclose(host(x.grad), 3.0 * np.cos([0.1, 0.2]))


def test_anomaly_names_the_custom_function(backend):
    f = ag.custom_vjp(lambda x: x * 1.0)
    f.__name__ = "blows_up"
    f.defvjp(lambda x: (x * 1.0, None), lambda r, g: (g * float("nan"),))
    x = make([1.0], backend)
    with pytest.raises(ag.AnomalyError, match="backward of blows_up"):
        with ag.detect_anomaly():
            ag.sum(f(x)).backward()


# ----------------------------------------------------------------- wrong rules
def _rule(bwd):
    f = ag.custom_vjp(lambda x, y: x * y)
    f.__name__ = "scaled"
    return f.defvjp(lambda x, y: (x * y, (x, y)), bwd)


def test_wrong_number_of_cotangents_is_named(backend):
    f = _rule(lambda r, g: (g * r[1],))
    x, y = make([1.0, 2.0], backend), make([3.0, 4.0], backend)
    with pytest.raises(TypeError, match=r"1 cotangent\(s\) for 2 argument"):
        ag.sum(f(x, y)).backward()


def test_wrong_shape_is_named_and_never_broadcast(backend):
    f = _rule(lambda r, g: (ag.sum(g * r[1]), g * r[0]))
    x, y = make([1.0, 2.0], backend), make([3.0, 4.0], backend)
    with pytest.raises(ValueError, match=r"argument 0 has shape \(\), but the argument has "
                                         r"shape \(2,\)"):
        ag.sum(f(x, y)).backward()


def test_wrong_dtype_is_named(backend):
    f = _rule(lambda r, g: (ag.astype(g, "float32"), g * r[0]))
    x, y = make([1.0, 2.0], backend), make([3.0, 4.0], backend)
    with pytest.raises(TypeError, match="argument 0 has dtype float32, but the argument has "
                                        "dtype float64"):
        ag.sum(f(x, y)).backward()


def test_non_tensor_cotangent_is_named(backend):
    f = _rule(lambda r, g: ("oops", None))
    x, y = make([1.0, 2.0], backend), make([3.0, 4.0], backend)
    with pytest.raises(TypeError, match="cotangent for argument 0 is a str"):
        ag.sum(f(x, y)).backward()


def test_missing_rule_and_class_call_are_errors(backend):
    f = ag.custom_vjp(lambda x: x)
    with pytest.raises(TypeError, match="defvjp"):
        f(make([1.0], backend))
    with pytest.raises(TypeError, match="apply"):
        Cube(make([1.0], backend))


# ----------------------------------------------------------------- rules that leave anygrad
def test_rule_leaving_anygrad_first_order_is_right(backend):
    f = _escaping("host_sin")
    x = make([0.2, 0.7], backend)
    ag.sum(f(x)).backward()
    np.testing.assert_allclose(host(x.grad), np.cos([0.2, 0.7]))
    assert ag.gradcheck(f, (make([0.2, 0.7], backend),))
    grad = ag.grad(lambda x: ag.sum(f(x)))(make([0.2, 0.7], backend))  # a leaf requiring grad
    np.testing.assert_allclose(host(grad), np.cos([0.2, 0.7]))


def test_rule_leaving_anygrad_makes_second_order_raise(backend):
    f = _escaping("host_sin")
    x = make([0.2, 0.7], backend, requires_grad=False)
    with pytest.raises(RuntimeError, match="custom function 'host_sin'.*no graph back to the "
                                           "inputs"):
        ag.hessian(lambda x: ag.sum(f(x)))(x)
    with pytest.raises(RuntimeError, match="host_sin"):
        ag.grad(lambda x: ag.grad(lambda x: ag.sum(f(x)))(x)[0])(x)


def test_forward_leaving_anygrad_makes_second_order_raise(backend):
    f = ag.custom_vjp(lambda x: ag.sin(x))
    f.__name__ = "host_forward"

    def fwd(x):  # the residual is computed on the host: no graph back to x
        y = ag.tensor(np.sin(x.numpy()), backend=x.backend)
        return y, ag.tensor(np.cos(x.numpy()), backend=x.backend)

    f.defvjp(fwd, lambda cos, g: (g * cos,))
    x = make([0.2, 0.7], backend, requires_grad=False)
    np.testing.assert_allclose(host(ag.grad(lambda x: ag.sum(f(x)))(x)), np.cos([0.2, 0.7]))
    with pytest.raises(RuntimeError, match="'host_forward'.*forward's output 0 has no graph"):
        ag.hessian(lambda x: ag.sum(f(x)))(x)


def test_linear_rule_second_order_is_zero_not_an_error(backend):
    x = make([0.5, -1.0], backend, requires_grad=False)
    hess = ag.hessian(lambda x: ag.sum(ReverseGrad.apply(x) * 3.0))(x)
    np.testing.assert_allclose(host(hess), np.zeros((2, 2)))
    g = ag.grad(lambda x: ag.sum(ReverseGrad.apply(x * x)))(x)
    np.testing.assert_allclose(host(g), -2.0 * host(x))


# ----------------------------------------------------------------- ag.compile
def test_compile_replays_a_custom_function_faithfully(backend):
    w = make([0.1, 0.2, 0.3], backend)

    @ag.compile(strict=True)
    def step(x):
        w.grad = None
        loss = ag.sum(soft_sin(w * x, 2.0)) + ag.sum(Cube.apply(w, 1.0))
        loss.backward()
        return loss, w.grad

    for seed in range(4):
        x0 = random((3,), seed=20 + seed)
        loss, g = step(make(x0, backend, requires_grad=False))
        w0 = host(w)
        np.testing.assert_allclose(host(g), 2.0 * np.cos(w0 * x0) * x0 + 3.0 * w0 ** 2,
                                   rtol=1e-12)
    assert step.stats["replays"] >= 1


def test_compile_refuses_a_rule_that_reads_the_host_naming_it(backend):
    f = _escaping("host_sin")
    w = make([0.1, 0.2], backend)

    @ag.compile(strict=True)
    def step(x):
        w.grad = None
        ag.sum(f(w * x)).backward()
        return w.grad

    with pytest.raises(ag.CompileError, match="custom function 'host_sin' \\(backward\\)"):
        step(make([1.0, 2.0], backend, requires_grad=False))

    @ag.compile
    def eager(x):
        w.grad = None
        ag.sum(f(w * x)).backward()
        return w.grad

    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        for _ in range(3):
            x0 = random((2,), seed=7)
            g = eager(make(x0, backend, requires_grad=False))
            np.testing.assert_allclose(host(g), np.cos(host(w) * x0) * x0)


# ----------------------------------------------------------------- against PyTorch
def test_against_torch_autograd_function():
    torch = pytest.importorskip("torch")

    class TorchCube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, offset):
            ctx.save_for_backward(x)
            return x * x * x + offset

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3.0 * g * x * x, None

    x0 = random((2, 3), seed=8)
    tx = torch.tensor(x0, requires_grad=True)
    (tg,) = torch.autograd.grad(torch.sum(torch.sin(TorchCube.apply(tx, 0.5))), tx,
                                create_graph=True)
    (tgg,) = torch.autograd.grad(torch.sum(tg * tg), tx)
    x = make(x0, "numpy")
    (g,) = ag.gradients(ag.sum(ag.sin(Cube.apply(x, 0.5))), [x], create_graph=True)
    (gg,) = ag.gradients(ag.sum(g * g), [x])
    np.testing.assert_allclose(host(g), tg.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(host(gg), tgg.numpy(), rtol=1e-12)
