"""anygrad.optim: update rules and schedules step for step against PyTorch, state dicts
(also across backends), parameter groups, and input errors."""
from __future__ import annotations

import numpy as np
import pytest

import anygrad as ag
import anygrad.nn as nn
import anygrad.optim as optim
from anygrad.optim.lr_scheduler import CosineAnnealingLR, StepLR
from conftest import host, make, random

# (optimizer name, keyword arguments): each is run against PyTorch's.
CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.3, amsgrad=True)),
    ("SGD", dict(lr=0.1, momentum=0.9, maximize=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("AdamW", dict(lr=0.01, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1, momentum=0.8)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.2)),
    ("Adagrad", dict(lr=0.1, eps=1e-6, maximize=True)),
]
CONFIG_IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for name, kw in CONFIGS]
SHAPES = [(3, 4), (4,)]
STEPS = 6


def _gradients(step, dtype):
    """The gradients fed at `step`: fixed random arrays, so only the update rule is tested.
    Small values make Adam's eps matter, so its placement is checked too."""
    scale = 1e-4 if step % 2 else 1.0
    return [random(shape, 100 * step + i).astype(dtype) * scale for i, shape in enumerate(SHAPES)]


def _run_anygrad(name, kwargs, backend, dtype, steps=STEPS, params=None, opt=None):
    if params is None:
        params = [make(random(shape, i), backend, dtype=dtype) for i, shape in enumerate(SHAPES)]
    opt = opt or getattr(optim, name)(params, **kwargs)
    for step in range(steps):
        for p, g in zip(params, _gradients(step, dtype)):
            p.grad = ag.tensor(g, backend=backend)
        opt.step()
    return params, opt


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-13), ("float32", 2e-6)])
@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=CONFIG_IDS)
def test_update_rule_matches_torch(name, kwargs, dtype, rtol, backend):
    torch = pytest.importorskip("torch")
    params, _ = _run_anygrad(name, kwargs, backend, dtype)
    reference = [torch.tensor(random(shape, i).astype(dtype), requires_grad=True)
                 for i, shape in enumerate(SHAPES)]
    opt = getattr(torch.optim, name)(reference, **kwargs)
    for step in range(STEPS):
        for p, g in zip(reference, _gradients(step, dtype)):
            p.grad = torch.tensor(g)
        opt.step()
    for ours, theirs in zip(params, reference):
        assert ours.dtype == ours.backend.dtype(dtype)  # Python-number hyperparameters never upcast
        np.testing.assert_allclose(host(ours), theirs.detach().numpy(), rtol=rtol, atol=rtol * 1e-3)


@pytest.mark.parametrize("scheduler, kwargs, epochs", [
    (StepLR, dict(step_size=3, gamma=0.5), 12),
    (CosineAnnealingLR, dict(T_max=5, eta_min=0.01), 17),  # past T_max: the cosine continues
])
def test_scheduler_matches_torch(scheduler, kwargs, epochs, backend):
    torch = pytest.importorskip("torch")
    ours = optim.SGD([make([1.0], backend)], lr=0.2)
    theirs = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.2)
    ours_schedule = scheduler(ours, **kwargs)
    theirs_schedule = getattr(torch.optim.lr_scheduler, scheduler.__name__)(theirs, **kwargs)
    got, want = [], []
    for _ in range(epochs):
        ours.step()
        theirs.step()
        ours_schedule.step()
        theirs_schedule.step()
        got.append(ours_schedule.get_last_lr()[0])
        want.append(theirs_schedule.get_last_lr()[0])
    assert got == pytest.approx(want, rel=1e-15, abs=1e-18)
    assert ours.param_groups[0]["lr"] == got[-1]


@pytest.mark.parametrize("scheduler, kwargs", [(StepLR, dict(step_size=2)),
                                               (CosineAnnealingLR, dict(T_max=4))])
def test_scheduler_state_dict_resumes_the_schedule(scheduler, kwargs, backend):
    def fresh():
        opt = optim.SGD([make([1.0], backend)], lr=1.0)
        return opt, scheduler(opt, **kwargs)

    opt, schedule = fresh()
    for _ in range(3):
        schedule.step()
    saved_opt, saved = opt.state_dict(), schedule.state_dict()
    uninterrupted = []
    for _ in range(4):
        schedule.step()
        uninterrupted.append(schedule.get_last_lr())
    opt, schedule = fresh()
    opt.load_state_dict(saved_opt)
    schedule.load_state_dict(saved)
    resumed = []
    for _ in range(4):
        schedule.step()
        resumed.append(schedule.get_last_lr())
    assert resumed == uninterrupted


RESUMED = [3, 6, 13, 16]


@pytest.mark.parametrize("name, kwargs", [CONFIGS[i] for i in RESUMED], ids=[CONFIG_IDS[i] for i in RESUMED])
def test_optimizer_state_dict_resumes_on_another_backend(name, kwargs, backend):
    other = "array_api_strict" if backend == "numpy" else "numpy"
    straight, _ = _run_anygrad(name, kwargs, backend, "float64")

    params, opt = _run_anygrad(name, kwargs, backend, "float64", steps=3)
    saved = opt.state_dict()
    assert sorted(saved["state"]) == [0, 1] and saved["param_groups"][0]["params"] == [0, 1]
    moved = [make(host(p), other) for p in params]
    resumed_opt = getattr(optim, name)(moved, **kwargs)
    resumed_opt.load_state_dict(saved)
    for state in resumed_opt.state.values():
        assert all(v.backend.name == other for v in state.values() if isinstance(v, ag.Tensor))
    # Continue from step 3 with the gradients the straight run saw at steps 3..5.
    for step in range(3, STEPS):
        for p, g in zip(moved, _gradients(step, "float64")):
            p.grad = ag.tensor(g, backend=other)
        resumed_opt.step()
    for a, b in zip(straight, moved):
        np.testing.assert_allclose(host(b), host(a), rtol=1e-14)


def test_state_dict_is_a_snapshot(backend):
    params, opt = _run_anygrad("Adam", {}, backend, "float64", steps=2)
    saved = opt.state_dict()
    before = host(saved["state"][0]["exp_avg"])
    _run_anygrad("Adam", {}, backend, "float64", steps=2, params=params, opt=opt)
    np.testing.assert_array_equal(host(saved["state"][0]["exp_avg"]), before)
    assert saved["state"][0]["step"] == 2


def test_parameter_groups_have_their_own_hyperparameters(backend):
    fast, slow = make([1.0], backend), make([1.0], backend)
    opt = optim.SGD([{"params": [fast], "lr": 1.0}, {"params": [slow]}], lr=0.1)
    for p in (fast, slow):
        p.grad = make([1.0], backend, requires_grad=False)
    opt.step()
    np.testing.assert_allclose([host(fast)[0], host(slow)[0]], [0.0, 0.9])


def test_parameters_without_gradients_are_left_alone(backend):
    used, unused = make([1.0], backend), make([2.0], backend)
    opt = optim.Adam([used, unused], lr=0.1)
    ag.sum(used * used).backward()
    opt.step()
    assert host(unused)[0] == 2.0 and unused not in opt.state
    assert host(used)[0] == pytest.approx(0.9)  # Adam's first step moves by lr


@pytest.mark.parametrize("set_to_none", [True, False])
def test_optimizer_zero_grad(set_to_none, backend):
    p = make([1.0, 2.0], backend)
    opt = optim.SGD([p], lr=0.1)
    ag.sum(p * p).backward()
    opt.zero_grad(set_to_none=set_to_none)
    assert p.grad is None if set_to_none else np.all(host(p.grad) == 0)


def test_step_calls_the_closure_with_gradients_enabled(backend):
    p = make([3.0], backend)
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = ag.sum(p * p)
        loss.backward()
        return loss

    with ag.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 9.0 and host(p)[0] == pytest.approx(3.0 - 0.25 * 6.0)


def test_model_parameters_are_accepted(backend):
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
    opt = optim.AdamW(model.parameters())
    assert len(opt.param_groups[0]["params"]) == 4 and "AdamW (" in repr(opt)


BAD_OPTIMIZERS = [
    ("a single tensor", lambda b: optim.SGD(make([1.0], b), lr=0.1),
     TypeError, "not a single Tensor; wrap it in a list"),
    ("a non-tensor", lambda b: optim.SGD([make([1.0], b), 3.0], lr=0.1),
     TypeError, "parameter 1 of group 0 is a float, not a Tensor"),
    ("a non-leaf", lambda b: optim.Adam([make([1.0], b) * 2]),
     ValueError, "is not a leaf tensor"),
    ("a repeated tensor", lambda b: optim.SGD([make([1.0], b)] * 2, lr=0.1),
     ValueError, "a parameter appears twice"),
    ("no parameters", lambda b: optim.SGD([], lr=0.1), ValueError, "empty parameter list"),
    ("a negative lr", lambda b: optim.SGD([make([1.0], b)], lr=-1.0),
     ValueError, "SGD: invalid learning rate -1.0"),
    ("nesterov without momentum", lambda b: optim.SGD([make([1.0], b)], lr=0.1, nesterov=True),
     ValueError, "Nesterov momentum needs momentum > 0 and dampening = 0"),
    ("beta of 1", lambda b: optim.Adam([make([1.0], b)], betas=(0.9, 1.0)),
     ValueError, r"Adam: betas must be in \[0, 1\), got \(0.9, 1.0\)"),
    ("an unknown hyperparameter", lambda b: optim.SGD([{"params": [make([1.0], b)], "betas": 1}], lr=0.1),
     TypeError, r"unknown hyperparameter\(s\) \['betas'\]"),
]


@pytest.mark.parametrize("what, build, error, message", BAD_OPTIMIZERS, ids=[c[0] for c in BAD_OPTIMIZERS])
def test_bad_optimizer_arguments_raise_clear_errors(what, build, error, message, backend):
    with pytest.raises(error, match=message):
        build(backend)


def test_load_state_dict_of_another_layout_is_refused(backend):
    _, opt = _run_anygrad("Adam", {}, backend, "float64", steps=1)
    other = optim.Adam([make([1.0], backend)])
    with pytest.raises(ValueError, match="group 0 has 2 parameters in the saved state, 1 here"):
        other.load_state_dict(opt.state_dict())
