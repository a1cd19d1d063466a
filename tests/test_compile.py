"""ag.compile: replays equal eager execution step for step, and never replay stale values.

Every training comparison runs the same seeded model twice, eagerly and compiled, over
many steps, and compares losses and parameters: bitwise on numpy, to float tolerance on
the other backends. Each way a recording could go stale has its own test.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import anygrad as ag
import anygrad.nn as nn
import anygrad.nn.functional as F
import anygrad.optim as optim

STEPS = 20


def _batches(backend, n=STEPS, batch=6, features=5, classes=3, dtype="float64"):
    rng = np.random.default_rng(7)
    xs = [ag.tensor(rng.normal(size=(batch, features)).astype(dtype), backend=backend)
          for _ in range(n)]
    ys = [ag.tensor(rng.integers(0, classes, size=batch), backend=backend) for _ in range(n)]
    return xs, ys


def _same(a, b, backend):
    a, b = np.asarray(a), np.asarray(b)
    if backend == "numpy":
        assert np.array_equal(a, b), np.max(np.abs(a - b))
    else:
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def _step_of(model, opt):
    """The training step every comparison runs."""

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def _train(backend, build, compiled, dtype="float64"):
    """Losses and final parameters and buffers of STEPS training steps. `compiled`:
    False (eager), True, or a dict of ag.compile options."""
    ag.manual_seed(3)
    model, opt, scheduler = build(backend, dtype)
    step = _step_of(model, opt)
    options = compiled if isinstance(compiled, dict) else {}
    fn = step if compiled is False else ag.compile(step, **options)
    xs, ys = _batches(backend, dtype=dtype)
    losses = []
    for x, y in zip(xs, ys):
        losses.append(fn(x, y).item())
        if scheduler is not None:
            scheduler.step()
    state = [t.numpy() for t in model.state_dict().values()]
    return losses, state, fn


def _mlp_sgd(backend, dtype):
    model = nn.Sequential(nn.Linear(5, 8, dtype=dtype), nn.Tanh(), nn.Dropout(0.25),
                          nn.Linear(8, 3, dtype=dtype))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3)
    return model, opt, optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)


def _bn_adam(backend, dtype):
    model = nn.Sequential(nn.Linear(5, 8, dtype=dtype), nn.BatchNorm1d(8, dtype=dtype),
                          nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 3, dtype=dtype))
    opt = optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-4)
    return model, opt, optim.lr_scheduler.CosineAnnealingLR(opt, T_max=5)


def _adamw_amsgrad(backend, dtype):
    model = nn.Sequential(nn.Linear(5, 8, dtype=dtype), nn.ReLU(), nn.Linear(8, 3, dtype=dtype))
    opt = optim.AdamW(model.parameters(), lr=0.01, amsgrad=True)
    return model, opt, None


@pytest.mark.parametrize("build", [_mlp_sgd, _bn_adam, _adamw_amsgrad],
                         ids=["sgd-nesterov-dropout-steplr", "batchnorm-adam-cosine", "adamw-amsgrad"])
def test_compiled_training_equals_eager(backend, build):
    eager_losses, eager_state, _ = _train(backend, build, compiled=False)
    losses, state, fn = _train(backend, build, compiled=True)
    assert fn.stats["replays"] == STEPS - 2  # recorded twice (the second confirms), then replayed
    _same(losses, eager_losses, backend)
    for a, b in zip(state, eager_state):
        _same(a, b, backend)


def test_compiled_training_float32_bitwise_on_numpy():
    eager_losses, eager_state, _ = _train("numpy", _bn_adam, compiled=False, dtype="float32")
    losses, state, _ = _train("numpy", _bn_adam, compiled=True, dtype="float32")
    assert losses == eager_losses
    assert all(np.array_equal(a, b) for a, b in zip(state, eager_state))


def test_dropout_draws_fresh_masks_from_the_backend_stream(backend):
    x = ag.ones((4, 50), dtype="float64", backend=backend)
    f = ag.compile(lambda x: F.dropout(x, 0.5))
    ag.manual_seed(11)
    compiled = [f(x).numpy() for _ in range(4)]
    ag.manual_seed(11)
    eager = [F.dropout(x, 0.5).numpy() for _ in range(4)]
    assert f.stats["replays"] == 2
    for a, b in zip(compiled, eager):
        _same(a, b, backend)
    assert not np.array_equal(compiled[2], compiled[3])


def test_batchnorm_running_statistics_follow_every_replay(backend):
    def run(compiled):
        ag.manual_seed(0)
        bn = nn.BatchNorm1d(3, dtype="float64")
        f = ag.compile(lambda x: bn(x)) if compiled else (lambda x: bn(x))
        rng = np.random.default_rng(2)
        with ag.no_grad():
            for _ in range(6):
                f(ag.tensor(rng.normal(size=(4, 3)), backend=backend))
        return [t.numpy() for t in bn.state_dict().values()]

    for a, b in zip(run(True), run(False)):
        _same(a, b, backend)


def test_grad_transform_and_inference_compile(backend):
    w = ag.tensor(np.linspace(-1, 1, 4), backend=backend)
    g = ag.compile(ag.grad(lambda x: ag.sum(ag.tanh(x * w) ** 2)))
    for k in range(4):
        x = ag.tensor(np.arange(4.0) * (k + 1) / 7, backend=backend)
        expected = ag.grad(lambda x: ag.sum(ag.tanh(x * w) ** 2))(x)
        _same(g(x).numpy(), expected.numpy(), backend)
    assert g.stats["replays"] == 2


def test_create_graph_inside_is_replayed(backend):
    w = ag.tensor(np.array([0.5, -0.3, 0.8]), requires_grad=True, backend=backend)

    def penalty_step(x):
        w.grad = None
        y = ag.sum(ag.sin(w * x) ** 2)
        (gw,) = ag.gradients(y, [w], create_graph=True)
        (ag.sum(gw * gw) + y).backward()
        return y

    f = ag.compile(penalty_step)
    for k in range(4):
        x = ag.tensor(np.array([1.0, 2.0, 3.0]) * (k + 1), backend=backend)
        y = f(x)
        got = (y.numpy(), w.grad.numpy())
        y = penalty_step(x)
        _same(got[0], y.numpy(), backend)
        _same(got[1], w.grad.numpy(), backend)
    assert f.stats["replays"] == 1  # the first call finds .grad unset: recorded a third time


def test_leaf_gradients_accumulate_across_calls_like_eager(backend):
    w = ag.tensor(np.array([1.0, 2.0]), requires_grad=True, backend=backend)
    f = ag.compile(lambda x: ag.sum(w * x).backward())
    x = ag.tensor(np.array([3.0, 4.0]), backend=backend)
    for _ in range(4):
        f(x)
    _same(w.grad.numpy(), [12.0, 16.0], backend)


def test_changing_outside_tensors_are_read_at_replay(backend):
    class Holder:
        pass

    holder = Holder()
    holder.x = ag.tensor(np.array([1.0, 2.0]), backend=backend)
    f = ag.compile(lambda: ag.sum(holder.x * 2.0))
    results = []
    for k in range(5):
        holder.x = ag.tensor(np.array([1.0, 2.0]) * k, backend=backend)  # a new tensor each time
        results.append(float(f().numpy()))
    assert results == [0.0, 6.0, 12.0, 18.0, 24.0]
    assert f.stats["replays"] == 3


def test_parameters_replaced_by_load_state_dict_or_to(backend):
    model = nn.Linear(3, 2, dtype="float64", backend=backend)
    f = ag.compile(lambda x: model(x))
    x = ag.tensor(np.ones((1, 3)), backend=backend)
    with ag.no_grad():
        for _ in range(3):
            f(x)
        state = {k: v.numpy() * 0 + 1.0 for k, v in model.state_dict().items()}
        model.load_state_dict(state)
        _same(f(x).numpy(), [[4.0, 4.0]], backend)
        model.weight = nn.Parameter(ag.tensor(np.full((2, 3), 2.0), backend=backend))
        _same(f(x).numpy(), [[7.0, 7.0]], backend)
        model.to(dtype="float32")
        out = f(x.astype("float32"))
        assert "float32" in str(out.dtype)
        _same(out.numpy(), [[7.0, 7.0]], backend)


def test_train_and_eval_modes_are_guarded(backend):
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4, dtype="float64"), nn.Dropout(0.5))
    f = ag.compile(lambda x: model(x))
    x = ag.tensor(np.ones((2, 4)), backend=backend)
    with ag.no_grad():
        for _ in range(3):
            f(x)
        model.eval()
        _same(f(x).numpy(), model(x).numpy(), backend)
        _same(f(x).numpy(), model(x).numpy(), backend)


def test_python_numbers_from_globals_are_guarded():
    global SCALE
    SCALE = 2.0
    f = ag.compile(_scaled)
    x = ag.tensor([1.0, 2.0])
    assert [f(x).tolist() for _ in range(3)] == [[2.0, 4.0]] * 3
    SCALE = 3.0
    assert f(x).tolist() == [3.0, 6.0]


SCALE = 2.0


def _scaled(x):
    return x * SCALE


def test_learning_rate_is_read_at_replay():
    w = ag.tensor([1.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.5)

    def step():
        opt.zero_grad()
        ag.sum(w * 1.0).backward()
        opt.step()

    f = ag.compile(step)
    for lr in (0.5, 0.5, 0.5, 0.25, 0.125):
        opt.param_groups[0]["lr"] = lr
        f()
    assert w.tolist() == [1.0 - 1.5 - 0.375]


# ------------------------------------------------------------------ never silent
@pytest.mark.parametrize("read", [lambda t: t.item(), float, bool, lambda t: t.numpy()],
                         ids=["item", "float", "bool", "numpy"])
def test_host_reads_fall_back_to_eager_with_a_warning(backend, read):
    def f(x):
        positive = ag.sum(x) > 0
        return x * 2.0 if read(positive) else x * 3.0

    g = ag.compile(f)
    with pytest.warns(RuntimeWarning, match="reads a tensor.s value on the host"):
        g(ag.tensor([1.0, 2.0], backend=backend))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _same(g(ag.tensor([-1.0, -2.0], backend=backend)).numpy(), [-3.0, -6.0], backend)
    assert g.stats["eager"] == 1 and g.stats["replays"] == 0


def test_strict_mode_raises_when_recording():
    g = ag.compile(lambda x: x * float(ag.sum(x)), strict=True)
    with pytest.raises(ag.CompileError, match="item"):
        g(ag.tensor([1.0, 2.0]))


def test_hooks_fall_back_to_eager():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    w.register_hook(lambda g: seen.append(g) or g * 2)
    g = ag.compile(lambda: ag.sum(w * w).backward())
    with pytest.warns(RuntimeWarning, match="hook"):
        g()
    g()
    assert len(seen) == 2 and w.grad.tolist() == [8.0, 16.0]


def test_hook_added_after_recording_is_seen():
    w = ag.tensor([1.0, 2.0], requires_grad=True)

    def step():
        w.grad = None
        ag.sum(w * w).backward()

    g = ag.compile(step)
    g(), g(), g()
    w.register_hook(lambda grad: grad * 10)
    with pytest.warns(RuntimeWarning, match="hook"):
        g()
    assert w.grad.tolist() == [20.0, 40.0]


def test_raw_array_arithmetic_is_detected_by_the_second_recording():
    def f(x):
        return ag.sum(ag.tensor(x.array * 2.0) * x)  # the raw product is invisible

    g = ag.compile(f)
    with pytest.warns(RuntimeWarning, match="different operations or constants"):
        for k in range(4):
            g(ag.tensor([1.0, 2.0]) * k)
    assert g(ag.tensor([5.0, 6.0])).item() == 2 * (25.0 + 36.0)


def test_returning_a_live_graph_replays_with_its_backward_outside():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    g = ag.compile(lambda x: ag.sum(w * x))
    for k in range(1, 5):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = g(ag.tensor([1.0, 1.0]) * k)
        w.grad = None
        out.backward()
        assert w.grad.tolist() == [k, k]
    assert g.stats == {"recordings": 2, "replays": 2, "eager": 0}


def test_assigning_data_inside_falls_back():
    w = ag.tensor([1.0, 2.0])

    def f(x):
        out = ag.sum(w * x)
        w.array = w.array + 1.0
        return out

    g = ag.compile(f)
    with pytest.warns(RuntimeWarning, match="changes .data"):
        g(ag.tensor([1.0, 1.0]))


# ------------------------------------------------------------------ cache and display
def test_signatures_are_cached_and_bounded():
    f = ag.compile(lambda x, scale: x * scale, cache_size=2)
    for n in (2, 3, 4):
        f(ag.ones((n,)), 2.0)
    assert len(f.cache) == 2
    f(ag.ones((4,)), 2.0)
    f(ag.ones((4,)), 2.0)
    assert f.stats["replays"] == 1
    f(ag.ones((4,)), 5.0)  # a static argument is part of the signature
    assert f.cache.evicted == 2
    with pytest.raises(TypeError, match="not hashable"):
        f(ag.ones((4,)), {1, 2})


def test_program_reads_like_a_listing():
    model = nn.Linear(3, 2, dtype="float64")
    opt = optim.SGD(model.parameters(), lr=0.1)

    @ag.compile
    def step(x):
        opt.zero_grad()
        loss = ag.sum(model(x) ** 2)
        loss.backward()
        opt.step()
        return loss

    x = ag.ones((4, 3), dtype="float64")
    step(x), step(x)
    text = str(step.program)
    assert "linear(%0" in text and "SGD.step()" in text and "accumulate into grad" in text
    assert "model._parameters['weight']" in text


def test_python_number_settings_of_modules_and_self_are_guarded():
    class Scaled:
        def __init__(self):
            self.scale = 2.0
            self.drop = nn.Dropout(0.0)

        def __call__(self, x):
            return self.drop(x) * self.scale

    s = Scaled()
    f = ag.compile(s)
    x = ag.tensor([1.0, 2.0])
    assert [f(x).tolist() for _ in range(3)] == [[2.0, 4.0]] * 3
    s.scale = 3.0
    assert f(x).tolist() == [3.0, 6.0]
    s.drop.p = 1.0  # read by Dropout.forward: the recording with p = 0 no longer applies
    assert f(x).tolist() == [0.0, 0.0]


def test_writing_an_outside_array_in_place_falls_back():
    w = ag.tensor(np.array([1.0, 2.0]))

    def f(x):
        out = ag.sum(w * x)
        w.array[0] = 5.0  # raw, in place: invisible to a replay
        return out

    g = ag.compile(f)
    with pytest.warns(RuntimeWarning, match="changes .data"):
        g(ag.tensor([1.0, 1.0]))


def test_pure_programs_can_be_handed_to_the_backend_compiler(backend):
    w = ag.tensor(np.linspace(-1.0, 1.0, 6).reshape(2, 3), backend=backend)
    loss = ag.grad(lambda x: ag.sum(ag.tanh(x @ w) ** 2))
    f = ag.compile(loss, jit=True)
    for k in range(4):
        x = ag.tensor(np.arange(4.0).reshape(2, 2) * (k + 1) / 9, backend=backend)
        _same(f(x).numpy(), loss(x).numpy(), backend)
    assert f.program.pure
    # jax.jit and torch.compile; numpy and array_api_strict have no compiler
    assert (f.program.jitted is not None) == (backend in ("jax", "torch"))
    step = ag.compile(lambda x: F.dropout(x, 0.5), jit=True)  # draws: not pure
    for _ in range(3):
        step(ag.ones((3,), dtype="float64", backend=backend))
    assert not step.program.pure and step.program.jitted is None


# ------------------------------------------------------------ values read outside ops
@pytest.mark.parametrize("pick", ["getitem", "take", "take_along_axis"])
def test_an_index_tensor_is_this_calls_index(backend, pick):
    """An index passed in is read at every replay, even where the recording's first two
    calls passed equal ones (which a recording cannot tell from a constant)."""
    x = ag.tensor(np.arange(10.0).reshape(5, 2), backend=backend)
    use = {
        "getitem": lambda x, i: x[i],
        "take": lambda x, i: ag.take(x, i, axis=0),
        "take_along_axis": lambda x, i: ag.take_along_axis(x, ag.reshape(i, (-1, 1)), axis=0),
    }[pick]
    f = ag.compile(lambda x, i: ag.sum(use(x, i) * 1.0))
    first = ag.tensor(np.array([0, 1, 4, 3, 2]), backend=backend)
    for _ in range(3):
        f(x, first)
    other = ag.tensor(np.array([3, 2, 0, 0, 1]), backend=backend)
    assert f.stats["replays"] >= 1
    assert f(x, other).item() == use(x, other).numpy().sum()
    assert f.stats["recordings"] == 2


@pytest.mark.parametrize("select", ["mask", "nonzero", "unique_values", "unique_counts"])
def test_a_shape_set_by_values_runs_eagerly(backend, select):
    """A boolean mask's count, nonzero and unique make shapes a replay would keep: such a
    call is not replayed (eager with a warning; an error with strict=True)."""
    use = {
        "mask": lambda x: ag.sum(x[x < 2.0]),
        "nonzero": lambda x: ag.sum(ag.take(x, ag.nonzero(x < 2.0)[0], axis=0)),
        "unique_values": lambda x: ag.sum(ag.unique_values(x)),
        "unique_counts": lambda x: ag.sum(ag.unique_counts(x).values),
    }[select]
    f = ag.compile(use)
    with pytest.warns(RuntimeWarning, match="whose result's shape depends on the values"):
        f(ag.tensor(np.array([0.0, 1.0, 1.0, 3.0]), backend=backend))
    other = ag.tensor(np.array([0.0, 0.5, 1.5, 1.0]), backend=backend)
    assert f(other).item() == use(other).item()
    assert f.stats["replays"] == 0
    strict = ag.compile(use, strict=True)
    with pytest.raises(ag.CompileError, match="whose result's shape depends on the values"):
        strict(other)


@pytest.mark.parametrize("pick", ["getitem", "take"])
def test_an_index_out_of_range_raises_at_replay(backend, pick):
    x = ag.tensor(np.arange(5.0), backend=backend)
    f = ag.compile(lambda x, i: ag.sum(x[i] if pick == "getitem" else ag.take(x, i, axis=0)))
    for _ in range(3):
        f(x, ag.tensor(np.array([0, 1]), backend=backend))
    with pytest.raises(IndexError, match=rf"{pick}: index 5 is out of range for axis 0 of size 5"):
        f(x, ag.tensor(np.array([5, 1]), backend=backend)).item()
    assert f.stats["recordings"] == 2  # raised by the replay, not by a new recording


def test_a_label_out_of_range_raises_at_replay_before_the_update(backend):
    """cross_entropy's label check is part of the program: a replay raises on a bad
    label as eager does, where eager does (before backward and the optimizer step)."""
    ag.manual_seed(3)
    model, opt, _ = _mlp_sgd(backend, "float64")
    step = ag.compile(_step_of(model, opt))
    xs, ys = _batches(backend)
    for x, y in zip(xs[:3], ys[:3]):
        step(x, y)
    assert "check cross_entropy labels in [0, 3): %" in str(step.program)
    before = [t.numpy() for t in model.state_dict().values()]
    bad = ag.tensor(np.array([0, 1, 2, 3, 1, 0]), backend=backend)
    with pytest.raises(IndexError, match=r"cross_entropy: target label 3 is outside \[0, 3\)"):
        step(xs[3], bad).item()
    assert step.stats["recordings"] == 2
    if not bad.backend.defer_checks:  # a GPU raises at the next host read, as eager does
        for a, b in zip(before, [t.numpy() for t in model.state_dict().values()]):
            np.testing.assert_array_equal(a, b)


def test_checks_leave_a_function_handed_to_the_backend_compiler(backend):
    """Under jax.jit or torch.compile nothing can read a value midway: the checks return
    their flags, queued and raised at the next host read."""
    if backend not in ("jax", "torch"):
        pytest.skip("only jax and torch have a compiler to hand the program to")
    w = ag.tensor(np.linspace(-1.0, 1.0, 6).reshape(2, 3), backend=backend)
    f = ag.compile(lambda x, y: F.cross_entropy(x @ w, y), jit=True)
    x = ag.tensor(np.arange(4.0).reshape(2, 2) / 9, backend=backend)
    for _ in range(3):
        f(x, ag.tensor(np.array([0, 2]), backend=backend))
    assert f.program.pure and f.program.jitted is not None
    _same(f(x, ag.tensor(np.array([1, 1]), backend=backend)).item(),
          F.cross_entropy(x @ w, ag.tensor(np.array([1, 1]), backend=backend)).item(), backend)
    with pytest.raises(IndexError, match=r"target label 3 is outside \[0, 3\)"):
        f(x, ag.tensor(np.array([3, 1]), backend=backend)).item()


def test_one_hot_targets_are_this_calls(backend):
    """The MSE-on-one-hot step of the classic tutorials: the one-hot rows are ops on
    each call's labels, not values fixed at recording."""
    w = ag.tensor(np.linspace(-1.0, 1.0, 6).reshape(2, 3), backend=backend)
    x = ag.tensor(np.arange(4.0).reshape(2, 2) / 9, backend=backend)
    loss = lambda y: F.mse_loss(ag.softmax(x @ w, axis=1), F.one_hot(y, 3, dtype="float64"))
    f = ag.compile(loss)
    for _ in range(3):
        f(ag.tensor(np.array([0, 1]), backend=backend))
    y = ag.tensor(np.array([2, 2]), backend=backend)
    _same(f(y).item(), loss(y).item(), backend)
    assert f.stats["replays"] >= 2


def test_in_place_arithmetic_on_a_tensor_the_call_computed_is_replayed(backend):
    """`y += x` outside the graph is an instruction of its own; on numpy an update
    through a view reaches its base at a replay as it does eagerly."""
    def f(x):
        y = x * 1.0
        y += x
        y *= 2.0
        z = y[0:2]
        z -= 1.0  # a view of y where the library has views
        return ag.sum(y)

    g = ag.compile(f)
    for _ in range(3):
        g(ag.tensor(np.array([1.0, 2.0, 3.0]), backend=backend))
    x = ag.tensor(np.array([4.0, 5.0, 6.0]), backend=backend)
    assert g(x).item() == f(x).item()
    assert g.stats["replays"] == 2
    assert "add in place(%1, %0)" in str(g.program)


@pytest.mark.parametrize("change", ["augmented", "setitem", "outside"])
def test_in_place_changes_of_what_the_call_did_not_compute_run_eagerly(change):
    """An argument or an outside tensor changed in place (or its .data rebound by
    setitem) would stay as it was in a replay: such a call runs eagerly, and the
    tensors end as eager leaves them."""
    w = ag.tensor(np.array([1.0, 2.0]))

    def f(x):
        if change == "augmented":
            x += 1.0
        elif change == "setitem":
            x[0] = 0.0
        else:
            with ag.no_grad():
                w.__isub__(0.5)  # never read before: no load for a replay to check
        return ag.sum(x)

    g = ag.compile(f)
    xs = [ag.tensor(np.array([1.0, 2.0])) for _ in range(3)]
    with pytest.warns(RuntimeWarning, match="argument 0|did not compute"):
        results = [g(x).item() for x in xs]
    expected = {"augmented": [2.0, 3.0], "setitem": [0.0, 2.0], "outside": [1.0, 2.0]}[change]
    for x in xs:
        np.testing.assert_array_equal(x.numpy(), expected)
    assert results == [sum(expected)] * 3
    if change == "outside":
        np.testing.assert_array_equal(w.numpy(), [-0.5, 0.5])
    assert g.stats["replays"] == 0


def test_setitem_through_an_index_tensor_runs_eagerly():
    def f(x, i):
        y = x * 1.0
        y[i] = 0.0
        return ag.sum(y)

    g = ag.compile(f)
    x = ag.tensor(np.array([1.0, 2.0, 3.0]))
    with pytest.warns(RuntimeWarning, match=r"assigns through an index array"):
        g(x, ag.tensor(np.array([0])))
    assert g(x, ag.tensor(np.array([2]))).item() == 3.0


def test_repeat_counts_from_a_tensor_are_read_on_the_host_and_fall_back():
    f = ag.compile(lambda x, counts: ag.sum(ag.repeat(x, counts, axis=0)))
    x = ag.tensor(np.arange(3.0))
    with pytest.warns(RuntimeWarning, match=r"reads a tensor's value on the host with numpy\(\)"):
        f(x, ag.tensor(np.array([1, 1, 1])))
    assert f(x, ag.tensor(np.array([0, 0, 4]))).item() == 8.0


def test_an_index_from_another_backend_falls_back():
    x = ag.tensor(np.arange(5.0))
    f = ag.compile(lambda x, i: ag.sum(x[i]))
    with pytest.warns(RuntimeWarning, match="indexes a tensor of backend numpy with one of backend array_api_strict"):
        f(x, ag.tensor(np.array([0, 1]), backend="array_api_strict"))
    assert f(x, ag.tensor(np.array([3, 4]), backend="array_api_strict")).item() == 7.0


def test_model_moved_to_another_backend_records_again():
    model = nn.Linear(3, 2, dtype="float64")
    f = ag.compile(lambda x: model(x))
    with ag.no_grad():
        for _ in range(3):
            f(ag.ones((1, 3), dtype="float64"))
        model.to("array_api_strict")
        x = ag.ones((1, 3), dtype="float64", backend="array_api_strict")
        out = f(x)
        assert out.backend.name == "array_api_strict"
        _same(out.numpy(), model(x).numpy(), "numpy")
    assert f.stats["recordings"] == 3


def test_a_training_step_is_shown_and_timed_instruction_by_instruction():
    model = nn.Sequential(nn.Linear(3, 4, dtype="float64"), nn.ReLU(),
                          nn.Linear(4, 2, dtype="float64"))
    f = ag.compile(_step_of(model, optim.SGD(model.parameters(), lr=0.1)))
    x, y = ag.ones((5, 3), dtype="float64"), ag.tensor(np.array([0, 1, 0, 1, 1]))
    for _ in range(3):
        f(x, y)
    text = str(f.program)  # parameters that are dtypes (casts) are shown by name
    assert "dtype=float64" in text and "SGD.step()" in text
    before = model[0].weight.numpy()
    lines = f.program.line_times([x, y], f.program.guards.prepare(), repeats=3)
    assert [shown for shown, _ in lines] == [ins.show() for ins in f.program.code]
    assert all(seconds >= 0 for _, seconds in lines)
    assert not np.array_equal(model[0].weight.numpy(), before)  # real replays: 3 steps taken
