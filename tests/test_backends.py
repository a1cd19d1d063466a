"""Backend selection, transfers, random streams and the hooks the standard lacks."""
from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import anygrad as ag
from anygrad.backends import BackendUnavailable, GatherSpec, backend_of, get_backend
from conftest import host


def test_tensor_from_python_data_uses_current_backend(backend):
    t = ag.tensor([[1.0, 2.0]])
    assert t.backend.name == backend
    assert t.shape == (1, 2)


def test_tensor_from_array_keeps_its_backend(backend):
    array = get_backend(backend).asarray([1.0, 2.0])
    with ag.use_backend("numpy"):
        t = ag.tensor(array)
    assert t.backend.name == backend


def test_numpy_data_moves_to_named_backend(backend):
    t = ag.tensor(np.arange(3.0), backend=backend)
    assert t.backend.name == backend
    np.testing.assert_array_equal(t.numpy(), [0.0, 1.0, 2.0])


@pytest.mark.parametrize("factory, expected", [
    (lambda: ag.zeros((2, 3)), np.zeros((2, 3))),
    (lambda: ag.ones(3, dtype="float32"), np.ones(3, dtype="float32")),
    (lambda: ag.full((2,), 7.0), np.full(2, 7.0)),
    (lambda: ag.arange(5), np.arange(5)),
    (lambda: ag.eye(3), np.eye(3)),
    (lambda: ag.zeros_like(ag.ones((2, 2))), np.zeros((2, 2))),
    (lambda: ag.ones_like(ag.zeros((2, 2))), np.ones((2, 2))),
])
def test_factories(backend, factory, expected):
    t = factory()
    assert t.backend.name == backend
    np.testing.assert_array_equal(t.numpy(), expected)
    # anygrad, not the library, picks default dtypes: numpy's on every backend
    assert t.dtype == expected.dtype


def test_set_backend_and_use_backend_nest():
    before = ag.get_backend().name
    try:
        ag.set_backend("array_api_strict")
        assert ag.tensor(1.0).backend.name == "array_api_strict"
        with ag.use_backend("numpy"):
            assert ag.get_backend().name == "numpy"
        assert ag.get_backend().name == "array_api_strict"
    finally:
        ag.set_backend(before)


def test_use_backend_is_per_thread():
    seen = []
    inside = threading.Event()
    done = threading.Event()

    def worker():
        with ag.use_backend("array_api_strict"):
            inside.set()
            done.wait(5)

    t = threading.Thread(target=worker)
    t.start()
    inside.wait(5)
    seen.append(ag.get_backend().name)
    done.set()
    t.join()
    assert seen == ["numpy"]


def test_environment_variable_sets_default():
    code = "import anygrad as ag; print(ag.get_backend().name)"
    env = dict(os.environ, ANYGRAD_BACKEND="array_api_strict")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "array_api_strict"


def test_available_backends_lists_required_ones():
    names = ag.available_backends()
    assert "numpy" in names and "array_api_strict" in names


def test_unknown_backend_name():
    with pytest.raises(ValueError, match="unknown backend 'nump'.*numpy"):
        ag.get_backend("nump")


def test_cupy_unavailable_says_why():
    try:
        ag.get_backend("cupy")
    except BackendUnavailable as exc:
        message = str(exc)
        assert "cupy" in message.lower()
        assert any(w in message for w in ("not installed", "CUDA", "device"))
    else:
        pytest.skip("cupy is usable here")


def test_auto_falls_back_to_numpy_without_gpu():
    try:
        ag.get_backend("cupy")
    except BackendUnavailable:
        assert ag.get_backend("auto").name == "numpy"
    else:
        assert ag.get_backend("auto").name == "cupy"


def test_backend_of_rejects_unknown_objects():
    with pytest.raises(TypeError, match="cannot use an object of type object"):
        backend_of(object())


def test_manual_seed_is_reproducible_and_shared_across_host_backends():
    draws = {}
    for name in ("numpy", "array_api_strict"):
        ag.manual_seed(123)
        draws[name] = ag.randn((3, 2), dtype="float32", backend=name).numpy()
    ag.manual_seed(123)
    again = ag.randn((3, 2), dtype="float32", backend="numpy").numpy()
    np.testing.assert_array_equal(draws["numpy"], again)
    np.testing.assert_array_equal(draws["numpy"], draws["array_api_strict"])
    assert draws["numpy"].dtype == np.float32


def test_random_streams(backend):
    b = get_backend(backend)
    ag.manual_seed(1)
    u = b.to_numpy(b.uniform((1000,), "float32", low=2.0, high=3.0))
    assert u.min() >= 2.0 and u.max() < 3.0
    perm = b.to_numpy(b.permutation(10))
    assert sorted(perm.tolist()) == list(range(10))
    ints = b.to_numpy(b.integers(0, 5, (100,)))
    assert ints.min() >= 0 and ints.max() < 5
    mask = b.to_numpy(b.bernoulli(0.25, (4000,), "float32"))
    assert set(np.unique(mask).tolist()) <= {0.0, 1.0}
    assert 0.2 < mask.mean() < 0.3


@pytest.mark.parametrize("spec, shape, values, expected", [
    (GatherSpec("take", [0, 2, 2, 0, 0], 0), (3,), [1.0, 2.0, 3.0, 4.0, 5.0], [10.0, 0.0, 5.0]),
    (GatherSpec("getitem", (slice(1, None),)), (3,), [1.0, 2.0], [0.0, 1.0, 2.0]),
])
def test_scatter_sums_repeated_indices(backend, spec, shape, values, expected):
    b = get_backend(backend)
    if spec.kind == "take":
        spec = GatherSpec("take", b.asarray(spec.index), 0)
    out = b.scatter(spec, shape, b.asarray(values, dtype="float64"))
    np.testing.assert_array_equal(b.to_numpy(out), expected)


def test_transfer_roundtrip_copies(backend):
    x = ag.tensor([1.0, 2.0], backend="numpy")
    y = x.to(backend).to("numpy")
    np.testing.assert_array_equal(y.numpy(), [1.0, 2.0])
    if backend != "numpy":
        assert y.array is not x.array


def test_default_dtypes_agree_between_factories(backend):
    assert ag.randn(2).dtype == ag.rand(2).dtype == ag.zeros(2).dtype == ag.tensor([1.0]).dtype


def test_int32_indices_gather_on_every_backend(backend):
    x = ag.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    idx = ag.tensor(np.array([[2], [0]], dtype="int32"))
    picked = ag.take_along_axis(x, idx, axis=1)
    np.testing.assert_array_equal(picked.numpy(), [[2.0], [3.0]])
    ag.sum(picked).backward()
    np.testing.assert_array_equal(host(x.grad), [[0, 0, 1], [1, 0, 0]])


def test_dtype_names_resolve_on_every_backend(backend):
    b = get_backend(backend)
    for name in ("float32", "float64", "int64", "bool"):
        assert ag.zeros(2, dtype=name).dtype == b.dtype(name)
    with pytest.raises(TypeError, match="no dtype 'float8'"):
        b.dtype("float8")


def test_numpy_array_operators_defer_to_tensor():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0]) * x
    assert isinstance(y, ag.Tensor)
    ag.sum(y).backward()
    np.testing.assert_array_equal(host(x.grad), [3.0, 4.0])


def test_tensor_copies_its_input_and_as_tensor_does_not(backend):
    source = get_backend(backend).asarray([1.0, 2.0])
    copied, wrapped = ag.tensor(source), ag.as_tensor(source)
    assert copied.array is not source and wrapped.array is source


def test_optimizer_step_leaves_callers_array_alone():
    from anygrad.optim import SGD

    weights = np.array([1.0, 2.0])
    w = ag.tensor(weights, requires_grad=True)
    ag.sum(w * w).backward()
    SGD([w], lr=0.5).step()
    np.testing.assert_array_equal(weights, [1.0, 2.0])
    np.testing.assert_array_equal(w.numpy(), [0.0, 0.0])


@pytest.mark.parametrize("shape", [(3,), (40000,), (300, 200), (600, 1000)])  # 1 to 3 blocks
def test_sub_scaled_matches_the_formula(backend, shape):
    b = get_backend(backend)
    rng = np.random.default_rng(0)
    target, value = rng.standard_normal(shape), rng.standard_normal(shape)
    out = b.sub_scaled(b.asarray(target.copy()), b.asarray(value), 0.25)
    np.testing.assert_array_equal(b.to_numpy(out), target - 0.25 * value)


def test_sub_scaled_on_a_strided_numpy_array():
    b = get_backend("numpy")
    base = np.arange(12.0).reshape(3, 4)
    view = base.T  # not C-contiguous: takes the plain path, still in place
    b.sub_scaled(view, np.ones((4, 3)), 2.0)
    np.testing.assert_array_equal(base, np.arange(12.0).reshape(3, 4) - 2.0)
