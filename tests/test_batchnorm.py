"""BatchNorm1d/2d: input gradients in train and eval mode, values, parameter gradients,
running statistics and train/eval behaviour against PyTorch, state_dict, and errors."""
from __future__ import annotations

import numpy as np
import pytest

import anygrad as ag
from anygrad.nn.conv_modules import BatchNorm1d, BatchNorm2d
from conftest import make, random

# name, layer class, input shape, keyword arguments
LAYERS = [
    ("bn1d_features", BatchNorm1d, (4, 3), {}),
    ("bn1d_sequence", BatchNorm1d, (2, 2, 3), {}),
    ("bn2d", BatchNorm2d, (2, 2, 2, 3), {}),
    ("bn2d_no_affine", BatchNorm2d, (3, 2, 2, 2), {"affine": False}),
    ("bn2d_batch_stats_only", BatchNorm2d, (2, 2, 3, 1), {"track_running_stats": False}),
]


def _layer(backend, cls, shape, kwargs):
    layer = cls(shape[1], dtype="float64", backend=backend, **kwargs)
    if layer.affine:  # not the identity, so a mistake in how it enters shows
        layer.weight.array = make(random(shape[1:2], seed=7, low=0.5, high=1.5), backend).array
        layer.bias.array = make(random(shape[1:2], seed=8), backend).array
    return layer


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("name,cls,shape,kwargs", LAYERS, ids=[c[0] for c in LAYERS])
def test_batchnorm_gradients(backend, mode, name, cls, shape, kwargs):
    layer = _layer(backend, cls, shape, kwargs)
    layer.train(mode == "train")
    if layer.track_running_stats:  # eval uses these: make them not the identity
        layer.running_mean.array = make(random(shape[1:2], seed=5), backend).array
        layer.running_var.array = make(random(shape[1:2], seed=6, low=0.5, high=2.0), backend).array
    x = make(random(shape, seed=1), backend)
    state = [b.numpy() for b in layer.buffers()]
    assert ag.gradcheck(layer, [x])
    if mode == "train" and name == "bn2d":
        assert ag.gradgradcheck(layer, [x])
    if mode == "eval":  # eval never touches the running statistics
        for before, after in zip(state, layer.buffers()):
            np.testing.assert_array_equal(before, after.numpy())


@pytest.mark.parametrize("momentum", [0.1, 0.3, None])
@pytest.mark.parametrize("cls_name,shape", [("BatchNorm1d", (5, 3)), ("BatchNorm1d", (4, 3, 2)),
                                            ("BatchNorm2d", (3, 3, 4, 2))])
def test_running_stats_and_modes_match_torch(backend, momentum, cls_name, shape):
    torch = pytest.importorskip("torch")
    ours = {"BatchNorm1d": BatchNorm1d, "BatchNorm2d": BatchNorm2d}[cls_name](
        3, momentum=momentum, dtype="float64", backend=backend)
    theirs = getattr(torch.nn, cls_name)(3, momentum=momentum, dtype=torch.float64)
    for step in range(3):
        x = random(shape, seed=20 + step) * (step + 1) + step
        out = ours(make(x, backend, requires_grad=False))
        expected = theirs(torch.tensor(x))
        np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
        cotangent = random(shape, seed=40 + step)
        out.backward(ag.tensor(cotangent, backend=backend))
        expected.backward(torch.tensor(cotangent))
        for key in ("weight", "bias"):
            np.testing.assert_allclose(getattr(ours, key).grad.numpy(),
                                       getattr(theirs, key).grad.numpy(), rtol=1e-10, atol=1e-12)
        for key in ("running_mean", "running_var"):
            np.testing.assert_allclose(getattr(ours, key).numpy(), getattr(theirs, key).numpy(),
                                       rtol=1e-12, atol=1e-14)
    assert int(ours.num_batches_tracked.item()) == int(theirs.num_batches_tracked) == 3
    ours.eval()
    theirs.eval()
    x = random(shape, seed=30)
    np.testing.assert_allclose(ours(make(x, backend, requires_grad=False)).numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10, atol=1e-12)


def test_running_stats_by_hand(backend):
    layer = BatchNorm1d(2, momentum=0.5, dtype="float64", backend=backend)
    x = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 16.0]])
    layer(make(x, backend, requires_grad=False))
    # mean (3, 12); unbiased variance (4, 12): halfway from (0, 1) and (1, 1).
    np.testing.assert_allclose(layer.running_mean.numpy(), [1.5, 6.0])
    np.testing.assert_allclose(layer.running_var.numpy(), [2.5, 6.5])


def test_train_normalises_by_batch_and_eval_by_running_stats(backend):
    layer = BatchNorm2d(1, dtype="float64", backend=backend)
    x = make(random((4, 1, 3, 3), seed=3) * 5 + 2, backend, requires_grad=False)
    y = layer(x).numpy()
    np.testing.assert_allclose(y.mean(), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(), 1.0, rtol=1e-4)  # eps keeps it just under 1
    layer.eval()
    mean, var = layer.running_mean.numpy(), layer.running_var.numpy()
    expected = (x.numpy() - mean) / np.sqrt(var + layer.eps)
    np.testing.assert_allclose(layer(x).numpy(), expected.reshape(4, 1, 3, 3), rtol=1e-12)


def test_state_dict_holds_running_stats_as_snapshots():
    layer = BatchNorm2d(2, dtype="float64")
    assert list(layer.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                        "num_batches_tracked"]
    saved = layer.state_dict()
    layer(make(random((3, 2, 2, 2), seed=1), "numpy", requires_grad=False))
    np.testing.assert_array_equal(saved["running_mean"].numpy(), [0.0, 0.0])
    assert not np.array_equal(layer.state_dict()["running_mean"].numpy(), [0.0, 0.0])
    fresh = BatchNorm2d(2, dtype="float64")
    fresh.load_state_dict(layer.state_dict())
    np.testing.assert_array_equal(fresh.running_var.numpy(), layer.running_var.numpy())
    assert int(fresh.num_batches_tracked.item()) == 1


def test_running_stats_stay_out_of_the_graph():
    layer = BatchNorm1d(2, dtype="float64")
    layer(make(random((3, 2), seed=1), "numpy"))
    assert not layer.running_mean.requires_grad and layer.running_mean.node is None
    assert not layer.running_var.requires_grad and layer.running_var.node is None


ERRORS = [
    (lambda: BatchNorm2d(3)(ag.zeros((2, 3, 4))), ["BatchNorm2d", "4-D", "(2, 3, 4)"]),
    (lambda: BatchNorm1d(3)(ag.zeros((2, 3, 4, 4))), ["BatchNorm1d", "2-D or 3-D", "(2, 3, 4, 4)"]),
    (lambda: BatchNorm2d(3)(ag.zeros((2, 4, 2, 2))),
     ["BatchNorm2d", "4 channels", "num_features=3"]),
    (lambda: BatchNorm1d(3)(ag.zeros((1, 3))), ["BatchNorm1d", "more than one value", "(1, 3)"]),
]


@pytest.mark.parametrize("call,words", ERRORS, ids=[w[2] for _, w in ERRORS])
def test_errors(call, words):
    with pytest.raises(ValueError) as info:
        call()
    for word in words:
        assert word in str(info.value)
