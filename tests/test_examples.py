"""Every example runs in its quick mode on numpy and array_api_strict, and its defaults
deliver what the README promises (the main job's accuracy) on numpy."""
from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pytest

import anygrad as ag

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
    run("train_mlp", "--quick", "--quiet", "--epochs", "2", "--save", str(ckpt), "--out", str(tmp_path))
    out = run("train_mlp", "--quick", "--quiet", "--resume", str(ckpt), "--backend",
              "array_api_strict", "--out", str(tmp_path))
    assert len(out["losses"]) == 3 and out["test_accuracy"] > 0.85


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_an_interrupted_and_resumed_run_ends_where_an_uninterrupted_one_does(tmp_path):
    flags = ["--quiet", "--epochs", "4", "--out", str(tmp_path)]
    straight = _load("train_mlp").main(flags)

    module = _load("train_mlp")
    real_progress = module.progress

    def interrupted(iterable, *args):  # Ctrl-C during the third epoch
        for epoch in real_progress(iterable, *args):
            if epoch == 2:
                raise KeyboardInterrupt
            yield epoch

    module.progress = interrupted
    ckpt = tmp_path / "run.npz"
    with pytest.raises(KeyboardInterrupt):
        module.main(flags + ["--save", str(ckpt)])
    assert ag.load(ckpt)["epoch"] == 2
    resumed = _load("train_mlp").main(flags + ["--resume", str(ckpt)])
    for (name, a), (_, b) in zip(straight["model"].state_dict().items(),
                                 resumed["model"].state_dict().items()):
        np.testing.assert_array_equal(b.numpy(), a.numpy(), err_msg=name)
    assert resumed["losses"] == straight["losses"] and len(resumed["test_losses"]) == 4


@pytest.mark.parametrize("example", ["linear_regression", "nonlinear_toy", "housing_regression",
                                     "train_mlp", "train_cnn", "train_lstm"])
def test_examples_take_the_backend_from_the_environment(example, tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    monkeypatch.syspath_prepend(str(EXAMPLES))
    import _common

    chosen = []
    real_setup = _common.setup

    def spy(p, argv, quick_epochs):
        args, backend = real_setup(p, argv, quick_epochs)
        chosen.append((backend.name, args.seed))
        return args, backend

    monkeypatch.setattr(_common, "setup", spy)
    monkeypatch.setenv("ANYGRAD_BACKEND", "array_api_strict")
    out = run(example, "--quick", "--quiet", "--seed", "3", "--out", str(tmp_path))
    printed = capsys.readouterr().out
    assert chosen and all(c == ("array_api_strict", 3) for c in chosen)
    assert f"wrote the loss picture to {out['plot']}" in printed
    assert pathlib.Path(out["plot"]).stat().st_size > 0


def test_loss_pictures_show_test_curves_and_the_cnn_beside_the_mlp(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    import _common

    drawn = {}
    monkeypatch.setattr(_common, "plot_losses", lambda curves, path, title: drawn.update(
        {pathlib.Path(path).stem: (list(curves), title)}))
    for name in ("linear_regression", "housing_regression", "train_cnn", "nonlinear_toy"):
        module = _load(name)
        module.plot_losses = _common.plot_losses
        if name == "train_cnn":
            module.train_mlp.plot_losses = _common.plot_losses
        module.main(["--quick", "--quiet", "--out", str(tmp_path)])
    assert drawn["linear_regression_loss"][0] == ["train", "test"]
    assert drawn["housing_regression_loss"][0] == ["train", "test"]
    assert drawn["train_mlp_loss"][0] == ["train", "test"]
    assert drawn["train_cnn_loss"][0] == ["CNN train", "CNN test", "MLP train", "MLP test"]
    assert "beside the MLP" in drawn["train_cnn_loss"][1]
    assert drawn["nonlinear_toy_loss"][0] == ["Linear train", "Linear test",
                                              "Linear-Sigmoid-Linear train",
                                              "Linear-Sigmoid-Linear test"]


def test_quickstart_and_graph_picture_take_seed_and_backend(tmp_path, monkeypatch):
    monkeypatch.setenv("ANYGRAD_BACKEND", "array_api_strict")
    try:
        run("quickstart", "--seed", "1", "--steps", "5")
        assert ag.get_backend().name == "array_api_strict"
    finally:
        ag.set_backend("numpy")
    written = run("graph_picture", "--quick", "--seed", "2", "--out", str(tmp_path))
    assert written


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


def test_train_lstm_quick(name, tmp_path):
    out = run("train_lstm", "--quick", "--quiet", "--backend", name, "--out", str(tmp_path))
    assert np.isfinite(out["test_mse"]) and out["losses"][-1] < out["losses"][0]
    assert 0.03 < out["baseline_mse"] < 0.1


def test_train_gpt_quick_resumes_where_it_stopped(name, tmp_path):
    ckpt = str(tmp_path / "gpt.ckpt")
    straight = run("train_gpt", "--quick", "--quiet", "--backend", name, "--steps", "3")
    run("train_gpt", "--quick", "--quiet", "--backend", name, "--steps", "2", "--checkpoint", ckpt)
    resumed = run("train_gpt", "--quick", "--quiet", "--backend", name, "--steps", "3",
                  "--checkpoint", ckpt)
    assert resumed["losses"] == straight["losses"] and len(straight["losses"]) == 3
    assert all(s.startswith("def ") and len(s) == 24 for s in straight["samples"])


def test_static_graph_session_replays_and_learns(name):
    out = run("static_graph", "--quick", "--quiet", "--backend", name)
    assert out["stats"]["recordings"] == 2 and out["stats"]["replays"] > 0
    assert out["losses"][-1] < out["losses"][0] / 5


def test_implicit_root_matches_central_differences_and_reaches_its_target(name):
    out = run("implicit_root", "--backend", name, "--steps", "40")
    np.testing.assert_allclose(out["implicit"], out["central"], rtol=1e-6)
    assert abs(out["root"] - 0.8) < 1e-2


def test_straight_through_quantised_network_learns(name):
    out = run("straight_through", "--quick", "--backend", name)
    assert out["last_loss"] < out["first_loss"] / 4 and out["accuracy"] > 0.85
    assert all(-8 <= level <= 8 for level in out["levels"])


def test_gradient_reversal_hides_the_domain(name):
    out = run("gradient_reversal", "--quick", "--backend", name)
    plain, reversed_ = out["without reversal"], out["with reversal"]
    assert reversed_["weight"] < plain["weight"] and reversed_["domain"] < plain["domain"]
    assert reversed_["label"] > 0.9


def test_functional_training_fits_the_product(name):
    out = run("functional_training", "--quick", "--backend", name)
    assert out["test_losses"][-1] < out["test_losses"][0] / 20
    assert set(out["params"]) == {"0.weight", "0.bias", "2.weight", "2.bias"}


def test_per_example_gradients_match_the_loop_and_are_clipped(name):
    out = run("per_example_gradients", "--backend", name, "--batch", "6")
    assert out["difference"] < 1e-5  # float32
    assert out["grads"]["0.weight"].shape == (6, 32, 20)
    norm = sum(float(np.sum(g.numpy() ** 2)) for g in out["clipped"].values()) ** 0.5
    assert norm <= 1.0 + 1e-5  # a mean of vectors of norm at most 1
