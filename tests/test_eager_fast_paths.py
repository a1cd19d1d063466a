"""The short cuts of eager mode give what the general paths give.

nll_loss (and cross_entropy with class indices) is one fused op; a one-row Linear takes
its weight gradient as an outer product; a gradient summed over length-1 axes only is
reshaped; `x[1:-1] += y` writes a box of elements with one op; an in-place update
searches only the ops recorded since its tensor took its value. Each is checked
against the general path it replaces (the composed ops, matmul, the element-by-element
assignment), numerically in float64, and against PyTorch where it is installed.
"""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import anygrad as ag
import anygrad.nn.functional as F
from anygrad.engine import unbroadcast
from conftest import host, make, random


def _labels(n, classes, seed=0, ignored=()):
    labels = np.random.default_rng(seed).integers(0, classes, n)
    labels[list(ignored)] = -100
    return labels


def _composed_nll(log_probs, target, reduction):
    """nll_loss spelled with general ops: the pick, the mask of kept samples, the mean."""
    kept = ag.astype(target != -100, log_probs.dtype)
    safe = ag.where(target != -100, target, ag.zeros_like(target))
    picked = ag.squeeze(ag.take_along_axis(log_probs, ag.expand_dims(safe, axis=1), axis=1),
                        axis=1)
    losses = -picked * kept
    if reduction == "mean":
        return ag.sum(losses) / ag.sum(kept)
    return ag.sum(losses) if reduction == "sum" else losses


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_matches_the_composed_ops(backend, reduction):
    x = make(random((5, 4), seed=1), backend)
    target = ag.as_tensor(_labels(5, 4, ignored=[2]), backend=backend)
    fused = F.nll_loss(F.log_softmax(x, dim=1), target, reduction=reduction)
    (g_fused,) = ag.gradients(ag.sum(fused * fused), [x])
    composed = _composed_nll(F.log_softmax(x, dim=1), target, reduction)
    (g_composed,) = ag.gradients(ag.sum(composed * composed), [x])
    np.testing.assert_array_equal(host(fused), host(composed))
    np.testing.assert_array_equal(host(g_fused), host(g_composed))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_gradients_of_both_orders(backend, reduction):
    target = ag.as_tensor(_labels(4, 3, seed=2, ignored=[1]), backend=backend)
    x = make(random((4, 3), seed=3), backend)

    def loss(x):
        return F.nll_loss(F.log_softmax(x, dim=1), target, reduction=reduction) * 1.5

    assert ag.gradcheck(loss, (x,))
    assert ag.gradgradcheck(loss, (x,))


def test_nll_loss_unbatched_and_spatial(backend):
    x = make(random((3,), seed=4), backend)
    assert ag.gradcheck(lambda x: F.nll_loss(x, ag.as_tensor(np.array(2), backend=backend)),
                       (x,))
    images = make(random((2, 3, 2, 2), seed=5), backend)
    labels = ag.as_tensor(np.random.default_rng(6).integers(0, 3, (2, 2, 2)), backend=backend)
    assert ag.gradcheck(lambda x: F.cross_entropy(x, labels), (images,))


def test_nll_loss_against_torch(backend):
    torch = pytest.importorskip("torch")
    logits = random((6, 5), seed=7)
    labels = _labels(6, 5, seed=8, ignored=[0, 3])
    for reduction in ("mean", "sum", "none"):
        x = make(logits, backend)
        ours = F.cross_entropy(x, ag.as_tensor(labels, backend=backend), reduction=reduction)
        ag.sum(ours * ours).backward()
        tx = torch.tensor(logits, requires_grad=True)
        theirs = torch.nn.functional.cross_entropy(tx, torch.tensor(labels), reduction=reduction)
        (theirs * theirs).sum().backward()
        np.testing.assert_allclose(host(ours), theirs.detach().numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(host(x.grad), tx.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_nll_loss_under_vmap_and_compile(backend):
    x = make(random((3, 4, 5), seed=9), backend)
    labels = ag.as_tensor(np.random.default_rng(10).integers(0, 5, (3, 4)), backend=backend)
    per_example = ag.vmap(lambda x, y: F.cross_entropy(x, y))(x, labels)
    one_by_one = [F.cross_entropy(x[i], labels[i]).item() for i in range(3)]
    np.testing.assert_allclose(host(per_example), one_by_one, rtol=1e-12)

    @ag.compile
    def step(x, y):
        loss = F.nll_loss(F.log_softmax(x, dim=1), y)
        (g,) = ag.gradients(loss, [x])
        return loss, g

    for seed in (11, 12):  # the replay reads each call's own labels
        y = ag.as_tensor(np.random.default_rng(seed).integers(0, 5, 4), backend=backend)
        x0 = make(random((4, 5), seed=seed), backend)
        loss, g = step(x0, y)
        eager = F.nll_loss(F.log_softmax(x0, dim=1), y)
        (g_eager,) = ag.gradients(eager, [x0])
        np.testing.assert_array_equal(host(loss), host(eager))
        np.testing.assert_array_equal(host(g), host(g_eager))


def test_nll_loss_still_refuses_labels_out_of_range(backend):
    x = make(random((2, 3), seed=13), backend)
    with pytest.raises(IndexError, match="nll_loss: target label 3 is outside"):
        F.nll_loss(x, ag.as_tensor(np.array([0, 3]), backend=backend))


def test_one_row_linear_weight_gradient_is_the_matmul_one(backend):
    x = make(random((1, 7), seed=14), backend)
    w = make(random((5, 7), seed=15), backend)
    b = make(random((5,), seed=16), backend)
    g = random((1, 5), seed=17)
    ag.linear(x, w, b).backward(ag.tensor(g, backend=backend))
    np.testing.assert_array_equal(host(w.grad), g.T @ random((1, 7), seed=14))
    np.testing.assert_array_equal(host(b.grad), g[0])
    assert ag.gradcheck(ag.linear, (x, w, b))
    assert ag.gradgradcheck(ag.linear, (x, w, b))
    rows = make(random((1, 1, 7), seed=18), backend)  # batch axes of one row each
    assert ag.gradcheck(ag.linear, (rows, w, b))


def test_unbroadcast_over_length_one_axes_is_a_reshape(backend):
    xp = ag.get_backend(backend).xp
    g = xp.asarray(random((1, 1, 4), seed=19))
    out = unbroadcast(xp, g, (1, 4))
    assert tuple(out.shape) == (1, 4)
    np.testing.assert_array_equal(np.asarray(ag.as_tensor(out).numpy()), random((1, 4), seed=19))
    summed = unbroadcast(xp, xp.asarray(random((2, 3, 4), seed=20)), (3, 1))
    np.testing.assert_allclose(ag.as_tensor(summed).numpy(),
                               random((2, 3, 4), seed=20).sum(axis=(0, 2))[:, None])


# ----------------------------------------------------------------- in-place updates
def test_in_place_update_in_a_long_graph_matches_out_of_place(backend):
    def in_place(w):
        x = w * 1.0
        for i in range(30):
            x -= 0.1 * ag.tanh(x) + i * 0.01
        return ag.sum(x * x)

    def out_of_place(w):
        x = w * 1.0
        for i in range(30):
            x = x - (0.1 * ag.tanh(x) + i * 0.01)
        return ag.sum(x * x)

    w = make(random((4,), seed=21), backend)
    (a,) = ag.gradients(in_place(w), [w])
    (b,) = ag.gradients(out_of_place(w), [w])
    np.testing.assert_array_equal(host(a), host(b))
    assert ag.gradcheck(in_place, (w,))


def test_in_place_update_after_roll_matches_out_of_place(backend):
    # The pattern of a fluid simulation's projection step: rolls of x feed x's update.
    def project(v, in_place):
        x = v * 1.0
        for _ in range(3):
            p = ag.roll(x, 1, axis=0) - ag.roll(x, -1, axis=1)
            if in_place:
                x -= 0.25 * p
            else:
                x = x - 0.25 * p
        return ag.sum(x * x)

    v = make(random((4, 3), seed=27), backend)
    (a,) = ag.gradients(project(v, True), [v])
    (b,) = ag.gradients(project(v, False), [v])
    np.testing.assert_array_equal(host(a), host(b))
    assert ag.gradcheck(lambda v: project(v, True), (v,))


def test_in_place_update_still_refuses_a_stale_read(backend):
    w = make(random((3,), seed=22), backend)
    x = w * 1.0
    z = x * w  # read x before the update
    x -= w * 2.0
    ag.sum(x).backward()  # the update's own graph is fine
    np.testing.assert_array_equal(host(w.grad), [-1.0, -1.0, -1.0])
    with pytest.raises(RuntimeError, match="an input of multiply .* was changed in place"):
        ag.sum(z).backward()


def _slice_update(x, y):
    x = x * 1.0
    x[1:-1] += y * x[1:-1]
    x[0] = y[0]
    x[:, ::2] -= 0.5 * y[0, ::2]
    return ag.sum(x * x)


def _slice_update_concat(x, y):
    x = x * 1.0
    x = ag.concat([x[:1], x[1:-1] + y * x[1:-1], x[-1:]])
    x = ag.concat([ag.expand_dims(y[0], axis=0), x[1:]])
    cols = [x[:, j] - 0.5 * y[0, j] if j % 2 == 0 else x[:, j] for j in range(x.shape[1])]
    return ag.sum(ag.stack(cols, axis=1) ** 2)


def test_slice_write_matches_out_of_place_and_gradchecks(backend):
    x = make(random((3, 4), seed=23), backend)
    y = make(random((1, 4), seed=24), backend)
    a, b = _slice_update(x, y), _slice_update_concat(x, y)
    np.testing.assert_allclose(host(a), host(b), rtol=1e-14)
    ga = ag.gradients(a, [x, y])
    gb = ag.gradients(b, [x, y])
    for u, v in zip(ga, gb):
        np.testing.assert_allclose(host(u), host(v), rtol=1e-13, atol=1e-15)
    assert ag.gradcheck(_slice_update, (x, y))
    assert ag.gradgradcheck(_slice_update, (x, y))


def test_slice_write_against_torch(backend):
    torch = pytest.importorskip("torch")
    xs, ys = random((4, 5), seed=25), random((2, 5), seed=26)  # x[1:-1] is (2, 5)
    x, y = make(xs, backend), make(ys, backend)
    _slice_update(x, y).backward()
    tx = torch.tensor(xs, requires_grad=True)
    ty = torch.tensor(ys, requires_grad=True)
    t = tx * 1.0
    t[1:-1] += ty * t[1:-1].clone()
    t[0] = ty[0]
    t[:, ::2] -= 0.5 * ty[0, ::2]
    (t * t).sum().backward()
    np.testing.assert_allclose(host(x.grad), tx.grad.numpy(), rtol=1e-13)
    np.testing.assert_allclose(host(y.grad), ty.grad.numpy(), rtol=1e-13)


def test_slice_write_without_graph_and_its_errors(backend):
    x = ag.tensor(np.arange(6.0).reshape(2, 3), backend=backend)
    view = x[1]
    x[1, 1:] = 7.0  # the view sees the write
    np.testing.assert_array_equal(host(view), [3.0, 7.0, 7.0])
    x[:, ::-1] = ag.tensor(np.ones((2, 3)), backend=backend)  # a reversed slice: general path
    np.testing.assert_array_equal(host(x), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"setitem: a value of shape \(3,\) cannot fill"):
        x[0, :2] = ag.tensor(np.ones(3), backend=backend)
    w = make(np.ones(3), backend)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w[1:] = 0.0
    with ag.no_grad():
        w[1:] = 0.0
    np.testing.assert_array_equal(host(w), [1.0, 0.0, 0.0])


# ----------------------------------------------------------------- import
def _fresh(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.split()


def test_import_is_light_and_every_name_is_reachable():
    loaded = _fresh("import sys, anygrad\n"
                    "heavy = ('anygrad.compile', 'anygrad.optim', 'anygrad.nn', 'anygrad.serialization',"
                    " 'anygrad.transforms', 'torch', 'jax', 'array_api_strict', 'scipy')\n"
                    "print(*[m for m in heavy if m in sys.modules])")
    assert loaded == []
    names = _fresh("import anygrad.compile.recorder, anygrad.vmap, anygrad.checkpoint\n"
                   "import anygrad as ag\n"
                   "print(*[type(getattr(ag, n)).__name__ for n in ('compile', 'vmap', "
                   "'checkpoint', 'grad', 'save', 'functional_call', 'nn', 'optim')])")
    assert names == ["function"] * 6 + ["module"] * 2


def _through_views(w):
    x = w * 1.0
    row = x[1]
    row[1:3] *= 2.0  # a view of a view
    row -= x[0] * row  # a sibling view and the view itself on the right
    x[2, :2] += row[:2]
    return ag.sum(x * x) + ag.sum(row * 3.0)


def _through_views_out_of_place(w):
    x = w * 1.0
    row = x[1]
    row = ag.concat([row[:1], row[1:3] * 2.0, row[3:]])
    row = row - x[0] * row
    last = ag.concat([x[2, :2] + row[:2], x[2, 2:]])
    x = ag.stack([x[0], row, last])
    return ag.sum(x * x) + ag.sum(row * 3.0)


def test_writes_through_views_keep_values_and_gradients(backend):
    w = make(random((3, 4), seed=28), backend)
    a, b = _through_views(w), _through_views_out_of_place(w)
    np.testing.assert_allclose(host(a), host(b), rtol=1e-14)
    np.testing.assert_allclose(host(ag.gradients(a, [w])[0]),
                               host(ag.gradients(b, [w])[0]), rtol=1e-14)
    assert ag.gradcheck(_through_views, (w,))


def test_a_view_changed_under_no_grad_keeps_its_graph(backend):
    p = make(random((2, 3), seed=29), backend)
    v = p[0]
    with ag.no_grad():
        v -= 1.0  # an optimizer-style update through a view
    ag.sum(v * v).backward()
    expected = np.zeros((2, 3))
    expected[0] = 2.0 * (random((2, 3), seed=29)[0] - 1.0)
    np.testing.assert_allclose(host(p.grad), expected, rtol=1e-14)
