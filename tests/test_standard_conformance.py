"""anygrad's Array API namespace against the letter of the standard: dtypes, the dtype
rules of sums and products, inspection, signatures, and casts that mean one thing on
every backend. Expected values come from numpy or from the standard's own rules."""
from __future__ import annotations

import inspect

import numpy as np
import pytest

import anygrad as ag
import anygrad.array_api as xp
from anygrad.dtypes import DType


# ------------------------------------------------------------------ dtypes
def test_unsigned_dtypes_are_in_the_namespace(backend):
    for name in ("uint8", "uint16", "uint32", "uint64"):
        dtype = getattr(xp, name)
        assert name in xp.__all__
        assert xp.asarray([1, 2], dtype=dtype).dtype == dtype
    # The sum of unsigned integers is uint64, a dtype the namespace must then offer.
    assert xp.sum(xp.asarray([200, 100], dtype=xp.uint8)).dtype == xp.uint64


def test_python_types_name_the_default_dtypes(backend):
    x = xp.asarray([1.5, -2.0])
    assert x.astype(int).dtype == xp.int64
    assert x.astype(bool).dtype == xp.bool
    assert x.astype(float).dtype == ag.get_default_dtype()
    assert x.astype(complex).dtype == xp.complex128
    assert xp.astype(x, int).tolist() == [1, -2]
    assert xp.zeros(2, dtype=float).dtype == xp.float64
    assert xp.asarray([1, 2], dtype=int).dtype == xp.int64
    ag.set_default_dtype("float32")
    try:
        assert x.astype(float).dtype == xp.float32
        assert x.astype(complex).dtype == xp.complex64
    finally:
        ag.set_default_dtype("float64")


@pytest.mark.parametrize("target", ["float64", "float32", "int64", "bool"])
def test_astype_from_complex_to_real_is_refused_everywhere(backend, target):
    z = xp.asarray([1 + 2j, 3 - 1j])
    with pytest.raises(TypeError, match=rf"complex128 to {target}.*real"):
        z.astype(target)
    with pytest.raises(TypeError, match="real"):
        xp.astype(z, getattr(xp, target))
    assert xp.real(z).tolist() == [1.0, 3.0]  # the spelled-out way still works


def test_astype_between_floats_keeps_its_gradient(backend):
    x = ag.tensor([1.0, 2.0], dtype="float32", requires_grad=True)
    (x.astype(float) * 3.0).sum().backward()
    assert x.grad.dtype == xp.float32
    assert x.grad.tolist() == [3.0, 3.0]


# ------------------------------------------------------------------ sums and products
def test_sum_and_cumulative_sum_honour_a_narrower_dtype(backend):
    values = np.array([100, 100, -3], dtype=np.int16)
    x = xp.asarray(values.tolist(), dtype=xp.int16)
    out = xp.sum(x, dtype=xp.int8)
    assert out.dtype == xp.int8
    assert int(out) == int(np.sum(values, dtype=np.int8))
    running = xp.cumulative_sum(x, dtype=xp.int8)
    assert running.dtype == xp.int8
    assert running.tolist() == np.cumsum(values, dtype=np.int8).tolist()


def test_integer_sums_and_products_widen_to_the_default_integer(backend):
    values = np.array([100, 3, -2], dtype=np.int8)
    x = xp.asarray(values.tolist(), dtype=xp.int8)
    for fn, reference in ((xp.sum, np.sum), (xp.prod, np.prod)):
        out = fn(x)
        assert out.dtype == xp.int64
        assert int(out) == int(reference(values, dtype=np.int64))
    for fn, reference in ((xp.cumulative_sum, np.cumsum), (xp.cumulative_prod, np.cumprod)):
        out = fn(x)
        assert out.dtype == xp.int64
        assert out.tolist() == reference(values, dtype=np.int64).tolist()


def test_empty_integer_product_is_an_integer_one(backend):
    out = xp.prod(xp.asarray([], dtype=xp.int8))
    assert out.dtype == xp.int64
    assert int(out) == 1
    assert xp.prod(xp.asarray([], dtype=xp.float32)).dtype == xp.float32


def test_sum_in_a_wider_float_dtype_has_the_input_dtype_gradient(backend):
    x = ag.tensor([1.0, 2.0, 3.0], dtype="float32", requires_grad=True)
    out = xp.sum(x, dtype=xp.float64)
    assert out.dtype == xp.float64
    out.backward()
    assert x.grad.dtype == xp.float32
    assert x.grad.tolist() == [1.0, 1.0, 1.0]
    ag.gradcheck(lambda t: xp.linalg.trace(t, dtype=xp.float64) * 2.0,
                 ag.tensor(np.arange(9.0).reshape(3, 3), requires_grad=True))


def test_trace_takes_a_dtype(backend):
    m = xp.asarray([[1.0, 2.0], [3.0, 4.0]], dtype=xp.float32)
    out = xp.linalg.trace(m, dtype=xp.float64)
    assert out.dtype == xp.float64 and float(out) == 5.0
    assert xp.linalg.trace(xp.asarray([[1, 2], [3, 4]], dtype=xp.int8)).dtype == xp.int64


def test_vecdot_keeps_the_promoted_integer_dtype(backend):
    a = xp.asarray([100, 2], dtype=xp.int8)
    b = xp.asarray([2, 3], dtype=xp.int8)
    out = xp.vecdot(a, b)
    assert out.dtype == xp.int8
    expected = np.sum(np.array([100, 2], np.int8) * np.array([2, 3], np.int8), dtype=np.int8)
    assert int(out) == int(expected)


def test_vecdot_does_not_broadcast_the_contracted_axis(backend):
    with pytest.raises(ValueError, match=r"vecdot.*\(2, 1\).*\(2, 3\)"):
        xp.vecdot(xp.ones((2, 1)), xp.ones((2, 3)))
    out = xp.vecdot(xp.ones((2, 1, 3)), xp.ones((4, 3)))  # the other axes broadcast
    assert tuple(out.shape) == (2, 4)
    assert xp.vecdot(xp.ones((3, 2)), xp.ones((3, 2)), axis=0).tolist() == [3.0, 3.0]


# ------------------------------------------------------------------ inspection
def test_finfo_and_iinfo_answer_in_anygrad_dtypes(backend):
    assert xp.finfo(xp.complex64).dtype == xp.float32
    assert xp.finfo(xp.complex128).dtype == xp.float64
    assert xp.finfo(xp.complex64).eps == float(np.finfo(np.float32).eps)
    info = xp.iinfo(xp.int8)
    assert isinstance(info.dtype, DType) and info.dtype == xp.int8
    assert (info.bits, info.min, info.max) == (8, -128, 127)
    assert xp.iinfo(xp.uint16).max == int(np.iinfo(np.uint16).max)


def test_default_dtypes_follow_the_device(backend):
    info = xp.__array_namespace_info__()
    devices = info.devices()
    assert isinstance(devices, list)  # the 2024.12 revision anygrad declares
    assert xp.__array_api_version__ == "2024.12"
    assert info.default_device() in devices
    for device in devices:
        defaults = info.default_dtypes(device=device)
        offered = info.dtypes(device=device)
        for kind in ("real floating", "complex floating", "integral", "indexing"):
            assert defaults[kind].name in offered, (device, kind)
    assert info.default_dtypes(device=info.default_device())["real floating"] == \
        ag.get_default_dtype()


# ------------------------------------------------------------------ arguments
def test_reshape_takes_copy(backend):
    x = xp.reshape(xp.arange(6), (2, 3))
    out = xp.reshape(x, (3, 2), copy=True)
    assert out.tolist() == [[0, 1], [2, 3], [4, 5]]
    assert xp.reshape(x, (6,), copy=None).tolist() == list(range(6))


def test_repeat_takes_one_count_as_an_array(backend):
    x = xp.asarray([[1, 2], [3, 4]])
    out = xp.repeat(x, xp.asarray([2]), axis=1)
    assert out.tolist() == np.repeat(np.array([[1, 2], [3, 4]]), 2, axis=1).tolist()
    with pytest.raises(ValueError, match="repeat"):
        xp.repeat(x, xp.asarray([1, 2, 3]), axis=0)


def test_searchsorted_takes_a_sorter_tensor(backend):
    values = np.array([3.0, 1.0, 2.0, 5.0])
    x = xp.asarray(values.tolist())
    queries = [0.5, 2.5, 9.0]
    for side in ("left", "right"):
        out = xp.searchsorted(x, xp.asarray(queries), side=side, sorter=xp.argsort(x))
        assert out.tolist() == np.searchsorted(values, queries, side=side,
                                               sorter=np.argsort(values)).tolist()


# ------------------------------------------------------------------ signatures
@pytest.mark.parametrize("name, expected", [
    ("exp", ["x"]),
    ("sum", ["x", "axis", "keepdims", "dtype"]),
    ("bitwise_and", ["x1", "x2"]),
    ("bitwise_invert", ["x"]),
    ("reshape", ["x", "shape", "copy"]),
    ("var", ["x", "axis", "correction", "keepdims"]),
    ("searchsorted", ["x1", "x2", "side", "sorter"]),
])
def test_functions_show_their_own_signature(name, expected):
    parameters = list(inspect.signature(getattr(xp, name)).parameters)
    assert parameters == expected


def test_torch_spellings_keep_the_signature():
    # `var` takes dim=/keepdim= too, through a wrapper that must not hide its arguments.
    assert "correction" in inspect.signature(ag.var).parameters
    assert float(ag.var(ag.tensor([1.0, 3.0]), dim=0)) == 1.0


def test_creation_without_a_dtype_fits_the_device(backend):
    # A device may lack float64 (array_api_strict has one): the default float made
    # there is then the device's own, as its default_dtypes say.
    info = xp.__array_namespace_info__()
    for device in info.devices():
        floating = info.default_dtypes(device=device)["real floating"]
        for made in (xp.empty(2, device=device), xp.eye(2, device=device),
                     xp.full(2, 0.5, device=device), xp.asarray([1.0], device=device),
                     xp.linspace(0, 1, 3, device=device)):
            assert made.dtype == floating, (device, made.dtype)


def test_pinv_takes_one_tolerance_per_matrix(backend):
    rng = np.random.default_rng(3)
    a = np.stack([np.diag([1.0, 0.05]), np.diag([1.0, 0.5])])
    rtol = np.array([0.1, 0.1])  # drops 0.05 in the first matrix only
    got = xp.linalg.pinv(xp.asarray(a), rtol=xp.asarray(rtol))
    assert np.allclose(got.numpy(), np.linalg.pinv(a, rcond=rtol))
    empty = xp.linalg.pinv(xp.zeros((0, 1, 2)), rtol=xp.zeros((0,), dtype=xp.float32))
    assert empty.shape == (0, 2, 1)
    z = xp.asarray(rng.standard_normal((2, 2, 2)) + 1j * rng.standard_normal((2, 2, 2)),
                   dtype=xp.complex64)
    tolerant = xp.linalg.pinv(z, rtol=xp.asarray([1e-3, 1e-3], dtype=xp.float32))
    assert tolerant.dtype == xp.complex64


def test_dlpack_names_the_standard_keywords():
    parameters = inspect.signature(ag.Tensor.__dlpack__).parameters
    assert [p for p in parameters if p != "self"] == ["stream", "max_version", "dl_device",
                                                      "copy"]
