"""Losses of anygrad.nn.functional: gradients (checked numerically, to second order),
values and gradients against PyTorch, reductions, stability, and input errors."""
from __future__ import annotations

import numpy as np
import pytest

import anygrad as ag
import anygrad.nn.functional as F
from conftest import host, make, random

REDUCTIONS = ("mean", "sum", "none")


def _probabilities(shape, seed):
    return random(shape, seed, low=0.05, high=0.95)


def _softmax_rows(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _labels(shape, classes, seed):
    return np.random.default_rng(seed).integers(0, classes, size=shape)


# name: (function, input, target, keyword arguments). Float targets are differentiated
# too; integer targets are class indices. Arrays among the keywords are converted.
LOSSES = {
    "mse": ("mse_loss", random((3, 4), 1), random((3, 4), 2), {}),
    "l1": ("l1_loss", random((3, 4), 1), random((3, 4), 2), {}),
    "ce_indices": ("cross_entropy", random((4, 5), 1, -3, 3), _labels((4,), 5, 2), {}),
    "ce_spatial": ("cross_entropy", random((2, 3, 4), 1, -3, 3), _labels((2, 4), 3, 2), {}),
    "ce_unbatched": ("cross_entropy", random((5,), 1, -3, 3), np.asarray(3), {}),
    "ce_probabilities": ("cross_entropy", random((4, 5), 1, -3, 3),
                         _softmax_rows(random((4, 5), 2, -2, 2)), {}),
    "ce_smoothed_indices": ("cross_entropy", random((4, 5), 1, -3, 3), _labels((4,), 5, 2),
                            {"label_smoothing": 0.1}),
    "ce_smoothed_probabilities": ("cross_entropy", random((4, 5), 1, -3, 3),
                                  _softmax_rows(random((4, 5), 2, -2, 2)),
                                  {"label_smoothing": 0.2}),
    "nll": ("nll_loss", np.log(_softmax_rows(random((4, 5), 1, -3, 3))), _labels((4,), 5, 2), {}),
    "bce": ("binary_cross_entropy", _probabilities((3, 4), 1), _probabilities((3, 4), 2), {}),
    "bce_weighted": ("binary_cross_entropy", _probabilities((3, 4), 1),
                     _probabilities((3, 4), 2), {"weight": random((4,), 3, 0.5, 2.0)}),
    "bce_logits": ("binary_cross_entropy_with_logits", random((3, 4), 1, -4, 4),
                   _probabilities((3, 4), 2), {}),
    "bce_logits_pos_weight": ("binary_cross_entropy_with_logits", random((3, 4), 1, -4, 4),
                              _probabilities((3, 4), 2),
                              {"pos_weight": random((4,), 3, 0.5, 3.0)}),
}


def _tensors(case, backend, requires_grad=True):
    """(input, target, kwargs) as anygrad tensors on `backend`."""
    _, x, t, kwargs = case
    integer = np.issubdtype(np.asarray(t).dtype, np.integer)
    target = ag.tensor(np.asarray(t), backend=backend) if integer else make(t, backend, requires_grad=requires_grad)
    kwargs = {k: make(v, backend, requires_grad=False) if isinstance(v, np.ndarray) else v
              for k, v in kwargs.items()}
    return make(x, backend, requires_grad=requires_grad), target, kwargs


@pytest.mark.parametrize("case", LOSSES, ids=str)
def test_loss_gradients_match_finite_differences(case, backend):
    name = LOSSES[case][0]
    x, target, kwargs = _tensors(LOSSES[case], backend)
    loss = getattr(F, name)
    inputs = [x, target] if target.requires_grad else [x]
    assert ag.gradcheck(lambda *a: loss(a[0], a[1] if len(a) > 1 else target,
                                        reduction="none", **kwargs), inputs)


@pytest.mark.parametrize("case", ["mse", "ce_indices", "ce_probabilities", "bce", "bce_logits"])
def test_loss_second_derivatives_match_finite_differences(case, backend):
    name = LOSSES[case][0]
    x, target, kwargs = _tensors(LOSSES[case], backend)
    loss = getattr(F, name)
    assert ag.gradgradcheck(lambda a: loss(a, target, reduction="sum", **kwargs), [x])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", LOSSES, ids=str)
def test_loss_value_and_gradient_match_torch(case, reduction, backend):
    torch = pytest.importorskip("torch")
    name, x_np, t_np, kwargs_np = LOSSES[case]
    x, target, kwargs = _tensors(LOSSES[case], backend)
    got = getattr(F, name)(x, target, reduction=reduction, **kwargs)
    ag.sum(got * got).backward()  # a non-linear read-out checks the 'none' layout too

    tx = torch.tensor(x_np, requires_grad=True)
    tt = torch.tensor(t_np, requires_grad=target.requires_grad)
    t_kwargs = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs_np.items()}
    want = getattr(torch.nn.functional, name)(tx, tt, reduction=reduction, **t_kwargs)
    (want * want).sum().backward()

    np.testing.assert_allclose(host(got), want.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(host(x.grad), tx.grad.numpy(), rtol=1e-10, atol=1e-13)
    if target.requires_grad:
        np.testing.assert_allclose(host(target.grad), tt.grad.numpy(), rtol=1e-10, atol=1e-13)


def test_reductions_relate_as_sum_and_mean_of_none(backend):
    x, target, _ = _tensors(LOSSES["ce_spatial"], backend, requires_grad=False)
    per_element = host(F.cross_entropy(x, target, reduction="none"))
    assert per_element.shape == (2, 4)
    np.testing.assert_allclose(host(F.cross_entropy(x, target, reduction="sum")), per_element.sum())
    np.testing.assert_allclose(host(F.cross_entropy(x, target)), per_element.mean())


def test_cross_entropy_closed_form(backend):
    logits = np.array([[1.0, 2.0, 3.0], [0.5, 0.5, -1.0]])
    labels = np.array([2, 0])
    got = F.cross_entropy(make(logits, backend), ag.tensor(labels, backend=backend), reduction="none")
    log_z = np.log(np.exp(logits).sum(axis=1))
    np.testing.assert_allclose(host(got), log_z - logits[[0, 1], labels], rtol=1e-13)


def test_cross_entropy_gradient_is_softmax_minus_one_hot(backend):
    logits = random((4, 3), 5)
    labels = np.array([0, 2, 1, 2])
    x = make(logits, backend)
    F.cross_entropy(x, ag.tensor(labels, backend=backend), reduction="sum").backward()
    np.testing.assert_allclose(host(x.grad), _softmax_rows(logits) - np.eye(3)[labels], rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_losses_stay_finite_for_huge_logits(dtype, backend):
    logits = make([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], backend, dtype=dtype)
    labels = ag.tensor(np.array([1, 0]), backend=backend)
    ce = F.cross_entropy(logits, labels)
    bce = F.binary_cross_entropy_with_logits(logits, make(np.eye(2, 3), backend, dtype, False))
    ag.sum(ce + bce).backward()
    for value in (ce, bce, logits.grad):
        assert np.all(np.isfinite(host(value)))
    np.testing.assert_allclose(host(ce), (2e4 + (2e4 + np.log(2))) / 2, rtol=1e-6)


def test_binary_cross_entropy_clamps_log_at_minus_100(backend):
    p = make([0.0, 1.0], backend)
    loss = F.binary_cross_entropy(p, make([1.0, 0.0], backend, requires_grad=False), reduction="none")
    np.testing.assert_allclose(host(loss), [100.0, 100.0])


def test_one_hot(backend):
    got = F.one_hot(ag.tensor(np.array([[0, 2], [1, 1]]), backend=backend), 3)
    assert got.shape == (2, 2, 3) and not got.requires_grad
    assert got.dtype == ag.int64  # PyTorch's dtype for F.one_hot
    np.testing.assert_array_equal(host(got), np.eye(3)[[[0, 2], [1, 1]]])


# ----------------------------------------------------------------- bad input
def _logits(backend):
    return make(random((4, 3), 0), backend)


BAD_INPUTS = [
    ("float targets of the index shape", lambda b: F.cross_entropy(_logits(b), make(np.zeros(4), b)),
     TypeError, r"cross_entropy: class-index targets must have an integer dtype \(convert it .*"
                r"shape \(4,\) and dtype float64 .*shape \(4, 3\)"),
    ("index targets of the wrong shape",
     lambda b: F.cross_entropy(_logits(b), ag.tensor(np.zeros((4, 1), dtype=np.int64), backend=b)),
     ValueError, r"cross_entropy: input with shape \(4, 3\).*needs class-index targets of shape "
                 r"\(4,\), got target with shape \(4, 1\)"),
    ("probabilities of the wrong shape", lambda b: F.cross_entropy(_logits(b), make(np.ones((4, 2)), b)),
     ValueError, r"cross_entropy: float targets are class probabilities and need the input's "
                 r"shape \(4, 3\), got target with shape \(4, 2\)"),
    ("unknown reduction", lambda b: F.mse_loss(_logits(b), _logits(b), reduction="avg"),
     ValueError, r"mse_loss: reduction must be 'mean', 'sum' or 'none', got 'avg'"),
    ("mismatched regression shapes", lambda b: F.mse_loss(_logits(b), make(np.zeros((4, 1)), b)),
     ValueError, r"mse_loss: input has shape \(4, 3\) and dtype float64 but target has shape \(4, 1\)"),
    ("integer input", lambda b: F.l1_loss(ag.tensor(np.zeros(3, dtype=np.int64), backend=b),
                                          make(np.zeros(3), b)),
     TypeError, r"l1_loss: input must be floating point, got shape \(3,\) and dtype int64"),
    ("nll of float targets", lambda b: F.nll_loss(_logits(b), make(np.zeros(4), b)),
     TypeError, r"nll_loss: class-index targets must have an integer dtype"),
    ("bce shapes", lambda b: F.binary_cross_entropy_with_logits(_logits(b), make(np.zeros(4), b)),
     ValueError, r"binary_cross_entropy_with_logits: input has shape \(4, 3\)"),
    ("label smoothing out of range",
     lambda b: F.cross_entropy(_logits(b), ag.tensor(np.zeros(4, dtype=np.int64), backend=b),
                               label_smoothing=1.5),
     ValueError, r"label_smoothing must be in \[0, 1\], got 1.5"),
    ("one_hot of floats", lambda b: F.one_hot(make(np.zeros(3), b), 4),
     TypeError, r"one_hot: indices must have an integer dtype, got shape \(3,\) and dtype float64"),
]


@pytest.mark.parametrize("what, call, error, message", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_inputs_raise_clear_errors(what, call, error, message, backend):
    with pytest.raises(error, match=message):
        call(backend)


def test_target_on_another_backend_is_named(backend):
    other = "array_api_strict" if backend == "numpy" else "numpy"
    target = make(np.zeros((4, 3)), other)
    with pytest.raises(TypeError, match=f"mse_loss: input is on backend '{backend}' but target "
                                        f"is on '{other}'"):
        F.mse_loss(_logits(backend), target)
