"""Regression tests for gradients and errors that were once wrong on some backend.

Each test names the case it keeps fixed; the portability idioms (indexing, scalars,
dtypes, in-place updates) are in test_portability.py, random programs in
test_differential.py.
"""
from __future__ import annotations

import numpy as np
import pytest

import anygrad as ag
import anygrad.nn.functional as F
from anygrad.backends import get_backend
from conftest import host, make, random


# ----------------------------------------------------------------- derivatives at the edges
def test_pow_gradient_at_zero_base_is_zero_where_finite(backend):
    # 0 ** 0.0 and 0 ** 2: d/dx is 0 (not nan); d/dy of 0 ** y is 0 (not log(0) * 0 = nan)
    x = make([0.0, 0.0, 2.0], backend)
    y = make([0.0, 2.0, 3.0], backend)
    ag.sum(x ** y).backward()
    np.testing.assert_allclose(host(x.grad), [0.0, 0.0, 12.0])
    np.testing.assert_allclose(host(y.grad), [0.0, 0.0, 8.0 * np.log(2.0)])


def test_pow_with_number_base_zero_and_number_exponent_zero(backend):
    y = make([0.5, 1.0], backend)
    ag.sum(0.0 ** y).backward()  # once a math domain error
    np.testing.assert_array_equal(host(y.grad), [0.0, 0.0])
    x = make([0.0, 1.0], backend)
    ag.sum(x ** 0.0).backward()  # once nan at x = 0
    np.testing.assert_array_equal(host(x.grad), [0.0, 0.0])


def test_pow_second_derivative_stays_finite_at_zero(backend):
    x = make([0.0, 1.5], backend)
    (g,) = ag.gradients(ag.sum(x ** 2.0), [x], create_graph=True)
    ag.sum(g).backward()
    np.testing.assert_allclose(host(x.grad), [2.0, 2.0])


def test_std_of_a_constant_has_zero_gradient(backend):
    x = make([2.0, 2.0, 2.0], backend)
    ag.std(x).backward()
    np.testing.assert_array_equal(host(x.grad), [0.0, 0.0, 0.0])
    assert ag.gradcheck(lambda t: ag.std(t, axis=1), [make(random((2, 4)), backend)])


# ----------------------------------------------------------------- shapes that once crashed
def test_concat_with_axis_none_flattens_and_differentiates(backend):
    a, b = make(random((2, 2)), backend), make(random((3,), seed=1), backend)
    out = ag.concat([a, b], axis=None)
    assert out.shape == (7,)
    assert ag.gradcheck(lambda p, q: ag.concat([p, q], axis=None) * 2.0, [a, b])


@pytest.mark.parametrize("fn", [
    lambda t: ag.softmax(t, axis=-1),
    lambda t: ag.log_softmax(t, axis=-1),
    lambda t: ag.logsumexp(t, axis=-1),
], ids=["softmax", "log_softmax", "logsumexp"])
def test_normalised_exponentials_over_an_empty_axis(backend, fn):
    x = make(np.zeros((2, 0)), backend)
    out = fn(x)
    ag.sum(out).backward()
    assert x.grad.shape == (2, 0)


def test_logsumexp_of_nothing_is_minus_infinity(backend):
    out = ag.logsumexp(make(np.zeros((3, 0)), backend), axis=1)
    np.testing.assert_array_equal(host(out), [-np.inf] * 3)


@pytest.mark.parametrize("shapes", [((2, 0), (0, 3)), ((0,), (0, 3)), ((3, 0), (0,)),
                                    ((0, 4), (4,)), ((0,), (0,))])
def test_matmul_backward_with_a_zero_length_axis(backend, shapes):
    a, b = make(np.ones(shapes[0]), backend), make(np.ones(shapes[1]), backend)
    ag.sum(ag.matmul(a, b)).backward()
    assert a.grad.shape == shapes[0] and b.grad.shape == shapes[1]


@pytest.mark.parametrize("x_shape", [(2, 5, 0), (0,), (0, 4)])
def test_linear_backward_with_a_zero_length_axis(backend, x_shape):
    w_shape = (3, x_shape[-1])
    x, w, b = (make(np.ones(s), backend) for s in (x_shape, w_shape, (3,)))
    ag.sum(ag.linear(x, w, b)).backward()
    assert (x.grad.shape, w.grad.shape, b.grad.shape) == (x_shape, w_shape, (3,))


def test_take_along_axis_gradient_adds_where_x_broadcasts(backend):
    # x (1, 3) broadcast against indices (2, 1): both rows pick x[0, 0]
    x = make([[1.0, 2.0, 3.0]], backend)
    idx = ag.tensor([[0], [0]], backend=backend)
    ag.sum(ag.take_along_axis(x, idx, axis=1)).backward()
    np.testing.assert_array_equal(host(x.grad), [[2.0, 0.0, 0.0]])


# ----------------------------------------------------------------- errors that name things
@pytest.mark.parametrize("call, words", [
    (lambda a, b: ag.matmul(a, b), ["matmul", "(2, 3)", "(4, 5)"]),
    (lambda a, b: a + b, ["add", "(2, 3)", "(4, 5)", "broadcast"]),
    (lambda a, b: ag.maximum(a, b), ["maximum", "(2, 3)", "(4, 5)"]),
    (lambda a, b: ag.linear(a, b), ["linear", "(2, 3)", "(4, 5)"]),
    (lambda a, b: F.mse_loss(a, b), ["mse_loss", "(2, 3)", "(4, 5)"]),
], ids=["matmul", "add", "maximum", "linear", "mse_loss"])
def test_shape_mismatch_names_the_op_and_both_shapes(backend, call, words):
    a, b = make(np.ones((2, 3)), backend), make(np.ones((4, 5)), backend)
    with pytest.raises(ValueError) as info:
        call(a, b)
    for word in words:
        assert word in str(info.value), str(info.value)


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("label", [3, -1, 7])
def test_label_outside_the_classes_is_an_error_naming_it(backend, loss, label):
    logits = make(random((2, 3)), backend)
    with pytest.raises(IndexError, match=rf"{loss}: target label {label} is outside \[0, 3\)"):
        getattr(F, loss)(logits, ag.tensor([0, label], backend=backend))


def test_ignored_labels_count_for_nothing(backend):
    logits = make(random((3, 4)), backend)
    loss = F.cross_entropy(logits, ag.tensor([1, -100, 2], backend=backend))
    kept = F.cross_entropy(logits[ag.tensor([0, 2], backend=backend)],
                           ag.tensor([1, 2], backend=backend))
    np.testing.assert_allclose(host(loss), host(kept))
    loss.backward()
    np.testing.assert_array_equal(host(logits.grad)[1], 0.0)


def test_class_weights_and_smoothing_follow_the_formula(backend):
    x, y, w = random((5, 3)), np.array([0, 2, -100, 1, 2]), np.array([0.5, 2.0, 1.5])
    eps = 0.1
    out = F.cross_entropy(make(x, backend), ag.tensor(y, backend=backend),
                          weight=make(w, backend, requires_grad=False), label_smoothing=eps)
    logq = x - np.log(np.exp(x).sum(1, keepdims=True))
    kept = y != -100
    safe = np.where(kept, y, 0)
    nll = -logq[np.arange(5), safe] * w[safe]
    smooth = -(logq * w).sum(1) / 3
    per_sample = ((1 - eps) * nll + eps * smooth) * kept
    np.testing.assert_allclose(host(out), per_sample.sum() / (w[safe] * kept).sum())


def test_label_checks_on_a_deferring_backend_raise_at_the_next_read(backend, monkeypatch):
    # GPU backends queue the check instead of waiting on the device; this runs the same
    # mechanism on a CPU backend switched to deferring.
    b = get_backend(backend)
    monkeypatch.setattr(b, "defer_checks", True)
    logits = make(random((2, 3)), backend)
    loss = F.cross_entropy(logits, ag.tensor([0, 5], backend=backend))  # no error yet
    with pytest.raises(IndexError, match="target label 5"):
        loss.item()
    assert F.cross_entropy(logits, ag.tensor([0, 1], backend=backend)).item() > 0


def test_out_of_range_index_arrays_raise(backend):
    x = make(random((3, 2)), backend)
    for bad in (lambda: x[ag.tensor([0, 3], backend=backend)],
                lambda: ag.take(x, [0, -4], axis=0),
                lambda: ag.take_along_axis(x, ag.tensor([[2], [0], [1]], backend=backend), axis=1)):
        with pytest.raises(IndexError, match="out of range"):
            bad()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_and_nll_match_pytorch(backend, reduction, smoothing, weighted):
    torch = pytest.importorskip("torch")
    x, y, w = random((6, 4)), np.array([0, 3, -100, 2, 1, 3]), random((4,), low=0.5, high=2.0)
    logits = make(x, backend)
    weight = make(w, backend, requires_grad=False) if weighted else None
    ours = F.cross_entropy(logits, ag.tensor(y, backend=backend), weight=weight,
                           label_smoothing=smoothing, reduction=reduction)
    ag.sum(ours).backward()
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w) if weighted else None
    ref = torch.nn.functional.cross_entropy(tx, torch.tensor(y), weight=tw,
                                            label_smoothing=smoothing, reduction=reduction)
    ref.sum().backward()
    np.testing.assert_allclose(host(ours), ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(host(logits.grad), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    nll = F.nll_loss(ag.log_softmax(make(x, backend), axis=1), ag.tensor(y, backend=backend),
                     weight=weight, reduction=reduction)
    ref = torch.nn.functional.nll_loss(torch.log_softmax(torch.tensor(x), 1), torch.tensor(y),
                                       weight=tw, reduction=reduction)
    np.testing.assert_allclose(host(nll), ref.numpy(), rtol=1e-12, atol=1e-12)
