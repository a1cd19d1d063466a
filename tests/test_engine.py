"""Engine semantics: fan-out, deep graphs, freeing, accumulation, dtypes, modes, errors."""
from __future__ import annotations

import gc
import sys
import threading
import weakref

import numpy as np
import pytest

import anygrad as ag
from conftest import host, make, random


def test_fan_out_sums_gradients(backend):
    x = make([2.0], backend)
    y = x * x + x * 3.0 + x  # three consumers of x, one of them twice
    y.backward(ag.ones_like(y))
    np.testing.assert_allclose(host(x.grad), [2 * 2.0 + 3.0 + 1.0])


def test_diamond_graph_runs_each_node_once(backend):
    x = make([1.5], backend)
    a = ag.exp(x)
    b = a * a  # a reaches b twice
    c = b + a
    c.backward(ag.ones_like(c))
    e = np.exp(1.5)
    np.testing.assert_allclose(host(x.grad), [2 * e * e + e])


def test_deep_chain_is_iterative(backend):
    depth = 20_000 if backend != "numpy" else 200_000
    x = make([0.5], backend)
    y = x
    for _ in range(depth):
        y = y * 1.0
    assert depth > sys.getrecursionlimit()
    y.backward(ag.ones_like(y))
    np.testing.assert_allclose(host(x.grad), [1.0])


def test_leaf_grad_accumulates_across_backward_calls(backend):
    x = make([1.0, 2.0], backend)
    for _ in range(3):
        ag.sum(x * x).backward()
    np.testing.assert_allclose(host(x.grad), 3 * 2 * np.array([1.0, 2.0]))


def test_backward_twice_through_freed_graph_raises(backend):
    x = make([1.0], backend)
    y = ag.sum(ag.exp(x))
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_second_backward(backend):
    x = make([1.0], backend)
    y = ag.sum(ag.exp(x))
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(host(x.grad), [2 * np.e])


def test_intermediates_freed_by_refcount_alone(backend):
    gc.collect()
    gc.disable()
    try:
        x = make(random((4, 3)), backend)
        h = ag.tanh(x @ ag.ones((3, 3), dtype="float64"))
        probe = weakref.ref(h)
        loss = ag.sum(h * h)
        del h
        assert probe() is not None  # still needed by the graph
        loss.backward()
        del loss
        assert probe() is None
    finally:
        gc.enable()


def test_training_loop_keeps_no_graph_alive(backend):
    gc.collect()
    gc.disable()
    try:
        w = make(random((3, 1)), backend)
        x = make(random((8, 3)), backend, requires_grad=False)
        probes = []
        for _ in range(5):
            h = x @ w
            probes.append(weakref.ref(h.node))
            ag.mean(h * h).backward()
            with ag.no_grad():
                w.array = (w - 0.1 * w.grad).array
            w.grad = None
        del h
        assert all(p() is None for p in probes)
    finally:
        gc.enable()


def test_unbroadcast_restores_input_shapes(backend):
    a = make(random((3, 1)), backend)
    b = make(random((2, 1, 4)), backend)
    c = make(random(()), backend)
    ag.sum(a * b + c).backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (2, 1, 4) and c.grad.shape == ()
    np.testing.assert_allclose(host(c.grad), 2 * 3 * 4)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtype_is_kept_through_scalars_and_gradients(backend, dtype):
    x = ag.tensor(np.ones((2, 3)), dtype=dtype, requires_grad=True, backend=backend)
    y = ag.sum(ag.exp(x * 2.5 + 1.0) / 3.0 - 0.5)
    assert y.dtype == x.dtype
    y.backward()
    assert x.grad.dtype == x.dtype


def test_cast_gradient_returns_to_source_dtype(backend):
    x = ag.tensor(np.ones(3), dtype="float64", requires_grad=True, backend=backend)
    y = ag.astype(x, "float32") * 2.0
    assert y.dtype == ag.get_backend(backend).dtype("float32")
    ag.sum(y).backward()
    assert x.grad.dtype == x.dtype
    np.testing.assert_allclose(host(x.grad), [2.0, 2.0, 2.0])


def test_integer_tensors_cannot_require_grad(backend):
    with pytest.raises(TypeError, match="floating-point.*int64"):
        ag.tensor(np.arange(3), requires_grad=True, backend=backend)


def test_comparisons_and_argmax_carry_no_graph(backend):
    x = make(random((2, 3)), backend)
    for out in (x > 0, x == x, ag.argmax(x, axis=1), x <= 0.5):
        assert not out.requires_grad and out.node is None


def test_no_grad_and_enable_grad(backend):
    x = make([1.0], backend)
    with ag.no_grad():
        y = x * 2
        with ag.enable_grad():
            z = x * 2
    assert not y.requires_grad and z.requires_grad
    assert ag.is_grad_enabled()


def test_grad_mode_is_per_thread():
    seen = {}
    release = threading.Event()
    entered = threading.Event()

    def worker():
        with ag.no_grad():
            entered.set()
            release.wait(5)

    t = threading.Thread(target=worker)
    t.start()
    entered.wait(5)
    seen["main"] = ag.is_grad_enabled()
    release.set()
    t.join()
    assert seen["main"] is True


def test_non_scalar_backward_needs_grad(backend):
    x = make(random((2, 3)), backend)
    with pytest.raises(RuntimeError, match=r"shape \(2, 3\)"):
        (x * 2).backward()
    with pytest.raises(ValueError, match=r"grad has shape \(3,\) but the output has shape \(2, 3\)"):
        (x * 2).backward(ag.ones(3, dtype="float64"))


def test_backward_on_constant_raises(backend):
    x = make([1.0], backend, requires_grad=False)
    with pytest.raises(RuntimeError, match="does not require grad"):
        ag.sum(x).backward()


def test_mixing_backends_names_both():
    a = ag.tensor([1.0], backend="numpy")
    b = ag.tensor([1.0], backend="array_api_strict")
    with pytest.raises(TypeError, match=r"add: inputs live on different backends \('numpy' and "
                                        r"'array_api_strict'\).*\.to\("):
        a + b


def test_to_is_differentiable_across_backends():
    x = ag.tensor([1.0, 2.0], requires_grad=True, backend="numpy")
    y = x.to("array_api_strict")
    assert y.backend.name == "array_api_strict"
    ag.sum(y * y).backward()
    assert x.grad.backend.name == "numpy"
    np.testing.assert_allclose(host(x.grad), [2.0, 4.0])


def test_detach_cuts_the_graph(backend):
    x = make([3.0], backend)
    y = (x * x).detach() * x
    ag.sum(y).backward()
    np.testing.assert_allclose(host(x.grad), [9.0])


def test_hooks_and_retain_grad(backend):
    x = make([1.0, 2.0], backend)
    h = x * 3.0
    h.retain_grad()
    seen = []
    handle = h.register_hook(lambda g: seen.append(host(g)) or g * 2)
    ag.sum(h * h).backward()
    np.testing.assert_allclose(seen[0], [6.0, 12.0])
    np.testing.assert_allclose(host(h.grad), [12.0, 24.0])
    np.testing.assert_allclose(host(x.grad), [36.0, 72.0])
    handle.remove()
    x.grad = None
    h2 = x * 3.0
    ag.sum(h2).backward()
    np.testing.assert_allclose(host(x.grad), [3.0, 3.0])


def test_create_graph_gives_differentiable_gradients(backend):
    x = make([0.3, -0.7], backend)
    y = ag.sum(ag.tanh(x) ** 2)
    y.backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    x.grad = None
    ag.sum(g).backward()
    t = np.tanh([0.3, -0.7])
    # d/dx [2 tanh (1 - tanh^2)] = 2 (1 - t^2)(1 - 3 t^2)
    np.testing.assert_allclose(host(x.grad), 2 * (1 - t**2) * (1 - 3 * t**2))


def test_getitem_takes_python_lists(backend):
    x = make(random((3,)), backend)
    np.testing.assert_array_equal(host(x[[0, 2, 0]]), host(x)[[0, 2, 0]])


def test_item_and_numpy(backend):
    x = make([[1.5]], backend, requires_grad=False)
    assert x.item() == 1.5 and float(x) == 1.5
    assert isinstance(x.numpy(), np.ndarray)
    with pytest.raises(ValueError, match="2 elements"):
        make([1.0, 2.0], backend).item()
