"""One backend-parametrized harness for the whole suite.

Any test that takes the `backend` fixture runs on numpy and array_api_strict (always),
on torch and jax when installed, and on cupy when a CUDA device is usable; otherwise
it is skipped with the reason. ANYGRAD_TEST_BACKENDS=numpy,cupy narrows the set.
"""
from __future__ import annotations

import os

# Gradient checks need float64; jax computes in float32 unless told otherwise at import.
os.environ.setdefault("JAX_ENABLE_X64", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import anygrad as ag  # noqa: E402
from anygrad.backends import BackendUnavailable, get_backend  # noqa: E402

REQUIRED = ("numpy", "array_api_strict")
OPTIONAL = ("torch", "jax", "cupy")


def _selected():
    names = os.environ.get("ANYGRAD_TEST_BACKENDS")
    return tuple(n.strip() for n in names.split(",")) if names else REQUIRED + OPTIONAL


def _param(name):
    try:
        get_backend(name)
    except BackendUnavailable as exc:
        if name in REQUIRED:
            raise
        return pytest.param(name, marks=pytest.mark.skip(reason=str(exc)), id=name)
    return pytest.param(name, id=name)


BACKENDS = [_param(n) for n in _selected()]


@pytest.fixture(params=BACKENDS)
def backend(request):
    """The name of a backend to run on; also made current for the test's duration."""
    with ag.use_backend(request.param):
        yield request.param


@pytest.fixture(autouse=True)
def _seeded():
    ag.manual_seed(0)


def make(data, backend, dtype="float64", requires_grad=True):
    """A float64 leaf on `backend` from host data (numpy or nested lists)."""
    return ag.tensor(np.asarray(data, dtype=dtype), backend=backend, requires_grad=requires_grad)


def host(t):
    """Host numpy copy of a tensor or None."""
    return None if t is None else t.numpy()


def random(shape, seed=0, low=-1.0, high=1.0):
    return np.random.default_rng(seed).uniform(low, high, size=shape)



# 'float32' for any library's float32 (numpy, torch, jax, array_api_strict) or a name.
from anygrad.backends.base import _dtype_name as dtype_name  # noqa: E402,F401
