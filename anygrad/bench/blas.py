"""Whether numpy's BLAS uses the best kernels this CPU has, and what the better ones give.

OpenBLAS picks its kernels (its "core type") when it loads. On some machines it picks
older ones than the CPU supports, e.g. Haswell (AVX2) kernels on a CPU with AVX-512,
and a large float32 matmul then runs well below what the CPU can do. That sets the
ceiling of every large-batch step here. This module compares the CPU's instruction sets
(from /proc/cpuinfo) with the core type OpenBLAS reports through threadpoolctl, and when
they disagree times a 1024^3 float32 matmul in two child processes, as loaded and with
OPENBLAS_CORETYPE set to the better kernels. Nothing here changes this process's
environment: the setting is reported for the user to choose.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

__all__ = ["check"]

# OpenBLAS core types with AVX-512 kernels, and the one to suggest.
_AVX512_CORES = {"skylakex", "cooperlake", "sapphirerapids"}
_SUGGESTED = "SkylakeX"

_TIMER = """
import json, statistics, time
import numpy as np
a = np.random.default_rng(0).standard_normal((1024, 1024)).astype(np.float32)
a @ a
samples = []
for _ in range(9):
    start = time.perf_counter()
    a @ a
    samples.append(time.perf_counter() - start)
median = statistics.median(samples)
print(json.dumps({"ms": median * 1e3, "gflops": 2 * 1024 ** 3 / median / 1e9}))
"""


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def openblas_cores():
    """[(core type, version)] of every OpenBLAS threadpoolctl sees, or None without it."""
    try:
        import numpy  # noqa: F401  (loads the BLAS threadpoolctl inspects)
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return [(info.get("architecture") or "", info.get("version") or "")
            for info in threadpool_info() if info.get("internal_api") == "openblas"]


def _time_matmul(extra_env):
    env = dict(os.environ, **extra_env)
    out = subprocess.run([sys.executable, "-c", _TIMER], env=env, capture_output=True,
                         text=True, timeout=120)
    if out.returncode != 0:
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def check(measure=True):
    """A JSON-ready finding: {"status": "ok" | "mismatch" | "unknown", "text": ...,
    and, on a mismatch, the setting and the matmul timings with and without it}."""
    flags = cpu_flags()
    cores = openblas_cores()
    if cores is None:
        return {"status": "unknown", "text": "install threadpoolctl to check the BLAS core type"}
    if not cores:
        return {"status": "unknown", "text": "numpy's BLAS is not OpenBLAS; not checked"}
    core, version = cores[0]
    has_avx512 = {"avx512f", "avx512bw", "avx512dq", "avx512vl"} <= flags
    current = os.environ.get("OPENBLAS_CORETYPE")
    if not has_avx512 or core.lower() in _AVX512_CORES:
        return {"status": "ok", "core": core, "version": version,
                "text": f"OpenBLAS {version} uses {core} kernels"
                        + (" (the CPU has AVX-512)" if has_avx512 else "")}
    finding = {"status": "mismatch", "core": core, "version": version,
               "setting": f"OPENBLAS_CORETYPE={_SUGGESTED}",
               "text": f"the CPU has AVX-512 but OpenBLAS {version} uses {core} (AVX2) kernels"
                       + (f" (OPENBLAS_CORETYPE={current} is set)" if current else "")}
    if measure:
        finding["as_loaded"] = _time_matmul({})
        finding["suggested"] = _time_matmul({"OPENBLAS_CORETYPE": _SUGGESTED})
    return finding


def describe(finding):
    """One or two lines for the report."""
    lines = [f"BLAS: {finding['text']}"]
    if finding["status"] == "mismatch":
        a, b = finding.get("as_loaded"), finding.get("suggested")
        if a and b:
            lines.append(f"  1024^3 float32 matmul: {a['ms']:.1f} ms ({a['gflops']:.0f} GFLOP/s) "
                         f"as loaded, {b['ms']:.1f} ms ({b['gflops']:.0f} GFLOP/s) with "
                         f"{finding['setting']}: {a['ms'] / b['ms']:.2f}x faster; set it in "
                         "your shell to use it (anygrad does not change the environment)")
        else:
            lines.append(f"  try {finding['setting']} in your shell")
    return lines
