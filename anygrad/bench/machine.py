"""The machine and software a run was measured on, recorded with its figures.

A timing means little without the CPU, the core count, the BLAS and thread settings
and the library versions behind it, so every JSON and markdown report carries them.
"""
from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

# Thread settings that change BLAS and PyTorch timings; recorded when set.
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                     "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
_LIBRARIES = ("anygrad", "numpy", "array-api-compat", "array-api-strict", "torch", "cupy",
              "jax", "matplotlib")


def cpu_model():
    """The CPU's model name from /proc/cpuinfo (Linux), else what platform knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count()


# CuPy ships as one wheel per CUDA major version; a source build is plain "cupy".
_DISTRIBUTIONS = {"cupy": ("cupy", "cupy-cuda13x", "cupy-cuda12x", "cupy-cuda11x")}


def library_versions():
    versions = {}
    for name in _LIBRARIES:
        for distribution in _DISTRIBUTIONS.get(name, (name,)):
            try:
                versions[name] = metadata.version(distribution)
            except metadata.PackageNotFoundError:
                continue
            if distribution != name:
                versions[name] += f" ({distribution})"
            break
    return versions


def gpu_models():
    """The names of the visible CUDA GPUs (from CuPy, else torch); [] where none."""
    try:
        import cupy

        names = [cupy.cuda.runtime.getDeviceProperties(i)["name"]
                 for i in range(cupy.cuda.runtime.getDeviceCount())]
        return [n.decode() if isinstance(n, bytes) else str(n) for n in names]
    except Exception:  # not installed, or CUDA cannot start: try torch
        pass
    try:
        import torch

        if torch.cuda.is_available():
            return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except Exception:
        pass
    return []


def blas_name():
    """numpy's BLAS, e.g. 'scipy-openblas 0.3.27', or None where numpy does not say."""
    try:
        import numpy as np

        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas['name']} {blas.get('version', '')}".strip()
    except Exception:  # older numpy: no dict mode; the report just omits the BLAS
        return None


def torch_threads():
    try:
        import torch
    except ImportError:
        return None
    return torch.get_num_threads()


def describe():
    """Everything above as one JSON-ready dict."""
    return {
        "cpu": cpu_model(),
        "cores": usable_cores(),
        "gpus": gpu_models(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "versions": library_versions(),
        "blas": blas_name(),
        "torch_threads": torch_threads(),
        "environment": {k: os.environ[k] for k in _THREAD_VARIABLES if k in os.environ},
    }
