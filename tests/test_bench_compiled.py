"""The compiled-against-eager benchmark runs, checks agreement, and reports the BLAS.

No timing is asserted (shared, noisy machines); what is checked is that every row is
there with its ratios and that the compiled steps agree with eager ones.
"""
import numpy as np
import pytest

from anygrad.bench import blas, compiled, references
from anygrad.bench.report import render_text
from anygrad.bench.runner import Settings


def test_compiled_workloads_run_and_agree_with_eager():
    settings = Settings(backends=["numpy"], repeats=2, warmup=1)
    result = compiled.run(settings, ["numpy"])
    names = {(r["workload"], r["impl"]) for r in result["rows"]}
    assert ("chain 100 ops", "anygrad:numpy compiled") in names
    assert ("chain 100 ops", "anygrad:numpy compiled forward") in names
    small = "mlp 64-32-10 batch 16"
    assert {(small, "anygrad:numpy compiled model"), (small, "anygrad:numpy compiled loss"),
            (f"{small} plain tensors", "anygrad:numpy plain tensors compiled")} <= names
    for r in result["rows"]:
        if " compiled" in r["impl"]:
            assert r["max_difference"] == 0.0  # bitwise equal on numpy
            assert r["ratio_to_eager"] > 0
    assert "Compiled (ag.compile)" in render_text([compiled.section(result)])


def test_blas_mismatch_is_reported_with_the_setting(monkeypatch):
    monkeypatch.setattr(blas, "cpu_flags", lambda: {"avx2", "avx512f", "avx512bw", "avx512dq",
                                                    "avx512vl"})
    monkeypatch.setattr(blas, "openblas_cores", lambda: [("Haswell", "0.3.27")])
    finding = blas.check(measure=False)
    assert finding["status"] == "mismatch"
    assert finding["setting"] == "OPENBLAS_CORETYPE=SkylakeX"
    assert "OPENBLAS_CORETYPE=SkylakeX" in " ".join(blas.describe(finding))
    monkeypatch.setattr(blas, "openblas_cores", lambda: [("SkylakeX", "0.3.27")])
    assert blas.check(measure=False)["status"] == "ok"


@pytest.mark.parametrize("backend, direct", [("jax", "jax:jit"), ("torch", "torch:autograd")])
def test_step_handed_to_the_backend_compiler_agrees(backend, direct):
    available = references.jax_available if backend == "jax" else references.torch_available
    if not available():
        pytest.skip(f"{backend} is not installed")
    settings = Settings(backends=[backend], repeats=2, warmup=1)
    rows, notes = compiled._backend_compiler_rows(backend, (8, 16, 4), 5, settings,
                                                  np.random.default_rng(0))
    by_impl = {r["impl"]: r for r in rows}
    ours = f"anygrad:{backend} functional"
    assert set(by_impl) == {direct, ours, f"{ours} compiled", f"{ours} compiled + jit"}
    assert by_impl[f"{ours} compiled"]["max_difference"] == 0.0
    assert by_impl[f"{ours} compiled + jit"]["max_difference"] < 1e-5
    assert len(notes) == 1 and "compile" in notes[0]


def test_replay_profile_times_each_instruction_next_to_the_floor():
    from anygrad.bench import replay_profile

    lines, total, floor = replay_profile.profile_step("numpy", (8, 16, 4), 5, repeats=3)
    assert any("linear(" in text for text, _ in lines) and any("SGD.step()" in t for t, _ in lines)
    assert total == sum(seconds for _, seconds in lines) and floor > 0
