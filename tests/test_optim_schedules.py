"""Frozen parameters, parameter groups against PyTorch, optimizer state that follows
`model.to(...)`, checked state at load, and every schedule against PyTorch's."""
from __future__ import annotations

import math

import numpy as np
import pytest

import anygrad as ag
import anygrad.nn as nn
import anygrad.optim as optim
from anygrad.optim import lr_scheduler as S
from conftest import host, make, random


def _linear_model(backend):
    ag.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4, dtype="float64", backend=backend), nn.Tanh(),
                         nn.Linear(4, 2, dtype="float64", backend=backend))


def _train_step(model, opt, backend):
    x = make(random((5, 3), 1), backend, requires_grad=False)
    loss = ag.sum(model(x) ** 2)
    opt.zero_grad()
    loss.backward()
    opt.step()


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_a_frozen_layer_is_skipped(name, backend):
    model = _linear_model(backend)
    model[0].requires_grad_(False)
    frozen = [host(p) for p in model[0].parameters()]
    trained = [host(p) for p in model[2].parameters()]
    opt = getattr(optim, name)(model.parameters(), lr=0.1)  # the whole model, frozen layer too
    _train_step(model, opt, backend)
    for before, p in zip(frozen, model[0].parameters()):
        np.testing.assert_array_equal(host(p), before)
        assert p not in opt.state
    assert all((host(p) != before).any() for before, p in zip(trained, model[2].parameters()))
    # a stale gradient on a parameter frozen later is not applied either
    model[2].weight.grad = ag.ones_like(model[2].weight)
    model[2].requires_grad_(False)
    before = host(model[2].weight)
    opt.step()
    np.testing.assert_array_equal(host(model[2].weight), before)


def test_parameter_groups_match_torch(backend):
    torch = pytest.importorskip("torch")
    model = _linear_model(backend)
    groups = lambda m: [{"params": list(m[0].parameters()), "lr": 0.01, "weight_decay": 0.1},
                        {"params": list(m[2].parameters())}]
    opt = optim.SGD(groups(model), lr=0.1, momentum=0.9)
    twin = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    with torch.no_grad():
        for p, q in zip(model.parameters(), twin.parameters()):
            q.copy_(torch.tensor(host(p)))
    twin_opt = torch.optim.SGD(groups(twin), lr=0.1, momentum=0.9)
    x = random((5, 3), 1)
    for _ in range(3):
        _train_step(model, opt, backend)
        twin_opt.zero_grad()
        (twin(torch.tensor(x)) ** 2).sum().backward()
        twin_opt.step()
    for p, q in zip(model.parameters(), twin.parameters()):
        np.testing.assert_allclose(host(p), q.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_optimizer_state_follows_the_model_to_another_backend(name, backend):
    other = "array_api_strict" if backend != "array_api_strict" else "numpy"
    kwargs = {"lr": 0.05, **({"momentum": 0.9} if name != "Adam" else {})}
    straight = _linear_model(backend)
    straight_opt = getattr(optim, name)(straight.parameters(), **kwargs)
    moved = _linear_model(backend)
    moved_opt = getattr(optim, name)(moved.parameters(), **kwargs)
    for _ in range(2):
        _train_step(straight, straight_opt, backend)
        _train_step(moved, moved_opt, backend)
    moved.to(other)
    for _ in range(2):
        _train_step(straight, straight_opt, backend)
        _train_step(moved, moved_opt, other)
    for state in moved_opt.state.values():
        assert all(v.backend.name == other for v in state.values() if isinstance(v, ag.Tensor))
    for a, b in zip(straight.parameters(), moved.parameters()):
        assert b.backend.name == other
        np.testing.assert_allclose(host(b), host(a), rtol=1e-13)


def test_state_follows_a_dtype_change(backend):
    model = _linear_model(backend)
    opt = optim.Adam(model.parameters(), lr=0.01)
    _train_step(model, opt, backend)
    model.to(dtype="float32")
    x = ag.tensor(random((5, 3), 1), dtype="float32", backend=backend)
    opt.zero_grad()
    ag.sum(model(x) ** 2).backward()
    opt.step()
    for p in model.parameters():
        assert str(host(p).dtype) == "float32"
        assert str(host(opt.state[p]["exp_avg"]).dtype) == "float32"


def test_state_of_the_wrong_shape_is_refused_at_load(backend):
    model = _linear_model(backend)
    opt = optim.Adam(model.parameters(), lr=0.01)
    _train_step(model, opt, backend)
    saved = opt.state_dict()
    saved["state"][2]["exp_avg"] = ag.zeros((7,), dtype="float64", backend=backend)
    fresh = optim.Adam(_linear_model(backend).parameters(), lr=0.01)
    with pytest.raises(ValueError, match=r"state 'exp_avg' of parameter 2 has shape \(7,\), but "
                                         r"that parameter has shape \(2, 4\)"):
        fresh.load_state_dict(saved)
    assert fresh.state == {}


# ----------------------------------------------------------------- schedules
SCHEDULES = [
    ("LambdaLR", dict(lr_lambda=lambda e: 0.95 ** e + 0.01 * e), 12),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 9], gamma=0.3), 12),
    ("ExponentialLR", dict(gamma=0.9), 10),
    ("LinearLR", dict(start_factor=0.2, end_factor=0.9, total_iters=4), 8),
    ("LinearLR", dict(), 8),
    ("StepLR", dict(step_size=3, gamma=0.5), 10),
    ("CosineAnnealingLR", dict(T_max=6, eta_min=0.001), 14),
]


def _step_both(ours, theirs, ours_opt, theirs_opt, epochs, metric=None):
    got, want = [], []
    for e in range(epochs):
        ours_opt.step()
        theirs_opt.step()
        if metric is None:
            ours.step()
            theirs.step()
        else:
            ours.step(metric(e))
            theirs.step(metric(e))
        got.extend(ours.get_last_lr())
        want.extend(theirs.get_last_lr())
    return got, want


def _pair(torch, backend, lr=0.2, **kwargs):
    ours = optim.SGD([make([1.0], backend), make([2.0], backend)], lr=lr, **kwargs)
    theirs = torch.optim.SGD([torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)],
                             lr=lr, **kwargs)
    return ours, theirs


@pytest.mark.parametrize("name, kwargs, epochs", SCHEDULES,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(SCHEDULES)])
def test_schedule_matches_torch(name, kwargs, epochs):
    torch = pytest.importorskip("torch")
    ours_opt, theirs_opt = _pair(torch, "numpy")
    ours = getattr(S, name)(ours_opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(theirs_opt, **kwargs)
    assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-15)
    got, want = _step_both(ours, theirs, ours_opt, theirs_opt, epochs)
    assert got == pytest.approx(want, rel=1e-14, abs=1e-18)


def test_warmup_then_cosine_matches_torch():
    torch = pytest.importorskip("torch")
    ours_opt, theirs_opt = _pair(torch, "numpy", momentum=0.9)

    def build(lib, opt):
        warmup = lib.LinearLR(opt, start_factor=0.1, total_iters=3)
        cosine = lib.CosineAnnealingLR(opt, T_max=7, eta_min=0.002)
        decay = lib.ExponentialLR(opt, gamma=0.8)
        return lib.SequentialLR(opt, [warmup, cosine, decay], milestones=[3, 10])

    ours, theirs = build(S, ours_opt), build(torch.optim.lr_scheduler, theirs_opt)
    assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-15)
    got, want = _step_both(ours, theirs, ours_opt, theirs_opt, 14)
    assert got == pytest.approx(want, rel=1e-14)


@pytest.mark.parametrize("kwargs", [dict(), dict(anneal_strategy="linear", three_phase=True,
                                                  pct_start=0.25, div_factor=10.0)])
@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_one_cycle_matches_torch(kwargs, optimizer):
    torch = pytest.importorskip("torch")
    extra = {"momentum": 0.9} if optimizer == "SGD" else {}
    ours_opt = getattr(optim, optimizer)([make([1.0], "numpy")], lr=0.1, **extra)
    theirs_opt = getattr(torch.optim, optimizer)([torch.zeros(1, requires_grad=True)], lr=0.1, **extra)
    ours = S.OneCycleLR(ours_opt, max_lr=0.5, total_steps=20, **kwargs)
    theirs = torch.optim.lr_scheduler.OneCycleLR(theirs_opt, max_lr=0.5, total_steps=20, **kwargs)
    key = "momentum" if optimizer == "SGD" else "betas"
    got, want = _step_both(ours, theirs, ours_opt, theirs_opt, 19)
    assert got == pytest.approx(want, rel=1e-14)
    assert ours_opt.param_groups[0][key] == pytest.approx(theirs_opt.param_groups[0][key], rel=1e-14)
    with pytest.raises(ValueError, match="past total_steps=20"):
        ours.step()
        ours.step()


def test_reduce_on_plateau_matches_torch():
    torch = pytest.importorskip("torch")
    losses = [1.0, 0.9, 0.9, 0.91, 0.95, 0.8, 0.8, 0.8, 0.8, 0.8, 0.79999, 0.5, 0.6, 0.6, 0.6, 0.6]
    for kwargs in (dict(patience=1), dict(patience=2, cooldown=2, factor=0.5, min_lr=0.03),
                   dict(mode="max", threshold_mode="abs", threshold=0.05, patience=0)):
        ours_opt, theirs_opt = _pair(torch, "numpy")
        ours = S.ReduceLROnPlateau(ours_opt, **kwargs)
        theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs_opt, **kwargs)
        got, want = _step_both(ours, theirs, ours_opt, theirs_opt, len(losses), lambda e: losses[e])
        assert got == pytest.approx(want, rel=1e-15)


def test_plateau_reads_a_tensor_metric(backend):
    opt = optim.SGD([make([1.0], backend)], lr=1.0)
    schedule = S.ReduceLROnPlateau(opt, patience=0)
    schedule.step(make(1.0, backend))
    schedule.step(make(2.0, backend))
    assert schedule.get_last_lr() == [0.1]


@pytest.mark.parametrize("build", [
    lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.1, total_iters=2), S.CosineAnnealingLR(o, 5)], [2]),
    lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=12),
    lambda o: S.MultiStepLR(o, [1, 3, 3]),
    lambda o: S.LambdaLR(o, lambda e: 1.0 / (e + 1)),
    lambda o: S.ReduceLROnPlateau(o, patience=1),
], ids=["SequentialLR", "OneCycleLR", "MultiStepLR", "LambdaLR", "ReduceLROnPlateau"])
def test_schedules_resume_through_a_checkpoint(build, backend, tmp_path):
    def fresh():
        opt = optim.SGD([make([1.0], backend)], lr=1.0, momentum=0.9)
        return opt, build(opt)

    def advance(opt, schedule, n, start):
        out = []
        for e in range(start, start + n):
            opt.step()
            if isinstance(schedule, S.ReduceLROnPlateau):
                schedule.step(1.0 if e % 3 else 0.5 ** e)
            else:
                schedule.step()
            out.append((schedule.get_last_lr(), dict(opt.param_groups[0], params=None)))
        return out

    opt, schedule = fresh()
    advance(opt, schedule, 4, 0)
    ag.save({"opt": opt.state_dict(), "schedule": schedule.state_dict()}, tmp_path / "s.npz")
    uninterrupted = advance(opt, schedule, 5, 4)
    state = ag.load(tmp_path / "s.npz", backend=backend)
    opt, schedule = fresh()
    opt.load_state_dict(state["opt"])
    schedule.load_state_dict(state["schedule"])
    assert advance(opt, schedule, 5, 4) == uninterrupted


def test_schedule_errors():
    opt = optim.SGD([make([1.0], "numpy")], lr=0.1)
    with pytest.raises(ValueError, match="SequentialLR: 2 schedulers need 1 milestones, got 0"):
        S.SequentialLR(opt, [S.ExponentialLR(opt, 0.9), S.ExponentialLR(opt, 0.9)], [])
    with pytest.raises(ValueError, match="cycle_momentum needs an optimizer with momentum"):
        S.OneCycleLR(optim.Adagrad([make([1.0], "numpy")]), max_lr=1.0, total_steps=5)
    with pytest.raises(ValueError, match="LambdaLR: 2 functions for 1 parameter groups"):
        S.LambdaLR(opt, [math.cos, math.sin])
