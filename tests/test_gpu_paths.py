"""The GPU adapters' host-side logic, checked on the CPU.

The CuPy and torch-on-CUDA paths are plain Python around the library calls: strided
window layouts, the CuPy namespace's clip/sign/gather overrides, device names, scatter
indices, backend fallback. Each is written against a bare module or a host computation,
so it runs here on numpy (or torch on the CPU) with the same code the GPU runs. Tests at
the end need a working CuPy and skip without one; nothing here imitates CuPy.
"""
from __future__ import annotations

import contextlib
import warnings

import array_api_compat.numpy as compat_numpy
import numpy as np
import pytest

import anygrad as ag
from anygrad.backends import BackendUnavailable, GatherSpec, get_backend
from anygrad.backends import registry
from anygrad.backends.cupy_backend import cuda_device_index, drawn_float
from anygrad.backends.cupy_namespace import CupyNamespace
from anygrad.backends.gather_index import (
    direct_index, flat_positions, one_pick_per_row, open_index,
)
from anygrad.backends.windows import window_view_geometry


# ------------------------------------------------------------------ sliding windows
@pytest.mark.parametrize("shape, window, axes", [
    ((2, 3, 9, 9), (3, 3), (2, 3)),
    ((2, 3, 9, 9), (1, 1), (2, 3)),
    ((4, 7), (7,), (1,)),
    ((1, 2, 5, 6, 7), (2, 3, 4), (2, 3, 4)),
    ((3, 8), (2, 3), (1, 1)),  # one axis windowed twice
    ((2, 3, 9, 9), (3, 2), (-2, -1)),
])
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "sliced"])
def test_window_geometry_matches_numpy_sliding_window_view(shape, window, axes, layout):
    x = np.arange(float(np.prod(shape))).reshape(shape)
    if layout == "transposed":
        x = np.ascontiguousarray(np.swapaxes(x, 0, -1)).swapaxes(0, -1)
    elif layout == "sliced":
        x = np.arange(float(2 * np.prod(shape))).reshape(shape[:-1] + (2 * shape[-1],))[..., ::2]
    expected = np.lib.stride_tricks.sliding_window_view(x, window, axis=axes)
    out_shape, out_strides = window_view_geometry(x.shape, x.strides, window, axes)
    assert out_shape == expected.shape
    assert out_strides == expected.strides
    view = np.lib.stride_tricks.as_strided(x, out_shape, out_strides)
    np.testing.assert_array_equal(view, expected)


def test_window_geometry_rejects_windows_larger_than_the_input():
    with pytest.raises(ValueError, match=r"sliding_windows: window \(4,\) over axes \(1,\)"):
        window_view_geometry((2, 3), (24, 8), (4,), (1,))
    with pytest.raises(ValueError, match="2 window sizes"):
        window_view_geometry((2, 3), (24, 8), (1, 1), (1,))


# ------------------------------------------------------------------ the CuPy namespace
def _namespace(sign_keeps_nan=True, **hooks):
    return CupyNamespace(compat_numpy, np, sign_keeps_nan=sign_keeps_nan, **hooks)


@pytest.mark.parametrize("low, high", [(None, 1.0), (-1.0, None), (-0.5, 0.5), (2.0, -2.0)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_clip_with_open_bounds_matches_numpy(low, high, dtype):
    x = np.array([-3.0, -0.5, 0.0, 0.25, np.nan, np.inf, -np.inf], dtype=dtype)
    out = _namespace().clip(x, low, high)
    assert out.dtype == x.dtype
    np.testing.assert_array_equal(out, compat_numpy.clip(x, low, high))


def test_clip_keeps_integer_dtype_and_array_bounds_do_not_promote():
    ns = _namespace()
    ints = np.arange(-3, 4, dtype=np.int32)
    assert ns.clip(ints, None, 1).dtype == np.int32
    np.testing.assert_array_equal(ns.clip(ints, None, 1), np.minimum(ints, 1))
    x = np.linspace(-2, 2, 5, dtype=np.float32)
    out = ns.clip(x, np.full(5, -1.0), np.full(5, 1.0))  # float64 bounds
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.clip(x, -1, 1))
    both_open = ns.clip(x, None, None)
    np.testing.assert_array_equal(both_open, x)
    assert both_open is not x


@pytest.mark.parametrize("keeps_nan", [True, False])
def test_sign_returns_nan_for_nan(keeps_nan):
    x = np.array([-2.0, -0.0, 0.0, 3.0, np.nan], dtype=np.float32)
    out = _namespace(sign_keeps_nan=keeps_nan).sign(x)
    np.testing.assert_array_equal(out, [-1.0, 0.0, 0.0, 1.0, np.nan])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(_namespace(keeps_nan).sign(np.array([-3, 0, 2])), [-1, 0, 1])


def test_gathers_poison_out_of_range_picks_with_nan():
    # Label 3 of 3 classes and -100 would wrap to classes 0 and 2 on CuPy.
    ns = _namespace()
    logits = np.arange(12.0).reshape(4, 3)
    labels = np.array([[0], [3], [-100], [-1]])
    picked = ns.take_along_axis(logits, labels, axis=1)
    np.testing.assert_array_equal(picked[:, 0], [0.0, np.nan, np.nan, 11.0])
    taken = ns.take(logits, np.array([2, -3, 3]), axis=1)
    np.testing.assert_array_equal(taken[:, :2], np.take(logits, [2, -3], axis=1))
    assert np.isnan(taken[:, 2]).all()
    rows = ns.take(logits, np.array([1, 4]), axis=0)
    np.testing.assert_array_equal(rows[0], logits[1])
    assert np.isnan(rows[1]).all()
    # In range, the result is numpy's, broadcasting included.
    idx = np.array([[2, 0, 1]])
    np.testing.assert_array_equal(ns.take_along_axis(logits, idx, axis=0),
                                  np.take_along_axis(logits, idx, axis=0))
    with pytest.raises(IndexError, match=r"take: indices into an empty axis .* \(4, 0\)"):
        ns.take(np.zeros((4, 0)), np.array([0]), axis=1)


def test_integer_gathers_pass_through():
    ns = _namespace()
    table = np.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(ns.take(table, np.array([2, 0]), axis=1), table[:, [2, 0]])


def test_creation_functions_enter_the_device_asked_for():
    entered = []

    @contextlib.contextmanager
    def enter(device):
        entered.append(("device", device))
        yield

    @contextlib.contextmanager
    def enter_array(x):
        entered.append(("array", x.shape))
        yield

    ns = _namespace(enter=enter, enter_array=enter_array)
    np.testing.assert_array_equal(ns.zeros((2,), dtype=np.float32, device="cuda:1"), [0.0, 0.0])
    ns.arange(3, device=1)
    ns.eye(2, device="cuda")
    ns.full((1,), 2.0, device=None)
    x = np.ones((2, 5))
    ns.zeros_like(x)  # made beside its source
    ns.ones_like(x, device="cuda:0")
    ns.asarray(x, copy=True)  # a copy stays with its source
    ns.asarray([1.0])  # Python data: the current device
    assert entered == [("device", "cuda:1"), ("device", 1), ("device", "cuda"), ("device", None),
                       ("array", (2, 5)), ("device", "cuda:0"), ("array", (2, 5))]


@pytest.mark.parametrize("spec, expected", [
    ("cuda", None), ("gpu", None), ("cuda:1", 1), ("GPU:0", 0), (2, 2), (np.int64(3), 3),
])
def test_cuda_device_names(spec, expected):
    assert cuda_device_index(spec) == expected


@pytest.mark.parametrize("spec", ["cpu", "cuda:x", "cuda:", True, 1.5])
def test_cuda_device_names_reject_the_host(spec):
    with pytest.raises(ValueError, match="keeps arrays on CUDA devices.*backend='numpy'"):
        cuda_device_index(spec)


@pytest.mark.parametrize("dtype, drawn", [("float16", "float32"), ("float32", "float32"),
                                          ("float64", "float64")])
def test_random_draws_use_a_float_curand_has(dtype, drawn):
    assert drawn_float(np.dtype(dtype)) == np.dtype(drawn)


# ------------------------------------------------------------------ scatter indices
def _specs():
    rng = np.random.default_rng(0)
    return [
        ("take", (5,), GatherSpec("take", np.array([0, 4, 4, -1, 2]), 0)),
        ("take", (3, 4, 2), GatherSpec("take", np.array([3, 0, 3, -4]), 1)),
        ("take", (3, 4, 2), GatherSpec("take", np.array([1, 1]), -1)),
        ("along", (6, 5), GatherSpec("take_along_axis", rng.integers(-5, 5, (6, 1)), 1)),
        ("along", (6, 5), GatherSpec("take_along_axis", rng.integers(0, 5, (6, 7)), 1)),
        ("along", (1, 5), GatherSpec("take_along_axis", rng.integers(0, 5, (4, 2)), 1)),
        ("along", (4, 3, 2), GatherSpec("take_along_axis", rng.integers(0, 4, (2, 3, 1)), 0)),
    ]


@pytest.mark.parametrize("name, shape, spec", _specs())
def test_flat_positions_follow_the_source_without_a_source_sized_arange(name, shape, spec):
    size = int(np.prod(shape))
    expected = spec.apply(np, np.arange(size).reshape(shape))
    positions = flat_positions(spec, shape, compat_numpy)
    assert positions.shape == expected.shape
    np.testing.assert_array_equal(positions, expected)
    # The index CuPy's add.at uses selects the same elements.
    source = np.arange(size).reshape(shape)
    np.testing.assert_array_equal(source[direct_index(spec, shape, compat_numpy)], expected)
    np.testing.assert_array_equal(
        np.broadcast_arrays(*open_index(spec, shape, compat_numpy))[0].shape, expected.shape)


@pytest.mark.parametrize("name, shape, spec", _specs())
def test_scatter_matches_add_at(backend, name, shape, spec):
    b = get_backend(backend)
    values = np.random.default_rng(1).standard_normal(spec.apply(np, np.zeros(shape)).shape)
    expected = np.zeros(shape)
    np.add.at(expected, direct_index(spec, shape, compat_numpy), values)
    on_backend = GatherSpec(spec.kind, b.asarray(spec.index), spec.axis)
    out = b.scatter(on_backend, shape, b.asarray(values, dtype="float64"))
    np.testing.assert_allclose(b.to_numpy(out), expected, rtol=0, atol=1e-12)


def test_one_pick_per_row_only_without_repeats():
    along = GatherSpec("take_along_axis", np.zeros((6, 1), dtype=int), 1)
    assert one_pick_per_row(along, (6, 5), (6, 1))
    # A source row broadcast against the index is picked once per index row: repeats.
    assert not one_pick_per_row(along, (1, 5), (6, 1))
    assert not one_pick_per_row(GatherSpec("take_along_axis", np.zeros((6, 2), dtype=int), 1),
                                (6, 5), (6, 2))
    assert not one_pick_per_row(GatherSpec("take", np.zeros(1, dtype=int), 0), (3,), (1,))


# ------------------------------------------------------------------ backend fallback
@pytest.fixture
def broken_cupy(monkeypatch):
    """The cupy factory replaced by one that fails the way a toolkit-less wheel does."""
    def factory(seed):
        raise RuntimeError("CURAND_STATUS_INITIALIZATION_FAILED")

    monkeypatch.setitem(registry._FACTORIES, "cupy", factory)
    saved = {k: registry._cache.pop(k) for k in ("cupy", "auto") if k in registry._cache}
    failures = {k: registry._failures.pop(k) for k in ("cupy",) if k in registry._failures}
    yield
    for k in ("cupy", "auto"):
        registry._cache.pop(k, None)
    registry._failures.pop("cupy", None)
    registry._cache.update(saved)
    registry._failures.update(failures)


def test_a_backend_that_fails_on_first_use_is_unavailable_not_a_crash(broken_cupy):
    assert "cupy" not in ag.available_backends()
    assert "numpy" in ag.available_backends()
    assert ag.get_backend("auto").name == "numpy"
    with pytest.raises(BackendUnavailable, match="'cupy' failed to start: RuntimeError: CURAND"):
        ag.get_backend("cupy")


def test_numpy_failing_is_not_hidden(monkeypatch):
    def factory(seed):
        raise RuntimeError("broken numpy")

    monkeypatch.setitem(registry._FACTORIES, "numpy", factory)
    monkeypatch.setattr(registry, "_cache", {})
    monkeypatch.setattr(registry, "_failures", {})
    with pytest.raises(RuntimeError, match="broken numpy"):
        registry._resolve("numpy")


# ------------------------------------------------------------------ engine device guard
def test_ops_and_backward_run_under_the_backends_device_guard(monkeypatch):
    b = get_backend("array_api_strict")
    seen = []

    @contextlib.contextmanager
    def guard(arrays):
        seen.append(len(list(arrays)))
        yield

    monkeypatch.setattr(b, "device_guard", guard, raising=False)
    x = ag.tensor([1.0, 2.0], backend=b, requires_grad=True)
    y = ag.sum(x * x)
    assert len(seen) == 2  # multiply, sum
    y.backward()
    assert len(seen) == 3  # and the backward walk
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


# ------------------------------------------------------------------ host waits elsewhere
def test_batchnorm_cumulative_average_never_reads_the_host(backend, monkeypatch):
    from anygrad.nn import BatchNorm1d

    layer = BatchNorm1d(3, momentum=None, dtype="float64", backend=backend)
    x = [ag.tensor(np.random.default_rng(i).standard_normal((8, 3)), backend=backend)
         for i in range(3)]

    def no_host_reads(self):
        raise AssertionError("BatchNorm read a device value on the host")

    monkeypatch.setattr(ag.Tensor, "item", no_host_reads)
    for batch in x:
        layer(batch)
    monkeypatch.undo()
    means = np.mean([t.numpy().mean(axis=0) for t in x], axis=0)  # the cumulative average
    np.testing.assert_allclose(layer.running_mean.numpy(), means, rtol=1e-12)


def test_permutation_takes_numpy_integers(backend):
    b = get_backend(backend)
    perm = b.to_numpy(b.permutation(np.int64(6)))
    assert sorted(perm.tolist()) == list(range(6))


# ------------------------------------------------------------------ torch adapter
def test_torch_default_device_and_memory_statistics_agree():
    torch = pytest.importorskip("torch")
    b = get_backend("torch")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert b.default_device().type == expected
    assert ag.zeros((2,), backend="torch").device.type == expected
    assert ag.tensor([1.0], backend="torch").device.type == expected
    if expected == "cpu":  # CUDA counters would describe a device nothing runs on
        assert b.memory_stats() is None
        assert b.memory_stats("cpu") is None


def test_torch_device_generator_draws(monkeypatch):
    """The per-device torch.Generator path, exercised on the CPU device."""
    torch = pytest.importorskip("torch")
    from anygrad.backends.generic import TorchBackend

    def draws(seed):
        b = TorchBackend(seed)
        monkeypatch.setattr(b, "_draw_device", lambda device: torch.device("cpu"))
        return (b.normal((4, 3), "float16"), b.uniform((500,), "float32", low=2.0, high=3.0),
                b.integers(-2, 3, (200,)), b.permutation(np.int64(7)), b.bernoulli(0.25, (4000,), "float32"))

    normal, uniform, ints, perm, mask = draws(5)
    assert normal.dtype == torch.float16 and normal.shape == (4, 3)
    assert uniform.dtype == torch.float32 and 2.0 <= uniform.min() and uniform.max() < 3.0
    assert ints.dtype == torch.int64 and ints.min() >= -2 and ints.max() < 3
    assert sorted(perm.tolist()) == list(range(7))
    assert 0.2 < float(mask.mean()) < 0.3
    again = draws(5)
    for a, b in zip((normal, uniform, ints, perm, mask), again):
        assert torch.equal(a, b)
    assert not torch.equal(uniform, draws(6)[1])


# ------------------------------------------------------------------ benchmark records
def test_bench_finds_cupy_under_its_wheel_name(monkeypatch):
    from anygrad.bench import machine

    real = machine.metadata.version

    def version(name):
        if name == "cupy-cuda12x":
            return "14.2.0"
        if name.startswith("cupy"):
            raise machine.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(machine.metadata, "version", version)
    assert machine.library_versions()["cupy"] == "14.2.0 (cupy-cuda12x)"
    assert isinstance(machine.describe()["gpus"], list)


# ------------------------------------------------------------------ on a real GPU
def _cupy_backend():
    try:
        return get_backend("cupy")
    except BackendUnavailable as exc:
        pytest.skip(str(exc))


def test_cupy_sliding_windows_is_numpy_layout():
    b = _cupy_backend()
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 9))
    view = b.sliding_windows(b.asarray(x), (3, 3), (2, 3))
    expected = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(2, 3))
    np.testing.assert_array_equal(b.to_numpy(view), expected)


def test_cupy_hooks_make_no_host_wait():
    b = _cupy_backend()
    import cupyx

    x = b.asarray(np.linspace(-2, 2, 64, dtype=np.float32))
    with cupyx.allow_synchronize(False):
        b.xp.clip(x, -1.0, None)
        b.xp.sign(x)
        b.integers(0, 5, (10,))
        b.permutation(np.int64(1000))
        b.normal((4,), "float16")
        b.sliding_windows(b.xp.reshape(x, (8, 8)), (3, 3), (0, 1))


def test_cupy_devices_and_scatter_warnings():
    b = _cupy_backend()
    with pytest.raises(ValueError, match="keeps arrays on CUDA devices"):
        b.to_device(b.asarray([1.0]), "cpu")
    assert ag.zeros((2,), backend="cupy", device="cuda:0").device.id == 0
    spec = GatherSpec("take", b.asarray([0, 2, 2]), 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = b.scatter(spec, (3,), b.asarray([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(b.to_numpy(out), [1.0, 0.0, 5.0])
