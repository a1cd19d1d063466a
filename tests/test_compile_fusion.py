"""ag.compile(fuse=True): which elementwise instructions are grouped, and that a grouped
replay equals the ungrouped one.

The planner is backend-neutral: off cupy each group runs as the plain function of its
operations, so these tests compare grouped and ungrouped replays exactly on every backend
here. Only cupy's kernel compilation (`cupy.fuse`) is GPU-only (tests/test_compile_gpu.py).
"""
from __future__ import annotations

import numpy as np
import pytest
from test_compile import STEPS, _adamw_amsgrad, _bn_adam, _mlp_sgd, _same, _train

import anygrad as ag
from anygrad import nn, optim
from anygrad.compile.fusion import Fused, plan
from anygrad.compile.program import Apply, Effect, Store, _output_refs


def _compiled(fn, *args, fuse=True):
    compiled = ag.compile(fn, fuse=fuse)
    for _ in range(3):  # record, confirm, replay
        out = compiled(*args)
    assert compiled.stats["replays"] == 1
    return compiled, out


def _equal(a, b, backend):
    """Exactly equal, except through cupy's fused kernels, which may contract a multiply
    and an add into one rounding (float64 inputs here)."""
    a, b = np.asarray(a), np.asarray(b)
    if backend == "cupy":
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    else:
        assert np.array_equal(a, b), np.max(np.abs(a - b))


def _groups(program):
    return [[m.op.name for m in ins.members] for ins in program.code if isinstance(ins, Fused)]


def _x(backend, shape=(4, 3)):
    return ag.tensor(np.random.default_rng(1).normal(size=shape), backend=backend)


def test_a_chain_becomes_one_group(backend):
    x = _x(backend)

    def f(x):
        return ag.tanh(ag.exp(x * 0.5) + 1.0)

    compiled, out = _compiled(f, x)
    assert _groups(compiled.program) == [["multiply", "exp", "add", "tanh"]]
    assert "fused[multiply, exp, add, tanh]" in str(compiled.program)
    _, expected = _compiled(f, x, fuse=False)
    _equal(out.numpy(), expected.numpy(), backend)
    _equal(out.numpy(), f(x).numpy(), backend)


def test_a_value_used_twice_is_not_swallowed(backend):
    x = _x(backend)

    def f(x):
        a = ag.exp(x)
        b = a * 3.0
        return b + a  # a is read by two instructions: it must stay a value of its own

    compiled, out = _compiled(f, x)
    assert _groups(compiled.program) == [["multiply", "add"]]
    standalone = [ins for ins in compiled.program.code if isinstance(ins, Apply)]
    assert [ins.op.name for ins in standalone] == ["exp"]
    _equal(out.numpy(), f(x).numpy(), backend)


def test_a_value_read_twice_by_one_instruction_joins_its_group(backend):
    x = _x(backend)

    def f(x):
        a = ag.exp(x)
        return a * a

    compiled, out = _compiled(f, x)
    assert _groups(compiled.program) == [["exp", "multiply"]]
    _equal(out.numpy(), f(x).numpy(), backend)


def test_a_returned_value_is_not_swallowed(backend):
    x = _x(backend)

    def f(x):
        a = ag.exp(x)
        return ag.sqrt(a * 2.0 + 1.0), a

    compiled, (out, a) = _compiled(f, x)
    assert _groups(compiled.program) == [["multiply", "add", "sqrt"]]
    expected, expected_a = f(x)
    _equal(out.numpy(), expected.numpy(), backend)
    _equal(a.numpy(), expected_a.numpy(), backend)


def test_reductions_and_matmuls_break_chains(backend):
    x, w = _x(backend), _x(backend, (3, 2))

    def f(x, w):
        h = ag.tanh(x * 2.0) @ w
        return ag.sum(ag.exp(h - 1.0), axis=1) * 3.0

    compiled, out = _compiled(f, x, w)
    assert _groups(compiled.program) == [["multiply", "tanh"], ["subtract", "exp"]]
    _equal(out.numpy(), f(x, w).numpy(), backend)


def _check_groups(code, outputs):
    """The planner's promises, checked on a real program: a group's values other than
    its last are read only inside it, never returned, and it spans no effect."""
    planned = plan(code, outputs)
    position = {id(ins): i for i, ins in enumerate(code)}
    escaping = {r.index for r in _output_refs(outputs)}
    readers = {}
    for i, ins in enumerate(code):
        for ref in ins.reads():
            readers.setdefault(ref.index, set()).add(i)
    groups = [ins for ins in planned if isinstance(ins, Fused)]
    for group in groups:
        at = [position[id(m)] for m in group.members]
        inside = set(at)
        for m in group.members[:-1]:
            assert m.out.index not in escaping
            assert readers[m.out.index] <= inside, (group.show(), readers[m.out.index])
        assert not any(isinstance(ins, Effect) for ins in code[min(at):max(at)])
    kept = [ins for ins in planned if not isinstance(ins, Fused)]
    swallowed = {id(m) for g in groups for m in g.members}
    assert len(kept) + len(swallowed) == len(code)
    return groups


@pytest.mark.parametrize("build", [_mlp_sgd, _bn_adam, _adamw_amsgrad])
def test_grouped_training_equals_ungrouped_replay_exactly(backend, build):
    fused_losses, fused_state, fused = _train(backend, build, {"fuse": True})
    plain_losses, plain_state, plain = _train(backend, build, True)
    eager_losses, eager_state, _ = _train(backend, build, False)
    assert fused.stats["replays"] == STEPS - 2
    groups = _check_groups(plain.program.code, plain.program.outputs)
    assert groups and _groups(fused.program) == [[m.op.name for m in g.members] for g in groups]
    assert "= fused[" in str(fused.program)
    # The same operations in the same order: equal bit for bit off cupy.
    _equal(fused_losses, plain_losses, backend)
    for a, b in zip(fused_state, plain_state):
        _equal(a, b, backend)
    _same(fused_losses, eager_losses, backend)
    for a, b in zip(fused_state, eager_state):
        _same(a, b, backend)


def test_grouped_float32_training_equals_eager_bitwise_on_numpy():
    losses, state, fused = _train("numpy", _mlp_sgd, {"fuse": True}, dtype="float32")
    eager_losses, eager_state, _ = _train("numpy", _mlp_sgd, False, dtype="float32")
    assert _groups(fused.program)
    assert losses == eager_losses
    for a, b in zip(state, eager_state):
        assert np.array_equal(a, b)


def test_backends_without_a_kernel_compiler_run_the_plain_function(backend):
    x = _x(backend)
    compiled, _ = _compiled(lambda x: ag.exp(x) * 2.0, x)
    (group,) = [ins for ins in compiled.program.code if isinstance(ins, Fused)]
    if backend != "cupy":
        assert group.kernel.compiled is None
        assert "def fused(" in group.function.source


class _Keeps(nn.Module):
    """Stores an intermediate value as a buffer, and computes on with it."""

    def __init__(self):
        super().__init__()
        self.register_buffer("last", ag.zeros((4, 3)))

    def forward(self, x):
        h = ag.exp(x) * 2.0
        self.last = h
        return ag.tanh(h + 1.0)


def test_a_stored_value_is_not_swallowed(backend):
    x = _x(backend)
    module = _Keeps()
    compiled, out = _compiled(module, x)
    assert _groups(compiled.program) == [["exp", "multiply"], ["add", "tanh"]]
    (store,) = [ins for ins in compiled.program.code if isinstance(ins, Store)]
    first = next(ins for ins in compiled.program.code if isinstance(ins, Fused))
    assert store.value.index == first.out.index  # the stored value ends its group
    eager = _Keeps()
    expected = eager(x)
    _equal(out.numpy(), expected.numpy(), backend)
    _equal(module.last.numpy(), eager.last.numpy(), backend)


def _step_reading_before_the_update(backend):
    w = ag.tensor(np.ones(3), requires_grad=True, backend=backend)
    opt = optim.SGD([w], lr=0.5)

    def step(x):
        opt.zero_grad()
        with ag.no_grad():
            before = w * 2.0
        ag.sum(w * x).backward()
        opt.step()
        return before + 1.0

    return step


def test_no_group_spans_an_optimizer_step(backend):
    """`w * 2` is read only after the step, which updates w's array in place: moved
    past the step into one group with `+ 1`, it would read the new values."""
    x = ag.tensor(np.arange(3.0), backend=backend)
    compiled = ag.compile(_step_reading_before_the_update(backend), fuse=True)
    eager = _step_reading_before_the_update(backend)
    for _ in range(5):
        _equal(compiled(x).numpy(), eager(x).numpy(), backend)
    assert compiled.stats["replays"] == 3
    assert ["multiply", "add"] not in _groups(compiled.program)
    _check_groups(compiled.program.code, compiled.program.outputs)
