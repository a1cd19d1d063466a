"""Checkpoints: portable across backends, dtype-preserving, written atomically."""
from __future__ import annotations

import os

import numpy as np
import pytest

import anygrad as ag
import anygrad.nn as nn
import anygrad.nn.functional as F
from anygrad import optim

OTHERS = ["numpy", "array_api_strict"]


def _trained(backend):
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4, backend=backend), nn.Tanh(), nn.Linear(4, 2, backend=backend))
    opt = optim.Adam(model.parameters(), lr=0.01)
    x = ag.tensor(np.random.default_rng(0).standard_normal((5, 3)), dtype="float32", backend=backend)
    for _ in range(3):
        loss = F.mse_loss(model(x), ag.zeros((5, 2), dtype="float32", backend=backend))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model, opt


@pytest.mark.parametrize("target", OTHERS)
def test_model_and_optimizer_round_trip_across_backends(tmp_path, backend, target):
    model, opt = _trained(backend)
    path = tmp_path / "ckpt.npz"
    ag.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, path)
    state = ag.load(path, backend=target)
    assert state["epoch"] == 3
    for key, value in model.state_dict().items():
        loaded = state["model"][key]
        assert loaded.backend.name == target
        assert str(loaded.numpy().dtype) == "float32"
        np.testing.assert_array_equal(loaded.numpy(), value.numpy())
    saved = opt.state_dict()
    assert state["optimizer"]["param_groups"] == saved["param_groups"]
    assert set(state["optimizer"]["state"]) == set(saved["state"])
    for index, entry in saved["state"].items():
        for name, value in entry.items():
            got = state["optimizer"]["state"][index][name]
            if isinstance(value, ag.Tensor):
                np.testing.assert_array_equal(got.numpy(), value.numpy())
            else:
                assert got == value


def test_loaded_state_resumes_training_identically(tmp_path):
    model, opt = _trained("numpy")
    ag.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, tmp_path / "c.npz")
    state = ag.load(tmp_path / "c.npz", backend="array_api_strict")
    twin, twin_opt = _trained("array_api_strict")
    twin.load_state_dict(state["model"])
    twin_opt.load_state_dict(state["optimizer"])
    for m, o, b in ((model, opt, "numpy"), (twin, twin_opt, "array_api_strict")):
        x = ag.ones((2, 3), dtype="float32", backend=b)
        loss = ag.sum(m(x))
        o.zero_grad()
        loss.backward()
        o.step()
    for (k, a), (_, b) in zip(model.state_dict().items(), twin.state_dict().items()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, err_msg=k)


def test_interrupted_write_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    ag.save({"w": ag.ones(3)}, path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        ag.save({"w": ag.zeros(3)}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.npz"]


def test_unsavable_object_leaves_no_trace(tmp_path):
    path = tmp_path / "ckpt.npz"
    ag.save({"w": ag.ones(2)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match="cannot store a object at obj.bad"):
        ag.save({"w": ag.zeros(2), "bad": object()}, path)
    assert path.read_bytes() == before
    assert len(list(tmp_path.iterdir())) == 1


def test_keys_that_look_like_paths_do_not_collide(tmp_path):
    state = {"a.b": ag.ones(1), "a": {"b": ag.zeros(1)}}
    ag.save(state, tmp_path / "c.npz")
    back = ag.load(tmp_path / "c.npz")
    assert back["a.b"].item() == 1.0 and back["a"]["b"].item() == 0.0


def test_foreign_npz_is_rejected(tmp_path):
    np.savez(tmp_path / "other.npz", x=np.ones(2))
    with pytest.raises(ag.CheckpointError, match="without anygrad's __anygrad__ entry"):
        ag.load(tmp_path / "other.npz")
