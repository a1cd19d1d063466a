"""Data-parallel training: real jobs of two ranks under `mpiexec -n 2`, plus the pieces
that need no job (buckets, sharded loading, the errors when MPI is missing).

The jobs run tests/_distributed_worker.py; they are skipped, with the reason, where
mpi4py or mpiexec is not installed (`pip install -e ".[test]"` brings both).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import anygrad as ag
import anygrad.distributed as dist
from anygrad import data
from anygrad.distributed.buckets import plan_buckets
from anygrad.distributed.communicator import import_mpi

WORKER = Path(__file__).with_name("_distributed_worker.py")
ROOT = Path(__file__).resolve().parent.parent


def _mpiexec():
    """mpiexec beside this Python (a venv's MPICH wheel), else on PATH; None if absent."""
    beside = Path(sys.executable).with_name("mpiexec")
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def _skip_reason():
    try:
        import_mpi()
    except dist.DistributedUnavailable as exc:
        return str(exc)
    if _mpiexec() is None:
        return "no mpiexec found: pip install mpich (or load the site MPI)"
    return None


needs_mpi = pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))


def mpiexec(*args, ranks=2, timeout=120):
    """Run `mpiexec -n ranks python args...`; (returncode, output, seconds)."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    start = time.perf_counter()
    proc = subprocess.run([_mpiexec(), "-n", str(ranks), sys.executable, *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    return proc.returncode, proc.stdout + proc.stderr, time.perf_counter() - start


def result_of(output):
    for line in output.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise AssertionError(f"the job printed no RESULT line:\n{output}")


def _job_backends():
    """The backends the job trains on: those of the test run, less cupy (one GPU cannot
    hold two ranks' NCCL communicators in this test)."""
    from conftest import BACKENDS

    return [p.values[0] for p in BACKENDS if not p.marks and p.values[0] != "cupy"]


# ---------------------------------------------------------------- jobs of two ranks
@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    if _skip_reason():
        pytest.skip(_skip_reason())
    backends = _job_backends()
    path = tmp_path_factory.mktemp("ckpt") / "model"
    code, output, _ = mpiexec(WORKER, "train", ",".join(backends), path, timeout=300)
    assert code == 0, output
    return backends, result_of(output)


@needs_mpi
def test_two_ranks_take_the_steps_of_one_process_on_the_global_batch(trained):
    backends, result = trained
    for backend in backends:
        for dtype, eps in (("float32", 2.0**-23), ("float64", 2.0**-52)):
            r = result[backend][dtype]
            assert r["steps"] == 20
            assert r["moved"] > 0.05  # training changed the weights, so equality says something
            # Only the order of summation differs (two means of 32 against one of 64):
            # a few rounding errors of the weights' size, not a different trajectory.
            assert r["diff"] <= 16 * eps * r["scale"], (backend, dtype, r)
            assert r["between_ranks"] == 0.0, (backend, dtype, r)  # identical steps everywhere


@needs_mpi
def test_gradient_missing_on_some_ranks_is_averaged_with_zeros_or_stays_none(trained):
    backends, result = trained
    for backend in backends:
        assert result[backend]["missing"] == {"a": [1.5] * 3, "b": [2.0] * 3, "c_is_none": True}


@needs_mpi
def test_metrics_are_combined_across_ranks(trained):
    backends, result = trained
    for backend in backends:
        assert result[backend]["metrics"] == {"mean": 0.5, "sum": 3, "max": 1.0,
                                              "tensor_mean": [0.5, 1.0]}


@needs_mpi
def test_checkpoint_written_by_rank_0_reads_back_on_every_rank(trained):
    backends, result = trained
    assert all(result[b]["checkpoint"] for b in backends)


@needs_mpi
def test_models_that_differ_between_ranks_fail_at_broadcast_naming_the_tensor():
    code, output, _ = mpiexec(WORKER, "mismatch", timeout=120)
    assert code == 0, output
    shape, dtype, count = result_of(output)
    assert "rank 1's 'weight' has shape (6, 4)" in shape
    assert "rank 0's 'weight' has shape (5, 4)" in shape
    assert "dtype float32" in dtype and "dtype float64" in dtype
    assert "rank 1 has 4 parameters and buffers, rank 0 has 2" in count and "'1.weight'" in count


@needs_mpi
@pytest.mark.parametrize("scenario, printed, never", [
    # rank 1 raises while rank 0 waits in a barrier: the exception's abort ends the job
    # (the watchdog is set to 120 s there, so it cannot be what ends it)
    ("raise", "rank 1 fails on purpose", "passed the barrier"),
    # rank 1 sleeps 600 s while rank 0 waits in an all-reduce: the 3 s watchdog ends it
    ("hang", "did not finish within 3 s", "finished a collective without rank 1"),
])
def test_a_failed_or_stuck_rank_ends_the_whole_job(scenario, printed, never):
    code, output, seconds = mpiexec(WORKER, scenario, timeout=100)
    said = f"exit code {code} after {seconds:.1f} s; output:\n{output}"
    assert code != 0, said
    assert printed in output and never not in output, said
    assert seconds < 60, f"the job took {seconds:.0f} s to end"


@needs_mpi
def test_nccl_on_one_gpu_runs_init_allreduce_broadcast_and_a_step():
    try:
        ag.get_backend("cupy")
    except ag.BackendUnavailable as exc:
        pytest.skip(f"NCCL needs a GPU: {exc}")
    code, output, _ = mpiexec(WORKER, "nccl", ranks=1, timeout=300)
    assert code == 0, output
    r = result_of(output)
    assert r["sum"] == r["expected_sum"] and r["broadcast"] == [10.0]
    assert r["between_ranks"] == 0.0


@needs_mpi
def test_train_mlp_example_runs_distributed(tmp_path):
    code, output, _ = mpiexec(ROOT / "examples" / "train_mlp.py", "--distributed", "--quick",
                              "--quiet", "--out", tmp_path, timeout=300)
    assert code == 0, output
    assert output.count("test accuracy") == 1, output  # reported once, by rank 0
    assert "2 ranks" in output


# ---------------------------------------------------------------- without a job
def test_missing_mpi4py_names_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # what `import` sees when it is absent
    with pytest.raises(dist.DistributedUnavailable, match=r"pip install mpi4py mpich"):
        import_mpi()


def test_collectives_before_init_say_to_call_init():
    if dist.is_initialized():
        pytest.skip("a job is already running in this process")
    with pytest.raises(RuntimeError, match=r"call anygrad.distributed.init\(\) first"):
        dist.rank()


def test_cuda_aware_mpi_can_be_forced_by_the_environment(monkeypatch):
    monkeypatch.setenv("ANYGRAD_CUDA_AWARE_MPI", "1")
    assert dist.cuda_aware_mpi() is True
    monkeypatch.setenv("ANYGRAD_CUDA_AWARE_MPI", "0")
    assert dist.cuda_aware_mpi() is False


def test_buckets_pack_and_unpack_round_trip(backend):
    b = ag.get_backend(backend)
    rng = np.random.default_rng(0)
    hosts = [rng.normal(size=s) for s in ((3, 4), (5,), (2, 2, 2), (1,))]
    dtypes = ("float64", "float32", "float64", "float64")
    arrays = [b.from_numpy(h.astype(d)) for h, d in zip(hosts, dtypes)]
    buckets = plan_buckets(arrays, [b] * 4, max_bytes=100)
    # float64 (3,4) alone is 96 bytes: it fills a bucket; (2,2,2) and (1,) share one.
    assert [bk.positions for bk in buckets] == [[0], [2, 3], [1]]
    for bk in buckets:
        flat = bk.pack([arrays[i] for i in bk.positions])
        assert flat.shape == (sum(bk.sizes),)
        for i, out in zip(bk.positions, bk.unpack(flat)):
            np.testing.assert_array_equal(b.to_numpy(out), b.to_numpy(arrays[i]))


def test_host_view_shares_memory_where_the_library_allows(backend):
    b = ag.get_backend(backend)
    array = b.from_numpy(np.arange(4.0))
    view = b.host_view(array)
    if backend in ("jax", "cupy"):
        assert view is None  # immutable, or not in host memory: copied instead
        return
    view[0] = 7.0
    assert b.to_numpy(array)[0] == 7.0


def _epoch(loader):
    return [b.backend.to_numpy(b.array).tolist() for (b,) in loader]


@pytest.mark.parametrize("n, shuffle, drop_last", [(64, True, False), (70, True, False),
                                                   (70, False, False), (70, True, True),
                                                   (65, True, False)])
def test_shards_are_disjoint_and_together_the_epoch_of_one_loader(backend, n, shuffle, drop_last):
    x = np.arange(n)
    whole = data.DataLoader(x, batch_size=12, shuffle=shuffle, drop_last=drop_last, seed=5)
    shards = [data.DataLoader(x, batch_size=4, shuffle=shuffle, drop_last=drop_last, seed=5,
                              num_shards=3, shard_index=r) for r in range(3)]
    for _ in range(2):  # a second epoch draws a new permutation, alike on every shard
        expected = _epoch(whole)
        parts = [_epoch(s) for s in shards]
        assert len({len(p) for p in parts}) == 1  # every rank takes the same number of steps
        if n == 65:  # the last global batch has 5 samples for 3 ranks: sizes 2, 2, 1
            assert [len(p[-1]) for p in parts] == [2, 2, 1]
        for k, batches in enumerate(zip(*parts)):
            assert sum(batches, []) == expected[k]  # rank r holds part r of global batch k
    if shuffle:
        assert expected != sorted(expected)


def test_a_short_last_batch_with_fewer_samples_than_shards_is_dropped_everywhere(backend):
    x = np.arange(25)  # 2 global batches of 12, then 1 sample for 3 ranks
    shards = [data.DataLoader(x, batch_size=4, num_shards=3, shard_index=r) for r in range(3)]
    assert [len(s) for s in shards] == [2, 2, 2]


def test_sharded_shuffling_without_a_seed_is_refused():
    with pytest.raises(ValueError, match="needs seed="):
        data.DataLoader(np.arange(8), shuffle=True, num_shards=2, shard_index=0)
    with pytest.raises(ValueError, match="shard_index must be in"):
        data.DataLoader(np.arange(8), num_shards=2, shard_index=2)


@needs_mpi
def test_scaling_benchmark_prints_a_row_per_rank_count():
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "anygrad.bench.distributed", "--models",
                           "mlp-small", "--steps", "3", "--warmup", "1"],
                          capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| mlp-small |")]
    assert [row.split("|")[2].strip() for row in rows] == ["1", "2"]
    assert rows[0].split("|")[-2].strip() == "100%"  # one rank is its own baseline
