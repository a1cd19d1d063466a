"""ag.compile never replays a stale Python value: numbers read from dicts, lists, tuples,
attributes of `self`, of closed-over objects and of modules are checked before each
replay, a change records the function again, and an optimizer's learning rate, which the
replayed step reads afresh, changes without one.

Each comparison runs the same function eagerly on the same inputs: bitwise equal on
numpy, to float tolerance elsewhere.
"""
from __future__ import annotations

import timeit
import types
import warnings

import numpy as np
import pytest

import anygrad as ag
import anygrad.nn as nn
import anygrad.nn.functional as F
import anygrad.optim as optim

REPLAYS = 4


def _same(a, b, backend):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    if backend == "numpy":
        assert np.array_equal(a, b), np.max(np.abs(a - b))
    else:
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def _x(backend, shape=(3, 4), seed=0):
    return ag.tensor(np.random.default_rng(seed).normal(size=shape), backend=backend)


def _follows(fn, change, x, backend):
    """Replay `fn` a few times, apply `change`, then check the compiled result is
    eager's and that the function was recorded again (not left to eager calls)."""
    cfn = ag.compile(fn)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # running eagerly would warn
        for _ in range(REPLAYS):
            _same(cfn(x).numpy(), fn(x).numpy(), backend)
        assert cfn.stats["replays"] == REPLAYS - 2
        change()
        for _ in range(REPLAYS):
            _same(cfn(x).numpy(), fn(x).numpy(), backend)
    assert cfn.stats["recordings"] == 4 and cfn.stats["eager"] == 0
    return cfn


# ------------------------------------------------------------------ where numbers live
def test_number_in_a_dict(backend):
    config = {"scale": 2.0, "shift": 0.5}

    def change():
        config["scale"] = 3.0

    _follows(lambda x: x * config["scale"] + config["shift"], change, _x(backend), backend)


def test_number_in_a_list_and_a_tuple(backend):
    coefs = [1.0, 2.0]
    pair = {"p": (0.5, 1.5)}

    def change():
        coefs[1] = -4.0
        pair["p"] = (0.5, 7.0)

    _follows(lambda x: x * coefs[1] + pair["p"][1], change, _x(backend), backend)


def test_a_longer_list(backend):
    """`coefs[-1]` and `len(coefs)` read what an appended entry changes."""
    coefs = [1.0, 2.0]
    _follows(lambda x: x * coefs[-1] + len(coefs), lambda: coefs.append(5.0), _x(backend),
             backend)


def test_a_list_that_was_empty(backend):
    """An empty list holds no number, but its length is one."""
    seen = []
    _follows(lambda x: x * (1 + len(seen)), lambda: seen.append("a"), _x(backend), backend)


class _Scaler:
    def __init__(self):
        self.temperature = 2.0
        self.hp = types.SimpleNamespace(shift=1.0, extra={"gain": 3.0})

    def __call__(self, x):
        return x / self.temperature + self.hp.shift * self.hp.extra["gain"]


def test_attributes_of_self(backend):
    s = _Scaler()
    x = _x(backend)

    def change():
        s.temperature = 5.0
        s.hp.extra["gain"] = -1.0

    _follows(s.__call__, change, x, backend)


def test_attribute_of_a_closed_over_object(backend):
    hparams = types.SimpleNamespace(lr=0.1, inner=types.SimpleNamespace(beta=0.9))

    def change():
        hparams.inner.beta = 0.5

    _follows(lambda x: x * hparams.lr + hparams.inner.beta, change, _x(backend), backend)


def test_attribute_of_a_python_module(backend):
    settings = types.ModuleType("run_settings")  # a user's config module
    settings.SCALE = 2.0

    def change():
        settings.SCALE = 0.25

    _follows(lambda x: x * settings.SCALE, change, _x(backend), backend)


class _Settings:
    scale = 2.0  # a class attribute, shared by every instance


class _Slotted:
    __slots__ = ("gain",)

    def __init__(self):
        self.gain = 3.0


def test_class_attribute_and_slots(backend):
    settings, slotted = _Settings(), _Slotted()

    def change():
        _Settings.scale = 5.0
        slotted.gain = -2.0

    try:
        _follows(lambda x: x * settings.scale + slotted.gain, change, _x(backend), backend)
    finally:
        _Settings.scale = 2.0


def test_mutable_default_argument(backend):
    def scaled(x, config={"scale": 2.0}):  # noqa: B006 (the case under test)
        return x * config["scale"]

    def change():
        scaled.__defaults__[0]["scale"] = 6.0

    _follows(scaled, change, _x(backend), backend)


def test_object_passed_as_a_static_argument(backend):
    """An object argument is part of the signature by identity; what it holds is
    checked like what `self` holds."""
    hp = _Slotted()  # hashable by identity, as a plain object is
    fn = lambda h, x: x * h.gain  # noqa: E731
    cfn = ag.compile(fn)
    x = _x(backend)
    for _ in range(REPLAYS):
        _same(cfn(hp, x).numpy(), fn(hp, x).numpy(), backend)
    hp.gain = -3.0
    _same(cfn(hp, x).numpy(), fn(hp, x).numpy(), backend)
    assert cfn.stats["recordings"] == 3 and cfn.stats["replays"] == REPLAYS - 2


class _Gain(nn.Module):
    def __init__(self):
        super().__init__()
        self.gain = 2.0

    def forward(self, x):
        return x * self.gain if self.training else x - self.gain


def test_attribute_and_mode_of_a_module_not_called(backend):
    """A module whose attribute is read without calling the module (nothing reports it
    to the recorder): its settings and `training` flag are checked all the same."""
    m = _Gain()
    x = _x(backend)

    def change():
        m.gain = 4.0

    _follows(lambda t: m.forward(t), change, x, backend)
    cfn = ag.compile(m.forward)
    for _ in range(REPLAYS):
        _same(cfn(x).numpy(), m.forward(x).numpy(), backend)
    m.eval()
    _same(cfn(x).numpy(), m.forward(x).numpy(), backend)
    assert cfn.stats["recordings"] == 3


def test_a_number_changing_type_or_to_a_numpy_scalar(backend):
    """2 and 2.0 are equal but an integer tensor times each has another dtype."""
    config = {"k": 2}
    x = ag.tensor(np.arange(6).reshape(2, 3), backend=backend)
    cfn = _follows(lambda t: t * config["k"], lambda: config.update(k=2.0), x, backend)
    config["k"] = np.float64(3.0)
    _same(cfn(x).numpy(), (x * 3.0).numpy(), backend)


def test_an_unchanged_nan_keeps_replaying(backend):
    config = {"fill": float("nan"), "scale": 2.0}
    cfn = ag.compile(lambda x: ag.where(x > 0, x * config["scale"], config["fill"]))
    x = _x(backend)
    for _ in range(REPLAYS):
        cfn(x)
    assert cfn.stats["replays"] == REPLAYS - 2


def test_a_value_that_keeps_changing_runs_eagerly_and_says_which():
    config = {"scale": 1.0}
    cfn = ag.compile(lambda x: x * config["scale"])
    x = ag.tensor(np.ones(3))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(15):
            config["scale"] = float(i)
            np.testing.assert_array_equal(cfn(x).numpy(), np.full(3, float(i)))
    messages = [str(w.message) for w in caught]
    assert any("config['scale'] changed from" in m for m in messages), messages
    strict = ag.compile(lambda x: x * config["scale"], strict=True)
    with pytest.raises(ag.CompileError, match=r"config\['scale'\]"):
        for i in range(15):
            config["scale"] = float(i)
            strict(x)


def test_what_the_guards_cannot_see_whole_is_refused():
    """A chain of objects deeper than the guards walk: the function runs eagerly (and
    strict mode says why) instead of replaying numbers nobody checks."""
    deep = types.SimpleNamespace(value=1.0)
    for _ in range(20):
        deep = types.SimpleNamespace(next=deep)

    def read(x):
        node = deep
        while hasattr(node, "next"):
            node = node.next
        return x * node.value

    with pytest.raises(ag.CompileError, match="deep"):
        ag.compile(read, strict=True)(ag.tensor(np.ones(2)))
    cfn = ag.compile(read)
    with pytest.warns(RuntimeWarning, match="deep"):
        cfn(ag.tensor(np.ones(2)))


def test_a_long_list_of_tensors_still_replays():
    """Tensors hold no plain value the guards check: a long list of them is no reason to
    run eagerly."""
    batches = [ag.tensor(np.full(2, float(i))) for i in range(300)]
    cfn = ag.compile(lambda x: x * batches[299])
    x = ag.tensor(np.ones(2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(REPLAYS):
            np.testing.assert_array_equal(cfn(x).numpy(), np.full(2, 299.0))
    assert cfn.stats["replays"] == REPLAYS - 2


# ------------------------------------------------------------------ learning rates
def _training(backend, reads_lr):
    model = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3)).to(backend)
    opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    def step_reading_lr(x, y):  # the rate read by the function itself is baked in
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y) * (1.0 + opt.param_groups[0]["lr"])
        loss.backward()
        opt.step()
        return loss

    return model, sched, step_reading_lr if reads_lr else step


@pytest.mark.parametrize("reads_lr", [False, True])
def test_scheduler_changes_the_rate_between_epochs(backend, reads_lr):
    """A replayed optimizer step reads `group["lr"]` afresh: a scheduler stepping each
    epoch changes the rate without a new recording, and the parameters stay eager's.
    A function that reads the rate itself is recorded again when it changes."""
    rng = np.random.default_rng(0)
    x = ag.tensor(rng.normal(size=(6, 4)), backend=backend)
    y = ag.tensor(rng.integers(0, 3, size=6), backend=backend)
    runs = []
    for compiled in (False, True):
        ag.manual_seed(0)
        model, sched, step = _training(backend, reads_lr)
        run = ag.compile(step) if compiled else step
        losses = []
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for _epoch in range(3):
                for _ in range(3):
                    losses.append(run(x, y).numpy())
                sched.step()
        runs.append((losses, [p.numpy() for p in model.parameters()], run))
    (eager_losses, eager_params, _), (losses, params, run) = runs
    for a, b in zip(losses + params, eager_losses + eager_params):
        _same(a, b, backend)
    assert run.stats["recordings"] == (2 * 3 if reads_lr else 2)


class _Trainer:
    def __init__(self, backend):
        self.model = nn.Linear(4, 3).to(backend)
        self.opt = optim.SGD(self.model.parameters(), lr=0.5)
        self.sched = optim.lr_scheduler.StepLR(self.opt, step_size=1, gamma=0.5)

    @ag.compile
    def step(self, x, y):
        self.opt.zero_grad()
        loss = F.cross_entropy(self.model(x), y)
        loss.backward()
        self.opt.step()
        return loss


def test_trainer_holding_its_scheduler_replays_across_epochs(backend):
    """The scheduler is reachable from `self` but stepped outside the compiled method:
    its epoch count and rates are the optimizer's to read, not baked in."""
    rng = np.random.default_rng(0)
    x = ag.tensor(rng.normal(size=(6, 4)), backend=backend)
    y = ag.tensor(rng.integers(0, 3, size=6), backend=backend)
    trainer = _Trainer(backend)
    eager = _Trainer(backend)
    eager.model.load_state_dict(trainer.model.state_dict())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _epoch in range(3):
            for _ in range(3):
                _same(trainer.step(x, y).numpy(), _Trainer.step.fn(eager, x, y).numpy(),
                      backend)
            for t in (trainer, eager):
                t.sched.step()
    assert trainer.step.stats["recordings"] == 2
    for a, b in zip(trainer.model.parameters(), eager.model.parameters()):
        _same(a.numpy(), b.numpy(), backend)


def test_scheduler_stepping_inside_the_step_replays(backend):
    """`scheduler.step()` inside the compiled step changes the rate every call: the
    replayed optimizer and scheduler steps read and write it, with no new recording."""
    rng = np.random.default_rng(0)
    x = ag.tensor(rng.normal(size=(6, 4)), backend=backend)
    y = ag.tensor(rng.integers(0, 3, size=6), backend=backend)
    runs = []
    for compiled in (False, True):
        model = nn.Linear(4, 3).to(backend)
        optimizer = optim.Adam(model.parameters(), lr=0.1)
        scheduler = optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.7)

        def step(x, y):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            scheduler.step()
            return loss

        ag.manual_seed(0)
        model.load_state_dict({"weight": ag.tensor(np.ones((3, 4)) / 4, backend=backend),
                               "bias": ag.tensor(np.zeros(3), backend=backend)})
        run = ag.compile(step) if compiled else step
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            losses = [run(x, y).numpy() for _ in range(6)]
        runs.append((losses + [p.numpy() for p in model.parameters()], run))
    for a, b in zip(runs[0][0], runs[1][0]):
        _same(a, b, backend)
    assert runs[1][1].stats["recordings"] == 2 and runs[1][1].stats["replays"] == 4


# ------------------------------------------------------------------ cost
def test_checking_many_numbers_is_cheap():
    """A thousand numbers in a config dict cost one comparison of the dict's values
    per call, not a thousand Python statements."""
    config = {f"c{i}": float(i) for i in range(1000)}
    cfn = ag.compile(lambda x: x * config["c7"])
    x = ag.tensor(np.ones(3))
    for _ in range(3):
        cfn(x)
    guards = cfn.program.guards
    assert guards.source.count("same_all(") == 1 and "same(" not in guards.source
    prepare = guards.prepare
    assert prepare() is not None
    per_call = min(timeit.repeat(prepare, number=200, repeat=5)) / 200
    assert per_call < 100e-6, per_call
    config["c999"] = -1.0
    assert prepare() is None
