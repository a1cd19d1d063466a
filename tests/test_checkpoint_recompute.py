"""ag.checkpoint and ag.checkpoint_sequential: bitwise the gradients of the plain run
(dropout included), gradients of gradients, captured parameters, the freed activations,
and clear refusals."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import anygrad as ag
import anygrad.nn as nn


def _mlp_grads(segments, seed=0):
    ag.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Dropout(0.3), nn.Linear(8, 8),
                          nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 3))
    x = ag.randn((5, 6), requires_grad=True)
    ag.manual_seed(seed + 1)
    y = ag.checkpoint_sequential(model, segments, x) if segments else model(x)
    loss = ag.sum(y * y)
    ag.randn((3,))  # draws between forward and backward must not shift the replay
    loss.backward()
    after = ag.randn((2,))  # and backward leaves the stream where it found it
    return [y, x.grad, after] + [p.grad for p in model.parameters()]


def test_mlp_with_dropout_bitwise(backend):
    plain = _mlp_grads(0)
    for segments in (1, 2, 3):
        for a, b in zip(plain, _mlp_grads(segments)):
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_lstm_bitwise(backend):
    def grads(checkpointed):
        ag.manual_seed(0)
        layer = nn.LSTM(3, 4, num_layers=2, dropout=0.5, bidirectional=True)
        x = ag.randn((5, 2, 3), requires_grad=True)
        ag.manual_seed(7)
        out, (h, c) = ag.checkpoint(layer, x) if checkpointed else layer(x)
        (ag.sum(out * out) + ag.sum(h * c)).backward()
        return [out, h, c, x.grad] + [p.grad for p in layer.parameters()]

    for a, b in zip(grads(False), grads(True)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_gradcheck_and_gradgradcheck(backend):
    w = ag.randn((3, 3), dtype="float64", requires_grad=True)

    def f(x, b, w):
        def block(a, b):  # w is captured, not passed
            return ag.tanh(ag.tanh(a @ w) * b), ag.sin(a) * b

        out, other = ag.checkpoint(block, x, b=b)
        return out + other

    x = ag.randn((2, 3), dtype="float64", requires_grad=True)
    b = ag.randn((2, 3), dtype="float64", requires_grad=True)
    assert ag.gradcheck(f, (x, b, w))
    assert ag.gradgradcheck(f, (x, b, w))


def test_captured_parameters_get_gradients_and_activations_are_freed(backend):
    layer = nn.Linear(4, 4, dtype="float64")
    seen = []

    def block(x):
        hidden = ag.tanh(layer(x))
        seen.append(hidden)
        return ag.sum(hidden * hidden)

    x = ag.randn((3, 4), dtype="float64", requires_grad=True)
    loss = ag.checkpoint(block, x)
    assert seen[0].array is None  # released until backward needs it
    loss.backward()
    ag.manual_seed(0)
    layer2 = nn.Linear(4, 4, dtype="float64")
    layer2.load_state_dict(layer.state_dict())
    x2 = ag.tensor(x.numpy(), backend=backend, requires_grad=True)
    ag.sum(ag.tanh(layer2(x2)) ** 2).backward()
    np.testing.assert_array_equal(layer.weight.grad.numpy(), layer2.weight.grad.numpy())
    np.testing.assert_array_equal(x.grad.numpy(), x2.grad.numpy())


def test_outer_graph_and_retain_graph(backend):
    x = ag.randn((3,), dtype="float64", requires_grad=True)
    h = ag.exp(x)  # a non-leaf made before the checkpoint, captured by the function
    y = ag.checkpoint(lambda a: ag.sin(a * h) * a, h)
    loss = ag.sum(y)
    (first,) = ag.gradients(loss, [x], retain_graph=True)
    (second,) = ag.gradients(loss, [x])
    hv = np.exp(x.numpy())
    # d/dx sum(sin(h^2) h) with h = exp(x): (2 h^2 cos(h^2) + sin(h^2)) h
    want = (2 * hv ** 2 * np.cos(hv ** 2) + np.sin(hv ** 2)) * hv
    np.testing.assert_allclose(first.numpy(), want, rtol=1e-12)
    np.testing.assert_array_equal(first.numpy(), second.numpy())


def test_no_grad_runs_plainly_and_reentrant_is_refused(backend):
    x = ag.randn((3,), requires_grad=True)
    with ag.no_grad():
        assert not ag.checkpoint(ag.exp, x).requires_grad
    with pytest.raises(ValueError, match="use_reentrant"):
        ag.checkpoint(ag.exp, x, use_reentrant=True)


def test_changed_structure_is_reported(backend):
    calls = []

    def unstable(a):
        calls.append(1)
        return ag.exp(a) if len(calls) == 1 else ag.sin(a) * 2.0

    x = ag.randn((3,), requires_grad=True)
    y = ag.checkpoint(unstable, x)
    with pytest.raises(RuntimeError, match="must record the same ops"):
        ag.sum(y).backward()


def test_checkpoint_sequential_validates_segments():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    with pytest.raises(ValueError, match="segments"):
        ag.checkpoint_sequential(model, 3, ag.randn((1, 2)))


def test_compile_runs_eagerly_or_refuses():
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 1))
    x = ag.randn((3, 4))

    def step(x):
        loss = ag.sum(ag.checkpoint(model, x))
        loss.backward()
        return loss

    with pytest.raises(ag.CompileError):
        ag.compile(step, strict=True)(x)
    for p in model.parameters():
        p.grad = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = ag.compile(step)
        compiled(x)
    got = [p.grad.numpy() for p in model.parameters()]
    for p in model.parameters():
        p.grad = None
    ag.sum(model(x)).backward()
    for g, p in zip(got, model.parameters()):
        np.testing.assert_array_equal(g, p.grad.numpy())
