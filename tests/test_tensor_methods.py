"""PyTorch's everyday Tensor methods and `dim=`/`keepdim=` spellings: each gives what the
op it aliases gives, on every backend, and what torch gives where it is installed."""
from __future__ import annotations

import numpy as np
import pytest

import anygrad as ag
import anygrad.nn.functional as F
from conftest import host, make, random

X = random((2, 3, 4), 0)


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "argmax", "argmin", "prod"])
def test_reductions_take_dim_and_keepdim(backend, name):
    x = make(X, backend)
    ref = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min,
           "argmax": np.argmax, "argmin": np.argmin, "prod": np.prod}[name]
    got_axis = getattr(x, name)(axis=1, keepdims=True)
    got_dim = getattr(x, name)(dim=1, keepdim=True)
    if name in ("max", "min"):
        got_dim = got_dim.values
    np.testing.assert_allclose(host(got_axis), ref(X, axis=1, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(host(got_dim), host(got_axis), rtol=0)
    if name in ("max", "min"):  # x.max(1): numpy's maxima or PyTorch's pair? refused
        with pytest.raises(TypeError, match=f"Tensor.{name}"):
            getattr(x, name)(1)
    else:
        np.testing.assert_allclose(host(getattr(x, name)(1)), ref(X, axis=1), rtol=1e-12)
    if name not in ("argmax", "argmin"):
        np.testing.assert_allclose(host(getattr(x, name)()), ref(X), rtol=1e-12)


def test_both_spellings_at_once_is_an_error(backend):
    x = make(X, backend)
    with pytest.raises(TypeError, match="Tensor.sum: got both axis= and dim="):
        x.sum(axis=0, dim=0)
    with pytest.raises(TypeError, match="keepdims= and keepdim="):
        x.mean(0, keepdims=True, keepdim=True)
    with pytest.raises(TypeError, match="softmax: got both"):
        F.softmax(x, 0, axis=0)


def test_max_with_dim_gives_values_and_indices(backend):
    x = make(X, backend)
    values, indices = x.max(dim=2)
    np.testing.assert_array_equal(host(values), X.max(axis=2))
    np.testing.assert_array_equal(host(indices), X.argmax(axis=2))
    assert host(x.min(dim=0).indices).tolist() == X.argmin(axis=0).tolist()


def test_var_std_corrections(backend):
    x = make(X, backend)
    np.testing.assert_allclose(host(x.var(axis=0)), X.var(axis=0), rtol=1e-12)
    np.testing.assert_allclose(host(x.var(dim=0)), X.var(axis=0, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(host(x.var(dim=0, unbiased=True)), X.var(axis=0, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(host(x.std(1, correction=1, keepdims=True)),
                               X.std(axis=1, ddof=1, keepdims=True), rtol=1e-12)
    with pytest.raises(TypeError, match="both correction= and unbiased="):
        x.std(correction=1, unbiased=True)


def test_prod_gradient_with_zeros(backend):
    data = random((3, 5), 1)
    data[1, 2] = 0.0
    assert ag.gradcheck(lambda t: t.prod(dim=1), [make(data, backend)])
    assert ag.gradcheck(lambda t: ag.prod(t, axis=(0, 1), keepdims=True), [make(data, backend)])
    np.testing.assert_allclose(host(ag.prod(make(np.ones((0, 2)), backend), axis=0)), [1.0, 1.0])


def test_shape_methods(backend):
    x = make(X, backend)
    assert x.view(4, 6).shape == (4, 6) and x.view((-1,)).shape == (24,)
    assert x.reshape([3, 8]).shape == (3, 8)
    assert x.flatten().shape == (24,) and x.flatten(1).shape == (2, 12)
    np.testing.assert_array_equal(host(x.transpose(0, 2)), X.transpose(2, 1, 0))
    np.testing.assert_array_equal(host(x.permute(1, 2, 0)), X.transpose(1, 2, 0))
    np.testing.assert_array_equal(host(x[0, ...].t()), X[0].T)
    assert x[0, 0, :].t().shape == (4,)
    with pytest.raises(ValueError, match="at most 2 dimensions"):
        x.t()
    assert x.unsqueeze(1).shape == (2, 1, 3, 4) and x.unsqueeze(-1).shape == (2, 3, 4, 1)
    y = x.unsqueeze(0).unsqueeze(3)
    assert y.squeeze().shape == (2, 3, 4)
    assert y.squeeze(0).shape == (2, 3, 1, 4)
    assert y.squeeze(1).shape == y.shape  # not of length 1: left alone, as in PyTorch
    e = x[:, :1, :].expand(2, 5, -1)
    assert e.shape == (2, 5, 4)
    np.testing.assert_array_equal(host(x[:1, ...].expand(3, -1, -1, -1))[2], X[:1])
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert x.size == 24 and x.numel() == 24 and x.dim() == 3


def test_shape_methods_are_differentiable(backend):
    x = make(X, backend)
    for fn in (lambda t: t.view(6, 4), lambda t: t.transpose(0, 1), lambda t: t.permute(2, 0, 1),
               lambda t: t.unsqueeze(1).squeeze(1), lambda t: t[:, :1, :].expand(2, 3, 4),
               lambda t: t.flatten(0, 1), lambda t: t.clone() * 2.0):
        assert ag.gradcheck(fn, [x])


def test_elementwise_methods(backend):
    x = make(np.abs(X) + 0.1, backend)
    for name in ("abs", "exp", "log", "sqrt", "tanh", "sigmoid", "relu"):
        np.testing.assert_allclose(host(getattr(x, name)()), host(getattr(ag, name)(x)), rtol=0)
    np.testing.assert_allclose(host(x.pow(2)), (np.abs(X) + 0.1) ** 2, rtol=1e-12)
    np.testing.assert_allclose(host(x.clamp(min=0.3, max=0.8)), np.clip(np.abs(X) + 0.1, 0.3, 0.8))
    np.testing.assert_allclose(host(x.clamp(max=0.5)), np.minimum(np.abs(X) + 0.1, 0.5))
    np.testing.assert_allclose(host(x.softmax(dim=1)), host(ag.softmax(x, axis=1)), rtol=0)
    np.testing.assert_allclose(host(F.log_softmax(x, axis=0)), host(F.log_softmax(x, dim=0)), rtol=0)


def test_dtype_methods(backend):
    x = make(X, backend)
    assert str(host(x.float()).dtype) == "float32" and str(host(x.float().double()).dtype) == "float64"
    assert str(host(x.to("float32")).dtype) == "float32"
    assert str(host(x.to(dtype="float32")).dtype) == "float32"
    assert x.to(backend).backend.name == backend
    y = x.float()
    y.sum().backward()
    assert str(host(x.grad).dtype) == "float64"
    assert x.tolist() == X.tolist()


def test_in_place_fill_zero_copy(backend):
    t = make(X, backend, requires_grad=False)
    before = t.array
    assert t.zero_() is t and not host(t).any()
    assert t.fill_(2.5) is t and (host(t) == 2.5).all()
    t.copy_(np.arange(4.0))  # broadcast, from host data
    np.testing.assert_array_equal(host(t), np.broadcast_to(np.arange(4.0), X.shape))
    t.copy_(make(X, backend).float())  # cast back to float64
    np.testing.assert_array_equal(host(t), X.astype(np.float32).astype(np.float64))
    assert str(host(t).dtype) == "float64"
    assert before is not t.array
    with pytest.raises(ValueError, match="does not broadcast"):
        t.copy_(np.ones(3))


def test_in_place_on_a_trainable_leaf_needs_no_grad(backend):
    w = make(X, backend)
    with pytest.raises(RuntimeError, match="fill_: in-place change of a leaf that requires grad"):
        w.fill_(1.0)
    with ag.no_grad():
        w.zero_()
    assert not host(w).any()


def test_clone_keeps_the_graph(backend):
    x = make(X, backend)
    c = x.clone()
    if backend != "jax":  # jax arrays are immutable: sharing one is no aliasing
        assert c.array is not x.array
    (c * c).sum().backward()
    np.testing.assert_allclose(host(x.grad), 2 * X)


def test_subpackages_reachable_from_the_top():
    import subprocess
    import sys

    code = "import anygrad as ag; ag.nn.Linear; ag.optim.SGD; ag.data.DataLoader"
    subprocess.run([sys.executable, "-c", code], check=True)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ag.nope


def test_methods_match_torch():
    torch = pytest.importorskip("torch")
    x = make(X, "numpy")
    tx = torch.tensor(X)
    pairs = [
        (x.sum(dim=1, keepdim=True), tx.sum(dim=1, keepdim=True)),
        (x.mean(dim=(0, 2)), tx.mean(dim=(0, 2))),
        (x.prod(dim=2), tx.prod(dim=2)),
        (x.max(dim=1).values, tx.max(dim=1).values),
        (x.max(dim=1).indices, tx.max(dim=1).indices),
        (x.min(dim=0, keepdim=True)[1], tx.min(dim=0, keepdim=True)[1]),
        (x.argmax(dim=2), tx.argmax(dim=2)),
        (x.std(dim=1, unbiased=True), tx.std(dim=1)),
        (x.var(dim=0, unbiased=False), tx.var(dim=0, unbiased=False)),
        (x.transpose(0, 2), tx.transpose(0, 2)),
        (x.permute(2, 0, 1), tx.permute(2, 0, 1)),
        (x.unsqueeze(-2), tx.unsqueeze(-2)),
        (x[:, :1, :].expand(-1, 3, 4), tx[:, :1].expand(-1, 3, 4)),
        (x.unsqueeze(0).squeeze(0), tx.unsqueeze(0).squeeze(0)),
        (x.view(4, -1), tx.view(4, -1)),
        (x.flatten(1), tx.flatten(1)),
        (x.clamp(-0.5, 0.5), tx.clamp(-0.5, 0.5)),
        (x.softmax(dim=1), tx.softmax(dim=1)),
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(host(ours), theirs.numpy(), rtol=1e-12)
    assert x.size() == tuple(tx.size()) and x.size(2) == tx.size(2)
    assert x.numel() == tx.numel() and x.dim() == tx.dim()


def test_functions_take_dim_and_keepdim_beside_axis_and_keepdims(backend):
    x = make(X, backend)
    for fn in (ag.sum, ag.mean, ag.max, ag.min, ag.var, ag.std, ag.logsumexp, ag.prod):
        np.testing.assert_allclose(host(fn(x, dim=1, keepdim=True)),
                                   host(fn(x, axis=1, keepdims=True)))
    np.testing.assert_allclose(host(ag.softmax(x, dim=0)), host(ag.softmax(x, axis=0)))
    assert ag.concat([x, x], dim=1).shape == ag.concat([x, x], axis=1).shape
    with pytest.raises(TypeError, match="sum: got both axis= and dim="):
        ag.sum(x, axis=0, dim=1)
