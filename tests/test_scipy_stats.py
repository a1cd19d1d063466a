"""anygrad.scipy.stats against scipy.stats: values (broadcasting, tails, points outside the
support), gradients in every argument at first and second order, and HIPS autograd's
gradients for the same programs."""
from __future__ import annotations

import numpy as np
import pytest

import anygrad as ag
from anygrad.scipy import stats
from conftest import make

st = pytest.importorskip("scipy.stats")

rng = np.random.default_rng(7)
X = np.concatenate([np.linspace(-40.0, 40.0, 81), [-1e3, 1e3]])
Q = np.concatenate([np.linspace(0.001, 0.999, 41), [1e-300, 1e-30, 1 - 1e-15]])
POS = np.concatenate([np.linspace(0.0, 30.0, 61), [-1.0, -1e-3]])  # two outside the support
UNIT = np.concatenate([np.linspace(0.0, 1.0, 41), [-0.1, 1.1]])
K = np.array([0.0, 1.0, 2.0, 3.0, 7.0, 20.0, 2.5, -1.0])
LOC = rng.uniform(-2.0, 2.0, (3, 1))
SCALE = rng.uniform(0.5, 3.0, (3, 1))

# scipy's normal tails carry an error of about z^2 / 2 ulps (2e-13 at z = 40), which
# anygrad's ndtr and log_ndtr avoid (tests/test_special_functions.py checks them against
# mpmath): the tail comparisons are as loose as scipy's error.
TAIL = 5e-13

# A density is exp(log-density): its relative error is the log-density's absolute one,
# |log pdf| ulps (up to 800 here), whichever way it is formed.
PDF = 1e-12

# name, method name, arguments (numpy), rtol[, atol: where loc + scale z cancels]
VALUES = [
    ("norm_logpdf", "norm.logpdf", (X, LOC, SCALE), 1e-14),
    ("norm_pdf", "norm.pdf", (X, LOC, SCALE), PDF),
    ("norm_cdf", "norm.cdf", (X, LOC, SCALE), TAIL),
    ("norm_logcdf", "norm.logcdf", (X, LOC, SCALE), TAIL),
    ("norm_sf", "norm.sf", (X, LOC, SCALE), TAIL),
    ("norm_logsf", "norm.logsf", (X, LOC, SCALE), TAIL),
    ("norm_ppf", "norm.ppf", (Q, LOC, SCALE), 1e-14, 1e-14),
    ("norm_isf", "norm.isf", (Q, LOC, SCALE), 1e-14, 1e-14),
    ("t_logpdf", "t.logpdf", (X, np.array([[0.7], [3.0], [40.0]]), LOC, SCALE), 1e-13),
    ("t_pdf", "t.pdf", (X, np.array([[0.7], [3.0], [40.0]]), 0.5, 2.0), 1e-13),
    ("gamma_logpdf", "gamma.logpdf", (POS, np.array([[0.5], [1.0], [7.5]]), 0.0, SCALE), 1e-13),
    ("gamma_pdf", "gamma.pdf", (POS, np.array([[0.5], [1.0], [7.5]])), 1e-13),
    ("beta_logpdf", "beta.logpdf", (UNIT, np.array([[0.5], [2.0], [1.0]]),
                                     np.array([[0.7], [3.5], [1.0]])), 1e-13),
    ("beta_pdf", "beta.pdf", (UNIT * 4 - 1, 2.5, 3.0, -1.0, 4.0), 1e-13),
    ("expon_logpdf", "expon.logpdf", (POS, LOC, SCALE), 1e-14),
    ("expon_pdf", "expon.pdf", (POS, LOC, SCALE), 1e-14),
    ("expon_cdf", "expon.cdf", (POS, LOC, SCALE), 1e-14),
    ("expon_logcdf", "expon.logcdf", (POS[1:], 0.0, SCALE), 1e-14),
    ("expon_sf", "expon.sf", (POS, LOC, SCALE), 1e-14),
    ("expon_ppf", "expon.ppf", (Q, LOC, SCALE), 1e-14),
    # scipy's laplace.logpdf is the log of its pdf, -inf once that underflows (|z| > 745)
    ("laplace_logpdf", "laplace.logpdf", (X[:-2], LOC, SCALE), 1e-14),
    ("laplace_cdf", "laplace.cdf", (X, LOC, SCALE), 1e-14),
    ("logistic_logpdf", "logistic.logpdf", (X, LOC, SCALE), 1e-14),
    ("logistic_pdf", "logistic.pdf", (X, LOC, SCALE), PDF),
    ("logistic_cdf", "logistic.cdf", (X, LOC, SCALE), 1e-14),
    ("uniform_logpdf", "uniform.logpdf", (X / 20, LOC, SCALE), 1e-14),
    ("poisson_logpmf", "poisson.logpmf", (K, np.array([[0.3], [2.0], [15.0]])), 1e-13),
    ("poisson_pmf", "poisson.pmf", (K, np.array([[0.3], [2.0], [15.0]])), 1e-13),
    ("bernoulli_logpmf", "bernoulli.logpmf", (np.array([0.0, 1.0, 2.0, 0.5]),
                                               np.array([[0.1], [0.5], [0.97]])), 1e-14),
    ("binom_logpmf", "binom.logpmf", (K, np.array([[3.0], [10.0], [25.0]]), 0.3), 1e-12),
    ("binom_pmf", "binom.pmf", (K, 20.0, np.array([[0.1], [0.6]])), 1e-12),
]


def _method(module, dotted):
    family, method = dotted.split(".")
    return getattr(getattr(module, family), method)


@pytest.mark.parametrize("case", VALUES, ids=[c[0] for c in VALUES])
def test_values_match_scipy(case, backend):
    name, method, args, rtol = case[:4]
    atol = case[4] if len(case) > 4 else 1e-300
    with np.errstate(all="ignore"):
        want = _method(st, method)(*args)
        got = _method(stats, method)(*(ag.tensor(a, backend=backend) if isinstance(a, np.ndarray)
                                        else a for a in args))
    assert got.backend.name == backend
    np.testing.assert_allclose(got.numpy(), want, rtol=rtol, atol=atol, err_msg=name)


def test_python_numbers_and_arrays_take_the_tensor_s_dtype_and_backend(backend):
    x = ag.tensor(np.array([0.5, 1.5], dtype="float32"), backend=backend)
    assert stats.norm.logpdf(x, 1.0, 2).dtype == ag.float32
    assert stats.gamma.logpdf(x, 2.0).dtype == ag.float32
    assert stats.poisson.logpmf(ag.tensor(np.array([1, 2]), backend=backend), x).dtype == ag.float32
    # No tensor at all: Python numbers are on the current backend (and a numpy array, as
    # for every op, names the numpy backend).
    out = stats.norm.logpdf(0.5, 0.0, 2.0)
    np.testing.assert_allclose(out.numpy(), st.norm.logpdf(0.5, 0.0, 2.0), rtol=1e-15)
    assert out.backend.name == backend
    assert stats.norm.logpdf(np.array([0.0, 1.0]), 0.0, 1.0).backend.name == "numpy"


def test_frozen_distributions(backend):
    x = ag.tensor(X[:10], backend=backend)
    np.testing.assert_array_equal(stats.norm(1.0, 2.0).logpdf(x).numpy(),
                                  stats.norm.logpdf(x, 1.0, 2.0).numpy())
    np.testing.assert_array_equal(stats.t(3.0, scale=2.0).pdf(x).numpy(),
                                  stats.t.pdf(x, 3.0, scale=2.0).numpy())
    mean, cov = np.array([0.5, -1.0]), np.array([[2.0, 0.3], [0.3, 1.0]])
    points = ag.tensor(rng.normal(size=(4, 2)), backend=backend)
    np.testing.assert_array_equal(stats.multivariate_normal(mean, cov).logpdf(points).numpy(),
                                  stats.multivariate_normal.logpdf(points, mean, cov).numpy())


def _spd(d, seed):
    a = np.random.default_rng(seed).normal(size=(d, d))
    return a @ a.T + d * np.eye(d)


def test_multivariate_normal_values(backend):
    d = 3
    mean = rng.normal(size=d)
    cov = _spd(d, 1)
    x = rng.normal(size=(5, d))
    t = lambda a: ag.tensor(a, backend=backend)  # noqa: E731
    mvn = stats.multivariate_normal
    np.testing.assert_allclose(mvn.logpdf(t(x), t(mean), t(cov)).numpy(),
                               st.multivariate_normal.logpdf(x, mean, cov), rtol=1e-13)
    np.testing.assert_allclose(mvn.pdf(t(x), t(mean), t(cov)).numpy(),
                               st.multivariate_normal.pdf(x, mean, cov), rtol=1e-13)
    one = mvn.logpdf(t(x[0]), t(mean), t(cov))
    assert one.shape == ()
    np.testing.assert_allclose(float(one), st.multivariate_normal.logpdf(x[0], mean, cov),
                               rtol=1e-13)
    batch = rng.normal(size=(2, 4, d))
    np.testing.assert_allclose(mvn.logpdf(t(batch), t(mean), t(cov)).numpy(),
                               st.multivariate_normal.logpdf(batch, mean, cov), rtol=1e-13)
    # cov as the diagonal, as a number, and left out (the identity); mean left out
    diag = np.array([0.5, 2.0, 1.5])
    np.testing.assert_allclose(mvn.logpdf(t(x), t(mean), t(diag)).numpy(),
                               st.multivariate_normal.logpdf(x, mean, diag), rtol=1e-13)
    np.testing.assert_allclose(mvn.logpdf(t(x), t(mean), 2.5).numpy(),
                               st.multivariate_normal.logpdf(x, mean, 2.5), rtol=1e-13)
    np.testing.assert_allclose(mvn.logpdf(t(x), t(mean)).numpy(),
                               st.multivariate_normal.logpdf(x, mean), rtol=1e-13)
    np.testing.assert_allclose(mvn.logpdf(t(x), cov=t(cov)).numpy(),
                               st.multivariate_normal.logpdf(x, cov=cov), rtol=1e-13)
    # a one-dimensional normal takes a 1-d x as a batch of points, as scipy
    np.testing.assert_allclose(mvn.logpdf(t(x[:, 0]), 0.5, 2.0).numpy(),
                               st.multivariate_normal.logpdf(x[:, 0], 0.5, 2.0), rtol=1e-13)


def test_multivariate_normal_refuses_what_it_cannot_do(backend):
    x = ag.tensor(rng.normal(size=(4, 3)), backend=backend)
    with pytest.raises(NotImplementedError, match="allow_singular"):
        stats.multivariate_normal.logpdf(x, np.zeros(3), np.eye(3), allow_singular=True)
    with pytest.raises(ValueError, match="multivariate_normal.logpdf: x has 3 components"):
        stats.multivariate_normal.logpdf(x, np.zeros(2), np.eye(2))


def test_dirichlet_values(backend):
    alpha = np.array([0.7, 2.0, 3.5])
    x = rng.dirichlet(alpha, size=6).T  # components along the first axis, as scipy
    t = lambda a: ag.tensor(a, backend=backend)  # noqa: E731
    want = st.dirichlet.logpdf(x, alpha)
    np.testing.assert_allclose(stats.dirichlet.logpdf(t(x), t(alpha)).numpy(), want, rtol=1e-13)
    np.testing.assert_allclose(stats.dirichlet.logpdf(t(x[:-1]), t(alpha)).numpy(), want,
                               rtol=1e-12)
    np.testing.assert_allclose(stats.dirichlet.pdf(t(x[:, 0]), t(alpha)).numpy(),
                               st.dirichlet.pdf(x[:, 0], alpha), rtol=1e-13)
    with pytest.raises(ValueError, match="dirichlet.logpdf: x has 1 components"):
        stats.dirichlet.logpdf(t(x[:1]), t(alpha))


# name, function of tensors, input ranges (low, high) and shapes
GRADIENTS = [
    ("norm_logpdf", stats.norm.logpdf, [(-3.0, 3.0, (3,)), (-1.0, 1.0, ()), (0.5, 2.0, (3,))]),
    ("norm_logcdf", stats.norm.logcdf, [(-30.0, 3.0, (3,)), (-1.0, 1.0, ()), (0.5, 2.0, ())]),
    ("norm_cdf", stats.norm.cdf, [(-3.0, 3.0, (3,)), (-1.0, 1.0, ()), (0.5, 2.0, ())]),
    ("norm_ppf", stats.norm.ppf, [(0.02, 0.98, (3,)), (-1.0, 1.0, ()), (0.5, 2.0, ())]),
    ("t_logpdf", stats.t.logpdf, [(-3.0, 3.0, (3,)), (0.8, 9.0, (3,)), (-1.0, 1.0, ()),
                                  (0.5, 2.0, ())]),
    ("gamma_logpdf", stats.gamma.logpdf, [(0.2, 5.0, (3,)), (0.5, 4.0, (3,)), (-0.1, 0.1, ()),
                                          (0.5, 2.0, ())]),
    ("beta_logpdf", stats.beta.logpdf, [(0.1, 0.9, (3,)), (0.5, 4.0, (3,)), (0.5, 4.0, ())]),
    ("expon_logpdf", stats.expon.logpdf, [(0.5, 4.0, (3,)), (-0.2, 0.2, ()), (0.5, 2.0, ())]),
    ("laplace_logpdf", stats.laplace.logpdf, [(0.5, 4.0, (3,)), (-0.2, 0.2, ()), (0.5, 2.0, ())]),
    ("logistic_logpdf", stats.logistic.logpdf, [(-4.0, 4.0, (3,)), (-1.0, 1.0, ()),
                                                (0.5, 2.0, ())]),
    ("poisson_logpmf", lambda mu: stats.poisson.logpmf(np.array([0.0, 2.0, 5.0]), mu),
     [(0.5, 6.0, (3,))]),
    ("binom_logpmf", lambda p: stats.binom.logpmf(np.array([0.0, 2.0, 5.0]), 6.0, p),
     [(0.1, 0.9, (3,))]),
    ("bernoulli_logpmf", lambda p: stats.bernoulli.logpmf(np.array([0.0, 1.0, 1.0]), p),
     [(0.1, 0.9, (3,))]),
    ("dirichlet_logpdf", lambda x, alpha: stats.dirichlet.logpdf(x / ag.sum(x), alpha),
     [(0.2, 1.0, (3,)), (0.5, 3.0, (3,))]),
    # cov = A A^T + 3 I: symmetric positive definite whatever the perturbation of A
    ("multivariate_normal_logpdf", lambda x, mean, a: stats.multivariate_normal.logpdf(
        x, mean, ag.matmul(a, ag.matrix_transpose(a)) + 2.0 * ag.eye(2, dtype="float64")),
     [(-2.0, 2.0, (2, 2)), (-1.0, 1.0, (2,)), (-1.0, 1.0, (2, 2))]),
]


@pytest.mark.parametrize("case", GRADIENTS, ids=[c[0] for c in GRADIENTS])
def test_gradients_in_every_argument(case, backend):
    name, fn, ranges = case
    g = np.random.default_rng(11)
    inputs = [make(g.uniform(lo, hi, shape), backend) for lo, hi, shape in ranges]
    assert ag.gradcheck(fn, inputs)
    assert ag.gradgradcheck(fn, inputs)


def test_outside_the_support_the_gradient_is_zero_not_nan(backend):
    x = make(np.array([-1.0, 0.5, 2.0]), backend)
    a = make(2.5, backend)
    b = make(1.5, backend)
    out = stats.beta.logpdf(x, a, b)
    assert np.isneginf(out.numpy()[[0, 2]]).all()
    ag.sum(ag.where(ag.isfinite(out), out, 0.0)).backward()
    assert np.isfinite(a.grad.numpy()) and np.isfinite(b.grad.numpy())
    np.testing.assert_array_equal(x.grad.numpy()[[0, 2]], 0.0)


def test_against_hips_autograd():
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    ast = pytest.importorskip("autograd.scipy.stats")
    x = np.linspace(-2.0, 3.0, 5)

    def ours(fn, *args):
        tensors = [make(a, "numpy") for a in args]
        ag.sum(fn(*tensors)).backward()
        return [t.grad.numpy() for t in tensors]

    def theirs(fn, *args):
        return autograd.grad(lambda *a: anp.sum(fn(*a)), argnum=tuple(range(len(args))))(*args)

    # mine, autograd's, the arguments, how many leading ones are constants
    cases = [
        (stats.norm.logpdf, ast.norm.logpdf, (x, 0.3, 1.7), 0),
        (stats.norm.logcdf, ast.norm.logcdf, (x, 0.3, 1.7), 0),
        (stats.t.logpdf, ast.t.logpdf, (x, 4.5, 0.3, 1.7), 0),
        (stats.gamma.logpdf, ast.gamma.logpdf, (x + 2.5, 3.2), 0),
        (stats.poisson.logpmf, ast.poisson.logpmf, (np.array([0.0, 1.0, 4.0]), 2.2), 1),
        (stats.dirichlet.logpdf, ast.dirichlet.logpdf,
         (np.array([0.2, 0.5, 0.3]), np.array([1.5, 2.0, 0.8])), 0),
    ]
    for mine, reference, args, first in cases:
        got = ours(lambda *a: mine(*args[:first], *a), *args[first:])
        want = theirs(lambda *a: reference(*args[:first], *a), *args[first:])
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-12, err_msg=repr(mine))
    mean = np.array([0.5, -1.0, 0.2])
    cov = _spd(3, 4)
    points = np.random.default_rng(2).normal(size=(4, 3))
    got = ours(stats.multivariate_normal.logpdf, points, mean, cov)
    want = theirs(ast.multivariate_normal.logpdf, points, mean, cov)
    for g, w in zip(got[:2], want[:2]):
        np.testing.assert_allclose(g, w, rtol=1e-12)
    # The covariance gradient: both are gradients of the same function of a symmetric
    # matrix, so their symmetric parts agree.
    np.testing.assert_allclose(got[2] + got[2].T, want[2] + want[2].T, rtol=1e-12, atol=1e-14)
