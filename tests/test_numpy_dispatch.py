"""numpy functions on tensors run as anygrad ops (NEP 13 and NEP 18): numpy code is
differentiated unchanged, and a numpy function anygrad lacks says so."""
from __future__ import annotations

import numpy as np
import pytest

import anygrad as ag
from conftest import host, make, random


def numpy_code(x, w):
    # As a numpy user writes it: numpy functions only, methods and operators.
    h = np.tanh(np.matmul(x, w))
    s = np.concatenate([h, np.exp(-np.abs(h))], axis=1)
    return np.sum(np.log1p(s ** 2), axis=0) / np.mean(np.sqrt(x * x + 1.0)) \
        + np.std(np.arctan2(x[:, :1], w[0]), ddof=1)


def test_numpy_code_returns_tensors_and_is_differentiated(backend):
    x, w = make(random((4, 3), seed=1), backend), make(random((3, 2), seed=2), backend)
    out = numpy_code(x, w)
    assert isinstance(out, ag.Tensor) and out.requires_grad
    expected = numpy_code(random((4, 3), seed=1), random((3, 2), seed=2))
    np.testing.assert_allclose(host(out), expected, rtol=1e-13)
    assert ag.gradcheck(numpy_code, [x, w])
    assert ag.gradgradcheck(numpy_code, [x, w])


def test_numpy_functions_with_numpy_spellings(backend):
    data = random((3, 4), seed=3)
    x = make(data, backend)
    cases = [
        (np.transpose(x), data.T), (np.reshape(x, (4, 3)), data.reshape(4, 3)),
        (np.cumsum(x), np.cumsum(data)), (np.var(x, axis=1, ddof=1), np.var(data, 1, ddof=1)),
        (np.max(x, axis=0), data.max(0)), (np.stack([x, x]), np.stack([data, data])),
        (np.linalg.det(x[:, :3] + 3.0), np.linalg.det(data[:, :3] + 3.0)),
        (np.float64(2.0) * x, 2.0 * data), (np.pad(x, 1), np.pad(data, 1)),
    ]
    # numpy's arrays beside a tensor mean what they mean in `t + a`: its backend's
    # arrays join it, another library's are refused rather than copied across
    if backend == "numpy":
        cases.append((np.ones(4) + x, np.ones(4) + data))
        cases.append((np.ones(4) < x, np.ones(4) < data))
    else:
        for combine in (lambda: np.ones(4) + x, lambda: np.add(x, np.ones(4))):
            with pytest.raises(TypeError, match="backends"):
                combine()
    for got, expected in cases:
        assert isinstance(got, ag.Tensor)
        np.testing.assert_allclose(host(got), expected, rtol=1e-13)


def test_asarray_is_a_host_copy_of_a_tensor_outside_the_graph(backend):
    data = random((2, 3))
    x = make(data, backend)
    for outside in (x.detach(), ag.tensor(data, backend=backend)):
        host_copy = np.asarray(outside)
        assert type(host_copy) is np.ndarray
        np.testing.assert_array_equal(host_copy, data)
    with ag.no_grad():
        np.testing.assert_array_equal(np.asarray(x), data)
    with pytest.raises(RuntimeError, match="detach"):
        np.asarray(x)


def test_a_numpy_function_without_counterpart_names_itself():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="numpy.fft.fft2 on a Tensor has no anygrad counterpart"):
        np.fft.fft2(x)
    with pytest.raises(TypeError, match="numpy.add.reduce on a Tensor"):
        np.add.reduce(x)
    with pytest.raises(TypeError, match=r"anygrad.numpy.sum: where= is not supported"):
        np.sum(x, where=np.array([True, False]))
    with pytest.raises(TypeError, match=r"anygrad.numpy.exp: out= is not supported"):
        np.exp(x, out=np.empty(2))


def test_scipy_minimize_takes_the_gradient_as_jac():
    optimize = pytest.importorskip("scipy.optimize")

    def rosen(x):
        return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    grad = ag.grad(lambda x: rosen(x))

    def jac(x):
        return np.asarray(grad(ag.tensor(x)))

    def fun(x):
        return float(rosen(ag.tensor(x)))

    result = optimize.minimize(fun, np.array([-1.2, 1.0, 0.5]), jac=jac, method="BFGS")
    assert result.success
    np.testing.assert_allclose(result.x, np.ones(3), atol=1e-5)


def test_numpy_functions_run_as_anygrad_numpy(backend):
    # numpy's own functions on tensors mean what anygrad.numpy's do, gradients included.
    a, b = random((2, 3, 4), seed=4), random((5, 4, 2), seed=5)
    x, y = make(a, backend), make(b, backend)
    cases = [
        (np.dot(x, y), np.dot(a, b)), (np.hstack([x, x]), np.hstack([a, a])),
        (np.linalg.norm(x), np.linalg.norm(a)),
        (np.atleast_1d(x[0, 0, 0]), np.atleast_1d(a[0, 0, 0])),
        (np.outer(x, y[0]), np.outer(a, b[0])), (np.sort(x, axis=None), np.sort(a, axis=None)),
        (np.linalg.norm(x[0], ord="nuc"), np.linalg.norm(a[0], ord="nuc")),
        (np.zeros_like(x), np.zeros_like(a)), (np.round(x, 2), np.round(a, 2)),
        (np.sum(x, dtype=np.float32), np.sum(a, dtype=np.float32)),
    ]
    for got, expected in cases:
        assert isinstance(got, ag.Tensor)
        assert got.dtype == expected.dtype
        np.testing.assert_allclose(host(got), expected, rtol=1e-6)
    assert np.shape(x) == (2, 3, 4) and np.ndim(x) == 3 and np.size(x) == 24
    assert ag.gradcheck(lambda x, y: np.linalg.norm(np.dot(x, y), axis=(0, 3)), [x, y])


def test_bitwise_ufuncs_on_integer_tensors_are_bitwise(backend):
    data = np.array([3, 5, 12])
    x = ag.tensor(data, backend=backend)
    for ufunc in (np.bitwise_and, np.bitwise_or, np.bitwise_xor):
        np.testing.assert_array_equal(host(ufunc(x, 6)), ufunc(data, 6))
    np.testing.assert_array_equal(host(np.invert(x)), np.invert(data))


def test_scipy_minimize_takes_tensors_with_jac_true():
    # scipy applies numpy.atleast_1d and numpy arithmetic to the gradient it is handed
    optimize = pytest.importorskip("scipy.optimize")
    import anygrad.numpy as anp

    value_and_grad = ag.value_and_grad(
        lambda x: anp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))
    result = optimize.minimize(lambda x: value_and_grad(ag.tensor(x)),
                               np.array([-1.2, 1.0, 0.5]), jac=True, method="BFGS")
    assert result.success
    np.testing.assert_allclose(np.asarray(result.x), np.ones(3), atol=1e-5)
