"""Every example runs in its quick mode on numpy and array_api_strict, and its defaults
deliver what the README promises (the main job's accuracy) on numpy."""
from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def run(name, *argv):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main(list(argv))


@pytest.fixture(params=["numpy", "array_api_strict"])
def name(request):
    return request.param


def test_quickstart(name):
    w, b = run("quickstart", "--backend", name, "--steps", "300")
    assert abs(w - 3.0) < 1e-3 and abs(b + 2.0) < 1e-3


def test_linear_regression_recovers_the_weights(name, tmp_path):
    out = run("linear_regression", "--quick", "--quiet", "--backend", name, "--out", str(tmp_path))
    np.testing.assert_allclose(out["learned_w"], out["true_w"], atol=0.05)
    assert abs(out["learned_b"] - out["true_b"]) < 0.05


def test_two_layers_beat_one_on_the_product(name, tmp_path):
    out = run("nonlinear_toy", "--quick", "--quiet", "--backend", name, "--out", str(tmp_path))
    assert out["two_layer_test_mse"] < out["linear_test_mse"]


def test_housing_regression_runs(name, tmp_path):
    out = run("housing_regression", "--quick", "--quiet", "--backend", name, "--out", str(tmp_path))
    assert np.isfinite(out["test_mse"]) and 0.3 < out["baseline_mse"] < 0.7


def test_train_mlp_quick(name, tmp_path):
    out = run("train_mlp", "--quick", "--quiet", "--backend", name, "--out", str(tmp_path))
    assert out["test_accuracy"] > 0.85
    assert out["losses"][-1] < out["losses"][0]


def test_main_job_reaches_95_percent_with_defaults(tmp_path):
    out = run("train_mlp", "--quiet", "--out", str(tmp_path))
    assert out["test_accuracy"] >= 0.95


def test_main_job_checkpoint_resumes_on_another_backend(tmp_path):
    ckpt = tmp_path / "mlp.npz"
    run("train_mlp", "--quick", "--quiet", "--save", str(ckpt), "--out", str(tmp_path))
    out = run("train_mlp", "--quick", "--quiet", "--resume", str(ckpt), "--backend",
              "array_api_strict", "--out", str(tmp_path))
    assert out["test_accuracy"] > 0.9


def test_train_mlp_reads_mnist_files(tmp_path):
    from test_data import _write_idx

    rng = np.random.default_rng(0)
    for part, n in (("train", 64), ("t10k", 16)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = (rng.random((n, 28, 28)) * 40).astype(np.uint8)
        images[np.arange(n), labels * 2, :] = 255  # a learnable stripe per class
        _write_idx(tmp_path / f"{part}-images-idx3-ubyte.gz", images, True)
        _write_idx(tmp_path / f"{part}-labels-idx1-ubyte.gz", labels, True)
    out = run("train_mlp", "--quick", "--quiet", "--mnist-dir", str(tmp_path), "--out", str(tmp_path))
    assert out["test_accuracy"] > 0.5


def test_graph_picture(tmp_path):
    written = run("graph_picture", "--quick", "--out", str(tmp_path))
    assert written


def test_train_cnn_beats_mlp_quick(name, tmp_path):
    out = run("train_cnn", "--quick", "--quiet", "--backend", name, "--out", str(tmp_path))
    assert 0.0 <= out["test_accuracy"] <= 1.0 and "mlp_test_accuracy" in out


def test_static_graph_session_replays_and_learns(name):
    out = run("static_graph", "--quick", "--quiet", "--backend", name)
    assert out["stats"]["recordings"] == 2 and out["stats"]["replays"] > 0
    assert out["losses"][-1] < out["losses"][0] / 5
