"""The benchmark runs, writes well-formed reports, and its correctness gate gates.

No timing is asserted: test machines are shared and noisy. What is checked is that
`python -m anygrad.bench --quick` completes in-process with every workload, that the
JSON holds what the reports and BENCHMARKS.md rely on, and that a contender with a
wrong gradient is caught before it could be timed.
"""
import json
import statistics

import numpy as np
import pytest

from anygrad.bench import cli, main, memory, references, report, targets, timing, verify
from anygrad.bench.cli import WORKLOADS


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    paths = {"json": out / "results.json", "markdown": out / "results.md"}
    status = main(["--quick", "--json", str(paths["json"]), "--markdown", str(paths["markdown"])])
    with open(paths["json"]) as f:
        return status, json.load(f), paths["markdown"].read_text()


def test_quick_run_succeeds_with_every_workload(quick_run):
    status, results, _ = quick_run
    assert status == 0
    assert set(results["workloads"]) == set(WORKLOADS)
    for name in ("mlp", "overhead", "chain", "memory"):
        assert results["workloads"][name]["rows"], name
    conv = results["workloads"]["conv"]
    assert conv.get("rows") or conv.get("skipped")


def test_correctness_gate_passes_for_every_backend(quick_run):
    _, results, _ = quick_run
    check = results["verification"]
    assert check["ok"]
    names = set(check["results"])
    assert {"floor:numpy", "anygrad:numpy"} <= names
    # array_api_strict is not timed, but it is verified (the portable, GPU-shaped path).
    assert "anygrad:array_api_strict" in names
    timed = {r["impl"] for r in results["workloads"]["mlp"]["rows"]}
    assert "anygrad:array_api_strict" not in timed


def test_mlp_rows_carry_timings_and_ratios(quick_run):
    _, results, _ = quick_run
    mlp = results["workloads"]["mlp"]
    batches = {r["batch"] for r in mlp["rows"]}
    for row in mlp["rows"]:
        assert row["min_ms"] <= row["median_ms"] <= row["max_ms"]
        assert row["q1_ms"] <= row["median_ms"] <= row["q3_ms"]
        assert row["steps_per_s"] > 0
        assert row["ratio_to_floor"] > 0
    floor = [r for r in mlp["rows"] if r["impl"] == "floor:numpy"]
    assert {r["batch"] for r in floor} == batches
    assert all(r["ratio_to_floor"] == 1.0 for r in floor)
    assert "note" in mlp["crossover"] or mlp["crossover"]


def test_chain_memory_and_targets_are_reported(quick_run):
    _, results, markdown = quick_run
    chain = results["workloads"]["chain"]
    assert "anygrad:numpy" in chain["linearity"]
    memory = {r["impl"]: r for r in results["workloads"]["memory"]["rows"]}
    ours = memory["anygrad:numpy"]
    assert ours["peak_bytes"] >= ours["resident_bytes"] > 0
    assert ours["in_use_end_bytes"] is not None
    assert len(results["targets"]) == len(targets.evaluate({}))
    assert all(t["met"] in (True, False, None) for t in results["targets"])
    assert "## Results" in markdown and "### Targets" in markdown and "issue 5" not in markdown
    assert results["meta"]["machine"]["cpu"]


def test_charrnn_step_and_small_ops_are_reported(quick_run):
    _, results, markdown = quick_run
    charrnn = results["workloads"]["charrnn"]
    rows = {r["impl"]: r for r in charrnn["rows"]}
    assert {"anygrad:numpy", "anygrad:numpy compiled"} <= set(rows)
    for row in rows.values():
        assert row["min_ms"] <= row["median_ms"] <= row["max_ms"]
        if row["max_loss_difference"] is not None:  # the same weights give the same losses
            assert row["max_loss_difference"] < 1e-4 * max(abs(v) for v in row["losses"])
    np.testing.assert_allclose(rows["anygrad:numpy"]["losses"],
                               rows["anygrad:numpy compiled"]["losses"], rtol=1e-6)
    ops = [r["op"] for r in charrnn["ops"]]
    assert any(op.startswith("nll_loss") for op in ops) and any("-=" in op for op in ops)
    # a ratio wherever its reference was timed (PyTorch only where it is installed)
    assert all((r["ratio"] is None) == (r.get("torch_us", 0) is None) for r in charrnn["ops"])
    assert all(r["ratio"] > 0 for r in charrnn["ops"] if r["ratio"] is not None)
    assert any(r["ratio"] is not None for r in charrnn["ops"])  # in place vs out of place
    names = [t["target"] for t in results["targets"]]
    assert any(n.startswith("char-RNN step") for n in names)
    assert "char-RNN step" in markdown


def test_cnn_is_checked_against_torch_and_timed_at_both_thread_settings(quick_run):
    _, results, markdown = quick_run
    cnn = results["workloads"]["cnn"]
    assert "MNIST CNN" in markdown
    if not references.torch_available():
        assert not cnn["checks"]
        return
    assert cnn["checks"]["anygrad:numpy"]["ok"]
    timed = {(r["impl"], r["threads"]) for r in cnn["rows"]}
    assert {("anygrad:numpy", "default"), ("torch eager", "default")} <= timed
    pytest.importorskip("threadpoolctl")
    assert {("anygrad:numpy", "1"), ("torch eager", "1")} <= timed


def test_markdown_replaces_only_the_marked_results(quick_run, tmp_path):
    _, results, _ = quick_run
    path = tmp_path / "BENCHMARKS.md"
    path.write_text(f"# Prose before\n\n{report.BEGIN}\nold figures\n{report.END}\n\nProse after\n")
    report.write_markdown(results, report.sections(results), path)
    text = path.read_text()
    assert text.startswith("# Prose before") and text.rstrip().endswith("Prose after")
    assert "old figures" not in text and "## Results" in text
    assert text.count(report.BEGIN) == text.count(report.END) == 1


def test_plot_is_written_when_matplotlib_is_importable(quick_run, tmp_path):
    pytest.importorskip("matplotlib")
    _, results, _ = quick_run
    path = tmp_path / "mlp.png"
    assert report.write_plot(results, path) is None
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_options_override_the_mode_defaults():
    args = cli.build_parser().parse_args(
        ["--quick", "--batch-sizes", "4,5", "--repeats", "7", "--backends", "numpy"])
    settings = cli.settings_from(args)
    assert settings.batch_sizes == (4, 5)
    assert settings.repeats == 7
    assert settings.backends == ["numpy"]
    assert settings.sizes == (32, 64, 64, 10)  # from --quick


def test_array_api_strict_is_not_timed_by_default():
    settings = cli.settings_from(cli.build_parser().parse_args([]))
    assert "array_api_strict" not in settings.backends
    assert "numpy" in settings.backends


class _WrongGradient(references.NumpyMlp):
    """The floor with its learning rate silently doubled: losses of the first step
    agree, every later one and the parameters do not."""

    name = "broken"

    def __init__(self, sizes):
        super().__init__(sizes, lr=0.02)


def test_verification_catches_a_wrong_update():
    sizes = (6, 5, 3)
    rng = np.random.default_rng(0)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        params += [rng.uniform(-1, 1, (fan_out, fan_in)).astype("float32"),
                   rng.uniform(-1, 1, fan_out).astype("float32")]
    x = rng.standard_normal((4, 6)).astype("float32")
    y = rng.integers(0, 3, 4)
    report = verify.check_mlp([_WrongGradient(sizes), references.NumpyMlp(sizes)],
                              references.NumpyMlp(sizes), params, x, y)
    assert not report["broken"]["ok"]
    assert report["floor:numpy"]["ok"]


def test_quantiles_and_interleaving():
    samples = [5.0, 1.0, 4.0, 2.0, 3.0]
    t = timing.Timing(samples)
    assert t.median == statistics.median(samples)
    assert (t.q1, t.q3) == (2.0, 4.0)
    calls = []
    result = timing.measure_interleaved(
        {"a": (lambda: calls.append("a"), lambda: None),
         "b": (lambda: calls.append("b"), lambda: None)}, repeats=3, warmup=1)
    assert calls == ["a", "b"] + ["a", "b"] * 3  # warm-ups, then round-robin
    assert len(result["a"].samples) == len(result["b"].samples) == 3


class _FakeDevice:
    """A device library's counters, without a GPU: bytes in use grow by one step's
    allocation and are freed again, as a pool would report them."""

    name = "fake"

    def __init__(self, with_peak):
        self.with_peak = with_peak
        self.in_use = 1000

    def memory_stats(self):
        stats = {"in_use": self.in_use}
        if self.with_peak:
            stats["peak"] = self.in_use + 500
        return stats

    def reset_peak_memory(self):
        pass


class _Stepper:
    def __init__(self):
        self.steps = 0

    def step(self):
        self.steps += 1

    def sync(self):
        pass


@pytest.mark.parametrize("with_peak", [True, False])
def test_device_memory_profile_without_a_gpu(with_peak):
    stepper = _Stepper()
    result = memory.device_profile(lambda: stepper, _FakeDevice(with_peak), steps=12, early=4)
    assert stepper.steps == 12
    assert result["growth_bytes"] == 0
    assert (result["peak_bytes"] is not None) == with_peak


def test_a_missed_target_sets_the_exit_status(capsys):
    from anygrad.bench.cli import exit_status

    def results(met, ok=True):
        return {"verification": {"ok": ok}, "workloads": {},
                "targets": [{"target": "a", "met": True}, {"target": "b", "met": met}]}

    assert exit_status(results(True)) == 0
    assert exit_status(results(None)) == 0  # not measured is not missed
    assert exit_status(results(False)) == 2
    assert "1 target(s) missed: b" in capsys.readouterr().err
    assert exit_status(results(False), quick=True) == 0
    assert exit_status(results(True, ok=False)) == 1
