"""The short cuts of eager mode give what the general paths give.

nll_loss (and cross_entropy with class indices) is one fused op, which skips its masks
where every label was read to be a class and gathers a single sample with a take;
log_softmax reads its one axis directly; concat goes straight to the engine; backward
stores its own leaf gradients without the .grad setter's checks; a one-row Linear takes
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


# ----------------------------------------------------------------- labels read at once
# Where every label is a class (no ignored sample), nll_loss skips its masks: the same
# bits as the composed ops, and the same errors once a label is not a class.
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_with_every_label_a_class_matches_the_composed_ops(backend, reduction):
    x = make(random((5, 4), seed=20), backend)
    target = ag.as_tensor(_labels(5, 4, seed=21), backend=backend)
    fused = F.nll_loss(F.log_softmax(x, dim=1), target, reduction=reduction)
    composed = _composed_nll(F.log_softmax(x, dim=1), target, reduction)
    np.testing.assert_array_equal(host(fused), host(composed))
    for order in (1, 2):  # the rule on raw arrays, and recorded as a graph
        (g_fused,) = ag.gradients(ag.sum(fused * fused), [x], retain_graph=True,
                                  create_graph=order == 2)
        (g_composed,) = ag.gradients(ag.sum(composed * composed), [x], retain_graph=True,
                                     create_graph=order == 2)
        np.testing.assert_array_equal(host(g_fused), host(g_composed))
    (gg_fused,) = ag.gradients(ag.sum(g_fused * g_fused), [x])
    (gg_composed,) = ag.gradients(ag.sum(g_composed * g_composed), [x])
    np.testing.assert_array_equal(host(gg_fused), host(gg_composed))


def test_cross_entropy_with_every_label_a_class_gradchecks(backend):
    target = ag.as_tensor(_labels(4, 3, seed=22), backend=backend)
    x = make(random((4, 3), seed=23), backend)
    for reduction in ("mean", "sum", "none"):
        def loss(x):
            return F.cross_entropy(x, target, reduction=reduction) * 1.5

        assert ag.gradcheck(loss, (x,))
        assert ag.gradgradcheck(loss, (x,))


def test_ignore_index_inside_the_classes_is_still_ignored(backend):
    x = make(random((4, 3), seed=24), backend)
    labels = np.array([0, 1, 2, 1])
    target = ag.as_tensor(labels, backend=backend)
    ours = F.cross_entropy(x, target, ignore_index=1)
    kept = [0, 2]
    expected = F.cross_entropy(x[ag.as_tensor(np.array(kept), backend=backend)],
                               ag.as_tensor(labels[kept], backend=backend))
    np.testing.assert_allclose(host(ours), host(expected), rtol=1e-14)
    (g,) = ag.gradients(ours, [x])
    assert not np.any(host(g)[[1, 3]])  # the ignored rows get no gradient
    # With no label equal to it, nothing is ignored.
    every = F.cross_entropy(x, ag.as_tensor(np.array([0, 2, 2, 0]), backend=backend),
                            ignore_index=1)
    direct = F.cross_entropy(x, ag.as_tensor(np.array([0, 2, 2, 0]), backend=backend))
    np.testing.assert_array_equal(host(every), host(direct))


@pytest.mark.parametrize("labels", [[0, 3], [-1, 0], [0, -7], [5]])
def test_labels_that_are_not_classes_are_refused_by_both_losses(backend, labels):
    x = make(random((len(labels), 3), seed=25), backend)
    target = ag.as_tensor(np.array(labels), backend=backend)
    wrong = next(v for v in labels if not 0 <= v < 3)
    for loss, name in ((F.nll_loss, "nll_loss"), (F.cross_entropy, "cross_entropy")):
        with pytest.raises(IndexError, match=f"{name}: target label {wrong} is outside"):
            loss(x, target)


def test_a_compiled_loss_checks_each_calls_labels(backend):
    @ag.compile
    def loss(x, y):
        return F.cross_entropy(x, y)

    x = make(random((2, 3), seed=26), backend)
    loss(x, ag.as_tensor(np.array([0, 2]), backend=backend))  # recorded with valid labels
    with pytest.raises(IndexError, match="target label 3 is outside"):
        loss(x, ag.as_tensor(np.array([0, 3]), backend=backend))


# ----------------------------------------------------------------- log_softmax and concat
def test_log_softmax_shift_matches_the_composed_ops(backend):
    inf = float("inf")
    rows = np.array([[1.0, 2.0, -3.0], [-inf, 0.5, 1.0], [-inf, -inf, -inf], [inf, 1.0, 0.0]])
    x = make(rows, backend)
    with np.errstate(invalid="ignore"):
        m = ag.max(x, axis=1, keepdims=True)
        z = x - ag.where(ag.isfinite(m), m, ag.zeros_like(m))  # a shift by 0 where not finite
        composed = z - ag.log(ag.sum(ag.exp(z), axis=1, keepdims=True))
        np.testing.assert_array_equal(host(F.log_softmax(x, dim=1)), host(composed))
        np.testing.assert_array_equal(host(F.log_softmax(x, dim=-1)), host(composed))
    empty = make(np.zeros((2, 0)), backend)
    assert F.log_softmax(empty, dim=1).shape == (2, 0)
    finite = make(rows[:1], backend)
    assert ag.gradcheck(lambda x: F.log_softmax(x, dim=1) * 1.5, (finite,))
    with pytest.raises(Exception):
        F.log_softmax(finite, dim=2)


def test_concat_values_gradients_and_errors(backend):
    a = make(random((1, 3), seed=27), backend)
    b = make(random((1, 2), seed=28), backend)
    joined = ag.concat([a, b], axis=1)
    np.testing.assert_array_equal(host(joined), np.concatenate([host(a), host(b)], axis=1))
    assert ag.gradcheck(lambda a, b: ag.concat((a, b), axis=1) * 1.5, (a, b))
    assert ag.gradgradcheck(lambda a, b: ag.concat([a, b], dim=1) * ag.concat([a, b], axis=1),
                            (a, b))
    with pytest.raises(ValueError, match="concat: 0-d tensors"):
        ag.concat([a[0, 0], b[0, 0]])
    np.testing.assert_array_equal(host(ag.concat([a[0, 0], b[0, 0]], axis=None)),
                                  [host(a)[0, 0], host(b)[0, 0]])


def test_backward_stores_leaf_gradients_and_still_checks_what_hooks_return(backend):
    w = make(random((1, 3), seed=29), backend)
    ag.sum(w * w).backward()
    ag.sum(w * 3.0).backward()  # accumulates
    np.testing.assert_array_equal(host(w.grad), 2 * host(w) + 3.0)
    w.grad = None
    w.register_hook(lambda g: ag.astype(g, "float32"))
    with pytest.raises((TypeError, ValueError), match="grad"):
        ag.sum(w * w).backward()


@pytest.mark.parametrize("shapes", [((1, 4), (1,)), ((4,), ()), ((1, 4, 1, 1), (1, 1, 1))])
def test_nll_loss_of_one_sample_matches_the_composed_ops(backend, shapes):
    x_shape, t_shape = shapes
    x = make(random(x_shape, seed=30), backend)
    for label in (0, 3, -100):
        target = ag.as_tensor(np.full(t_shape, label), backend=backend)
        for reduction in ("mean", "sum", "none"):
            fused = F.nll_loss(x * 1.0, target, reduction=reduction)
            axis = 1 if len(x_shape) > 1 else 0
            safe = ag.where(target != -100, target, ag.zeros_like(target))
            picked = ag.squeeze(ag.take_along_axis(x * 1.0, ag.expand_dims(safe, axis=axis),
                                                   axis=axis), axis=axis)
            kept = ag.astype(target != -100, x.dtype)
            losses = -picked * kept
            composed = {"mean": lambda: ag.sum(losses) / ag.sum(kept),
                        "sum": lambda: ag.sum(losses), "none": lambda: losses}[reduction]()
            with np.errstate(invalid="ignore"):  # the mean of no kept sample is 0/0
                np.testing.assert_array_equal(host(fused), host(composed))
                (g_fused,) = ag.gradients(ag.sum(fused), [x])
                (g_composed,) = ag.gradients(ag.sum(composed), [x])
            np.testing.assert_array_equal(host(g_fused), host(g_composed))
