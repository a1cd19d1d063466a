"""A value or a gradient is right, or the call raises: writes through views, numpy
reading tensors, pinv's gradient, batched solve, methods whose meaning depends on the
library, empty matrices, 0-d softmax, .grad assignment and raw arrays in nn.functional."""
from __future__ import annotations

import math

import numpy as np
import pytest

import anygrad as ag
import anygrad.nn.functional as F
from conftest import host, make, random


def _raw(data, backend):
    """A raw array of `backend`'s own library."""
    return ag.tensor(np.asarray(data, dtype="float64"), backend=backend).array


# ---------------------------------------------------------------- writes through views
def test_chained_index_assignment_writes_through(backend):
    z = ag.zeros((1, 5), backend=backend)
    z[0][2] = 1
    np.testing.assert_array_equal(host(z), [[0, 0, 1, 0, 0]])

    labels = [2, 0, 1]
    onehot = ag.zeros((3, 3), backend=backend)
    for i, label in enumerate(labels):
        onehot[i][label] = 1.0
    np.testing.assert_array_equal(host(onehot), np.eye(3)[labels])


def test_views_of_any_depth_match_numpy(backend):
    z = ag.zeros((2, 3, 4), backend=backend)
    n = np.zeros((2, 3, 4))
    for target in (z, n):
        target[0][1][2] = 1
        target[:, 1][0] += 2
        target[::-1][0][None, ..., 1:3][0, 2] = 5
        target[1, ::2][-1][::-1][0] -= 4
        row = target[0, 2]
        row *= 3
    np.testing.assert_array_equal(host(z), n)


def test_in_place_methods_and_view_write_through(backend):
    z = ag.zeros((2, 3), backend=backend)
    z[1].fill_(3.0)
    z[:, 0].copy_(ag.tensor([7.0, 8.0], backend=backend))
    z.view(-1)[1] = 4.0
    flat = z.view(3, 2)
    flat[2][1] += 1.0
    flat[0, 0] -= 1.0  # the same view again, after its own write reached z
    np.testing.assert_array_equal(host(z), [[6, 4, 0], [8, 3, 4]])


def test_advanced_indexing_gives_a_copy_as_in_numpy(backend):
    z = ag.zeros((2, 3), backend=backend)
    n = np.zeros((2, 3))
    z[[0]][0, 1] = 1.0
    n[[0]][0, 1] = 1.0
    np.testing.assert_array_equal(host(z), n)


def _write_through_views(x, y):
    z = x * 1.0
    z[0][1] = y * 2.0
    z[:, 2][1] *= y
    row = z[1]
    row += x[0] * y
    return ag.sum(z * z)


def test_gradient_through_views(backend):
    x = make(random((2, 3)), backend)
    y = make(random((), seed=1), backend)
    ag.gradcheck(_write_through_views, [x, y])
    ag.gradgradcheck(_write_through_views, [x, y])
    torch = pytest.importorskip("torch")
    tx = torch.tensor(host(x), requires_grad=True)
    ty = torch.tensor(host(y), requires_grad=True)
    tz = tx * 1.0
    tz[0][1] = ty * 2.0
    tz[:, 2][1] *= ty
    trow = tz[1]
    trow += tx[0] * ty
    (tz * tz).sum().backward()
    _write_through_views(x, y).backward()
    np.testing.assert_allclose(host(x.grad), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(host(y.grad), ty.grad.numpy(), rtol=1e-12)


def test_a_view_sees_its_base_changed_in_place(backend):
    z = ag.zeros((2, 3), backend=backend)
    n = np.zeros((2, 3))
    views = []
    for target in (z, n):
        first, column, flat, corner = target[0], target[:, 1], target.reshape(-1), target[0][1:]
        target[0, 1] = 5.0
        target += 1.0
        first[2] = 4.0  # writes to z, and z's other views see it
        column[1] *= 3.0
        target[1].fill(2.0) if target is n else target[1].fill_(2.0)
        views.append([first, column, flat, corner])
    np.testing.assert_array_equal(host(z), n)
    for mine, numpys in zip(*views):
        np.testing.assert_array_equal(host(mine), numpys)


def test_sibling_views_stay_consistent(backend):
    z = ag.zeros((2, 3), backend=backend)
    row, column, flat = z[0], z[:, 1], z.view(-1)
    row[1] = 7.0
    column[1] += 2.0
    flat[0] = 3.0
    n = np.zeros((2, 3))
    n[0, 1] = 7.0
    n[1, 1] += 2.0
    n[0, 0] = 3.0
    np.testing.assert_array_equal(host(z), n)
    np.testing.assert_array_equal(host(row), n[0])
    np.testing.assert_array_equal(host(column), n[:, 1])
    np.testing.assert_array_equal(host(flat), n.reshape(-1))


def test_pytorch_style_in_place_methods_reach_views(backend):
    z = ag.ones((2, 3), backend=backend)
    n = np.ones((2, 3))
    row = z[1]
    z[0].exp_()
    np.exp(n[0], out=n[0])
    z.T[2].neg_()
    np.negative(n.T[2], out=n.T[2])
    z.clamp_(max=2.0)
    np.clip(n, None, 2.0, out=n)
    np.testing.assert_allclose(host(z), n, rtol=1e-12)  # exp may differ in the last bit
    np.testing.assert_array_equal(host(row), n[1])
    with pytest.raises(RuntimeError, match="squeeze_: would change in place the shape"):
        z[:1].squeeze_()


# Each shape method next to numpy's way of taking the same view.
_SHAPE_VIEWS = {
    "reshape": (lambda t: t.reshape(-1), lambda n: n.reshape(-1)),
    "view": (lambda t: t.view(3, 2, 2), lambda n: n.reshape(3, 2, 2)),
    "flatten": (lambda t: t.flatten(1), lambda n: n.reshape(2, 6)),
    "T": (lambda t: t[0].T, lambda n: n[0].T),
    "mT": (lambda t: t.mT, lambda n: np.swapaxes(n, -1, -2)),
    "t": (lambda t: t[:, 1].t(), lambda n: n[:, 1].T),
    "transpose": (lambda t: t.transpose(0, 2), lambda n: np.swapaxes(n, 0, 2)),
    "permute": (lambda t: t.permute(2, 0, 1), lambda n: np.transpose(n, (2, 0, 1))),
    "unsqueeze": (lambda t: t.unsqueeze(1), lambda n: n[:, None]),
    "squeeze": (lambda t: t[:, :1].squeeze(1), lambda n: n[:, :1].squeeze(1)),
}


@pytest.mark.parametrize("method", sorted(_SHAPE_VIEWS))
def test_shape_methods_give_views_as_in_numpy(backend, method):
    mine, numpys = _SHAPE_VIEWS[method]
    z = ag.zeros((2, 3, 2), backend=backend)
    n = np.zeros((2, 3, 2))
    views = []
    for target, take in ((z, mine), (n, numpys)):
        view = take(target)
        views.append(view)
        corner = (0,) * view.ndim
        view[corner] = 1.0  # item assignment reaches the base
        view += 2.0  # so does in-place arithmetic
        target[-1, -1, -1] = 5.0  # and the base's change reaches the view
        last = view[(slice(-1, None),) * view.ndim]  # a view in numpy too
        last *= 3.0
    np.testing.assert_array_equal(host(z), n)
    np.testing.assert_array_equal(host(views[0]), views[1])


def _views_after_base_changes(x, y):
    z = x * 1.0
    row, flipped = z[0], z.T
    z[1, 2] = y * 3.0  # row and flipped now see it
    flipped[0, 1] *= y  # a write through the transpose: z[1, 0]
    z += row + y  # row broadcasts over z's rows before z changes
    return ag.sum(z * z) + ag.sum(row * flipped[:, 1])


def _reads_a_view_of_itself(x, y):
    z = x * 1.0
    column = z.T[1]
    z += column[:, None] * y  # PyTorch refuses this one: its saved `column` changes
    return ag.sum(z * z) + ag.sum(column)


def test_gradient_through_views_after_the_base_changed(backend):
    x = make(random((2, 3), seed=2), backend)
    y = make(random((), seed=3), backend)
    ag.gradcheck(_views_after_base_changes, [x, y])
    ag.gradcheck(_reads_a_view_of_itself, [x, y])
    torch = pytest.importorskip("torch")
    tx = torch.tensor(host(x), requires_grad=True)
    ty = torch.tensor(host(y), requires_grad=True)
    tz = tx * 1.0
    trow, tflipped = tz[0], tz.T
    tz[1, 2] = ty * 3.0
    tflipped[0, 1] *= ty
    tz += trow + ty
    (torch.sum(tz * tz) + torch.sum(trow * tflipped[:, 1])).backward()
    _views_after_base_changes(x, y).backward()
    np.testing.assert_allclose(host(x.grad), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(host(y.grad), ty.grad.numpy(), rtol=1e-12)


def test_a_view_keeps_its_gradient_through_a_step_under_no_grad(backend):
    p = make(random((2, 3), seed=4), backend)
    row = p[0]
    with ag.no_grad():
        p -= 1.0
    np.testing.assert_allclose(host(row), host(p)[0])
    ag.sum(row * row).backward()
    expected = np.zeros((2, 3))
    expected[0] = 2 * host(p)[0]
    np.testing.assert_allclose(host(p.grad), expected, rtol=1e-12)


def test_compiled_step_that_writes_through_a_view(backend):
    def step(x):
        z = x * 1.0
        column = z[:, 1]
        z.T[0] = x[:, 2]  # a write through the transpose
        column *= 2.0  # sees the write above, and writes on to z
        return z

    f = ag.compile(step)
    for k in range(3):
        x = ag.tensor(np.arange(6.0).reshape(2, 3) * (k + 1), backend=backend)
        n = host(x) * 1.0
        n.T[0] = n[:, 2]
        n[:, 1] *= 2.0
        np.testing.assert_array_equal(host(f(x)), n)
        np.testing.assert_array_equal(host(step(x)), n)
    assert f.stats["replays"] >= 1


def test_a_view_of_a_leaf_that_requires_grad(backend):
    w = make(np.zeros((2, 2)), backend)
    with pytest.raises(RuntimeError, match="view of a leaf tensor that requires grad"):
        w[0][1] = 1.0
    np.testing.assert_array_equal(host(w), np.zeros((2, 2)))
    with ag.no_grad():
        w[0][1] = 1.0
        w[1].fill_(2.0)
    np.testing.assert_array_equal(host(w), [[0, 1], [2, 2]])


# ---------------------------------------------------------------- numpy reading tensors
def test_numpy_refuses_a_tensor_in_a_recorded_graph(backend):
    x = make([1.0, 2.0], backend)
    silent = [
        lambda x: np.sum(np.array([x[0] ** 2, x[1]])) + ag.sum(x),
        lambda x: np.sum([x[0] ** 2, x[1]]) + ag.sum(x),
        lambda x: ag.sum(np.full((2,), x[0]) * x),
        lambda x: np.asarray(x),
    ]
    for f in silent:
        with pytest.raises(RuntimeError, match=r"ag.stack.*detach"):
            ag.grad(f)(x)
    # The graph-preserving spelling gives the true gradient, [2 x0 + 1, 2].
    g = ag.grad(lambda x: ag.sum(ag.stack([x[0] ** 2, x[1]])) + np.sum(x))(x)
    np.testing.assert_allclose(host(g), [3.0, 2.0])


def test_scipy_on_a_tensor_in_a_graph_raises():
    stats = pytest.importorskip("scipy.stats")
    m = ag.tensor(0.5, dtype="float64", requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        ag.grad(lambda m: stats.norm.logpdf(1.0, m, 1.0) + m ** 2)(m)


def test_explicit_routes_to_numpy_still_work(backend):
    data = random((2, 3))
    x = make(data, backend)
    constant = make(data, backend, requires_grad=False)
    for array in (x.numpy(), np.asarray(x.detach()), np.asarray(constant)):
        np.testing.assert_array_equal(array, data)
    with ag.no_grad():
        np.testing.assert_array_equal(np.asarray(x), data)


def test_dlpack_refuses_a_tensor_in_a_graph():
    x = make(random((3,)), "numpy")
    with pytest.raises(RuntimeError, match="__dlpack__"):
        np.from_dlpack(x)
    np.testing.assert_array_equal(np.from_dlpack(x.detach()), host(x))


# ---------------------------------------------------------------- pinv
def _pinv_loss(weights):
    return lambda a: ag.sum(ag.linalg.pinv(a) * weights)


def test_pinv_gradient_at_repeated_singular_values(backend):
    weights = ag.tensor([[1.0, 2.0], [3.0, 4.0]], backend=backend, dtype="float64")
    a = make(np.eye(2), backend)
    g = ag.grad(_pinv_loss(weights))(a)
    # pinv(A) = inv(A) near I: the gradient is -A^-T W A^-T = -W.
    np.testing.assert_allclose(host(g), -host(weights), rtol=1e-12, atol=1e-12)
    ag.gradcheck(_pinv_loss(weights), [a])
    ag.gradgradcheck(_pinv_loss(weights), [a])
    # A tall matrix with two equal singular values, of full rank.
    u, _ = np.linalg.qr(random((3, 2), seed=2))
    v, _ = np.linalg.qr(random((2, 2), seed=3))
    tall = make(u @ np.diag([2.0, 2.0]) @ v.T, backend)
    ag.gradcheck(ag.linalg.pinv, [tall])
    ag.gradgradcheck(ag.linalg.pinv, [tall])


def test_pinv_gradient_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    cases = [np.array([[1.0, 0.0], [0.0, 0.0]]),  # an exactly zero singular value
             np.eye(2) * (1 + 1j) / math.sqrt(2),  # complex, repeated
             rng.normal(size=(2, 3, 4)) + 1j * rng.normal(size=(2, 3, 4)),
             np.diag([3.0, 3.0, 0.0])[:, :2]]
    for data in cases:
        weights = rng.normal(size=data.shape[:-2] + data.shape[-2:][::-1])
        a = ag.tensor(data, requires_grad=True)
        out = ag.linalg.pinv(a)
        loss = ag.sum(ag.real(out) * weights) + ag.sum(ag.imag(out) * weights * 0.5) \
            if np.iscomplexobj(data) else ag.sum(out * weights)
        loss.backward()
        t = torch.tensor(data, requires_grad=True)
        tout = torch.linalg.pinv(t)
        tw = torch.tensor(weights)
        tloss = (tout.real * tw).sum() + (tout.imag * tw).sum() * 0.5 \
            if np.iscomplexobj(data) else (tout * tw).sum()
        tloss.backward()
        assert np.all(np.isfinite(host(a.grad)))
        np.testing.assert_allclose(host(out), tout.detach().numpy(), atol=1e-12)
        np.testing.assert_allclose(host(a.grad), t.grad.numpy(), atol=1e-10)


def test_complex_pinv_gradients_of_gradients(backend):
    rng = np.random.default_rng(5)
    a = make(rng.normal(size=(3, 2)) + 1j * rng.normal(size=(3, 2)), backend, dtype="complex128")
    f = lambda a: ag.abs(ag.linalg.pinv(a))  # noqa: E731
    ag.gradcheck(f, [a])
    ag.gradgradcheck(f, [a])


# ---------------------------------------------------------------- batched solve
def test_solve_broadcasts_a_vector_against_a_stack(backend):
    a_data = random((2, 3, 3)) + 3 * np.eye(3)
    b_data = random((3,), seed=1)
    a, b = make(a_data, backend), make(b_data, backend)
    x = ag.linalg.solve(a, b)
    assert x.shape == (2, 3)
    np.testing.assert_allclose(host(x), np.linalg.solve(a_data, b_data[:, None])[..., 0],
                               rtol=1e-12)
    ag.gradcheck(ag.linalg.solve, [a, b])
    ag.gradgradcheck(ag.linalg.solve, [a, b])


# ---------------------------------------------------------------- one meaning per call
def test_methods_whose_meaning_differs_between_numpy_and_pytorch(backend):
    data = random((3, 4))
    x = make(data, backend)
    for ambiguous in (lambda: x.max(1), lambda: x.min(0), lambda: x.std(), lambda: x.var(1),
                      lambda: x.sort(), lambda: x.sort(0)):
        with pytest.raises(TypeError, match="PyTorch"):
            ambiguous()
    np.testing.assert_allclose(host(x.max(axis=1)), data.max(axis=1))
    np.testing.assert_allclose(host(x.std(axis=1)), data.std(axis=1), rtol=1e-12)
    np.testing.assert_allclose(host(x.var(dim=1)), data.var(axis=1, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(host(x.std(1, correction=1)), data.std(axis=1, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(host(x.sort(axis=1)), np.sort(data, axis=1))
    values, indices = x.sort(dim=1, descending=True)
    np.testing.assert_allclose(host(values), -np.sort(-data, axis=1))
    np.testing.assert_array_equal(host(indices), np.argsort(-data, axis=1, kind="stable"))


def test_methods_spelled_pytorchs_way_match_torch():
    torch = pytest.importorskip("torch")
    data = random((3, 4))
    x, t = ag.tensor(data), torch.tensor(data)
    np.testing.assert_allclose(host(x.std(dim=0)), t.std(dim=0).numpy(), rtol=1e-12)
    np.testing.assert_allclose(host(x.max(dim=1)[0]), t.max(dim=1)[0].numpy())
    np.testing.assert_array_equal(host(x.sort(dim=0)[1]), t.sort(dim=0)[1].numpy())


# ---------------------------------------------------------------- empty matrices
@pytest.mark.parametrize("shape", [(0, 3, 2), (3, 0), (0, 3), (2, 0, 3), (0, 0)])
def test_factorisations_and_norms_of_empty_matrices(backend, shape):
    data = np.zeros(shape)
    x = make(data, backend)
    results = {
        "svd": (ag.linalg.svd(x, full_matrices=False), np.linalg.svd(data, full_matrices=False)),
        "svd_full": (ag.linalg.svd(x), np.linalg.svd(data)),
        "svdvals": ((ag.linalg.svdvals(x),), (np.linalg.svdvals(data),)),
        "qr": (ag.linalg.qr(x), np.linalg.qr(data)),
        "pinv": ((ag.linalg.pinv(x),), (np.linalg.pinv(data),)),
    }
    for ord in ("fro", "nuc", 1, 2, math.inf):
        results[f"norm {ord}"] = ((ag.linalg.matrix_norm(x, ord=ord),),
                                  (np.linalg.matrix_norm(data, ord=ord),))
    for name, (mine, numpys) in results.items():
        for m, n in zip(mine, numpys):
            assert m.shape == n.shape, name
            np.testing.assert_array_equal(host(m), n)
    for name, f in (("svd", lambda x: ag.linalg.svd(x, full_matrices=False).S),
                    ("qr", lambda x: ag.linalg.qr(x).R), ("pinv", ag.linalg.pinv),
                    ("norm 2", lambda x: ag.linalg.matrix_norm(x, ord=2)),
                    ("norm 1", lambda x: ag.linalg.matrix_norm(x, ord=1))):
        g = ag.grad(lambda x: ag.sum(f(x)))(x)
        assert g.shape == shape, name
        np.testing.assert_array_equal(host(g), data)


def test_smallest_norm_of_no_values_raises(backend):
    x = make(np.zeros((3, 0)), backend)
    for ord in (-1, -2):
        with pytest.raises(ValueError, match=r"matrix_norm: ord=.* smallest of no values"):
            ag.linalg.matrix_norm(x, ord=ord)


# ---------------------------------------------------------------- 0-d softmax
def test_softmax_of_a_0d_tensor(backend):
    x = make(0.7, backend)
    for axis in (0, -1):
        np.testing.assert_allclose(host(ag.softmax(x, axis=axis)), 1.0)
        np.testing.assert_allclose(host(ag.log_softmax(x, axis=axis)), 0.0)
        f = lambda x: ag.softmax(x, axis=axis) * 2.0 + ag.log_softmax(x, axis=axis)  # noqa: E731
        np.testing.assert_allclose(host(ag.grad(f)(x)), 0.0)
        ag.gradcheck(f, [x])
        ag.gradgradcheck(f, [x])
    np.testing.assert_allclose(host(F.softmax(x, dim=0)), 1.0)
    with pytest.raises(IndexError, match="axis 1 is out of range for a 0-d tensor"):
        ag.softmax(x, axis=1)


# ---------------------------------------------------------------- .grad assignment
def test_grad_assignment_is_checked(backend):
    p = make(random((2, 3)), backend)
    with pytest.raises(TypeError, match=r"shape \(2, 3\) and dtype float64"):
        p.grad = 0
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        p.grad = make(random((3,)), backend, requires_grad=False)
    with pytest.raises(ValueError, match="float32"):
        p.grad = make(random((2, 3)), backend, dtype="float32", requires_grad=False)
    p.grad = _raw(np.ones((2, 3)), backend)  # the backend's own array
    assert isinstance(p.grad, ag.Tensor)
    p.grad = None
    ag.sum(p * 2.0).backward()
    np.testing.assert_array_equal(host(p.grad), np.full((2, 3), 2.0))


# ---------------------------------------------------------------- raw arrays in nn.functional
def test_nn_functional_takes_raw_arrays(backend):
    data = random((1, 2, 5, 5))
    weight = make(random((3, 2, 3, 3), seed=1), backend)
    dense = make(random((4, 5), seed=2), backend)
    raw = _raw(data, backend)
    tensor = make(data, backend, requires_grad=False)
    pairs = [
        (lambda x: F.conv2d(x, weight, padding=1)),
        (lambda x: F.conv1d(x[:, :, 0, :], weight[:, :, 0], stride=2)),
        (lambda x: F.conv_transpose2d(x, ag.permute_dims(weight, (1, 0, 2, 3)))),
        (lambda x: F.max_pool2d(x, 2)), (lambda x: F.avg_pool2d(x, 2)),
        (lambda x: F.max_pool1d(x[:, :, 0, :], 2)), (lambda x: F.avg_pool1d(x[:, :, 0, :], 2)),
        (lambda x: F.adaptive_avg_pool2d(x, (5, 5))),
        (lambda x: F.linear(x[0, 0, :, :], dense)),
        (lambda x: F.mse_loss(weight[0, 0], x[0, 0, :3, :3])),
    ]
    for f in pairs:
        out, expected = f(raw), f(tensor)
        assert isinstance(out, ag.Tensor)
        np.testing.assert_allclose(host(out), host(expected), rtol=1e-12)
    g = ag.grad(lambda w: ag.sum(F.conv2d(raw, w)))(weight)
    assert g.shape == weight.shape
    want = ag.grad(lambda w: ag.sum(F.conv2d(tensor, w)))(weight)
    np.testing.assert_allclose(host(g), host(want))


def test_an_in_place_update_never_changes_another_tensor_through_shared_memory(backend):
    # ag.reshape's result is a tensor of its own (the methods give views); on numpy and
    # torch its array may share memory with the input's, and writing into that buffer
    # would change the input behind its back (and behind backward's: w's gradient is b).
    w = ag.tensor([1.0, 1.0, 1.0], requires_grad=True)
    b = ag.tensor([1.0, 2.0, 3.0])
    loss = ag.sum(w * b)
    c = ag.reshape(b, (3,))
    c += 100
    loss.backward()
    assert w.grad.tolist() == [1.0, 2.0, 3.0]
    assert b.tolist() == [1.0, 2.0, 3.0] and c.tolist() == [101.0, 102.0, 103.0]
    # And the other way: updating the input leaves the separate result alone.
    d = ag.reshape(b, (3, 1))
    b *= 2
    assert d.tolist() == [[1.0], [2.0], [3.0]] and b.tolist() == [2.0, 4.0, 6.0]


@pytest.mark.parametrize("name", ["SGD", "Adam", "LBFGS"])
def test_views_of_a_parameter_read_its_values_after_an_optimizer_step(backend, name):
    """An update rebinds the array on some backends and writes into it on others; a view
    (`p[0]`, `p.data`) must read the new values on every one, and writes through it
    must not undo the step."""
    p = ag.nn.Parameter(make(np.array([1.0, 2.0, 3.0]), backend))
    first, alias = p[0], p.data
    opt = getattr(ag.optim, name)([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    closure()
    opt.step(closure) if name == "LBFGS" else opt.step()
    assert host(first).item() == host(p)[0] != 1.0
    np.testing.assert_array_equal(host(alias), host(p))
    stepped = host(p)
    alias.add_(1.0)
    np.testing.assert_array_equal(host(p), stepped + 1.0)
