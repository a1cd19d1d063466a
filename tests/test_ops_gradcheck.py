"""Every differentiable op against central differences (float64), table-driven.

Each case names the op, a function of tensors, and the shapes of its inputs; the
table covers broadcasting, keepdims, negative axes, 0-d tensors and empty arrays.
"""
from __future__ import annotations

import numpy as np
import pytest

import anygrad as ag
from conftest import make, random

positive = {"low": 0.5, "high": 2.0}


def _eye(n):
    """3 I on the current backend: added to a random matrix, keeps it well conditioned."""
    return ag.eye(n, dtype="float64") * 3.0


def _flat(*tensors):
    """Several results as one vector, so one cotangent reaches all of them."""
    return ag.concat([ag.reshape(t, (-1,)) for t in tensors])


inside_unit = {"low": -0.8, "high": 0.8}  # away from the poles of asin, acos, atanh at +-1

CASES = [
    # name, function, input shapes, input range
    ("add", lambda a, b: a + b, [(3, 4), (4,)], {}),
    ("add_scalar", lambda a: 2.5 + a, [(3,)], {}),
    ("subtract", lambda a, b: a - b, [(2, 1, 3), (4, 1)], {}),
    ("rsub_scalar", lambda a: 1.0 - a, [(3,)], {}),
    ("multiply", lambda a, b: a * b, [(3, 4), (3, 1)], {}),
    ("multiply_0d", lambda a, b: a * b, [(), (2, 3)], {}),
    ("divide", lambda a, b: a / b, [(3, 4), (4,)], positive),
    ("rdiv_scalar", lambda a: 2.0 / a, [(3,)], positive),
    ("negative", lambda a: -a, [(3, 2)], {}),
    ("pow_scalar", lambda a: a ** 3, [(3, 2)], {}),
    ("pow_tensor", lambda a, b: a ** b, [(3, 2), (2,)], positive),
    ("rpow", lambda a: 2.0 ** a, [(4,)], {}),
    ("square", lambda a: ag.square(a), [(3,)], {}),
    ("exp", ag.exp, [(2, 3)], {}),
    ("expm1", ag.expm1, [(2, 3)], {}),
    ("log", ag.log, [(2, 3)], positive),
    ("log1p", ag.log1p, [(2, 3)], positive),
    ("sqrt", ag.sqrt, [(2, 3)], positive),
    ("sin", ag.sin, [(2, 3)], {}),
    ("cos", ag.cos, [(2, 3)], {}),
    ("tanh", ag.tanh, [(2, 3)], {}),
    ("tan", ag.tan, [(2, 3)], {}),
    ("sinh", ag.sinh, [(2, 3)], {}),
    ("cosh", ag.cosh, [(2, 3)], {}),
    ("asin", ag.asin, [(2, 3)], inside_unit),
    ("acos", ag.acos, [(2, 3)], inside_unit),
    ("atan", ag.atan, [(2, 3)], {"low": -3.0, "high": 3.0}),
    ("asinh", ag.asinh, [(2, 3)], {"low": -3.0, "high": 3.0}),
    ("acosh", ag.acosh, [(2, 3)], {"low": 1.2, "high": 3.0}),
    ("atanh", ag.atanh, [(2, 3)], inside_unit),
    ("atan2", ag.atan2, [(2, 3), (3,)], {}),
    ("atan2_scalar", lambda y: ag.atan2(y, -0.5), [(4,)], {}),
    ("hypot", ag.hypot, [(2, 3), (2, 1)], {}),
    ("log2", ag.log2, [(2, 3)], positive),
    ("log10", ag.log10, [(2, 3)], positive),
    ("logaddexp", ag.logaddexp, [(2, 3), (3,)], {"low": -30.0, "high": 30.0}),
    ("reciprocal", ag.reciprocal, [(2, 3)], positive),
    ("positive", ag.positive, [(2, 3)], {}),
    ("remainder", ag.remainder, [(2, 3), (3,)], positive),
    ("copysign", ag.copysign, [(2, 3), (3,)], {}),
    ("broadcast_arrays", lambda a, b: ag.stack(ag.broadcast_arrays(a, b)) ** 2,
     [(3, 1), (4,)], {}),
    ("unstack", lambda a: ag.unstack(a, axis=1)[2] * ag.unstack(a, axis=1)[0], [(2, 3)], {}),
    ("pad", lambda a: ag.pad(a, ((1, 0), (2, 3)), constant_values=0.5), [(2, 3)], {}),
    ("meshgrid", lambda a, b: ag.stack(ag.meshgrid(a, b)) ** 2, [(3,), (4,)], {}),
    ("sigmoid", ag.sigmoid, [(2, 3)], {"low": -6.0, "high": 6.0}),
    ("relu", ag.relu, [(3, 4)], {}),
    ("abs", ag.abs, [(3, 4)], {}),
    ("maximum", ag.maximum, [(3, 4), (4,)], {}),
    ("minimum", ag.minimum, [(3, 1), (1, 4)], {}),
    ("maximum_scalar", lambda a: ag.maximum(a, 0.1), [(5,)], {}),
    ("where", lambda a, b: ag.where(a > 0, a, b), [(3, 4), (4,)], {}),
    ("clip", lambda a: ag.clip(a, -0.5, 0.5), [(3, 4)], {}),
    ("clip_tensor_bounds", lambda a, lo: ag.clip(a, lo, 0.5), [(3, 4), (4,)], {}),
    ("sum_all", lambda a: ag.sum(a), [(3, 4)], {}),
    ("sum_axis", lambda a: ag.sum(a, axis=-1), [(2, 3, 4)], {}),
    ("sum_axes_keepdims", lambda a: ag.sum(a, axis=(0, 2), keepdims=True), [(2, 3, 4)], {}),
    ("sum_0d", lambda a: ag.sum(a), [()], {}),
    ("sum_empty", lambda a: ag.sum(a, axis=0), [(0, 3)], {}),
    ("mean", lambda a: ag.mean(a, axis=1), [(3, 4)], {}),
    ("mean_keepdims", lambda a: ag.mean(a, axis=-2, keepdims=True), [(2, 3, 4)], {}),
    ("max", lambda a: ag.max(a, axis=1), [(3, 4)], {}),
    ("max_all", lambda a: ag.max(a), [(3, 4)], {}),
    ("min_keepdims", lambda a: ag.min(a, axis=0, keepdims=True), [(3, 4)], {}),
    ("var", lambda a: ag.var(a, axis=0), [(4, 3)], {}),
    ("var_corrected", lambda a: ag.var(a, axis=1, correction=1, keepdims=True), [(2, 5)], {}),
    ("std", lambda a: ag.std(a), [(3, 4)], {}),
    ("logsumexp", lambda a: ag.logsumexp(a, axis=-1), [(3, 4)], {"low": -30.0, "high": 30.0}),
    ("logsumexp_all_keepdims", lambda a: ag.logsumexp(a, keepdims=True), [(3, 4)], {}),
    ("softmax", lambda a: ag.softmax(a, axis=-1), [(3, 4)], {}),
    ("softmax_axis0", lambda a: ag.softmax(a, axis=0), [(3, 4)], {}),
    ("log_softmax", lambda a: ag.log_softmax(a, axis=1), [(3, 4)], {}),
    ("matmul", ag.matmul, [(3, 4), (4, 2)], {}),
    ("matmul_batched_broadcast", ag.matmul, [(2, 3, 4), (4, 5)], {}),
    ("matmul_vec_mat", ag.matmul, [(4,), (4, 3)], {}),
    ("matmul_mat_vec", ag.matmul, [(2, 3, 4), (4,)], {}),
    ("matmul_vec_vec", ag.matmul, [(4,), (4,)], {}),
    ("linear", lambda x, w, b: ag.linear(x, w, b), [(3, 4), (2, 4), (2,)], {}),
    ("linear_batched_no_bias", lambda x, w: ag.linear(x, w), [(2, 3, 4), (5, 4)], {}),
    ("linear_vector_input", lambda x, w, b: ag.linear(x, w, b), [(4,), (2, 4), (2,)], {}),
    ("reshape", lambda a: ag.reshape(a, (4, 3)), [(3, 4)], {}),
    ("method_reshape", lambda a: a.reshape(2, -1), [(3, 4)], {}),
    ("permute_dims", lambda a: ag.permute_dims(a, (2, 0, 1)), [(2, 3, 4)], {}),
    ("matrix_transpose", ag.matrix_transpose, [(2, 3, 4)], {}),
    ("T", lambda a: a.T, [(2, 3)], {}),
    ("expand_dims", lambda a: ag.expand_dims(a, axis=-1), [(2, 3)], {}),
    ("squeeze", lambda a: ag.squeeze(a, axis=1), [(2, 1, 3)], {}),
    ("broadcast_to", lambda a: ag.broadcast_to(a, (2, 3, 4)), [(3, 1)], {}),
    ("concat", lambda a, b: ag.concat([a, b, a], axis=-1), [(2, 3), (2, 1)], {}),
    ("stack", lambda a, b: ag.stack([a, b], axis=1), [(2, 3), (2, 3)], {}),
    ("flip", lambda a: ag.flip(a, axis=0), [(3, 2)], {}),
    ("flip_all", lambda a: ag.flip(a), [(3, 2)], {}),
    ("getitem_slice", lambda a: a[1:, ::2], [(3, 4)], {}),
    ("getitem_int_none_ellipsis", lambda a: a[None, ..., 1], [(3, 4)], {}),
    ("getitem_negative_step", lambda a: a[::-1, 1], [(3, 4)], {}),
    ("astype_same", lambda a: ag.astype(a * 2.0, "float64"), [(3,)], {}),
    ("fan_out", lambda a: a * a + ag.exp(a) * a - a, [(3,)], {}),
    # composed from the ops above: these rows check the compositions
    ("prod", lambda a: ag.prod(a, axis=1), [(3, 5)], {}),
    ("prod_all_keepdims", lambda a: ag.prod(a, keepdims=True), [(2, 3)], {}),
    ("cumulative_sum", lambda a: ag.cumulative_sum(a, axis=-1), [(3, 4)], {}),
    ("cumulative_sum_initial", lambda a: ag.cumulative_sum(a, axis=0, include_initial=True),
     [(3, 2)], {}),
    ("vector_norm", lambda a: ag.vector_norm(a, axis=1), [(3, 4)], {}),
    ("vector_norm_ord1_keepdims", lambda a: ag.vector_norm(a, axis=0, keepdims=True, ord=1),
     [(3, 4)], {}),
    ("vector_norm_ord3", lambda a: ag.vector_norm(a, ord=3), [(3, 4)], {}),
    ("vector_norm_inf", lambda a: ag.vector_norm(a, ord=float("inf")), [(5,)], {}),
    ("moveaxis", lambda a: ag.moveaxis(a, (0, -1), (2, 0)), [(2, 3, 4)], {}),
    ("tile", lambda a: ag.tile(a, (2, 1, 3)), [(2, 3)], {}),
    ("repeat", lambda a: ag.repeat(a, 3, axis=1), [(2, 3)], {}),
    ("repeat_counts_flat", lambda a: ag.repeat(a, [2, 0, 1, 3, 1, 1]), [(2, 3)], {}),
    ("roll", lambda a: ag.roll(a, (1, -2), axis=(0, 1)), [(3, 4)], {}),
    ("roll_flat", lambda a: ag.roll(a, 5), [(3, 4)], {}),
    ("tensordot", lambda a, b: ag.tensordot(a, b, axes=([0, 2], [1, 0])), [(2, 3, 4), (4, 2, 5)],
     {}),
    ("tensordot_int", lambda a, b: ag.tensordot(a, b, axes=1), [(2, 3), (3, 4)], {}),
    ("vecdot", lambda a, b: ag.vecdot(a, b, axis=0), [(3, 4), (3, 1)], {}),
    ("outer", ag.outer, [(3,), (4,)], {}),
    ("diagonal", lambda a: ag.diagonal(a, offset=-1), [(2, 4, 3)], {}),
    ("trace", lambda a: ag.trace(a, offset=1), [(3, 4)], {}),
    ("einsum", lambda a, b: ag.einsum("bij,bjk->bki", a, b), [(2, 3, 4), (2, 4, 5)], {}),
    ("einsum_chain_and_sum", lambda a, b, c, d: ag.einsum("ij,jk,kl,m->il", a, b, c, d),
     [(2, 3), (3, 4), (4, 4), (5,)], {}),
    # the linalg extension, on well-conditioned matrices (symmetric positive definite
    # ones for cholesky)
    ("linalg_inv", lambda a: ag.linalg.inv(a + _eye(3)), [(2, 3, 3)], {}),
    ("linalg_det", lambda a: ag.linalg.det(a + _eye(3)), [(2, 3, 3)], {}),
    ("linalg_slogdet", lambda a: ag.linalg.slogdet(a - _eye(3)).logabsdet, [(3, 3)], {}),
    ("linalg_solve", lambda a, b: ag.linalg.solve(a + _eye(3), b), [(2, 3, 3), (3, 2)], {}),
    ("linalg_solve_vector", lambda a, b: ag.linalg.solve(a + _eye(3), b), [(3, 3), (3,)], {}),
    ("linalg_matrix_power", lambda a: ag.linalg.matrix_power(a, 5), [(3, 3)], {}),
    ("linalg_matrix_power_negative", lambda a: ag.linalg.matrix_power(a + _eye(3), -2),
     [(3, 3)], {}),
    ("linalg_cholesky", lambda a: ag.linalg.cholesky(a @ a.mT + _eye(3)), [(2, 3, 3)], {}),
    ("linalg_cholesky_upper", lambda a: ag.linalg.cholesky(a @ a.mT + _eye(3), upper=True),
     [(3, 3)], {}),
    # eigenvectors up to sign: squared, they are smooth in the (distinct-eigenvalue) input
    ("linalg_eigh", lambda a: (lambda r: ag.sum(r.eigenvalues ** 2) + r.eigenvectors ** 2)(
        ag.linalg.eigh(a + a.mT)), [(2, 3, 3)], {}),
    ("linalg_eigvalsh", lambda a: ag.linalg.eigvalsh(a + a.mT), [(4, 4)], {}),
    # singular vectors up to sign: squared, or multiplied back together
    ("linalg_svd", lambda a: (lambda r: ag.sum(r.S ** 3) + r.U ** 2)(
        ag.linalg.svd(a, full_matrices=False)), [(2, 4, 3)], {}),
    ("linalg_svd_wide", lambda a: (lambda r: r.Vh ** 2 + ag.sum(r.U * r.U[..., :1]))(
        ag.linalg.svd(a, full_matrices=False)), [(3, 5)], {}),
    ("linalg_svdvals", ag.linalg.svdvals, [(2, 3, 4)], {}),
    ("linalg_qr", lambda a: (lambda r: r.Q * 2.0 + ag.sum(r.R ** 2))(ag.linalg.qr(a)),
     [(2, 4, 3)], {}),
    ("linalg_qr_square", lambda a: ag.linalg.qr(a).R, [(3, 3)], {}),
    ("linalg_pinv", ag.linalg.pinv, [(4, 3)], {}),
    ("linalg_matrix_norm_nuc", lambda a: ag.linalg.matrix_norm(a, ord="nuc"), [(3, 4)], {}),
    ("linalg_matrix_norm_2", lambda a: ag.linalg.matrix_norm(a, ord=2, keepdims=True),
     [(2, 4, 3)], {}),
    ("linalg_matrix_norm", lambda a: ag.linalg.matrix_norm(a), [(2, 3, 4)], {}),
    ("linalg_matrix_norm_ord1", lambda a: ag.linalg.matrix_norm(a, ord=1, keepdims=True),
     [(3, 4)], {}),
    ("linalg_matrix_norm_inf", lambda a: ag.linalg.matrix_norm(a, ord=-float("inf")), [(3, 4)], {}),
    ("sort", lambda a: ag.sort(a, axis=0, descending=True), [(4, 3)], {}),
    ("diff", lambda a: ag.diff(a, axis=0, n=2), [(5, 3)], {}),
    ("diff_prepend", lambda a, b: ag.diff(a, prepend=b), [(2, 3), (2, 1)], {}),
    ("cumulative_prod", lambda a: ag.cumulative_prod(a, axis=1), [(2, 6)], {}),
    ("cumulative_prod_initial", lambda a: ag.cumulative_prod(a, include_initial=True), [(5,)],
     {}),
    ("cross", lambda a, b: ag.cross(a, b, axis=0), [(3, 4), (3, 1)], {}),
    ("tril", lambda a: ag.tril(a, k=-1), [(2, 3, 4)], {}),
    ("triu", lambda a: ag.triu(a, k=1), [(3, 4)], {}),
    ("einsum_implicit_out", lambda a, b: ag.einsum("ij,kj", a, b), [(2, 3), (4, 3)], {}),
    # qr of wide matrices and in complete mode, svd with full_matrices, einsum's ellipses,
    # diagonals and broadcasting, pad's copying modes. Singular vectors up to sign: squared.
    ("linalg_qr_wide", lambda a: _flat(*ag.linalg.qr(a)), [(2, 3, 5)], {}),
    ("linalg_qr_wide_complete", lambda a: _flat(*ag.linalg.qr(a, mode="complete")), [(3, 4)],
     {}),
    ("linalg_qr_complete_leading_columns", lambda a: (lambda r: _flat(r.Q[..., :3], r.R))(
        ag.linalg.qr(a, mode="complete")), [(2, 5, 3)], {}),
    ("linalg_qr_r_mode", lambda a: ag.linalg.qr(a, mode="r"), [(2, 3, 4)], {}),
    ("linalg_svd_full_tall", lambda a: (lambda r: _flat(r.U[..., :3] ** 2, r.S, r.Vh ** 2))(
        ag.linalg.svd(a)), [(2, 5, 3)], {}),
    ("linalg_svd_full_wide", lambda a: (lambda r: _flat(r.U ** 2, r.S, r.Vh[..., :3, :] ** 2))(
        ag.linalg.svd(a, full_matrices=True)), [(3, 5)], {}),
    ("einsum_ellipsis_broadcast", lambda a, b: ag.einsum("...ij,...jk->...ik", a, b),
     [(2, 1, 3, 4), (3, 4, 2)], {}),
    ("einsum_ellipsis_implicit", lambda a, b: ag.einsum("...ij,...jk", a, b), [(2, 3, 4), (4, 5)],
     {}),
    ("einsum_diagonal", lambda a: ag.einsum("ii->i", a), [(3, 3)], {}),
    ("einsum_trace_implicit", lambda a: ag.einsum("ii", a), [(4, 4)], {}),
    ("einsum_diagonal_summed", lambda a: ag.einsum("iij->j", a), [(3, 3, 4)], {}),
    ("einsum_diagonal_private_and_shared", lambda a, b, c: ag.einsum("iji,jk,l->k", a, b, c),
     [(3, 2, 3), (2, 4), (5,)], {}),
    ("einsum_ellipsis_diagonal", lambda a: ag.einsum("i...i->...i", a), [(3, 2, 3)], {}),
    ("einsum_broadcast_length_one", lambda a, b: ag.einsum("ij,ij->ij", a, b), [(1, 3), (2, 3)],
     {}),
    ("pad_reflect", lambda a: ag.pad(a, ((2, 1), (0, 3)), mode="reflect"), [(3, 4)], {}),
    ("pad_symmetric", lambda a: ag.pad(a, ((3, 1), (2, 0)), mode="symmetric"), [(3, 2)], {}),
    ("pad_edge", lambda a: ag.pad(a, ((1, 2), (3, 0)), mode="edge"), [(2, 3)], {}),
    ("pad_replicate", lambda a: ag.pad(a, 2, mode="replicate"), [(3,)], {}),
    ("pad_wrap_wider_than_axis", lambda a: ag.pad(a, ((4, 7), (1, 2)), mode="wrap"), [(3, 2)],
     {}),
    ("pad_circular", lambda a: ag.pad(a, (1, 2), mode="circular"), [(2, 3, 3)], {}),
    # special functions and sliding windows (the neural-net functions stand on these)
    ("erf", ag.erf, [(2, 3)], {"low": -3.0, "high": 3.0}),
    ("softplus", ag.softplus, [(2, 3)], {"low": -5.0, "high": 5.0}),
    ("softplus_beta_threshold", lambda a: ag.softplus(a, beta=2.0, threshold=3.0), [(2, 4)],
     {"low": -3.0, "high": 3.0}),
    ("erfc", ag.erfc, [(3,)], {"low": -3.0, "high": 3.0}),
    ("erfcx", ag.erfcx, [(3,)], {"low": -2.0, "high": 6.0}),
    ("ndtr", ag.ndtr, [(3,)], {"low": -5.0, "high": 5.0}),
    ("log_ndtr", ag.log_ndtr, [(3,)], {"low": -40.0, "high": 5.0}),
    ("erfinv", ag.erfinv, [(3,)], {"low": -0.95, "high": 0.95}),
    ("erfcinv", ag.erfcinv, [(3,)], {"low": 0.05, "high": 1.95}),
    ("ndtri", ag.ndtri, [(3,)], {"low": 0.01, "high": 0.99}),
    ("gammaln", ag.gammaln, [(3,)], {"low": 0.1, "high": 20.0}),
    ("digamma", ag.digamma, [(3,)], {"low": 0.1, "high": 20.0}),
    ("polygamma", lambda a: ag.polygamma(2, a), [(3,)], {"low": 0.3, "high": 8.0}),
    ("betaln", ag.betaln, [(2, 1), (3,)], {"low": 0.3, "high": 5.0}),
    ("beta", ag.beta, [(3,), (3,)], {"low": 0.3, "high": 3.0}),
    ("multigammaln", lambda a: ag.multigammaln(a, 3), [(3,)], {"low": 2.0, "high": 6.0}),
    ("i0", ag.i0, [(3,)], {"low": -12.0, "high": 12.0}),
    ("i1", ag.i1, [(3,)], {"low": -12.0, "high": 12.0}),
    ("i0e", ag.i0e, [(3,)], {"low": -25.0, "high": 25.0}),
    ("i1e", ag.i1e, [(3,)], {"low": -25.0, "high": 25.0}),
    ("entr", ag.entr, [(3,)], {"low": 0.1, "high": 3.0}),
    ("logit", ag.logit, [(3,)], {"low": 0.05, "high": 0.95}),
    ("xlogy", ag.xlogy, [(2, 3), (3,)], positive),
    ("xlog1py", ag.xlog1py, [(3,), (2, 1)], positive),
    ("unfold", lambda a: ag.unfold(a, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
     [(1, 2, 4, 5)], {}),
    ("unfold_1d", lambda a: ag.unfold(a, 2, stride=2), [(2, 1, 5)], {}),
    ("fold", lambda c: ag.fold(c, (3, 4), 2, padding=1, stride=2), [(1, 8, 6)], {}),
]


# Indexing forms a library itself rejects (not anygrad's to change).
UNSUPPORTED = {("torch", "getitem_negative_step"): "torch slices take no negative step"}


def _inputs(shapes, rng_kw, backend):
    return [make(random(s, seed=k, **rng_kw), backend) for k, s in enumerate(shapes)]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_gradcheck(case, backend):
    name, fn, shapes, rng_kw = case
    if (backend, name) in UNSUPPORTED:
        pytest.skip(UNSUPPORTED[backend, name])
    assert ag.gradcheck(fn, _inputs(shapes, rng_kw, backend))


INDEX_CASES = [
    ("take_repeated", lambda a, i: ag.take(a, i, axis=0), (4, 3), [0, 2, 2, 0, 3]),
    ("take_axis1", lambda a, i: ag.take(a, i, axis=1), (4, 3), [2, 2, 1]),
    ("getitem_int_array", lambda a, i: a[i, 1], (4, 3), [1, 1, 3]),
    ("take_along_axis", lambda a, i: ag.take_along_axis(a, i, axis=1), (3, 4),
     [[0, 0], [3, 1], [2, 2]]),
]


@pytest.mark.parametrize("case", INDEX_CASES, ids=[c[0] for c in INDEX_CASES])
def test_gradcheck_repeated_indices(case, backend):
    name, fn, shape, index = case
    x = make(random(shape), backend)
    idx = ag.tensor(np.asarray(index, dtype="int64"), backend=backend)
    assert ag.gradcheck(lambda a: fn(a, idx), [x])


def test_boolean_mask_gradient(backend):
    data = random((3, 4))
    x = make(data, backend)
    mask = x > 0
    ag.sum(x[mask] * 3.0).backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(data > 0, 3.0, 0.0))


ELEMENTWISE = [c for c in CASES if c[0] in {
    "add", "multiply", "divide", "pow_tensor", "exp", "expm1", "log", "log1p", "sqrt", "sin",
    "cos", "tanh", "tan", "sinh", "cosh", "asin", "acos", "atan", "asinh", "acosh", "atanh",
    "atan2", "hypot", "log2", "log10", "logaddexp", "reciprocal",
    "sigmoid", "abs", "relu", "maximum", "where", "clip", "square", "negative",
    "softmax", "log_softmax", "logsumexp", "matmul", "linear", "var", "std", "max", "mean", "sum_axis",
    "take_repeated", "concat", "stack", "getitem_slice",
}]


@pytest.mark.parametrize("case", ELEMENTWISE, ids=[c[0] for c in ELEMENTWISE])
def test_gradgradcheck(case, backend):
    name, fn, shapes, rng_kw = case
    assert ag.gradgradcheck(fn, _inputs(shapes, rng_kw, backend))


FLOATING_UNARY = ["tan", "sinh", "cosh", "asin", "acos", "atan", "asinh", "acosh", "atanh",
                  "log2", "log10", "reciprocal"]
FLOATING_BINARY = ["atan2", "hypot", "logaddexp"]


def test_floating_ops_take_integers_as_exp_does(backend):
    ints = ag.tensor(np.array([1, 2, 3]), backend=backend)
    single = ag.tensor(np.array([0.5, 0.25, 0.75], dtype="float32"), backend=backend)
    for name in FLOATING_UNARY:
        fn = getattr(ag, name)
        with np.errstate(all="ignore"):  # integers fall outside some domains: dtypes only
            assert fn(ints).dtype == ag.exp(ints).dtype, name
            assert fn(single).dtype == ag.float32, name
    for name in FLOATING_BINARY:
        fn = getattr(ag, name)
        assert fn(ints, 2).dtype == ag.exp(ints).dtype, name
        assert fn(single, ints).dtype == ag.float32, name
        assert fn(single, 0.5).dtype == ag.float32, name


def test_empty_products_keep_the_graph(backend):
    # found by the differential fuzzer: an empty product is 1 and an empty running
    # product with its initial value is [1], both still computed from (and so
    # recording a graph back to) the empty input
    x = make(np.zeros((0, 3)), backend)
    assert ag.prod(x).requires_grad and float(ag.prod(x)) == 1.0
    assert ag.prod(x, axis=1).shape == (0,)  # a product along a full axis of an empty x
    running = ag.cumulative_prod(x, axis=0, include_initial=True)
    assert running.shape == (1, 3) and running.requires_grad
    np.testing.assert_array_equal(running.numpy(), np.ones((1, 3)))
    ag.sum(running * 2.0).backward()
    assert x.grad.shape == (0, 3)
