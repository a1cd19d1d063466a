"""Values of the Array API functions composed from other ops, against numpy's own; the
gradients are in the gradcheck table (tests/test_ops_gradcheck.py)."""
from __future__ import annotations

import numpy as np
import pytest

import anygrad as ag
from conftest import host, make, random

a34 = random((3, 4), seed=1)
a234 = random((2, 3, 4), seed=2)
b425 = random((4, 2, 5), seed=3)

VALUES = [
    ("tan", lambda x: ag.tan(x), lambda x: np.tan(x), [a34]),
    ("asin_acos_atan", lambda x: ag.asin(x) + ag.acos(x) * ag.atan(x),
     lambda x: np.arcsin(x) + np.arccos(x) * np.arctan(x), [a34]),
    ("hyperbolic", lambda x: ag.sinh(x) + ag.cosh(x) + ag.asinh(x) + ag.atanh(x * 0.5)
     + ag.acosh(x + 2), lambda x: np.sinh(x) + np.cosh(x) + np.arcsinh(x) + np.arctanh(x * 0.5)
     + np.arccosh(x + 2), [a34]),
    ("atan2_hypot", lambda x, y: ag.atan2(x, y) + ag.hypot(x, y),
     lambda x, y: np.arctan2(x, y) + np.hypot(x, y), [a34, a34[0]]),
    ("logs", lambda x: ag.log2(x + 2) + ag.log10(x + 2) + ag.logaddexp(x, 1 - x)
     + ag.reciprocal(x + 2), lambda x: np.log2(x + 2) + np.log10(x + 2)
     + np.logaddexp(x, 1 - x) + 1 / (x + 2), [a34]),
    ("positive_remainder_copysign", lambda x, y: ag.positive(x) + ag.remainder(x, y + 2)
     + ag.copysign(x, y), lambda x, y: x + np.remainder(x, y + 2) + np.copysign(x, y),
     [a34, a34[1]]),
    ("pad", lambda x: ag.pad(x, ((1, 2), (0, 1), (3, 0)), constant_values=-1.5),
     lambda x: np.pad(x, ((1, 2), (0, 1), (3, 0)), constant_values=-1.5), [a234]),
    ("pad_int", lambda x: ag.pad(x, 2), lambda x: np.pad(x, 2), [a34]),
    ("broadcast_arrays", lambda x, y: ag.stack(ag.broadcast_arrays(x, y)),
     lambda x, y: np.stack(np.broadcast_arrays(x, y)), [a34[:, :1], a34[0]]),
    ("unstack", lambda x: ag.stack(ag.unstack(x, axis=-1)), lambda x: np.moveaxis(x, -1, 0),
     [a234]),
    ("meshgrid_xy", lambda x, y, z: ag.stack(ag.meshgrid(x, y, z)),
     lambda x, y, z: np.stack(np.meshgrid(x, y, z)), [a34[0], a34[1, :3], a234[0, 0, :2]]),
    ("meshgrid_ij", lambda x, y: ag.stack(ag.meshgrid(x, y, indexing="ij")),
     lambda x, y: np.stack(np.meshgrid(x, y, indexing="ij")), [a34[0], a34[1, :3]]),
    ("prod", lambda x: ag.prod(x, axis=(0, 2)), lambda x: np.prod(x, axis=(0, 2)), [a234]),
    ("cumulative_sum", lambda x: ag.cumulative_sum(x, axis=1),
     lambda x: np.cumsum(x, axis=1), [a234]),
    ("cumulative_sum_initial", lambda x: ag.cumulative_sum(x, axis=-1, include_initial=True),
     lambda x: np.concatenate([np.zeros((3, 1)), np.cumsum(x, axis=-1)], axis=-1), [a34]),
    ("vector_norm", lambda x: ag.vector_norm(x, axis=(0, 2)),
     lambda x: np.sqrt(np.sum(x * x, axis=(0, 2))), [a234]),
    ("vector_norm_ords", lambda x: ag.stack([ag.vector_norm(x, ord=p) for p in
                                             (1, 3, 0, float("inf"), -float("inf"))]),
     lambda x: np.array([np.linalg.norm(x.ravel(), ord=p) for p in
                         (1, 3, 0, np.inf, -np.inf)]), [a34]),
    ("moveaxis", lambda x: ag.moveaxis(x, (0, 1), (-1, 0)),
     lambda x: np.moveaxis(x, (0, 1), (-1, 0)), [a234]),
    ("tile", lambda x: ag.tile(x, (2, 1, 3)), lambda x: np.tile(x, (2, 1, 3)), [a34]),
    ("tile_fewer_reps", lambda x: ag.tile(x, (2,)), lambda x: np.tile(x, (2,)), [a234]),
    ("repeat", lambda x: ag.repeat(x, 2, axis=-1), lambda x: np.repeat(x, 2, axis=-1), [a34]),
    ("repeat_counts", lambda x: ag.repeat(x, [0, 2, 1], axis=0),
     lambda x: np.repeat(x, [0, 2, 1], axis=0), [a34]),
    ("repeat_flat", lambda x: ag.repeat(x, 2), lambda x: np.repeat(x, 2), [a34]),
    ("roll", lambda x: ag.roll(x, (-1, 5), axis=(0, 2)),
     lambda x: np.roll(x, (-1, 5), axis=(0, 2)), [a234]),
    ("roll_flat", lambda x: ag.roll(x, -3), lambda x: np.roll(x, -3), [a34]),
    ("tensordot", lambda x, y: ag.tensordot(x, y, axes=([0, 2], [1, 0])),
     lambda x, y: np.tensordot(x, y, axes=([0, 2], [1, 0])), [a234, b425]),
    ("tensordot_0", lambda x, y: ag.tensordot(x, y, axes=0),
     lambda x, y: np.tensordot(x, y, axes=0), [a34[0], a34[1]]),
    ("vecdot", lambda x, y: ag.vecdot(x, y), lambda x, y: np.sum(x * y, axis=-1), [a234, a34]),
    ("outer", ag.outer, np.outer, [a34[0], a234[0, 0]]),
    ("diagonal", lambda x: ag.diagonal(x, offset=1),
     lambda x: np.diagonal(x, offset=1, axis1=-2, axis2=-1), [a234]),
    ("diagonal_negative", lambda x: ag.diagonal(x, offset=-2),
     lambda x: np.diagonal(x, offset=-2, axis1=-2, axis2=-1), [a34]),
    ("diagonal_empty", lambda x: ag.diagonal(x, offset=9),
     lambda x: np.diagonal(x, offset=9), [a34]),
    ("trace", lambda x: ag.trace(x, offset=-1),
     lambda x: np.trace(x, offset=-1, axis1=-2, axis2=-1), [a234]),
    ("einsum_batched", lambda x, y: ag.einsum("bij,jbk->bki", x, y),
     lambda x, y: np.einsum("bij,jbk->bki", x, y), [a234, b425]),
    ("einsum_sum_and_outer", lambda x, y: ag.einsum("ij,k->k", x, y),
     lambda x, y: np.einsum("ij,k->k", x, y), [a34, a34[0]]),
    ("einsum_implicit", lambda x, y: ag.einsum("ij,kj", x, y),
     lambda x, y: np.einsum("ij,kj", x, y), [a34, a234[0]]),
    ("einsum_full_contraction", lambda x: ag.einsum("ij,ij->", x, x),
     lambda x: np.einsum("ij,ij->", x, x), [a34]),
    ("einsum_three", lambda x, y, z: ag.einsum("ij,jk,kl->li", x, y, z),
     lambda x, y, z: np.einsum("ij,jk,kl->li", x, y, z), [a34, a34.T, a34]),
]


spd = a34[:, :3] @ a34[:, :3].T + 3 * np.eye(3)
VALUES += [
    ("linalg_inv", ag.linalg.inv, np.linalg.inv, [spd]),
    ("linalg_det", ag.linalg.det, np.linalg.det, [np.stack([spd, -spd])]),
    ("linalg_slogdet", lambda x: ag.stack(list(ag.linalg.slogdet(x))),
     lambda x: np.stack(np.linalg.slogdet(x)), [np.stack([spd, -spd])]),
    ("linalg_solve", ag.linalg.solve, np.linalg.solve, [spd, a34[:3]]),
    ("linalg_solve_vector", ag.linalg.solve, np.linalg.solve, [spd, a34[0, :3]]),
    ("linalg_matrix_power", lambda x: ag.stack([ag.linalg.matrix_power(x, n)
                                               for n in (-3, 0, 1, 6)]),
     lambda x: np.stack([np.linalg.matrix_power(x, n) for n in (-3, 0, 1, 6)]), [spd]),
    ("linalg_cholesky", ag.linalg.cholesky, np.linalg.cholesky, [spd]),
    ("linalg_cholesky_upper", lambda x: ag.linalg.cholesky(x, upper=True),
     lambda x: np.linalg.cholesky(x).T, [spd]),
    ("tril_triu", lambda x: ag.tril(x, k=1) - ag.triu(x, k=-1),
     lambda x: np.tril(x, k=1) - np.triu(x, k=-1), [a234]),
    ("linalg_eigh", lambda x: ag.concat([ag.linalg.eigh(x).eigenvalues, ag.abs(
        ag.reshape(ag.linalg.eigh(x).eigenvectors, (-1,)))]), lambda x: np.concatenate(
        [np.linalg.eigh(x)[0], np.abs(np.linalg.eigh(x)[1]).ravel()]), [spd]),
    ("linalg_matrix_norms", lambda x: ag.stack([ag.linalg.matrix_norm(x, ord=p) for p in
                                               ("fro", 1, -1, float("inf"), -float("inf"))]),
     lambda x: np.stack([np.linalg.norm(x, ord=p) for p in ("fro", 1, -1, np.inf, -np.inf)]),
     [a34]),
    ("linalg_svd", lambda x: ag.concat([ag.abs(ag.reshape(r, (-1,))) for r in ag.linalg.svd(
        x, full_matrices=False)]), lambda x: np.concatenate([np.abs(r).ravel() for r in
                                                             np.linalg.svd(x, False)]), [a234]),
    ("linalg_svd_square_full", lambda x: ag.linalg.svd(x).S, lambda x: np.linalg.svd(x)[1],
     [spd]),
    ("linalg_qr", lambda x: ag.concat([ag.reshape(r, (-1,)) for r in ag.linalg.qr(x)]),
     lambda x: np.concatenate([r.ravel() for r in np.linalg.qr(x)]), [a34.T]),
    ("linalg_svdvals", ag.linalg.svdvals, lambda x: np.linalg.svd(x, compute_uv=False), [a34]),
    ("linalg_pinv", ag.linalg.pinv, np.linalg.pinv, [a234]),
    ("linalg_pinv_rank_deficient", ag.linalg.pinv, np.linalg.pinv,
     [np.outer(a34[0], a34[1])]),
    ("linalg_matrix_norms_svd", lambda x: ag.stack([ag.linalg.matrix_norm(x, ord=p) for p in
                                                   (2, -2, "nuc")]),
     lambda x: np.stack([np.linalg.norm(x, ord=p) for p in (2, -2, "nuc")]), [a34]),
    ("sort", lambda x: ag.sort(x, axis=0), lambda x: np.sort(x, axis=0), [a34]),
    ("sort_descending", lambda x: ag.sort(x, descending=True), lambda x: -np.sort(-x), [a234]),
    ("diff", lambda x: ag.diff(x, n=2, axis=1), lambda x: np.diff(x, n=2, axis=1), [a234]),
    ("diff_append", lambda x, y: ag.diff(x, append=y), lambda x, y: np.diff(x, append=y),
     [a34, a34[:, :2]]),
    ("cumulative_prod", lambda x: ag.cumulative_prod(x, axis=-1),
     lambda x: np.cumprod(x, axis=-1), [a234]),
    ("cumulative_prod_initial", lambda x: ag.cumulative_prod(x, include_initial=True),
     lambda x: np.concatenate([[1.0], np.cumprod(x)]), [a34[0]]),
    ("cross", lambda x, y: ag.cross(x, y, axis=0), lambda x, y: np.cross(x, y, axis=0),
     [a34[:, :3], a234[0, :, :3]]),
    ("linalg_namespace_shares", lambda x: ag.linalg.trace(x) + ag.linalg.vector_norm(x),
     lambda x: np.trace(x) + np.sqrt(np.sum(x * x)), [spd]),
]


@pytest.mark.parametrize("case", VALUES, ids=[c[0] for c in VALUES])
def test_values_match_numpy(case, backend):
    name, ours, theirs, data = case
    got = ours(*[make(d, backend, requires_grad=False) for d in data])
    expected = theirs(*data)
    assert tuple(got.shape) == expected.shape
    np.testing.assert_allclose(host(got), expected, rtol=1e-12, atol=1e-14)


def test_vector_norm_gradient_at_zero_is_zero(backend):
    x = make(np.zeros(3), backend)
    ag.vector_norm(x).backward()
    np.testing.assert_array_equal(host(x.grad), np.zeros(3))


def test_prod_gradient_with_a_zero_is_exact(backend):
    x = make([2.0, 0.0, 3.0], backend)
    ag.prod(x).backward()
    np.testing.assert_array_equal(host(x.grad), [0.0, 6.0, 0.0])


ERRORS = [
    (lambda x: ag.tensordot(x, x, axes=([0], [1])), "tensordot: axis 0"),
    (lambda x: ag.outer(x, x), "outer: needs two 1-d inputs"),
    (lambda x: ag.einsum("ij,jk->ik", x, x[0]), "einsum: subscripts 'jk'"),
    (lambda x: ag.einsum("ij,jk->ik", x, x), "einsum: index 'j' has lengths 4 and 3"),
    (lambda x: ag.cumulative_sum(x), "cumulative_sum: axis is required"),
    (lambda x: ag.repeat(x, [1, 2], axis=1), "repeat: 2 counts for an axis of length 4"),
    (lambda x: ag.moveaxis(x, 0, 5), "moveaxis: axis 5 is out of range"),
    (lambda x: ag.roll(x, (1, 2), axis=0), "roll: 2 shifts for 1 axes"),
]


@pytest.mark.parametrize("call, message", ERRORS, ids=[m.split(":")[0] + str(i)
                                                       for i, (_, m) in enumerate(ERRORS)])
def test_bad_input_names_the_function(call, message):
    with pytest.raises(ValueError, match=message):
        call(ag.tensor(a34))


def test_constant_functions_match_numpy(backend):
    data = np.array([3.0, 1.0, 0.0, 2.0, 1.0, 0.0])
    x = make(data, backend)
    np.testing.assert_array_equal(host(ag.argsort(x, stable=True)), np.argsort(data, kind="stable"))
    np.testing.assert_array_equal(host(ag.nonzero(x)[0]), np.nonzero(data)[0])
    assert int(ag.count_nonzero(x)) == 4
    np.testing.assert_array_equal(host(ag.floor_divide(x - 1.5, 2.0)), (data - 1.5) // 2.0)
    np.testing.assert_array_equal(host(ag.trunc(x - 1.5)), np.trunc(data - 1.5))
    np.testing.assert_array_equal(host(ag.signbit(x - 1.5)), np.signbit(data - 1.5))
    ints = make(np.array([5, 3, 12]), backend, dtype="int64", requires_grad=False)
    raw = np.array([5, 3, 12])
    for name, expected in [("bitwise_and", raw & 6), ("bitwise_or", raw | 6),
                           ("bitwise_xor", raw ^ 6), ("bitwise_left_shift", raw << 1),
                           ("bitwise_right_shift", raw >> 1)]:
        np.testing.assert_array_equal(host(getattr(ag, name)(ints, 6 if "shift" not in name
                                                             else 1)), expected)
    np.testing.assert_array_equal(host(ag.bitwise_invert(ints)), ~raw)
    np.testing.assert_array_equal(host(ag.logical_xor(x > 0.5, x > 1.5)),
                                  np.logical_xor(data > 0.5, data > 1.5))
    np.testing.assert_array_equal(host(ag.nextafter(x, 10.0)), np.nextafter(data, 10.0))
    infs = np.array([np.inf, 1.0, -np.inf, np.nan])
    np.testing.assert_array_equal(host(ag.isinf(make(infs, backend))), np.isinf(infs))
    assert int(ag.linalg.matrix_rank(make(np.outer(data, data), backend))) == 1
    np.testing.assert_array_equal(host(ag.unique_values(x)), np.unique(data))
    values, counts = ag.unique_counts(x)
    np.testing.assert_array_equal(host(counts), np.unique(data, return_counts=True)[1])
    sorted_x = ag.sort(x)
    np.testing.assert_array_equal(host(ag.searchsorted(sorted_x, make([1.5, 3.0], backend))),
                                  np.searchsorted(np.sort(data), [1.5, 3.0]))
    for out in (ag.argsort(x), ag.nonzero(x)[0], ag.count_nonzero(x), values, counts):
        assert not out.requires_grad


def test_matrix_norm_of_an_unknown_order_names_the_orders():
    with pytest.raises(ValueError, match="matrix_norm: ord=3 is not one of"):
        ag.linalg.matrix_norm(ag.tensor(a34), ord=3)



def test_isin_linspace_from_dlpack_and_broadcast_shapes_match_numpy(backend):
    data = np.array([3.0, 1.0, 0.0, 2.0])
    x = make(data, backend)
    for invert in (False, True):  # floats as numpy takes them; integers through the library
        np.testing.assert_array_equal(host(ag.isin(x, make([1.0, 2.0], backend),
                                                   invert=invert)),
                                      np.isin(data, [1.0, 2.0], invert=invert))
        ints = make(np.array([[1, 5], [7, 2]]), backend, dtype="int64", requires_grad=False)
        np.testing.assert_array_equal(
            host(ag.isin(ints, make(np.array([2, 7]), backend, dtype="int64",
                                    requires_grad=False), invert=invert)),
            np.isin([[1, 5], [7, 2]], [2, 7], invert=invert))
    assert not ag.isin(x, x).requires_grad
    xp = x.__array_namespace__()
    spaced = xp.linspace(0.0, 1.0, 5, endpoint=False)
    assert spaced.backend is x.backend
    np.testing.assert_allclose(host(spaced), np.linspace(0.0, 1.0, 5, endpoint=False))
    copied = xp.from_dlpack(x.detach())
    assert copied.backend is x.backend and not copied.requires_grad
    np.testing.assert_array_equal(host(copied), data)
    assert xp.broadcast_shapes((2, 1), (3,), ()) == (2, 3)
    with pytest.raises(ValueError, match=r"broadcast_shapes: shapes \(2,\), \(3,\)"):
        xp.broadcast_shapes((2,), (3,))


def test_operators_and_or_invert_are_bitwise_and_logical_on_booleans(backend):
    x = make(np.array([1.0, 2.0, 3.0]), backend, requires_grad=False)
    ints = make(np.array([5, 3, 12]), backend, dtype="int64", requires_grad=False)
    mask = x > 1.5
    np.testing.assert_array_equal(host(mask & (x < 2.5)), [False, True, False])
    np.testing.assert_array_equal(host(True & mask), [False, True, True])
    np.testing.assert_array_equal(host(mask | (x < 1.5)), [True, True, True])
    np.testing.assert_array_equal(host(~mask), [True, False, False])
    raw = np.array([5, 3, 12])
    np.testing.assert_array_equal(host(ints & 6), raw & 6)
    np.testing.assert_array_equal(host(6 | ints), 6 | raw)
    np.testing.assert_array_equal(host(~ints), ~raw)
    for bad in (lambda: x & x, lambda: ~x, lambda: ints << x):
        with pytest.raises(TypeError, match=r"bitwise_\w+ takes integral.* inputs, not float64"):
            bad()
