"""Backends found through array-api-compat, and adapters plugged in by name."""
from __future__ import annotations

import numpy as np
import pytest

import anygrad as ag
from anygrad.backends import registry
from anygrad.backends.base import _RawOps
from anygrad.backends.generic import ArrayAPIBackend

strict = pytest.importorskip("array_api_strict")


@pytest.fixture
def unnamed_strict(monkeypatch):
    """array_api_strict as a library anygrad has no adapter for."""
    monkeypatch.delitem(registry._FACTORIES, "array_api_strict")
    monkeypatch.delitem(registry._cache, "array_api_strict", raising=False)
    monkeypatch.setattr(registry, "_generic", {})


def _loss_and_grad(lib, w):
    """tanh regression loss and its gradient, with every array from `lib`."""
    w = ag.tensor(lib.asarray(w, dtype=lib.float64), requires_grad=True)
    x = ag.tensor(lib.asarray([[1.0, -2.0], [0.5, 3.0]], dtype=lib.float64))
    loss = ag.sum(ag.tanh(ag.matmul(x, w)) ** 2)
    loss.backward()
    return loss.item(), w.grad.numpy(), w.backend


def test_an_unknown_library_gets_the_generic_backend(unnamed_strict):
    w = [[0.3], [-0.7]]
    loss, grad, backend = _loss_and_grad(strict, w)
    assert type(backend) is ArrayAPIBackend
    assert backend.name == "array_api_strict"
    expected_loss, expected_grad, _ = _loss_and_grad(np, w)
    np.testing.assert_allclose(loss, expected_loss)
    np.testing.assert_allclose(grad, expected_grad)


def test_the_generic_backend_is_made_once_per_namespace(unnamed_strict):
    a = registry.backend_of(strict.asarray([1.0]))
    b = registry.backend_of(strict.asarray([[2, 3]]))
    assert a is b
    assert registry.backend_of(np.ones(2)).name == "numpy"


def test_named_backends_still_win_over_the_generic_one():
    assert registry.backend_of(strict.asarray([1.0])) is ag.get_backend("array_api_strict")
    assert registry.backend_of(np.float64(1.0)) is ag.get_backend("numpy")


class _CountingOps(_RawOps):
    """A library gap filled in one method: here, an exp that counts its calls."""

    calls = 0

    def exp(self, x):
        type(self).calls += 1
        return self._backend.xp.exp(x)


class _PatchedStrict(ArrayAPIBackend):
    def __init__(self, seed=None):
        super().__init__("array_api_strict", "array_api_strict", seed)
        self.ops = _CountingOps(self)


def test_a_registered_adapter_patches_forwards_and_rules(monkeypatch):
    monkeypatch.delitem(registry._cache, "array_api_strict", raising=False)
    monkeypatch.setitem(registry._FACTORIES, "array_api_strict", _PatchedStrict)
    ag.register_backend("array_api_strict", _PatchedStrict)
    _CountingOps.calls = 0
    x = ag.tensor(strict.asarray([0.5, -1.0], dtype=strict.float64), requires_grad=True)
    assert isinstance(x.backend, _PatchedStrict)
    y = ag.sum(ag.exp(x))
    assert _CountingOps.calls == 1  # the forward went through the adapter's namespace
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.5, -1.0]))


def test_register_backend_checks_its_arguments():
    with pytest.raises(TypeError, match="must be callable"):
        ag.register_backend("mylib", object())
    with pytest.raises(ValueError, match="reserved"):
        ag.register_backend("auto", lambda seed: None)


def test_unknown_objects_name_the_type():
    with pytest.raises(TypeError, match="cannot use an object of type object"):
        registry.backend_of(object())
