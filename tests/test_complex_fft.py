"""Complex tensors and the fft extension: first and second derivatives against central
differences (real and imaginary parts perturbed separately), values against numpy,
gradients against PyTorch's complex autograd where torch is installed, and the errors.

anygrad's convention is PyTorch's: for a real loss L of a complex z,
z.grad = dL/dRe(z) + i dL/dIm(z); a real tensor's gradient is real.
"""
from __future__ import annotations

import numpy as np
import pytest

import anygrad as ag
from conftest import host, make, random

try:
    import torch
except ImportError:
    torch = None

small = {"low": -0.8, "high": 0.8}  # inside the unit disc: off every branch cut below


def _data(shape, kind, seed, low=-1.0, high=1.0):
    values = random(shape, seed=seed, low=low, high=high)
    if kind == "c":
        return values + 1j * random(shape, seed=seed + 50, low=low, high=high)
    return values


def _inputs(kinds, shapes, rng_kw, backend):
    return [make(_data(s, k, seed=i, **rng_kw), backend,
                 dtype="complex128" if k == "c" else "float64")
            for i, (k, s) in enumerate(zip(kinds, shapes))]


fft = ag.fft


def _flat(*tensors):
    return ag.concat([ag.reshape(t, (-1,)) for t in tensors])


def _hermitian(z):
    """z z^H + 3 I: Hermitian positive definite, for any square z."""
    n = z.shape[-1]
    return z @ ag.conj(z.mT) + 3.0 * ag.eye(n, dtype="float64", backend=z.backend.name)

CASES = [
    # name, function, input kinds ("c" complex128, "r" float64), shapes, input range
    ("real", lambda z: ag.real(z * z), "c", [(2, 3)], {}),
    ("real_of_real", lambda x: ag.real(x) * x, "r", [(4,)], {}),
    ("imag", lambda z: ag.imag(z) * ag.imag(z * z), "c", [(2, 3)], {}),
    ("imag_of_real", lambda x: ag.imag(x) + x * x, "r", [(4,)], {}),
    ("conj", lambda z, w: ag.conj(z) * w, "cc", [(2, 3), (3,)], {}),
    ("angle", ag.angle, "c", [(2, 3)], {}),
    ("abs_complex", ag.abs, "c", [(2, 3)], {}),
    # holomorphic functions: the real rules, unchanged
    ("complex_arithmetic", lambda a, b: a * b - a / b + (-a) ** 2 + ag.square(b) - 2.0 / a,
     "cc", [(2, 3), (3,)], {}),
    ("complex_pow", lambda a, b: a ** b + a ** 2.5 + 2.0 ** a + a ** (1 + 1j), "cc",
     [(2, 3), (2, 3)], {}),
    ("complex_exp_log", lambda a: ag.exp(a) + ag.log(a) + ag.sqrt(a) + ag.expm1(a)
     + ag.log1p(a) + ag.log2(a) + ag.log10(a), "c", [(2, 3)], {}),
    ("complex_trig", lambda a: ag.sin(a) + ag.cos(a) * ag.tan(a) + ag.sinh(a) - ag.cosh(a)
     * ag.tanh(a) + ag.reciprocal(a), "c", [(2, 3)], {}),
    ("complex_inverse_trig", lambda a: ag.asin(a) + ag.acos(a) * ag.atan(a) + ag.asinh(a)
     - ag.acosh(a + 2.0) * ag.atanh(a), "c", [(2, 3)], small),
    # a real tensor meeting complex ones: its gradient is real
    ("real_times_complex", lambda x, z: x * z + ag.exp(x) * 1j, "rc", [(2, 3), (3,)], {}),
    # moving numbers around, reducing them
    ("complex_shapes", lambda z: ag.concat([ag.reshape(z, (3, 2)), ag.flip(z.mT, axis=0)],
                                           axis=1)[1:, ::2], "c", [(2, 3)], {}),
    ("complex_reductions", lambda z: ag.sum(z, axis=0) * ag.mean(z) + ag.cumulative_sum(
        ag.stack([z, z * z]), axis=2)[1, 0], "c", [(2, 3)], {}),
    ("complex_var_std_norm", lambda z: ag.var(z, axis=0) + ag.std(z, correction=1)
     + ag.vector_norm(z, axis=1) + ag.vector_norm(z, ord=1) + ag.prod(z, axis=1), "c",
     [(3, 3)], {}),
    ("complex_where_roll", lambda z, x: ag.where(x > 0, ag.roll(z, 1, axis=1), z * 2.0),
     "cr", [(2, 3), (3,)], {}),
    # the fft extension
    ("fft_fft", lambda z: fft.fft(z), "c", [(3, 4)], {}),
    ("fft_fft_padded_axis0_ortho", lambda z: fft.fft(z, n=5, axis=0, norm="ortho"), "c",
     [(3, 4)], {}),
    ("fft_fft_cut_forward", lambda z: fft.fft(z, n=3, norm="forward"), "c", [(2, 5)], {}),
    ("fft_fft_real_input", lambda x: fft.fft(x * x), "r", [(2, 5)], {}),
    ("fft_ifft", lambda z: fft.ifft(z), "c", [(3, 4)], {}),
    ("fft_ifft_padded_ortho", lambda z: fft.ifft(z, n=6, axis=0, norm="ortho"), "c", [(3, 2)],
     {}),
    ("fft_fftn", lambda z: fft.fftn(z), "c", [(2, 3, 2)], {}),
    ("fft_fftn_s_axes", lambda z: fft.fftn(z, s=(4, 2), axes=(2, 0), norm="forward"), "c",
     [(2, 3, 3)], {}),
    ("fft_ifftn", lambda z: fft.ifftn(z, axes=(0, 1)), "c", [(3, 2, 2)], {}),
    ("fft_ifftn_s", lambda z: fft.ifftn(z, s=(2, 5), norm="ortho"), "c", [(3, 3)], {}),
    ("fft_rfft", lambda x: fft.rfft(x), "r", [(3, 6)], {}),
    ("fft_rfft_odd_axis0", lambda x: fft.rfft(x, axis=0, norm="ortho"), "r", [(5, 2)], {}),
    ("fft_rfft_padded_forward", lambda x: fft.rfft(x, n=7, norm="forward"), "r", [(2, 4)], {}),
    ("fft_irfft", lambda z: fft.irfft(z), "c", [(2, 4)], {}),
    ("fft_irfft_odd", lambda z: fft.irfft(z, n=5), "c", [(2, 3)], {}),
    ("fft_irfft_cut_axis0_ortho", lambda z: fft.irfft(z, n=4, axis=0, norm="ortho"), "c",
     [(5, 2)], {}),
    ("fft_irfft_padded_forward", lambda z: fft.irfft(z, n=9, norm="forward"), "c", [(3,)], {}),
    ("fft_rfftn", lambda x: fft.rfftn(x), "r", [(3, 4)], {}),
    ("fft_rfftn_s_axes", lambda x: fft.rfftn(x, s=(3, 5), axes=(2, 0), norm="ortho"), "r",
     [(2, 2, 4)], {}),
    ("fft_irfftn", lambda z: fft.irfftn(z), "c", [(3, 3)], {}),
    ("fft_irfftn_s_axes", lambda z: fft.irfftn(z, s=(2, 5), axes=(1, 0), norm="forward"), "c",
     [(3, 3)], {}),
    ("fft_hfft", lambda z: fft.hfft(z), "c", [(2, 4)], {}),
    ("fft_hfft_odd_ortho", lambda z: fft.hfft(z, n=5, axis=0, norm="ortho"), "c", [(3, 2)], {}),
    ("fft_ihfft", lambda x: fft.ihfft(x), "r", [(2, 6)], {}),
    ("fft_ihfft_odd_forward", lambda x: fft.ihfft(x, n=5, norm="forward"), "r", [(2, 6)], {}),
    ("fft_fftshift", lambda z: fft.fftshift(z) * fft.fftshift(z, axes=1), "c", [(3, 4)], {}),
    ("fft_ifftshift", lambda x: fft.ifftshift(x * x, axes=(0,)), "r", [(5, 2)], {}),
    ("fft_roundtrip", lambda x: fft.irfft(fft.rfft(x) * fft.rfft(x), n=5), "r", [(5,)], {}),
    # products and the linalg functions whose rules are holomorphic transposes
    ("complex_matmul", lambda a, b: a @ b + ag.matmul(a[0], b) + ag.matmul(a, b[:, 0]), "cc",
     [(2, 3), (3, 2)], {}),
    ("complex_linear_real_weight", lambda z, w, b: ag.nn.functional.linear(z, w, b), "crc",
     [(2, 3), (4, 3), (4,)], {}),
    ("complex_contractions", lambda a, b: ag.vecdot(a, b) + ag.tensordot(a, b, axes=1)[0]
     + ag.einsum("ij,kj->i", a, b) + ag.outer(a[0], b[1])[2], "cc", [(3, 3), (3, 3)], {}),
    ("complex_tril_triu", lambda z: ag.tril(z) * ag.triu(z, k=-1), "c", [(3, 3)], {}),
    # Hermitian factorisations of Hermitian positive definite z z^H + 3 I
    ("linalg_cholesky_complex", lambda z: ag.linalg.cholesky(_hermitian(z)), "c", [(2, 3, 3)],
     {}),
    ("linalg_cholesky_complex_upper", lambda z: ag.linalg.cholesky(_hermitian(z), upper=True),
     "c", [(3, 3)], {}),
    ("linalg_eigvalsh_complex", lambda z: ag.linalg.eigvalsh(_hermitian(z)), "c", [(2, 3, 3)],
     {}),
    ("linalg_eigh_complex_moduli", lambda z: (lambda r: r.eigenvalues * ag.sum(
        ag.abs(r.eigenvectors) ** 2 * ag.arange(3.0, dtype="float64", backend=z.backend.name),
        axis=-2))(ag.linalg.eigh(_hermitian(z))), "c", [(3, 3)], {}),
    # qr and svd of complex matrices (singular vectors through phase-invariant products)
    ("linalg_qr_complex", lambda z: _flat(*ag.linalg.qr(z)), "c", [(2, 4, 3)], {}),
    ("linalg_qr_complex_wide", lambda z: _flat(*ag.linalg.qr(z)), "c", [(3, 5)], {}),
    ("linalg_qr_complex_complete_leading", lambda z: (lambda r: _flat(r.Q[..., :3], r.R))(
        ag.linalg.qr(z, mode="complete")), "c", [(5, 3)], {}),
    ("linalg_svd_complex_products", lambda z: (lambda r: ag.matmul(
        r.U * (r.S ** 2)[..., None, :], r.Vh))(ag.linalg.svd(z, full_matrices=False)), "c",
     [(2, 4, 3)], {}),
    ("linalg_svd_complex_moduli", lambda z: (lambda r: _flat(ag.abs(r.U) ** 2, r.S,
                                                            ag.abs(r.Vh) ** 2))(
        ag.linalg.svd(z, full_matrices=False)), "c", [(3, 5)], {}),
    ("linalg_svdvals_pinv_norms_complex", lambda z: _flat(
        ag.linalg.svdvals(z), ag.linalg.pinv(z), ag.linalg.matrix_norm(z, ord=2),
        ag.linalg.matrix_norm(z, ord="nuc")), "c", [(4, 3)], {}),
    ("linalg_slogdet_complex", lambda z: (lambda r: r.sign * r.logabsdet)(ag.linalg.slogdet(z)),
     "c", [(2, 3, 3)], {}),
    # eig of general matrices: eigenvectors through phase-invariant functions only
    ("linalg_eigvals_real_input", lambda a: ag.linalg.eigvals(a), "r", [(2, 3, 3)], {}),
    ("linalg_eigvals_complex", lambda z: ag.linalg.eigvals(z), "c", [(3, 3)], {}),
    ("linalg_eig_vectors_moduli", lambda z: (lambda r: r.eigenvalues * ag.sum(
        ag.abs(r.eigenvectors) ** 2 * ag.arange(3.0, dtype="float64", backend=z.backend.name),
        axis=0))(ag.linalg.eig(z)), "c", [(3, 3)], {}),
    ("linalg_eig_real_input_vectors", lambda a: ag.abs(ag.linalg.eig(a).eigenvectors), "r",
     [(3, 3)], {}),
    ("complex_inv_det_solve", lambda a, b: ag.linalg.inv(a + 3.0) * ag.linalg.det(a + 3.0)
     + ag.linalg.solve(a + 3.0, b) + ag.linalg.matrix_power(a, 3), "cc", [(3, 3), (3, 3)],
     small),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_gradcheck(case, backend):
    name, fn, kinds, shapes, rng_kw = case
    assert ag.gradcheck(fn, _inputs(kinds, shapes, rng_kw, backend))


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_gradgradcheck(case, backend):
    name, fn, kinds, shapes, rng_kw = case
    assert ag.gradgradcheck(fn, _inputs(kinds, shapes, rng_kw, backend))


# ---------------------------------------------------------------- the convention
def test_gradient_convention_is_pytorchs(backend):
    data = _data((4,), "c", seed=1)
    z = make(data, backend, dtype="complex128")
    ag.sum(ag.abs(z) ** 2).backward()  # L = sum(x^2 + y^2): dL/dx + i dL/dy = 2 z
    np.testing.assert_allclose(host(z.grad), 2 * data)
    assert z.grad.dtype == ag.complex128
    z.grad = None
    ag.sum(ag.real(z * z)).backward()  # L = sum(x^2 - y^2): 2x - 2iy = 2 conj(z)
    np.testing.assert_allclose(host(z.grad), 2 * np.conj(data))


def test_real_input_of_complex_ops_gets_a_real_gradient(backend):
    data = random((3,))
    x = make(data, backend)
    w = ag.tensor(np.array([1j, 2.0, -1.0 + 1j]), backend=backend)
    ag.sum(ag.abs(x * w + 1j * x)).backward()
    assert x.grad.dtype == ag.float64
    expected = np.abs(np.array([1j, 2.0, -1.0 + 1j]) + 1j)  # d|x c|/dx = |c| sign(x)
    np.testing.assert_allclose(host(x.grad), expected * np.sign(data))


def test_hooks_retain_grad_and_requested_inputs_see_the_convention(backend):
    data = _data((3,), "c", seed=2)
    z = make(data, backend, dtype="complex128")
    y = z * 2.0
    y.retain_grad()
    seen = []
    y.register_hook(lambda g: seen.append(host(g)))
    loss = ag.sum(ag.real(y * y))  # dL/dy = 2 conj(y)
    loss.backward(retain_graph=True)
    np.testing.assert_allclose(seen[0], 2 * np.conj(2 * data))
    np.testing.assert_allclose(host(y.grad), 2 * np.conj(2 * data))
    np.testing.assert_allclose(host(z.grad), 8 * np.conj(data))
    gy, gz = ag.gradients(loss, [y, z])
    np.testing.assert_allclose(host(gy), 2 * np.conj(2 * data))
    np.testing.assert_allclose(host(gz), 8 * np.conj(data))


def test_hook_that_replaces_a_complex_gradient(backend):
    data = _data((3,), "c", seed=3)
    z = make(data, backend, dtype="complex128")
    y = z * 1.0
    y.register_hook(lambda g: g * 1j)  # in the user's convention
    ag.sum(ag.real(y)).backward()  # dL/dy = 1, replaced by i: z.grad = i
    np.testing.assert_allclose(host(z.grad), np.full(3, 1j))


def test_grad_of_a_complex_input_matches_backward(backend):
    data = _data((3,), "c", seed=4)
    z = make(data, backend, dtype="complex128")
    # L = Im(e^z): dL/dx + i dL/dy = Im(e^z) + i Re(e^z) = i conj(e^z)
    g = ag.grad(lambda a: ag.sum(ag.imag(ag.exp(a))))(z)
    np.testing.assert_allclose(host(g), 1j * np.conj(np.exp(data)))


# ---------------------------------------------------------------- errors
def test_backward_of_a_complex_scalar_needs_an_explicit_gradient(backend):
    z = make(_data((3,), "c", seed=5), backend, dtype="complex128")
    with pytest.raises(RuntimeError, match="only for real scalar outputs"):
        ag.sum(z * z).backward()
    with pytest.raises(RuntimeError, match="only for real scalar outputs"):
        ag.grad(lambda a: ag.sum(a))(z)


def test_ops_without_complex_rules_refuse_complex_inputs(backend):
    """Refused before the forward runs: the same error on every backend, whether or not
    its library computes the function for complex numbers."""
    z = make(_data((3, 3), "c", seed=6), backend, dtype="complex128")
    x = make(random((3, 3)), backend)
    refused = [("sigmoid", lambda: ag.sigmoid(z)), ("softplus", lambda: ag.softplus(z)),
               ("erf", lambda: ag.erf(z)), ("logsumexp", lambda: ag.logsumexp(z)),
               ("maximum", lambda: ag.maximum(z, z)), ("max", lambda: ag.max(z)),
               ("maximum", lambda: ag.maximum(x, z))]  # x is promoted first
    for name, fn in refused:
        with pytest.raises(TypeError, match=f"{name} does not support complex inputs"):
            fn()
    with ag.no_grad():  # nothing recorded, nothing refused
        ag.tanh(z)


def test_vecdot_conjugates_its_first_argument_as_the_standard_says(backend):
    a, b = (_data((2, 3), "c", seed=s) for s in (7, 8))
    got = ag.vecdot(make(a, backend, dtype="complex128"), make(b, backend, dtype="complex128"))
    assert np.allclose(host(got), np.sum(np.conj(a) * b, axis=-1), rtol=1e-12, atol=0)


def test_eig_refuses_a_loss_that_depends_on_the_eigenvectors_phase(backend):
    z = make(_data((3, 3), "c", seed=11), backend, dtype="complex128")
    vectors = ag.linalg.eig(z).eigenvectors
    with pytest.raises(ValueError, match=r"linalg.eig of a matrix of shape \(3, 3\): the "
                                         "loss depends on the phase"):
        ag.sum(ag.real(vectors)).backward()


def test_eigh_refuses_a_loss_that_depends_on_the_eigenvectors_phase(backend):
    z = make(_data((3, 3), "c", seed=13), backend, dtype="complex128")
    vectors = ag.linalg.eigh(_hermitian(z)).eigenvectors
    with pytest.raises(ValueError, match="linalg.eigh of a matrix of shape"):
        ag.sum(ag.real(vectors)).backward()


def test_svd_refuses_a_loss_that_depends_on_the_singular_vectors_phase(backend):
    z = make(_data((3, 4), "c", seed=19), backend, dtype="complex128")
    u = ag.linalg.svd(z, full_matrices=False).U
    with pytest.raises(ValueError, match="linalg.svd of a matrix of shape .* phases of the "
                                         "singular vectors"):
        ag.sum(ag.imag(u)).backward()


def test_hermitian_factorisations_agree_with_torch_on_hermitian_directions():
    """Both gradients must give every Hermitian direction dA the same directional
    derivative; anygrad's is Hermitian itself, PyTorch's need not be."""
    if torch is None:
        pytest.skip("torch is not installed")
    h = _data((4, 4), "c", seed=14)
    a = h @ np.conj(h.T) + 3.0 * np.eye(4)
    w = _data((4, 4), "c", seed=15)
    directions = [d + np.conj(d.T) for d in (_data((4, 4), "c", seed=s) for s in (16, 17, 18))]

    def ours(f):
        x = make(a, "numpy", dtype="complex128")
        f(x).backward()
        return host(x.grad)

    def theirs(f):
        t = torch.tensor(a, requires_grad=True)
        f(t).backward()
        return t.grad.numpy()

    values = ag.linalg.eigvalsh(make(a, "numpy", dtype="complex128"))
    assert values.dtype == ag.float64  # real, as numpy's
    np.testing.assert_allclose(host(values), np.linalg.eigvalsh(a), rtol=1e-12)
    weights = ag.tensor(w)
    cases = [
        (lambda x: ag.sum(ag.real(ag.linalg.cholesky(x) * weights)),
         lambda t: (torch.linalg.cholesky(t) * torch.tensor(w)).real.sum()),
        (lambda x: (lambda r: ag.sum(r.eigenvalues ** 2) + ag.sum(ag.abs(r.eigenvectors) ** 3))(
            ag.linalg.eigh(x)),
         lambda t: (lambda r: (r[0] ** 2).sum() + (r[1].abs() ** 3).sum())(torch.linalg.eigh(t))),
    ]
    for f, g in cases:
        mine, reference = ours(f), theirs(g)
        np.testing.assert_allclose(mine, np.conj(mine.T), atol=1e-12)
        for d in directions:
            np.testing.assert_allclose(np.sum(np.real(np.conj(mine) * d)),
                                       np.sum(np.real(np.conj(reference) * d)), rtol=1e-10)


def test_eig_against_torch():
    if torch is None:
        pytest.skip("torch is not installed")
    for kind in "rc":
        data = _data((2, 4, 4), kind, seed=12)
        x = make(data, "numpy", dtype="complex128" if kind == "c" else "float64")
        ours = ag.linalg.eig(x)
        t = torch.tensor(data, requires_grad=True)
        values, vectors = torch.linalg.eig(t)
        np.testing.assert_allclose(host(ours.eigenvalues), values.detach().numpy(), atol=1e-12)
        weights = np.arange(4.0)
        loss = ag.sum(ag.real(ours.eigenvalues) * ag.imag(ours.eigenvalues)) + ag.sum(
            ag.abs(ours.eigenvectors) ** 3 * ag.tensor(weights))
        loss.backward()
        (torch.sum(values.real * values.imag)
         + torch.sum(vectors.abs() ** 3 * torch.tensor(weights))).backward()
        assert x.grad.dtype == x.dtype
        np.testing.assert_allclose(host(x.grad), t.grad.numpy(), atol=1e-10)


def test_fft_argument_errors(backend):
    z = make(_data((4,), "c", seed=7), backend, dtype="complex128")
    with pytest.raises(TypeError, match="fft.rfft: expects a real input, got complex128"):
        fft.rfft(z)
    with pytest.raises(ValueError, match="fft.fft: norm must be one of"):
        fft.fft(z, norm="unitary")
    with pytest.raises(ValueError, match="fft.fftn: s .* and axes .* differ in length"):
        fft.fftn(z, s=(4, 4), axes=(0,))
    with pytest.raises(ValueError, match=r"fft.fft: axes \(3,\) out of range"):
        fft.fft(z, axis=3)
    with pytest.raises(ValueError, match=r"fft.irfftn: no axes to transform"):
        fft.irfftn(z, axes=())
    with pytest.raises(ValueError, match=r"fft.irfft: the output size 2 \* \(1 - 1\)"):
        fft.irfft(z[:1])


def test_a_backend_without_fft_is_named(backend, monkeypatch):
    import types

    b = ag.get_backend(backend)
    x = make(random((4,)), backend)
    bare = types.SimpleNamespace(**{n: getattr(b.xp, n) for n in dir(b.xp)
                                    if not n.startswith("__") and n != "fft"})
    monkeypatch.setattr(b, "xp", bare)
    with pytest.raises(NotImplementedError, match=f"fft.rfft: the '{backend}' backend's "
                                                  "namespace has no fft extension"):
        fft.rfft(x)
    with pytest.raises(NotImplementedError, match=f"fft.fftfreq: the '{backend}' backend"):
        fft.fftfreq(4, backend=backend)
    np.testing.assert_allclose(host(fft.fftshift(x)), np.fft.fftshift(host(x)))  # a roll


# ---------------------------------------------------------------- values
VALUES = [
    ("fft", {"n": 6}, "c"), ("ifft", {"axis": 0, "norm": "ortho"}, "c"),
    ("fftn", {"s": (2, 3)}, "c"), ("ifftn", {"axes": (1,), "norm": "forward"}, "c"),
    ("rfft", {"n": 7}, "r"), ("irfft", {}, "c"), ("irfft", {"n": 5, "axis": 0}, "c"),
    ("rfftn", {"norm": "ortho"}, "r"), ("irfftn", {"s": (3, 4)}, "c"),
    ("hfft", {"n": 7, "norm": "forward"}, "c"), ("ihfft", {}, "r"),
    ("fftshift", {}, "c"), ("ifftshift", {"axes": 1}, "r"),
]


@pytest.mark.parametrize("name,kwargs,kind", VALUES, ids=[f"{v[0]}{v[1]}" for v in VALUES])
def test_values_match_numpy(name, kwargs, kind, backend):
    data = _data((3, 4), kind, seed=8)
    x = make(data, backend, dtype="complex128" if kind == "c" else "float64",
             requires_grad=False)
    got = host(getattr(fft, name)(x, **kwargs))
    if "s" in kwargs and "axes" not in kwargs:  # the standard's default, spelled out for numpy
        kwargs = {**kwargs, "axes": tuple(range(-len(kwargs["s"]), 0))}
    np.testing.assert_allclose(got, getattr(np.fft, name)(data, **kwargs), atol=1e-12)


def test_reductions_of_complex_numbers_match_numpy(backend):
    data = _data((3, 4), "c", seed=11)
    z = make(data, backend, dtype="complex128", requires_grad=False)
    for ours, theirs in [(ag.var(z, axis=0), np.var(data, axis=0)),
                         (ag.std(z, correction=1), np.std(data, ddof=1)),
                         (ag.vector_norm(z, axis=1), np.linalg.norm(data, axis=1)),
                         (ag.vector_norm(z, ord=3), np.sum(np.abs(data) ** 3) ** (1 / 3)),
                         (ag.prod(z, axis=1), np.prod(data, axis=1)),
                         (ag.cumulative_prod(z, axis=0), np.cumprod(data, axis=0))]:
        np.testing.assert_allclose(host(ours), theirs, atol=1e-12)
    assert ag.var(z).dtype == ag.float64 and ag.vector_norm(z).dtype == ag.float64


def test_frequencies_are_constants_like_numpy(backend):
    f = fft.fftfreq(5, d=0.5)
    assert f.dtype == ag.float64 and not f.requires_grad
    np.testing.assert_allclose(host(f), np.fft.fftfreq(5, d=0.5))
    np.testing.assert_allclose(host(fft.rfftfreq(6, dtype="float32")), np.fft.rfftfreq(6))
    assert fft.rfftfreq(6, dtype="float32").dtype == ag.float32


def test_the_namespaces_expose_fft(backend):
    x = make(random((4,)), backend)
    xp = x.__array_namespace__()
    assert xp.fft.rfft is ag.fft.rfft and ag.fft.rfft is ag.ops.fft.rfft
    assert xp.complex128 == ag.complex128
    assert {"fft", "ifft", "fftn", "ifftn", "rfft", "irfft", "rfftn", "irfftn", "hfft", "ihfft",
            "fftfreq", "rfftfreq", "fftshift", "ifftshift"} <= set(ag.ops.registry.extension("fft"))


def test_float32_keeps_single_precision(backend):
    x = ag.tensor(np.ones(4, dtype="float32"), backend=backend, requires_grad=True)
    y = fft.rfft(x)
    assert y.dtype == ag.complex64
    ag.sum(ag.abs(fft.fft(x))).backward()
    assert x.grad.dtype == ag.float32


def test_numpy_code_with_complex_numbers_and_ffts_is_differentiated(backend):
    data = random((6,))
    x = make(data, backend)
    # plain numpy: a power spectrum, its angles, a shifted spectrum's imaginary part
    z = np.fft.rfft(x, 8)
    loss = (np.sum(np.abs(z) ** 2) + np.sum(np.angle(z[1:3] + 2.0, deg=True))
            + np.sum(np.imag(np.fft.fftshift(np.conj(np.fft.fft(x, norm="ortho"))) * 1j)))
    assert isinstance(loss, ag.Tensor)
    assert ag.gradcheck(lambda a: ag.sum(ag.abs(np.fft.rfft(a, 8)) ** 2)
                        + ag.sum(np.angle(np.fft.rfft(a, 8)[1:3] + 2.0, deg=True))
                        + ag.sum(np.imag(np.fft.fftshift(np.conj(np.fft.fft(a, norm="ortho")))
                                         * 1j)), [x])
    loss.backward()
    assert x.grad.dtype == ag.float64


# ---------------------------------------------------------------- against torch
torch_cases = [
    ("abs_angle", lambda a: ag.abs(a) * ag.angle(a), lambda a: a.abs() * a.angle(), "c"),
    ("parts", lambda a: ag.real(a) * ag.imag(a * a) + ag.conj(a) * a,
     lambda a: a.real * (a * a).imag + a.conj() * a, "c"),
    ("holomorphic", lambda a: ag.exp(a) / (a * a + 2.0) + ag.sqrt(a) * ag.sin(a),
     lambda a: a.exp() / (a * a + 2.0) + a.sqrt() * a.sin(), "c"),
    ("fft_fft", lambda a: ag.fft.fft(a, n=6, norm="ortho"),
     lambda a: torch.fft.fft(a, n=6, norm="ortho"), "c"),
    ("fft_ifftn", lambda a: ag.fft.ifftn(a, s=(2, 5)), lambda a: torch.fft.ifftn(a, s=(2, 5)), "c"),
    ("fft_rfft", lambda a: ag.fft.rfft(a, n=7), lambda a: torch.fft.rfft(a, n=7), "r"),
    ("fft_irfft", lambda a: ag.fft.irfft(a, n=7, axis=0),
     lambda a: torch.fft.irfft(a, n=7, dim=0), "c"),
    ("fft_rfftn_irfftn", lambda a: ag.fft.irfftn(ag.fft.rfftn(a) * 1j, s=(3, 5)),
     lambda a: torch.fft.irfftn(torch.fft.rfftn(a) * 1j, s=(3, 5)), "r"),
    ("fft_hfft_ihfft", lambda a: ag.fft.hfft(a, norm="forward") + ag.real(ag.fft.ihfft(
        ag.real(a), n=8)[..., :1]), lambda a: torch.fft.hfft(a, norm="forward")
     + torch.fft.ihfft(a.real, n=8)[..., :1].real, "c"),
]


@pytest.mark.parametrize("case", torch_cases, ids=[c[0] for c in torch_cases])
def test_against_torch(case):
    if torch is None:
        pytest.skip("torch is not installed")
    name, ours, theirs, kind = case
    data = _data((3, 4), kind, seed=9)
    x = make(data, "numpy", dtype="complex128" if kind == "c" else "float64")
    out = ours(x)
    t = torch.tensor(data, requires_grad=True)
    expected = theirs(t)
    np.testing.assert_allclose(host(out), expected.detach().numpy(), atol=1e-12)
    cot = _data(tuple(out.shape), "c" if out.dtype == ag.complex128 else "r", seed=10)
    out.backward(ag.tensor(cot))
    expected.backward(torch.tensor(cot))
    assert x.grad.dtype == x.dtype
    np.testing.assert_allclose(host(x.grad), t.grad.numpy(), atol=1e-12)
