"""Containers, loss Modules, LayerNorm, Embedding, more activations and nn.utils: on
every backend, and against PyTorch where it is installed."""
from __future__ import annotations

import math

import numpy as np
import pytest

import anygrad as ag
import anygrad.nn as nn
import anygrad.nn.functional as F
from anygrad.nn import utils
from conftest import host, make, random


# ----------------------------------------------------------------- containers
def test_module_list_registers_and_indexes(backend):
    layers = nn.ModuleList([nn.Linear(3, 3, backend=backend) for _ in range(3)])
    layers.append(nn.ReLU())
    assert len(layers) == 4 and isinstance(layers[-1], nn.ReLU)
    assert [k for k, _ in layers.named_parameters()] == [
        "0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "2.bias"]
    del layers[0]
    assert len(layers) == 3 and [k for k, _ in layers.named_children()] == ["0", "1", "2"]
    layers.insert(0, nn.Tanh())
    assert isinstance(layers[0], nn.Tanh) and len(list(layers.parameters())) == 4
    assert len(layers[1:3]) == 2
    with pytest.raises(IndexError, match="out of range for 4 modules"):
        layers[4]

    class Tower(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList(nn.Linear(2, 2, backend=backend) for _ in range(2))

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    tower = Tower()
    assert list(tower.state_dict()) == ["blocks.0.weight", "blocks.0.bias", "blocks.1.weight",
                                        "blocks.1.bias"]
    tower.eval()
    assert not tower.blocks[1].training


def test_module_dict(backend):
    heads = nn.ModuleDict({"a": nn.Linear(2, 1, backend=backend), "b": nn.Linear(2, 3, backend=backend)})
    heads["c"] = nn.ReLU()
    assert list(heads) == ["a", "b", "c"] and "b" in heads and len(heads) == 3
    assert [k for k, _ in heads.named_parameters()] == ["a.weight", "a.bias", "b.weight", "b.bias"]
    assert heads.pop("a") is not None and list(heads.keys()) == ["b", "c"]


# ----------------------------------------------------------------- losses
LOSSES = [
    (nn.MSELoss, {}, F.mse_loss), (nn.L1Loss, {"reduction": "sum"}, F.l1_loss),
    (nn.HuberLoss, {"delta": 0.5}, F.huber_loss), (nn.SmoothL1Loss, {"beta": 0.3}, F.smooth_l1_loss),
    (nn.BCEWithLogitsLoss, {"reduction": "none"}, F.binary_cross_entropy_with_logits),
]


@pytest.mark.parametrize("cls, options, fn", LOSSES, ids=[c[0].__name__ for c in LOSSES])
def test_loss_modules_call_their_function(backend, cls, options, fn):
    x, y = make(random((4, 3), 1), backend), make(random((4, 3), 2, 0.0, 1.0), backend)
    np.testing.assert_allclose(host(cls(**options)(x, y)), host(fn(x, y, **options)), rtol=0)


def test_classification_loss_modules(backend):
    logits = make(random((5, 4), 3), backend)
    target = ag.tensor([0, 3, 1, 1, 2], backend=backend)
    np.testing.assert_allclose(host(nn.CrossEntropyLoss(label_smoothing=0.2)(logits, target)),
                               host(F.cross_entropy(logits, target, label_smoothing=0.2)), rtol=0)
    np.testing.assert_allclose(host(nn.NLLLoss(reduction="sum")(F.log_softmax(logits, 1), target)),
                               host(F.nll_loss(F.log_softmax(logits, 1), target, reduction="sum")))
    p = ag.sigmoid(logits)
    np.testing.assert_allclose(host(nn.BCELoss()(p, ag.ones_like(p))),
                               host(F.binary_cross_entropy(p, ag.ones_like(p))), rtol=0)
    weight = make(random((5, 4), 4, 0.0, 1.0), backend, requires_grad=False)
    weighted = nn.BCEWithLogitsLoss(weight=weight, pos_weight=2.0)
    assert list(weighted.state_dict()) == ["weight"]
    np.testing.assert_allclose(
        host(weighted(logits, ag.ones_like(logits))),
        host(F.binary_cross_entropy_with_logits(logits, ag.ones_like(logits), weight=weight,
                                                pos_weight=2.0)), rtol=0)
    with pytest.raises(ValueError, match="CrossEntropyLoss: reduction must be"):
        nn.CrossEntropyLoss(reduction="avg")


def test_huber_and_smooth_l1_gradients(backend):
    x, y = make(random((3, 4), 4, -3, 3), backend), make(random((3, 4), 5), backend, requires_grad=False)
    assert ag.gradcheck(lambda a: F.huber_loss(a, y, delta=0.7), [x])
    assert ag.gradgradcheck(lambda a: F.smooth_l1_loss(a, y, beta=2.0), [x])
    np.testing.assert_allclose(host(F.smooth_l1_loss(x, y, beta=0.0)), host(F.l1_loss(x, y)))


# ----------------------------------------------------------------- layers
def test_layer_norm_and_embedding(backend):
    x = make(random((2, 3, 4), 6), backend)
    norm = nn.LayerNorm(4, dtype="float64", backend=backend)
    xs = random((2, 3, 4), 6)
    expected = (xs - xs.mean(-1, keepdims=True)) / np.sqrt(xs.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(host(norm(x)), expected, rtol=1e-12)
    w, b = make(random((3, 4), 7), backend), make(random((3, 4), 8), backend)
    assert ag.gradcheck(lambda a, w, b: F.layer_norm(a, (3, 4), w, b), [x, w, b])
    with pytest.raises(ValueError, match="normalized_shape"):
        F.layer_norm(x, (3,))
    table = make(random((5, 2), 9), backend)
    idx = ag.tensor([[0, 4, 4], [1, 0, 2]], backend=backend)
    picked = F.embedding(idx, table)
    assert picked.shape == (2, 3, 2)
    np.testing.assert_array_equal(host(picked), random((5, 2), 9)[[[0, 4, 4], [1, 0, 2]]])
    ag.sum(picked).backward()
    np.testing.assert_array_equal(host(table.grad)[:, 0], [2, 1, 1, 0, 2])
    emb = nn.Embedding(10, 3, backend=backend)
    assert emb(ag.tensor([1, 2], backend=backend)).shape == (2, 3)
    with pytest.raises(TypeError, match="indices must be integers"):
        emb(make([1.0], backend))


def test_activation_modules(backend):
    x = make(random((4, 5), 10, -30, 30), backend)
    xs = random((4, 5), 10, -30, 30)
    np.testing.assert_allclose(host(nn.SiLU()(x)), xs / (1 + np.exp(-xs)), rtol=1e-12)
    np.testing.assert_allclose(host(nn.Softplus(beta=2.0)(x)), np.where(2 * xs > 20, xs, np.logaddexp(0, 2 * xs) / 2), rtol=1e-12)
    np.testing.assert_allclose(host(nn.LeakyReLU(0.2)(x)), np.where(xs > 0, xs, 0.2 * xs))
    assert ag.gradcheck(lambda a: F.silu(a) + F.softplus(a, beta=0.5), [make(random((3,), 11), backend)])
    assert host(nn.GELU()(x)).shape == (4, 5)


# ----------------------------------------------------------------- module helpers
def test_requires_grad_and_apply(backend):
    model = nn.Sequential(nn.Linear(2, 3, backend=backend), nn.ReLU(), nn.Linear(3, 1, backend=backend))
    model[0].requires_grad_(False)
    assert [p.requires_grad for p in model.parameters()] == [False, False, True, True]
    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "Linear", "Sequential"]
    model.apply(lambda m: nn.init.zeros_(m.weight) if isinstance(m, nn.Linear) else None)
    assert not host(model[2].weight).any()


# ----------------------------------------------------------------- nn.utils
def _with_grads(backend):
    params = [make(random((3, 4), 20), backend), make(random((4,), 21), backend)]
    for i, p in enumerate(params):
        p.grad = make(random(p.shape, 30 + i, -5, 5), backend, requires_grad=False)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
def test_clip_grad_norm(backend, norm_type):
    params = _with_grads(backend)
    grads = np.concatenate([host(p.grad).ravel() for p in params])
    expected = np.linalg.norm(grads, ord=norm_type)
    total = utils.clip_grad_norm_(params, max_norm=1.0, norm_type=norm_type)
    np.testing.assert_allclose(host(total), expected, rtol=1e-12)
    clipped = np.concatenate([host(p.grad).ravel() for p in params])
    np.testing.assert_allclose(clipped, grads / (expected + 1e-6), rtol=1e-12)
    before = [host(p.grad) for p in params]
    utils.clip_grad_norm_(params, max_norm=1e9)  # under the limit: unchanged
    for b, p in zip(before, params):
        np.testing.assert_array_equal(host(p.grad), b)


def test_clip_grad_value_and_vectors(backend):
    params = _with_grads(backend)
    utils.clip_grad_value_(params, 2.0)
    assert all(np.abs(host(p.grad)).max() <= 2.0 for p in params)
    vec = utils.parameters_to_vector(params)
    assert vec.shape == (16,)
    np.testing.assert_array_equal(host(vec)[:12], random((3, 4), 20).ravel())
    utils.vector_to_parameters(vec * 2.0, params)
    np.testing.assert_allclose(host(params[1]), 2 * random((4,), 21))
    with pytest.raises(ValueError, match="expected a 1-D vector of 16"):
        utils.vector_to_parameters(vec[:3], params)


def test_against_torch():
    torch = pytest.importorskip("torch")
    xs, ys = random((6, 4), 40, -3, 3), random((6, 4), 41)
    x, y = make(xs, "numpy"), make(ys, "numpy", requires_grad=False)
    tx, ty = torch.tensor(xs, requires_grad=True), torch.tensor(ys)
    tnn = torch.nn
    pairs = [
        (nn.HuberLoss(delta=0.6), tnn.HuberLoss(delta=0.6)),
        (nn.SmoothL1Loss(beta=0.4), tnn.SmoothL1Loss(beta=0.4)),
        (nn.SmoothL1Loss(beta=0.0), tnn.SmoothL1Loss(beta=0.0)),
        (nn.MSELoss(reduction="sum"), tnn.MSELoss(reduction="sum")),
        (nn.L1Loss(), tnn.L1Loss()),
        (nn.BCEWithLogitsLoss(), tnn.BCEWithLogitsLoss()),
        (lambda a, b: ag.sum(nn.SiLU()(a) * b), lambda a, b: (tnn.SiLU()(a) * b).sum()),
        (lambda a, b: ag.sum(nn.Softplus(beta=3.0, threshold=5.0)(a) * b),
         lambda a, b: (tnn.Softplus(beta=3.0, threshold=5.0)(a) * b).sum()),
        (lambda a, b: ag.sum(nn.GELU("tanh")(a) * b), lambda a, b: (tnn.GELU("tanh")(a) * b).sum()),
        (lambda a, b: ag.sum(nn.LeakyReLU(0.1)(a) * b), lambda a, b: (tnn.LeakyReLU(0.1)(a) * b).sum()),
        (lambda a, b: ag.sum(F.layer_norm(a, (4,)) * b), lambda a, b: (tnn.functional.layer_norm(a, (4,)) * b).sum()),
    ]
    for ours, theirs in pairs:
        x.grad, tx.grad = None, None
        out, tout = ours(x, y), theirs(tx, ty)
        out.backward()
        tout.backward()
        np.testing.assert_allclose(host(out), tout.detach().numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(host(x.grad), tx.grad.numpy(), rtol=1e-10, atol=1e-14)
    logits, labels = random((5, 3), 42), np.array([0, 2, 1, 1, 0])
    ce = nn.CrossEntropyLoss(label_smoothing=0.1)(make(logits, "numpy"), ag.tensor(labels))
    tce = tnn.CrossEntropyLoss(label_smoothing=0.1)(torch.tensor(logits), torch.tensor(labels))
    np.testing.assert_allclose(host(ce), tce.item(), rtol=1e-12)
    # clipping
    params = _with_grads("numpy")
    tparams = [torch.tensor(host(p), requires_grad=True) for p in params]
    for p, tp in zip(params, tparams):
        tp.grad = torch.tensor(host(p.grad))
    for norm_type in (2.0, math.inf):
        total = utils.clip_grad_norm_(params, 3.0, norm_type=norm_type)
        ttotal = tnn.utils.clip_grad_norm_(tparams, 3.0, norm_type=norm_type)
        np.testing.assert_allclose(host(total), ttotal.item(), rtol=1e-12)
        for p, tp in zip(params, tparams):
            np.testing.assert_allclose(host(p.grad), tp.grad.numpy(), rtol=1e-12)
    np.testing.assert_array_equal(host(utils.parameters_to_vector(params)),
                                  tnn.utils.parameters_to_vector(tparams).detach().numpy())
