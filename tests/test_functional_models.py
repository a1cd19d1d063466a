"""Modules as functions of their parameters (`ag.functional_call`) and the functional
optimizers (`optim.functional`, `optim.loops`) sharing the optimizer classes' rules."""
from __future__ import annotations

import numpy as np
import pytest

import anygrad as ag
from anygrad import nn, optim
from conftest import host, random


def _model(backend):
    ag.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4, dtype="float64", backend=backend), nn.Tanh(),
                         nn.Linear(4, 2, dtype="float64", backend=backend))


def _data(backend):
    x = ag.tensor(random((5, 3), seed=1), backend=backend)
    y = ag.tensor(random((5, 2), seed=2), backend=backend)
    return x, y


def _loss(out, y):
    return ag.mean((out - y) ** 2)


# ----------------------------------------------------------------- functional_call
def test_grad_through_functional_call_equals_backward(backend):
    model, (x, y) = _model(backend), _data(backend)
    params = dict(model.named_parameters())
    grads = ag.grad(lambda p: _loss(ag.functional_call(model, p, (x,)), y))(params)
    assert list(grads) == list(params)
    _loss(model(x), y).backward()
    for name, p in model.named_parameters():
        np.testing.assert_allclose(host(grads[name]), host(p.grad), rtol=1e-12)
    assert all(p.grad is not None for p in model.parameters())


def test_functional_call_uses_the_given_tensors_and_restores(backend):
    model, (x, _) = _model(backend), _data(backend)
    originals = dict(model.named_parameters())
    doubled = {k: v * 2.0 for k, v in originals.items()}
    out = ag.functional_call(model, doubled, x)  # a single tensor as args
    w1, b1, w2, b2 = (host(doubled[k]) for k in ("0.weight", "0.bias", "2.weight", "2.bias"))
    np.testing.assert_allclose(host(out), np.tanh(host(x) @ w1.T + b1) @ w2.T + b2, rtol=1e-12)
    assert dict(model.named_parameters()) == originals


def test_functional_call_restores_after_an_exception(backend):
    model = _model(backend)
    originals = dict(model.named_parameters())
    wrong = {"0.weight": ag.zeros((4, 7), dtype="float64", backend=backend)}
    with pytest.raises(Exception):
        ag.functional_call(model, wrong, (ag.zeros((5, 3), dtype="float64", backend=backend),))
    assert dict(model.named_parameters()) == originals
    assert model[0].weight is originals["0.weight"]


def test_functional_call_unknown_and_missing_keys(backend):
    model, (x, _) = _model(backend), _data(backend)
    params = dict(model.named_parameters())
    with pytest.raises(KeyError, match="'0.wieght'"):
        ag.functional_call(model, {"0.wieght": params["0.weight"]}, (x,))
    partial = {"0.weight": params["0.weight"]}
    np.testing.assert_allclose(host(ag.functional_call(model, partial, (x,))), host(model(x)))
    with pytest.raises(KeyError, match="missing.*'0.bias'"):
        ag.functional_call(model, partial, (x,), strict=True)


def test_functional_call_with_buffers_and_kwargs(backend):
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(3, 2, dtype="float64", backend=backend)
            self.register_buffer("scale", ag.ones((2,), dtype="float64", backend=backend))

        def forward(self, x, shift=0.0):
            return self.linear(x) * self.scale + shift

    model, (x, _) = Scaled(), _data(backend)
    state = dict(model.named_parameters())
    buffers = {"scale": ag.tensor([2.0, 3.0], backend=backend)}
    out = ag.functional_call(model, (state, buffers), (x,), {"shift": 1.0})
    np.testing.assert_allclose(host(out), host(model.linear(x)) * [2.0, 3.0] + 1.0, rtol=1e-12)
    np.testing.assert_allclose(host(model.scale), [1.0, 1.0])


def test_per_example_gradients(backend):
    model, (x, y) = _model(backend), _data(backend)
    params = {k: v.detach() for k, v in model.named_parameters()}

    def example_loss(p, xi, yi):
        return _loss(ag.functional_call(model, p, (ag.reshape(xi, (1, 3)),)), yi)

    per_example = [ag.grad(example_loss)(params, x[i], y[i]) for i in range(3)]
    for i, grads in enumerate(per_example):
        model.zero_grad()
        _loss(model(x[i:i + 1]), y[i]).backward()
        for name, p in model.named_parameters():
            np.testing.assert_allclose(host(grads[name]), host(p.grad), rtol=1e-12)


def test_against_torch_func_functional_call():
    torch = pytest.importorskip("torch")
    model, (x, y) = _model("numpy"), _data("numpy")
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    tparams = {k: torch.tensor(host(v)) for k, v in model.named_parameters()}
    tx, ty = torch.tensor(host(x)), torch.tensor(host(y))
    expected = torch.func.grad(
        lambda p: torch.mean((torch.func.functional_call(tmodel, p, (tx,)) - ty) ** 2))(tparams)
    ours = ag.grad(lambda p: _loss(ag.functional_call(model, p, (x,)), y))(
        dict(model.named_parameters()))
    for k in expected:
        np.testing.assert_allclose(host(ours[k]), expected[k].numpy(), rtol=1e-10)


def test_compiled_grad_of_functional_call_replays_with_new_parameters(backend):
    model, (x, y) = _model(backend), _data(backend)
    params = {k: ag.tensor(host(v), backend=backend) for k, v in model.named_parameters()}
    fopt = optim.functional.sgd(0.1, momentum=0.9)
    state = fopt.init(params)

    def gradient(p, x, y):
        return ag.grad(lambda p: _loss(ag.functional_call(model, p, (x,)), y))(p)

    compiled = ag.compile(gradient, strict=True)
    for _ in range(4):
        grads = compiled(params, x, y)
        expected = gradient(params, x, y)
        for k in grads:
            np.testing.assert_allclose(host(grads[k]), host(expected[k]), rtol=1e-12)
        params, state = fopt.update(grads, state, params)
    assert compiled.stats["replays"] >= 1


# ----------------------------------------------------------------- functional optimizers
@pytest.mark.parametrize("make_class, make_functional", [
    (lambda ps: optim.SGD(ps, lr=0.05), lambda: optim.functional.sgd(0.05)),
    (lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
     lambda: optim.functional.sgd(0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (lambda ps: optim.SGD(ps, lr=0.05, momentum=0.8), lambda: optim.functional.momentum(0.05, 0.8)),
    (lambda ps: optim.Adam(ps, lr=0.01, weight_decay=0.1, amsgrad=True),
     lambda: optim.functional.adam(0.01, weight_decay=0.1, amsgrad=True)),
    (lambda ps: optim.AdamW(ps, lr=0.01), lambda: optim.functional.adamw(0.01)),
], ids=["sgd", "nesterov", "momentum", "adam_amsgrad", "adamw"])
def test_functional_optimizer_equals_the_class_bitwise(backend, make_class, make_functional):
    model, (x, y) = _model(backend), _data(backend)
    # copies: the class updates the model's arrays in place
    params = {k: ag.tensor(host(v), backend=backend) for k, v in model.named_parameters()}
    params_before = {k: host(v) for k, v in params.items()}
    opt, fopt = make_class(list(model.parameters())), make_functional()
    state = fopt.init(params)
    loss = lambda p: _loss(ag.functional_call(model, p, (x,)), y)  # noqa: E731
    for _ in range(3):
        model.zero_grad()
        _loss(model(x), y).backward()
        opt.step()
        params, state = fopt.update(ag.grad(loss)(params), state, params)
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(host(params[name]), host(p))
    first = {k: v for k, v in params_before.items()}
    assert all(not np.array_equal(first[k], host(params[k])) for k in first)


def test_functional_update_changes_nothing_in_place(backend):
    p = {"w": ag.tensor(random((3,), seed=3), backend=backend)}
    g = {"w": ag.tensor(random((3,), seed=4), backend=backend)}
    fopt = optim.functional.adam(0.1)
    state = fopt.init(p)
    before_p, before_m = host(p["w"]), host(state.exp_avg[0])
    new_p, new_state = fopt.update(g, state, p)
    np.testing.assert_array_equal(host(p["w"]), before_p)
    np.testing.assert_array_equal(host(state.exp_avg[0]), before_m)
    assert new_state.step == 1 and state.step == 0
    with pytest.raises(ValueError, match="structure"):
        fopt.update({"v": g["w"]}, state, p)


def test_loops_in_hips_form_minimise_a_quadratic(backend):
    target = ag.tensor([1.0, -2.0], backend=backend)

    def grad_fn(p, i):
        return ag.grad(lambda p: ag.sum((p["x"] - target) ** 2))(p)

    calls = []
    start = {"x": ag.zeros((2,), dtype="float64", backend=backend)}
    for run, kwargs in [(optim.loops.sgd, dict(step_size=0.1)),
                        (optim.loops.momentum, dict(step_size=0.05, mass=0.5)),
                        (optim.loops.adam, dict(step_size=0.1))]:
        out = run(grad_fn, start, num_iters=200, callback=lambda p, i, g: calls.append(i), **kwargs)
        np.testing.assert_allclose(host(out["x"]), [1.0, -2.0], atol=1e-3)
    assert len(calls) == 600
