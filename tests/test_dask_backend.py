"""dask.array as a backend: lazy, chunked, and computed on a dask.distributed cluster."""
from __future__ import annotations

import numpy as np
import pytest

import anygrad as ag

da = pytest.importorskip("dask.array")


def test_dask_arrays_find_their_adapter():
    x = ag.tensor(da.ones((4, 3), chunks=(2, 3)))
    assert x.backend is ag.get_backend("dask")
    assert isinstance(x.array, da.Array)


@pytest.mark.parametrize("axis, index", [
    (1, [[0], [2], [-1], [1]]),             # one pick per row, a negative index
    (1, [[0, 0, 2], [1, 2, 2], [2, 0, 1], [-3, 1, 1]]),  # repeats: gradients add
    (0, [[3, 0, 1], [3, 2, 0]]),
])
def test_take_along_axis_filled_in_by_the_adapter(axis, index):
    a = np.arange(12.0).reshape(4, 3) / 7
    index = np.array(index)
    x = ag.tensor(da.from_array(a, chunks=(2, 3)), requires_grad=True)
    i = ag.tensor(da.from_array(index, chunks=(2, index.shape[1])))
    y = ag.take_along_axis(x, i, axis=axis)
    np.testing.assert_array_equal(y.numpy(), np.take_along_axis(a, index, axis=axis))
    w = np.linspace(-1, 1, index.size).reshape(index.shape)
    ag.sum(y * ag.tensor(da.from_array(w))).backward()
    expected = np.zeros_like(a)
    np.add.at(expected, tuple(np.indices(index.shape)[d] if d != axis else index
                              for d in range(2)), w)
    np.testing.assert_allclose(x.grad.numpy(), expected)


def test_take_along_axis_gradient_matches_finite_differences():
    a = da.from_array(np.random.default_rng(0).normal(size=(5, 4)), chunks=(2, 4))
    index = da.from_array(np.array([[3], [0], [1], [-1], [2]]), chunks=(2, 1))
    x = ag.tensor(a, requires_grad=True)
    assert ag.gradcheck(lambda x: ag.take_along_axis(ag.tanh(x), index, axis=1) ** 2, (x,))


def _mlp_loss_grads(backend, X, y):
    ag.manual_seed(0)
    with ag.use_backend(backend):
        model = ag.nn.Sequential(ag.nn.Linear(4, 8, dtype="float64"), ag.nn.Tanh(),
                                 ag.nn.Linear(8, 3, dtype="float64"))
    logits = model(ag.tensor(X))
    loss = ag.nn.functional.cross_entropy(logits, ag.tensor(y))
    loss.backward()
    return logits, loss, [p.grad for p in model.parameters()]


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            yield client


def test_loss_gradient_over_a_chunked_batch_on_a_cluster_equals_numpy(client):
    from dask.distributed import get_task_stream

    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(64, 4)), rng.integers(0, 3, size=64)
    logits, loss, grads = _mlp_loss_grads(
        "dask", da.from_array(X, chunks=(16, 4)), da.from_array(y, chunks=16))
    assert logits.array.chunks[0] == (16, 16, 16, 16)  # the batch stays chunked
    assert all(isinstance(g.array, da.Array) for g in grads)  # nothing computed yet
    with get_task_stream(client) as tasks:
        values = client.compute([loss.array, *(g.array for g in grads)], sync=True)
    assert tasks.data, "the cluster ran no task"
    _, expected_loss, expected = _mlp_loss_grads("numpy", X, y)
    np.testing.assert_allclose(values[0], expected_loss.item(), rtol=1e-12)
    for got, want in zip(values[1:], expected):
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-12, atol=1e-15)


def test_training_with_persisted_parameters_follows_numpy(client):
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(32, 4)), rng.integers(0, 3, size=32)

    def train(backend, data, labels, steps=3):
        ag.manual_seed(0)
        with ag.use_backend(backend):
            model = ag.nn.Sequential(ag.nn.Linear(4, 5, dtype="float64"), ag.nn.ReLU(),
                                     ag.nn.Linear(5, 3, dtype="float64"))
        opt = ag.optim.SGD(model.parameters(), lr=0.5)
        for _ in range(steps):
            opt.zero_grad()
            ag.nn.functional.cross_entropy(model(ag.tensor(data)), ag.tensor(labels)).backward()
            opt.step()
            if backend == "dask":  # compute this step's parameters; the next graph starts there
                for p in model.parameters():
                    p.array = p.array.persist()
        return [p.numpy() for p in model.parameters()]

    got = train("dask", da.from_array(X, chunks=(8, 4)), da.from_array(y, chunks=8))
    want = train("numpy", X, y)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-15)
