"""Optimizers updating small parameters as views of one flat array (optim/flat.py).

The flat update must equal the update one parameter at a time bitwise on numpy (to float
tolerance elsewhere), leave the parameters the user's own objects, keep checkpoints
unchanged, and notice arrays rebound behind its back.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import anygrad as ag
import anygrad.nn as nn
import anygrad.nn.functional as F
import anygrad.optim as optim
from anygrad.optim import flat
from test_compile import _same  # bitwise on numpy, to float tolerance elsewhere

STEPS = 8

OPTIMIZERS = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.1),
    "sgd-nesterov-decay-maximize": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True,
                                                        weight_decay=1e-2, maximize=True),
    "sgd-dampened": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.8, dampening=0.3),
    "adam-decay": lambda ps: optim.Adam(ps, lr=0.01, weight_decay=1e-3),
    "adamw-amsgrad": lambda ps: optim.AdamW(ps, lr=0.01, amsgrad=True),
}


def _model(backend, dtype="float64"):
    ag.manual_seed(1)
    return nn.Sequential(nn.Linear(5, 8, dtype=dtype), nn.Tanh(), nn.Linear(8, 8, dtype=dtype),
                         nn.BatchNorm1d(8, dtype=dtype), nn.ReLU(), nn.Linear(8, 3, dtype=dtype))


def _data(backend, n=STEPS, dtype="float64"):
    rng = np.random.default_rng(4)
    return [(ag.tensor(rng.normal(size=(6, 5)).astype(dtype), backend=backend),
             ag.tensor(rng.integers(0, 3, size=6), backend=backend)) for _ in range(n)]


def _step(model, opt, x, y):
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss


def _compiled(model, opt):
    """The training step compiled, with the model and optimizer in its closure."""
    return ag.compile(lambda x, y: _step(model, opt, x, y))


def _run(backend, make, flat_buffers, steps=STEPS, compiled=False):
    model = _model(backend)
    opt = make(model.parameters())
    if flat_buffers:
        opt.use_flat_buffers()
    step = _compiled(model, opt) if compiled else (lambda x, y: _step(model, opt, x, y))
    losses = [step(x, y).item() for x, y in _data(backend, steps)]
    return model, opt, losses


def _segments(opt):
    laid = opt._flat.groups.values() if opt._flat else ()
    return [s for _, segments, _ in laid for s in segments]


@pytest.mark.parametrize("make", OPTIMIZERS.values(), ids=OPTIMIZERS)
def test_flat_update_equals_the_update_per_parameter(backend, make):
    model, opt, losses = _run(backend, make, flat_buffers=True)
    ref_model, ref_opt, ref_losses = _run(backend, make, flat_buffers=False)
    _same(losses, ref_losses, backend)
    for a, b in zip(model.parameters(), ref_model.parameters()):
        _same(a.numpy(), b.numpy(), backend)
    views = ag.get_backend(backend).writable_views
    assert bool(_segments(opt)) == views  # laid out exactly where the backend has views
    for (k, a), b in zip(opt.state_dict()["state"].items(), ref_opt.state_dict()["state"].values()):
        assert set(a) == set(b)
        for name in a:
            _same(np.asarray(a[name].numpy() if hasattr(a[name], "numpy") else a[name]),
                  np.asarray(b[name].numpy() if hasattr(b[name], "numpy") else b[name]), backend)


def test_parameters_stay_the_users_objects_and_views_of_the_flat_array():
    model = _model("numpy")
    params = list(model.parameters())
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    opt.use_flat_buffers()
    for x, y in _data("numpy"):
        _step(model, opt, x, y)
    now = list(model.parameters())
    assert len(now) == len(params) and all(p is q for p, q in zip(now, params))
    (segment,) = _segments(opt)
    assert len(segment.params) == len(params)
    for p in params:  # the user's tensors see every update: they are the flat array
        assert np.shares_memory(p.array, segment.param.array)
        assert np.shares_memory(opt.state[p]["momentum_buffer"].array,
                                segment.state["momentum_buffer"].array)
        assert p.grad is not None and not np.shares_memory(p.grad.array, segment.param.array)


def test_gradients_handed_out_are_never_written_again():
    model = _model("numpy")
    opt = optim.SGD(model.parameters(), lr=0.1)
    opt.use_flat_buffers()
    held = []
    for x, y in _data("numpy"):
        _step(model, opt, x, y)
        held.append((model[0].weight.grad, model[0].weight.grad.numpy()))
    for grad, copy in held:
        assert np.array_equal(grad.numpy(), copy)


@pytest.mark.parametrize("make", [OPTIMIZERS["sgd-nesterov-decay-maximize"],
                                  OPTIMIZERS["adam-decay"]], ids=["sgd", "adam"])
def test_checkpoints_round_trip_and_training_resumes_identically(backend, make):
    model, opt, _ = _run(backend, make, flat_buffers=True, compiled=True)
    ref_model, ref_opt, _ = _run(backend, make, flat_buffers=False)
    saved_model, saved_opt = model.state_dict(), opt.state_dict()
    for a, b in zip(saved_model.values(), ref_model.state_dict().values()):
        _same(a.numpy(), b.numpy(), backend)
    # Into a fresh model and optimizer (flat too), and on in all three: same steps.
    fresh = _model(backend)
    fresh.load_state_dict(saved_model)
    fresh_opt = make(fresh.parameters())
    fresh_opt.load_state_dict(saved_opt)
    fresh_opt.use_flat_buffers()
    more = _data(backend, 5)
    for x, y in more:
        a = _step(model, opt, x, y).item()
        b = _step(fresh, fresh_opt, x, y).item()
        c = _step(ref_model, ref_opt, x, y).item()
        _same(a, c, backend)
        _same(b, c, backend)
    for p, q, r in zip(model.parameters(), fresh.parameters(), ref_model.parameters()):
        _same(p.numpy(), r.numpy(), backend)
        _same(q.numpy(), r.numpy(), backend)
    for a in saved_model.values():  # the snapshot did not follow the later steps
        assert not any(np.shares_memory(a.numpy(), p.numpy()) for p in model.parameters())


def test_eager_steps_after_compiled_steps_equal_eager_throughout(backend):
    make = OPTIMIZERS["adamw-amsgrad"]
    model = _model(backend)
    opt = make(model.parameters())
    compiled = _compiled(model, opt)
    data = _data(backend, 12)
    losses = [compiled(x, y).item() for x, y in data[:6]]
    assert compiled.stats["replays"] == 4
    losses += [_step(model, opt, x, y).item() for x, y in data[6:]]
    ref = _model(backend)
    ref_opt = make(ref.parameters())
    ref_losses = [_step(ref, ref_opt, x, y).item() for x, y in data]
    _same(losses, ref_losses, backend)
    for p, q in zip(model.parameters(), ref.parameters()):
        _same(p.numpy(), q.numpy(), backend)


def test_replaced_parameters_are_laid_out_again(backend):
    """load_state_dict rebinds `.data` (noticed by identity: one step per parameter, then
    flat again); `.to(dtype)` changes the signature (recorded again)."""
    make = OPTIMIZERS["sgd-nesterov-decay-maximize"]
    data = _data(backend, 16)
    checkpoint = {k: v.numpy() * 0.5 for k, v in _model(backend).state_dict().items()}

    def train(compiled):
        model = _model(backend)
        opt = make(model.parameters())
        step = _compiled(model, opt) if compiled else (lambda x, y: _step(model, opt, x, y))
        losses = []
        for i, (x, y) in enumerate(data):
            if i == 5:
                model.load_state_dict(checkpoint)
            if i == 10:
                model.to(dtype="float32")
            if i >= 10:
                x = x.astype("float32")
            losses.append(step(x, y).item())
        return model, opt, step, losses

    model, opt, step, losses = train(compiled=True)
    ref, _, _, ref_losses = train(compiled=False)
    _same(losses, ref_losses, backend)
    for p, q in zip(model.parameters(), ref.parameters()):
        _same(p.numpy(), q.numpy(), backend)
    assert step.stats["recordings"] == 4  # twice for float64, twice after .to(float32)
    if ag.get_backend(backend).writable_views:
        (segment,) = _segments(opt)
        assert all(p.array is v for p, v in zip(segment.params, segment.views))
        assert "float32" in str(segment.param.array.dtype)


def test_a_parameter_without_a_gradient_takes_the_step_per_parameter():
    model = _model("numpy")
    ref = _model("numpy")
    opt, ref_opt = optim.Adam(model.parameters(), lr=0.01), optim.Adam(ref.parameters(), lr=0.01)
    opt.use_flat_buffers()
    for i, (x, y) in enumerate(_data("numpy", 10)):
        for m in (model, ref):
            m[0].weight.requires_grad = not 3 <= i < 6  # frozen for three steps
        _step(model, opt, x, y)
        _step(ref, ref_opt, x, y)
    for p, q in zip(model.parameters(), ref.parameters()):
        assert np.array_equal(p.numpy(), q.numpy())
    assert _segments(opt)


def test_big_parameters_keep_their_own_update(monkeypatch):
    monkeypatch.setattr(flat, "FLAT_MAX_ELEMENTS", 30)
    model, opt, losses = _run("numpy", OPTIMIZERS["adam-decay"], flat_buffers=True)
    _, _, ref_losses = _run("numpy", OPTIMIZERS["adam-decay"], flat_buffers=False)
    assert losses == ref_losses
    (segment,) = _segments(opt)
    assert all(math.prod(p.shape) <= 30 for p in segment.params)
    (_, _, rest), = opt._flat.groups.values()
    assert {tuple(p.shape) for p in rest} == {(8, 5), (8, 8)}


def test_optimizer_state_loaded_mid_training_is_laid_out_again():
    make = OPTIMIZERS["adam-decay"]
    model, opt, _ = _run("numpy", make, flat_buffers=True, steps=4)
    ref, ref_opt, _ = _run("numpy", make, flat_buffers=False, steps=4)
    saved = ref_opt.state_dict()
    opt.load_state_dict(saved)
    ref_opt.load_state_dict(saved)
    for x, y in _data("numpy", 4):
        assert _step(model, opt, x, y).item() == _step(ref, ref_opt, x, y).item()
    for p, q in zip(model.parameters(), ref.parameters()):
        assert np.array_equal(p.numpy(), q.numpy())
    (segment,) = _segments(opt)  # the loaded moments are views of the flat arrays again
    for k, p in enumerate(segment.params):
        assert opt.state[p]["exp_avg"].array is segment.state_views["exp_avg"][k]


def test_copied_layouts_start_empty():
    """A copy or pickle of the layouts would hold arrays that are no longer views of
    one another: it starts empty, and its optimizer lays its arrays out afresh."""
    import copy
    import pickle

    _, opt, _ = _run("numpy", OPTIMIZERS["sgd-dampened"], flat_buffers=True, steps=4)
    assert _segments(opt)
    for twin in (copy.deepcopy(opt._flat), pickle.loads(pickle.dumps(opt._flat))):
        assert isinstance(twin, flat.FlatLayouts) and twin.groups == {}
