"""Real third-party code written against the Array API, differentiated on tensors.

array-api-extra, scikit-learn (with `array_api_dispatch`) and SciPy (with
SCIPY_ARRAY_API=1) see a tensor, ask it for its namespace, and run unchanged; their
results carry gradients, checked against central differences in float64 (first and
second order) and their values against the same library on numpy.
"""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import warnings

import numpy as np
import pytest

import anygrad as ag
from conftest import make, random

xpx = pytest.importorskip("array_api_extra")


def _close_to(out, want):
    np.testing.assert_allclose(out.numpy(), np.asarray(want, dtype=np.float64), rtol=1e-10,
                               atol=1e-12)


def _numpy_value(fn, arrays):
    """What the library itself gives on numpy arrays."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return fn(*[np.asarray(a) for a in arrays])


# ------------------------------------------------------------------ array-api-extra
positive = {"low": 0.5, "high": 2.0}

# name, function of the differentiated inputs, their shapes, their range
EXTRA_CASES = [
    ("sinc", xpx.sinc, [(3, 4)], {"low": -2.0, "high": 2.0}),
    ("cov", xpx.cov, [(3, 5)], {}),
    ("kron", xpx.kron, [(2, 3), (3, 2)], {}),
    ("atleast_nd", lambda a: xpx.atleast_nd(a, ndim=3) * 2.0, [(4,)], {}),
    ("pad", lambda a: xpx.pad(a, ((1, 0), (2, 1)), constant_values=0.5), [(2, 3)], {}),
    ("pad_int", lambda a: xpx.pad(a, 2), [(3,)], {}),
    ("create_diagonal", lambda a: xpx.create_diagonal(a, offset=1), [(2, 3)], {}),
    ("apply_where", lambda a: xpx.apply_where(a > 0, a, lambda x: x ** 3, lambda x: -x),
     [(3, 4)], {}),
    ("apply_where_two_args", lambda a, b: xpx.apply_where(
        a > 0, (a, b), lambda x, y: x * y, lambda x, y: x - y), [(3, 4), (3, 4)], {}),
    ("at_set", lambda a, b: xpx.at(a)[1:, ::2].set(b, copy=True), [(3, 4), (2, 2)], {}),
    ("at_multiply", lambda a: xpx.at(a)[0].multiply(3.0, copy=True), [(3, 4)], {}),
    ("nan_to_num", lambda a: xpx.nan_to_num(a * 2.0), [(3, 4)], {}),
    ("nanmean", lambda a: xpx.nanmean(a, axis=1), [(3, 4)], {}),
    ("partition", lambda a: xpx.partition(a, 2), [(5,)], {}),
    ("isclose_as_weights", lambda a, b: a * xpx.isclose(a, b, atol=0.5), [(3, 4), (3, 4)], {}),
    ("nunique_as_scale", lambda a: a * xpx.nunique(ag.round(a * 2.0)), [(6,)], {}),
    ("one_hot_as_weights", lambda a: a * xpx.one_hot(
        ag.tensor([0, 2, 1], backend=a.backend.name), 3, dtype=a.dtype), [(3, 3)], {}),
]


@pytest.mark.parametrize("case", EXTRA_CASES, ids=[c[0] for c in EXTRA_CASES])
def test_array_api_extra_is_differentiated(case, backend):
    name, fn, shapes, rng = case
    arrays = [random(s, seed=k, **rng) for k, s in enumerate(shapes)]
    inputs = [make(a, backend) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        out = fn(*inputs)
    assert isinstance(out, ag.Tensor) and out.requires_grad and out.backend.name == backend
    if "_as_" not in name:  # those mix in anygrad ops of their own
        _close_to(out, _numpy_value(fn, arrays))
    assert ag.gradcheck(fn, inputs)
    assert ag.gradgradcheck(fn, inputs)


def test_item_assignment_is_differentiated(backend):
    # what xpx.at does on every library with __setitem__: slices, negative steps,
    # masks and index arrays, each replacing part of a graph
    def fn(a, v):
        z = a * 2.0
        z[::-1, 1] = ag.concat([v, v[:1]])
        z[a > 0.5] = 0.0
        z[ag.tensor([0, 2], backend=a.backend.name), -1] = v * v
        return z * z

    assert ag.gradcheck(fn, [make(random((3, 4)), backend), make(random((2,), 1), backend)])
    assert ag.gradgradcheck(fn, [make(random((3, 4)), backend), make(random((2,), 1), backend)])


def test_updates_of_what_the_new_value_read_are_differentiated(backend):
    # scikit-learn's softmax and normalize divide their working copy in place by its
    # own sum, and xpx.at(x)[i].multiply(...) is x[i] = x[i] * ...: the ops that read
    # the tensor before the update must still lead backward to its old value.
    def normalised(a):
        y = a * 1.0
        y /= ag.sum(y, axis=1, keepdims=True)
        y[0] = y[0] * y[1]
        return y

    a = make(random((3, 4), low=0.5, high=2.0), backend)
    assert ag.gradcheck(normalised, [a])
    assert ag.gradgradcheck(normalised, [a])


def test_a_read_the_new_value_does_not_depend_on_still_refuses(backend):
    a = make(random((3,)), backend)
    y = a * 1.0
    top = ag.max(y)
    y[0] = 5.0
    with pytest.raises(RuntimeError, match="changed in place"):
        (ag.sum(y) + top).backward()


def test_item_assignment_errors_name_the_problem(backend):
    leaf = make(random((3,)), backend)
    with pytest.raises(RuntimeError, match="setitem: a leaf tensor that requires grad"):
        leaf[0] = 1.0
    z = leaf * 1.0
    with pytest.raises(IndexError, match="more than once"):
        z[[0, 0]] = 1.0
    with pytest.raises(ValueError, match=r"shape \(2,\) cannot fill"):
        z[:] = ag.ones((2,), dtype="float64", backend=backend)
    with ag.no_grad():
        leaf[1] = 5.0
    assert float(leaf[1]) == 5.0 and leaf.requires_grad and leaf.is_leaf


def test_namespace_answers_what_array_api_extra_asks(backend):
    x = make(random((2, 3)), backend)
    xp = x.__array_namespace__()
    info = xp.__array_namespace_info__()
    assert info.default_dtypes()["real floating"] == ag.get_default_dtype()
    assert "float64" in info.dtypes()
    assert isinstance(xp.finfo(x.dtype).eps, float) and xp.finfo(x.dtype).dtype == ag.float64
    assert xp.pi == np.pi and xp.newaxis is None
    assert xp.asarray(np.float64(2.0)).backend is x.backend  # numpy scalars land beside x
    copy = xp.asarray(x, copy=True)
    assert copy is not x and copy.requires_grad  # a copy stays in the graph
    assert xp.astype(x, x.dtype, copy=False) is x
    assert xp.sum(xp.astype(x > 0, xp.int32), dtype=xp.float64).dtype == ag.float64


# ------------------------------------------------------------------ scikit-learn and SciPy
# Run in a fresh process each (see the worker's docstring): the cases live there.
WORKER = pathlib.Path(__file__).with_name("_array_api_consumers_worker.py")
_RESULTS: dict = {}

def _case_names():
    text = WORKER.read_text()
    return [line.split('"')[1] for line in text.splitlines()
            if line.startswith('    "sklearn_') or line.startswith('    "scipy_')]


def _worker_results(backend):
    if backend not in _RESULTS:
        pytest.importorskip("sklearn")
        pytest.importorskip("scipy")
        env = dict(os.environ, SCIPY_ARRAY_API="1")
        proc = subprocess.run([sys.executable, str(WORKER), backend], capture_output=True,
                              text=True, env=env, timeout=600, cwd=WORKER.parent)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
        assert proc.returncode == 0 and lines, proc.stdout[-2000:] + proc.stderr[-4000:]
        _RESULTS[backend] = json.loads(lines[-1][len("RESULT "):])
    return _RESULTS[backend]


@pytest.mark.parametrize("name", _case_names())
def test_sklearn_and_scipy_are_differentiated(name, backend):
    result = _worker_results(backend)[name]
    assert result == "ok", result
