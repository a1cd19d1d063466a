"""ag.compile's GPU branches: CUDA-graph capture on torch, fused kernels on cupy.

The first half runs everywhere: what `cuda_graph=True` does off CUDA, which steps it
refuses to capture and why, the guard values that make it capture again, and the
bookkeeping that keeps a step's state in place (the exact program a graph would capture,
replayed without one). The second half needs a GPU and is skipped without one; nothing
here imitates cupy or CUDA.
"""
from __future__ import annotations

import types
import warnings

import numpy as np
import pytest
from test_compile import (
    STEPS,
    _adamw_amsgrad,
    _batches,
    _bn_adam,
    _mlp_sgd,
    _same,
    _step_of,
    _train,
)

import anygrad as ag
from anygrad import nn, optim
from anygrad.compile.cuda_graph import (
    Bindings,
    NotInPlace,
    _get,
    obstacles,
    run_in_place,
    settings,
)
from anygrad.engine import _wrap


def _cuda_torch():
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def _mlp_bn_sgd(backend, dtype):
    model = nn.Sequential(nn.Linear(5, 8, dtype=dtype), nn.BatchNorm1d(8, dtype=dtype),
                          nn.Tanh(), nn.Linear(8, 3, dtype=dtype))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3)
    return model, opt, optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)


# ---------------------------------------------------------------- off CUDA
def test_cuda_graph_off_cuda_warns_and_replays_as_before(backend):
    if backend == "torch" and _cuda_torch():
        pytest.skip("torch runs on CUDA here: the GPU tests below cover it")
    ag.manual_seed(3)
    model, opt, scheduler = _mlp_sgd(backend, "float64")
    compiled = ag.compile(_step_of(model, opt), cuda_graph=True)
    xs, ys = _batches(backend)
    losses = []
    with pytest.warns(RuntimeWarning, match="CUDA graphs need torch tensors on a CUDA device"):
        for x, y in zip(xs, ys):
            losses.append(compiled(x, y).item())
            scheduler.step()
    assert compiled.stats["replays"] == STEPS - 2 and compiled.program.graphed is None
    ag.manual_seed(3)
    model, opt, scheduler = _mlp_sgd(backend, "float64")
    eager = _step_of(model, opt)
    for x, y, loss in zip(xs, ys, losses):
        _same(loss, eager(x, y).item(), backend)
        scheduler.step()


def test_cuda_graph_off_cuda_raises_with_strict():
    model, opt, _ = _mlp_sgd("numpy", "float64")
    compiled = ag.compile(_step_of(model, opt), cuda_graph=True, strict=True)
    xs, ys = _batches("numpy")
    compiled(xs[0], ys[0])
    with pytest.raises(ag.CompileError, match=r"runs on numpy on cpu, and CUDA graphs need torch"):
        compiled(xs[1], ys[1])


def _recorded(backend, build, **options):
    """A model, optimizer and scheduler, and its step compiled and confirmed (two calls)."""
    ag.manual_seed(3)
    model, opt, scheduler = build(backend, "float64")
    compiled = ag.compile(_step_of(model, opt), **options)
    xs, ys = _batches(backend)
    for x, y in zip(xs[:2], ys[:2]):
        compiled(x, y)
        scheduler.step()
    return model, opt, scheduler, compiled


def test_obstacles_name_random_draws_and_argument_gradients():
    _, _, _, compiled = _recorded("numpy", _mlp_sgd)  # Dropout draws a mask each step
    program = compiled.program
    reasons = obstacles(program, [], [])
    assert reasons[0] == "reads no tensor, so there is no device to capture it on"
    assert len(reasons) == 2 and "draws random numbers (bernoulli" in reasons[1]
    assert "reuse the captured draws" in reasons[1]

    x = ag.tensor(np.ones((2, 3)), requires_grad=True)
    step = ag.compile(lambda x: ag.sum(x * 2.0).backward())
    for _ in range(2):
        step(x)
    reasons = obstacles(step.program, [x], [])
    assert reasons[1:] == [("reads or writes the .grad of an argument, which a graph would "
                            "keep on its static copy of the argument")]


def test_settings_change_with_adams_step_count_but_not_with_sgds():
    _, opt, _, compiled = _recorded("numpy", _bn_adam)
    owners = compiled.program.effect_owners()
    assert owners == [opt]
    before = settings(owners)
    opt.step()  # Adam counts steps in Python: a graph would bake the count in
    assert settings(owners) != before

    _, opt, scheduler, compiled = _recorded("numpy", _mlp_bn_sgd)
    owners = compiled.program.effect_owners()
    before = settings(owners)
    opt.step()
    assert settings(owners) == before  # SGD's numbers stay: it can be captured
    for _ in range(5):
        scheduler.step()  # stepped outside the function: the learning rate halves
    assert settings(owners) != before
    before = settings(owners)
    opt.param_groups[0]["lr"] = np.float32(0.125)  # set by hand, as a numpy number
    assert settings(owners) != before


@pytest.mark.parametrize("build", [_mlp_bn_sgd, _bn_adam])
def test_state_stays_in_place_over_a_training_run(backend, build):
    """The program a graph captures — the replay, then each rebound array copied back
    into the one it replaced — trains exactly as eager does, and after every step each
    parameter, .grad, buffer and optimizer state is the same array it was."""
    if backend == "jax":
        pytest.skip("jax arrays are immutable: nothing can be written back in place (a CUDA "
                    "graph is for torch only, and refuses other backends before this)")
    model, opt, scheduler, compiled = _recorded(backend, build)
    program = compiled.program
    xs, ys = _batches(backend)
    losses, bindings, first = [], None, None
    replay = program._build(collect=True)
    for x, y in zip(xs[2:], ys[2:]):
        caps = program.guards.prepare()
        if bindings is None:
            bindings = Bindings(program, caps, program.effect_owners())
            first = bindings.read()
        (loss,), checks = run_in_place(replay, [x, y], caps, bindings)
        assert len(checks) == len(program.checks) > 0  # the labels' check, at least
        program.raise_checks(checks)
        losses.append(_wrap(loss, model[0].weight.backend).item())
        # numpy's 0-d results are immutable scalars, bound afresh (a graph refuses them)
        allowed = ["buffer 'num_batches_tracked' of BatchNorm1d"] if backend == "numpy" else []
        assert set(bindings.rebound) <= set(allowed)
        first = [_get(p) if p[2] in bindings.rebound else f for p, f in zip(bindings.places, first)]
        assert bindings.changed(first) is None
        scheduler.step()
    state = [t.numpy() for t in model.state_dict().values()]
    grads = [p.grad.numpy() for p in model.parameters()]

    ag.manual_seed(3)
    model, opt, scheduler = build(backend, "float64")
    eager = _step_of(model, opt)
    for k, (x, y) in enumerate(zip(xs, ys)):
        loss = eager(x, y).item()
        scheduler.step()
        if k >= 2:
            _same(loss, losses[k - 2], backend)
    for a, b in zip(state, [t.numpy() for t in model.state_dict().values()]):
        _same(a, b, backend)
    for a, b in zip(grads, [p.grad.numpy() for p in model.parameters()]):
        _same(a, b, backend)
    assert bindings.changed(first) is None


def test_a_captured_step_returns_its_checks_for_the_caller_to_raise(backend):
    """What a graph captures cannot read a label midway: its checks leave it as flags,
    raised after the launch (see GraphedStep._launch), so a bad label still raises."""
    if backend == "jax":
        pytest.skip("jax arrays are immutable: a CUDA graph is for torch only")
    model, opt, _, compiled = _recorded(backend, _mlp_bn_sgd)
    program = compiled.program
    xs, ys = _batches(backend)
    caps = program.guards.prepare()
    bindings = Bindings(program, caps, program.effect_owners())
    bad = ag.tensor(np.array([0, 1, 2, 7, 1, 0]), backend=backend)
    _, checks = run_in_place(program._build(collect=True), [xs[3], bad], caps, bindings)
    with pytest.raises(IndexError, match=r"cross_entropy: target label 7 is outside \[0, 3\)"):
        program.raise_checks(checks)
        ag.tensor(np.zeros(1), backend=backend).item()  # where a GPU raises what it queued


def test_replacing_state_between_calls_is_seen():
    model, opt, _, compiled = _recorded("numpy", _mlp_bn_sgd)
    program = compiled.program
    bindings = Bindings(program, program.guards.prepare(), program.effect_owners())
    start = bindings.read()
    opt.zero_grad()  # outside the function: the .grad a graph reads is gone
    assert bindings.changed(start).startswith("the .grad of a tensor of shape")
    bindings.write(start)
    assert bindings.changed(start) is None
    model.load_state_dict(model.state_dict())
    opt.load_state_dict(opt.state_dict())  # new state arrays
    assert bindings.changed(start) is not None


def test_settle_copies_back_and_refuses_what_cannot_stay_in_place():
    empty = types.SimpleNamespace(code=[])
    a, b = ag.tensor(np.zeros(3)), ag.tensor(np.ones(3))
    bindings = Bindings(empty, [a, b], [])
    start = bindings.read()
    old = a.array
    a.array = np.full(3, 7.0)
    bindings.settle(start)
    assert a.array is old and np.array_equal(old, np.full(3, 7.0))

    a.array = np.zeros(4)
    with pytest.raises(NotInPlace, match=r"changes from float64\[3\] to float64\[4\]"):
        bindings.settle(start)
    a.array = old
    a.array, b.array = b.array, a.array
    with pytest.raises(NotInPlace, match="trade places"):
        bindings.settle(start)


# ---------------------------------------------------------------- on a GPU
needs_cuda_torch = pytest.mark.skipif(not _cuda_torch(), reason="needs torch with a CUDA GPU")


def _torch_training(build, compiled, dtype="float64"):
    with ag.use_backend("torch"):
        return _train("torch", build, compiled, dtype)


@needs_cuda_torch
@pytest.mark.parametrize("build", [_mlp_bn_sgd])
def test_cuda_graph_training_equals_eager(build):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        losses, state, compiled = _torch_training(build, {"cuda_graph": True})
    eager_losses, eager_state, _ = _torch_training(build, False)
    graphed = compiled.program.graphed
    assert graphed is not None and graphed.without is None, graphed
    assert graphed.launches > 0 and graphed.captures >= 2  # StepLR halved the rate
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-10, atol=1e-12)
    for a, b in zip(state, eager_state):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@needs_cuda_torch
@pytest.mark.parametrize("build, why", [(_adamw_amsgrad, "changes Python numbers"),
                                        (_mlp_sgd, "draws random numbers")])
def test_cuda_graph_refuses_what_a_graph_would_replay_stale(build, why):
    with pytest.warns(RuntimeWarning, match=why):
        losses, state, compiled = _torch_training(build, {"cuda_graph": True})
    graphed = compiled.program.graphed
    assert graphed is None or graphed.without is not None
    eager_losses, eager_state, _ = _torch_training(build, False)
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-10, atol=1e-12)
    for a, b in zip(state, eager_state):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@needs_cuda_torch
def test_cuda_graph_results_survive_later_calls():
    with ag.use_backend("torch"):
        ag.manual_seed(3)
        model, opt, _ = _mlp_bn_sgd("torch", "float64")
        compiled = ag.compile(_step_of(model, opt), cuda_graph=True)
        xs, ys = _batches("torch")
        kept = [compiled(x, y) for x, y in zip(xs, ys)]
        values = [t.item() for t in kept]
        graphed = compiled.program.graphed
        assert (graphed.captures, graphed.launches) == (1, STEPS - 5)  # 2 recorded, 3 warm-ups
        # Each returned loss is its call's own copy: a graph's output buffer read after
        # the last call would give the last loss every time.
        assert len(set(values)) == len(values)


@needs_cuda_torch
def test_cuda_graph_sees_state_replaced_between_calls():
    """load_state_dict and zero_grad() outside the function between calls: the graph is
    captured again, and training still equals eager."""
    runs = []
    for options in ({"cuda_graph": True}, False):
        with ag.use_backend("torch"):
            ag.manual_seed(3)
            model, opt, _ = _mlp_bn_sgd("torch", "float64")
            fresh = {k: v.numpy() for k, v in _mlp_bn_sgd("torch", "float64")[0].state_dict().items()}
            step = _step_of(model, opt)
            fn = step if options is False else ag.compile(step, **options)
            xs, ys = _batches("torch")
            losses = []
            for k, (x, y) in enumerate(zip(xs, ys)):
                if k == 9:
                    model.load_state_dict(fresh)
                if k == 14:
                    opt.zero_grad()
                losses.append(fn(x, y).item())
            runs.append((losses, [t.numpy() for t in model.state_dict().values()], fn))
    (losses, state, compiled), (eager_losses, eager_state, _) = runs
    assert compiled.program.graphed.captures >= 2
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-10, atol=1e-12)
    for a, b in zip(state, eager_state):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


needs_cupy = pytest.mark.skipif("cupy" not in ag.available_backends(),
                                reason="needs cupy with a CUDA GPU")


@needs_cupy
@pytest.mark.parametrize("build", [_mlp_bn_sgd, _bn_adam])
def test_fused_cupy_training_equals_unfused(build):
    from anygrad.compile.fusion import Fused

    runs = []
    for fuse in (True, False):
        with ag.use_backend("cupy"), warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # a dropped kernel fails here
            ag.manual_seed(3)
            model, opt, scheduler = build("cupy", "float64")
            compiled = ag.compile(_step_of(model, opt), fuse=fuse)
            xs, ys = _batches("cupy")
            losses = []
            for x, y in zip(xs, ys):
                losses.append(compiled(x, y).item())
                scheduler.step()
            runs.append((losses, [t.numpy() for t in model.state_dict().values()], compiled))
    (fused_losses, fused_state, fused), (losses, state, _) = runs
    kernels = [ins.kernel for ins in fused.program.code if isinstance(ins, Fused)]
    assert kernels and all(k.compiled is not None for k in kernels)
    np.testing.assert_allclose(fused_losses, losses, rtol=1e-10, atol=1e-12)
    for a, b in zip(fused_state, state):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- the benchmark's GPU section
def test_bench_gpu_section_times_on_a_gpu_and_says_so_without_one():
    from anygrad.bench import compiled, compiled_gpu
    from anygrad.bench.report import render_text
    from anygrad.bench.runner import Settings

    result = compiled_gpu.run(Settings(backends=["numpy"], repeats=2, warmup=1), quick=True)
    found, _ = compiled_gpu.available()
    text = render_text([compiled.section({"rows": [], "blas": {"status": "unknown", "text": "not checked"},
                                          "gpu": result})])
    if not found:
        assert result["skipped"].startswith("no GPU here (")
        assert "unverified until this section runs on one" in text
        return
    impls = {r["impl"] for r in result["rows"]}
    if "torch" in found:
        assert {"torch:autograd", "anygrad:torch", "anygrad:torch compiled + cuda graph"} <= impls
    if "cupy" in found:
        assert {"anygrad:cupy", "anygrad:cupy compiled + fused"} <= impls
    for r in result["rows"]:
        if "compiled" in r["impl"]:
            assert r["max_difference"] < 1e-3 and r["ratio_to_eager"] > 0  # float32 steps
    assert "gpu mlp 784-1024-1024-10 batch 64" in text


def test_the_torch_cuda_api_the_capture_calls_exists():
    """Without a GPU the capture cannot run; this at least holds its calls to the
    installed torch's API (a misspelt name would otherwise surface only on a GPU)."""
    import inspect
    import re

    torch = pytest.importorskip("torch")
    from anygrad.compile import cuda_graph

    source = inspect.getsource(cuda_graph)
    names = set(re.findall(r"torch\.cuda\.(\w+)", source))
    assert names >= {"Stream", "stream", "current_stream", "CUDAGraph", "graph"}
    assert all(hasattr(torch.cuda, n) for n in names), [n for n in names if not hasattr(torch.cuda, n)]
    assert all(hasattr(torch.cuda.Stream, m) for m in ("wait_stream",))
    assert all(hasattr(torch.cuda.CUDAGraph, m) for m in ("replay",))
    assert hasattr(torch, "empty_like")
    assert all(hasattr(torch.Tensor, m) for m in ("copy_", "clone"))
