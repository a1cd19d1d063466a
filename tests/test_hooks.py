"""Tensor hooks and retain_grad: what a hook sees, what its return value does, removal,
and hooks inside graphs of gradients."""
from __future__ import annotations

import numpy as np
import pytest

import anygrad as ag
from conftest import host, make


def test_non_leaf_hook_sees_fully_summed_gradient_once(backend):
    x = make([1.0, 2.0], backend)
    h = x * 3.0
    seen = []
    h.register_hook(lambda g: seen.append(host(g)))
    ag.sum(h * h + h * 2.0).backward()  # two consumers of h
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], 2 * np.array([3.0, 6.0]) + 2.0)
    np.testing.assert_allclose(host(x.grad), 3 * (2 * np.array([3.0, 6.0]) + 2.0))


def test_hook_receives_a_tensor(backend):
    x = make([1.0], backend)
    kinds = []
    (x * 2.0).register_hook(lambda g: kinds.append(type(g)))
    h = x * 2.0
    h.register_hook(lambda g: kinds.append((type(g), g.backend.name)))
    ag.sum(h).backward()
    assert kinds == [(ag.Tensor, backend)]


def test_hook_replacement_flows_downstream(backend):
    x = make([1.0, 2.0], backend)
    h = ag.exp(x)
    h.register_hook(lambda g: g * 0.0 + 1.0)  # replace dL/dh by ones
    ag.sum(h * h).backward()
    np.testing.assert_allclose(host(x.grad), np.exp([1.0, 2.0]))


def test_hook_returning_none_keeps_gradient(backend):
    x = make([2.0], backend)
    h = x * x
    h.register_hook(lambda g: None)
    ag.sum(h * 5.0).backward()
    np.testing.assert_allclose(host(x.grad), [20.0])


def test_hooks_chain_in_registration_order(backend):
    x = make([1.0], backend)
    h = x * 1.0
    order = []
    h.register_hook(lambda g: order.append(("first", float(g.item()))) or g + 1.0)
    h.register_hook(lambda g: order.append(("second", float(g.item()))) or g * 10.0)
    ag.sum(h * 2.0).backward()
    assert order == [("first", 2.0), ("second", 3.0)]
    np.testing.assert_allclose(host(x.grad), [30.0])


def test_handle_remove_stops_the_hook(backend):
    x = make([1.0], backend)
    calls = []
    handle = x.register_hook(lambda g: calls.append(1) or g * 2.0)
    ag.sum(x * 3.0).backward()
    np.testing.assert_allclose(host(x.grad), [6.0])
    handle.remove()
    handle.remove()  # a second remove is harmless
    x.grad = None
    ag.sum(x * 3.0).backward()
    np.testing.assert_allclose(host(x.grad), [3.0])
    assert calls == [1]


def test_removing_one_hook_keeps_the_others(backend):
    x = make([1.0], backend)
    h = x * 1.0
    first = h.register_hook(lambda g: g * 2.0)
    h.register_hook(lambda g: g * 5.0)
    first.remove()
    ag.sum(h).backward()
    np.testing.assert_allclose(host(x.grad), [5.0])


def test_leaf_hook_applies_to_each_backward_before_accumulation(backend):
    x = make([1.0, -1.0], backend)
    seen = []
    x.register_hook(lambda g: seen.append(host(g)) or g * 10.0)
    ag.sum(x * 2.0).backward()
    ag.sum(x * 3.0).backward()
    np.testing.assert_allclose(seen[0], [2.0, 2.0])
    np.testing.assert_allclose(seen[1], [3.0, 3.0])  # the new contribution, not the sum
    np.testing.assert_allclose(host(x.grad), [50.0, 50.0])


def test_register_hook_needs_requires_grad(backend):
    c = make([1.0], backend, requires_grad=False)
    with pytest.raises(RuntimeError, match="does not require grad"):
        c.register_hook(lambda g: g)


def test_retain_grad_keeps_non_leaf_gradients(backend):
    x = make([1.0, 2.0], backend)
    h = x * 3.0
    k = h * h
    h.retain_grad()
    ag.sum(k).backward()
    np.testing.assert_allclose(host(h.grad), [6.0, 12.0])
    assert k.grad is None  # not retained
    np.testing.assert_allclose(host(x.grad), [18.0, 36.0])


def test_retain_grad_on_leaf_changes_nothing(backend):
    x = make([2.0], backend)
    x.retain_grad()
    ag.sum(x * x).backward()
    np.testing.assert_allclose(host(x.grad), [4.0])


def test_retain_grad_sees_hook_result(backend):
    x = make([1.0], backend)
    h = x * 2.0
    h.retain_grad()
    h.register_hook(lambda g: g * 7.0)
    ag.sum(h).backward()
    np.testing.assert_allclose(host(h.grad), [7.0])
    np.testing.assert_allclose(host(x.grad), [14.0])


def test_hooks_with_create_graph_are_differentiable(backend):
    # A leaf hook doubling the gradient: x.grad = 2 * 3x^2, differentiable: d/dx = 12x,
    # and the hook doubles that second gradient of x too: 24x (PyTorch gives the same).
    x = make([1.0, 2.0], backend)
    x.register_hook(lambda g: g * 2.0)
    ag.sum(x ** 3).backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    (gg,) = ag.gradients(ag.sum(g), x)
    np.testing.assert_allclose(host(gg), [24.0, 48.0])


def test_non_leaf_hook_with_create_graph_can_use_the_graph(backend):
    # The hook multiplies dL/dh by h itself, so its result is part of the new graph:
    # L = sum(h), h = x^2, hooked dL/dh = h = x^2, g = dL/dx = 2x * x^2 = 2x^3.
    x = make([1.0, 2.0], backend)
    h = x * x
    handle = h.register_hook(lambda g: g * h)
    (g,) = ag.gradients(ag.sum(h), x, create_graph=True)
    np.testing.assert_allclose(host(g), [2.0, 16.0])
    # g = 2x * h reaches h's node again, so the hook, still there, fires in the second
    # backward too (as in PyTorch): d/dx sum(g) = 2h + 2x * h * 2x = 2x^2 + 4x^4.
    (gg,) = ag.gradients(ag.sum(g), x, retain_graph=True)
    np.testing.assert_allclose(host(gg), [2.0 + 4.0, 8.0 + 64.0])
    handle.remove()  # without it, the plain d/dx 2x^3 = 6x^2
    (gg,) = ag.gradients(ag.sum(g), x)
    np.testing.assert_allclose(host(gg), [6.0, 24.0])


def test_retained_grad_accumulates_like_a_leaf(backend):
    x = make([1.0, 1.0], backend)
    h = x * 3.0
    h.retain_grad()
    y = ag.sum(h * h)
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(host(h.grad), [12.0, 12.0])


def test_leaf_hooks_run_for_gradients(backend):
    x = make([1.0, 1.0], backend)
    x.register_hook(lambda g: g * 10.0)
    (g,) = ag.gradients(ag.sum(x * x), x)
    np.testing.assert_allclose(host(g), [20.0, 20.0])


def test_hook_changing_shape_is_an_error(backend):
    x = make([1.0, 1.0], backend)
    x.register_hook(lambda g: g[:1])
    with pytest.raises((RuntimeError, ValueError), match="shape"):
        ag.sum(x * x).backward()


def test_leaf_hook_runs_once_on_the_summed_gradient(backend):
    x = make([1.0, 2.0], backend)
    seen = []
    x.register_hook(lambda g: seen.append(host(g)))
    ag.sum(x * x + x * 3.0).backward()  # two consumers of x
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], [5.0, 7.0])


def test_create_graph_records_even_under_no_grad(backend):
    x = make([0.5, 2.0], backend)
    y = ag.sum(x ** 3)
    with ag.no_grad():
        y.backward(create_graph=True)
    assert x.grad.requires_grad
    (gg,) = ag.gradients(ag.sum(x.grad), x)
    np.testing.assert_allclose(host(gg), [3.0, 12.0])
