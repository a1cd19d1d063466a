"""Tensors as the standard's array object: code written against the Array API
(`xp = array_namespace(x)`) runs on tensors and is differentiated."""
from __future__ import annotations

import numpy as np
import pytest
from array_api_compat import array_namespace, is_array_api_obj

import anygrad as ag
from conftest import host, make, random


# Three functions as an Array API library would write them: they never name anygrad.
def gaussian_negative_log_likelihood(x, mu, log_sigma):
    xp = array_namespace(x, mu, log_sigma)
    z = (x - mu) / xp.exp(log_sigma)
    return xp.sum(0.5 * z ** 2 + log_sigma) + 0.5 * x.shape[0] * xp.log(xp.asarray(2 * np.pi))


def stable_log_softmax_cross_entropy(logits, onehot):
    xp = array_namespace(logits)
    shifted = logits - xp.max(logits, axis=-1, keepdims=True)
    log_p = shifted - xp.log(xp.sum(xp.exp(shifted), axis=-1, keepdims=True))
    return -xp.mean(xp.sum(onehot * log_p, axis=-1))


def normalised_gram_trace(a):
    xp = array_namespace(a)
    gram = xp.matmul(xp.matrix_transpose(a), a) + xp.eye(a.shape[-1], dtype=a.dtype)
    scale = xp.linalg.vector_norm(a) ** 2
    return xp.linalg.trace(xp.linalg.inv(gram)) * scale + xp.sum(xp.ones_like(a) * 0.5 * a)


def test_array_namespace_accepts_tensors(backend):
    x = make(random((3, 2)), backend)
    xp = array_namespace(x)
    assert is_array_api_obj(x)
    assert xp is x.__array_namespace__()
    assert xp.__array_api_version__ == "2024.12"
    assert xp.isdtype(x.dtype, "real floating") and not xp.isdtype(x.dtype, "integral")
    assert xp.result_type(x, xp.float32) == ag.float64
    made = xp.asarray([1.0, 2.0])  # lands on the tensor's backend, not the current one
    assert made.backend is x.backend
    assert xp.zeros((2,)).backend is x.backend and xp.eye(2).backend is x.backend


@pytest.mark.parametrize("fn, shapes", [
    (gaussian_negative_log_likelihood, [(5,), (5,), (5,)]),
    (normalised_gram_trace, [(4, 3)]),
], ids=["gaussian_nll", "gram_trace"])
def test_standard_code_is_differentiated(fn, shapes, backend):
    inputs = [make(random(s, seed=k), backend) for k, s in enumerate(shapes)]
    assert ag.gradcheck(fn, inputs)
    assert ag.gradgradcheck(fn, inputs)


def test_cross_entropy_written_for_the_standard_matches_ag(backend):
    logits = make(random((4, 3), seed=1), backend)
    onehot = make(np.eye(3)[[0, 2, 1, 2]], backend, requires_grad=False)
    assert ag.gradcheck(lambda z: stable_log_softmax_cross_entropy(z, onehot), [logits])
    ours = stable_log_softmax_cross_entropy(logits, onehot)
    reference = -ag.mean(ag.sum(onehot * ag.log_softmax(logits, axis=-1), axis=-1))
    np.testing.assert_allclose(host(ours), host(reference), rtol=1e-14)


def test_iteration_device_and_dlpack(backend):
    data = random((3, 2))
    x = make(data, backend)
    rows = [r for r in x]
    assert len(rows) == 3 and all(r.requires_grad for r in rows)
    assert x.to_device(x.device).device == x.device
    if backend in ("numpy", "array_api_strict"):  # a host library: numpy reads it directly
        np.testing.assert_array_equal(np.from_dlpack(x.detach()), data)
        with pytest.raises(RuntimeError, match="__dlpack__"):  # it would drop the graph
            np.from_dlpack(x)
