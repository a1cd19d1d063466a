"""Special functions against scipy.special over wide ranges, tails included, and their
derivatives: central differences at first and second order, scipy's derivative
identities, and HIPS autograd."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import anygrad as ag
import anygrad.scipy.special as special
from conftest import make

sc = pytest.importorskip("scipy.special")

LINE = np.concatenate([np.linspace(-30.0, 30.0, 1201), -np.logspace(-300, 3, 80),
                       np.logspace(-300, 3, 80)])
POSITIVE = np.concatenate([np.logspace(-300, 300, 301), np.linspace(0.01, 30.0, 600)])
NEGATIVE = -np.linspace(0.013, 50.0, 700)  # no negative integer among them
UNIT = np.concatenate([np.linspace(-0.999999, 0.999999, 801), 1 - np.logspace(-16, -1, 60),
                       -1 + np.logspace(-16, -1, 60), np.logspace(-300, -1, 60)])
PROBABILITY = np.concatenate([np.linspace(1e-6, 1 - 1e-6, 801), np.logspace(-300, -1, 80),
                              1 - np.logspace(-16, -1, 60)])
BESSEL = np.concatenate([np.linspace(-700.0, 700.0, 1401), np.logspace(-300, 2.8, 80)])
# Subnormal results (erfc past 26.5, ndtr past -37.5) are compared absolutely: scipy
# flushes them to 0 where anygrad keeps the subnormal.
TINY = 1e-300
# scipy's erfc and ndtr round x^2 (or x / sqrt 2) before their exponential, an error of
# about x^2 ulps in the tails (5e-14 at x = 24, 2e-13 for ndtr at -40), and its digamma
# loses some 20 ulps between the negative poles; anygrad's are exact to a few ulps there
# (see the mpmath test below), so the comparison with scipy is as loose as scipy's error.
TAIL = 1e-13
TAIL_NDTR = 5e-13

# name, anygrad function, scipy function, points, rtol, atol
VALUES = [
    ("erf", ag.erf, sc.erf, LINE, 1e-15, 0),
    ("erfc", ag.erfc, sc.erfc, LINE, TAIL, TINY),
    ("erfcx", ag.erfcx, sc.erfcx, np.concatenate([LINE, np.logspace(0, 300, 60)]), TAIL, 0),
    ("ndtr", ag.ndtr, sc.ndtr, 1.4 * LINE, TAIL_NDTR, TINY),
    ("log_ndtr", ag.log_ndtr, sc.log_ndtr,
     np.concatenate([1.4 * LINE, -np.logspace(0, 150, 60)]), TAIL_NDTR, TINY),
    ("erfinv", ag.erfinv, sc.erfinv, UNIT, 2e-15, 0),
    ("erfcinv", ag.erfcinv, sc.erfcinv, np.concatenate([1 - UNIT, 1 + UNIT]), 2e-15, 0),
    ("ndtri", ag.ndtri, sc.ndtri, PROBABILITY, 2e-15, 0),
    # gammaln and digamma lose relative accuracy next to their zeros (x = 1, 2 and
    # x ~ 1.46, and between the negative poles), as scipy's do: a few ulps of 1 there.
    ("gammaln", ag.gammaln, sc.gammaln, np.concatenate([POSITIVE, NEGATIVE]), 1e-14, 1e-15),
    ("digamma", ag.digamma, sc.digamma, np.concatenate([POSITIVE, NEGATIVE]), 5e-14, 1e-14),
    ("polygamma_1", lambda x: ag.polygamma(1, x), lambda x: sc.polygamma(1, x),
     np.concatenate([np.logspace(-5, 5, 200), NEGATIVE[:400]]), 1e-14, 0),
    ("polygamma_2", lambda x: ag.polygamma(2, x), lambda x: sc.polygamma(2, x),
     np.concatenate([np.logspace(-5, 5, 200), NEGATIVE[:400]]), 1e-12, 1e-14),
    ("polygamma_4", lambda x: ag.polygamma(4, x), lambda x: sc.polygamma(4, x),
     np.concatenate([np.logspace(-5, 5, 200), NEGATIVE[:400]]), 1e-13, 0),
    ("i0", ag.i0, sc.i0, BESSEL, 5e-15, 0),
    ("i1", ag.i1, sc.i1, BESSEL, 5e-15, 0),
    ("i0e", ag.i0e, sc.i0e, BESSEL, 5e-15, 0),
    ("i1e", ag.i1e, sc.i1e, BESSEL, 5e-15, 0),
    ("entr", ag.entr, sc.entr, np.concatenate([np.linspace(-1.0, 10.0, 221),
                                               np.logspace(-300, 300, 61)]), 1e-15, 0),
    ("logit", ag.logit, sc.logit, np.concatenate([np.linspace(0.0, 1.0, 1001),
                                                  np.logspace(-300, -1, 60)]), 1e-15, 1e-16),
    ("log_expit", special.log_expit, sc.log_expit, LINE, 1e-15, 0),
    ("gamma", special.gamma, sc.gamma, np.concatenate([np.linspace(0.01, 170.0, 400),
                                                       NEGATIVE[:300]]), 1e-12, 0),
]


def _quiet(fn, *args):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return fn(*args)


# XLA's log1p (jax's) is off by up to ~100 ulps for negative arguments (jnp.log1p(-0.41)
# has a relative error of 1e-14): the functions built on it (logit near 1/2, xlog1py) are
# checked on jax to that accuracy.
ELEMENTARY_RTOL = {"jax": 5e-14}


def _same_length(points, n=1024):
    """`points` spread over n values (ends kept): one array shape for every function, so
    that libraries which compile a kernel per shape (jax) compile each one once."""
    return points[np.round(np.linspace(0, len(points) - 1, n)).astype(int)]


@pytest.mark.parametrize("case", VALUES, ids=[c[0] for c in VALUES])
def test_values_match_scipy_in_float64(case, backend):
    name, fn, reference, points, rtol, atol = case
    points = _same_length(points)
    got = _quiet(fn, ag.tensor(points, backend=backend)).numpy()
    np.testing.assert_allclose(got, _quiet(reference, points),
                               rtol=max(rtol, ELEMENTARY_RTOL.get(backend, 0.0)), atol=atol,
                               err_msg=name)


@pytest.mark.parametrize("case", VALUES, ids=[c[0] for c in VALUES])
def test_float32_stays_float32_and_close(case, backend):
    name, fn, reference, points, rtol, atol = case
    # float32's own range: points and values that neither overflow nor underflow there
    # (nor are subnormal, which some libraries flush to zero).
    with np.errstate(over="ignore"):
        single = _same_length(points).astype(np.float32)
    want = _quiet(reference, single.astype(np.float64))
    keep = (np.isfinite(want) & (np.abs(want) > 1e-30) & (np.abs(want) < 1e30)
            & ((single == 0) | (np.abs(single) >= np.finfo(np.float32).tiny)))
    single = single[keep]
    got = _quiet(fn, ag.tensor(single, backend=backend))
    assert got.dtype == ag.float32, name
    np.testing.assert_allclose(got.numpy().astype(np.float64),
                               _quiet(reference, single.astype(np.float64)),
                               rtol=2e-5, atol=1e-6, err_msg=name)


def test_tails_to_double_precision_against_mpmath(backend):
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    x = np.array([1.3, 2.7, 5.7, 8.15, 12.345, 19.9, 24.35, 26.2])
    t = ag.tensor(x, backend=backend)
    cases = [(ag.erfc(t), mpmath.erfc, x), (ag.erfcx(-t / 3), lambda v: mpmath.exp(v * v)
              * mpmath.erfc(v), -x / 3), (ag.ndtr(-t * 1.4), mpmath.ncdf, -x * 1.4),
             (ag.log_ndtr(-t * 10), lambda v: mpmath.log(mpmath.ncdf(v)), -x * 10),
             (ag.digamma(-t - 30.25), mpmath.digamma, -x - 30.25),
             (ag.gammaln(t * 3), lambda v: mpmath.log(mpmath.gamma(v)), x * 3)]
    for got, exact, points in cases:
        want = np.array([float(exact(mpmath.mpf(float(v)))) for v in points])
        np.testing.assert_allclose(got.numpy(), want, rtol=2e-15)


def test_two_argument_values_match_scipy(backend):
    rng = np.random.default_rng(1)
    a = rng.uniform(0.05, 60.0, 300)
    b = rng.uniform(0.05, 60.0, 300)
    x = np.concatenate([[0.0, 0.0, 1.0, 0.0, 0.0], rng.uniform(-3.0, 3.0, 295)])
    y = np.concatenate([[0.0, 2.0, 0.0, np.nan, -1.0], rng.uniform(0.01, 5.0, 295)])
    t = {k: ag.tensor(v, backend=backend) for k, v in dict(a=a, b=b, x=x, y=y).items()}
    np.testing.assert_allclose(ag.betaln(t["a"], t["b"]).numpy(), sc.betaln(a, b),
                               rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(ag.beta(t["a"] / 10, t["b"] / 10).numpy(),
                               sc.beta(a / 10, b / 10), rtol=1e-13)
    # beta's sign for negative arguments
    np.testing.assert_allclose(ag.beta(-t["a"][:5] / 7, t["b"][:5]).numpy(),
                               sc.beta(-a[:5] / 7, b[:5]), rtol=1e-12)
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(ag.xlogy(t["x"], t["y"]).numpy(), sc.xlogy(x, y), rtol=1e-15)
        np.testing.assert_allclose(ag.xlog1py(t["x"], t["y"] - 1).numpy(),
                                   sc.xlog1py(x, y - 1),
                                   rtol=max(1e-15, ELEMENTARY_RTOL.get(backend, 0.0)))
        np.testing.assert_allclose(special.rel_entr(t["y"], t["x"]).numpy(),
                                   sc.rel_entr(y, x), rtol=1e-14)
    for d in (1, 2, 5):
        np.testing.assert_allclose(ag.multigammaln(t["a"] + 3, d).numpy(),
                                   sc.multigammaln(a + 3, d), rtol=1e-13)


def test_poles_and_domain_edges_as_scipy(backend):
    edges = np.array([0.0, -1.0, -2.0, 1.0, 2.0])
    t = ag.tensor(edges, backend=backend)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(ag.gammaln(t).numpy(), sc.gammaln(edges))
        np.testing.assert_array_equal(ag.digamma(t).numpy()[:3], sc.digamma(edges[:3]))
        for n in (1, 2):
            np.testing.assert_array_equal(ag.polygamma(n, t).numpy()[:3],
                                          sc.polygamma(n, edges[:3]))
        ends = np.array([-1.0, 1.0, 1.5, -1.5])
        np.testing.assert_array_equal(ag.erfinv(ag.tensor(ends, backend=backend)).numpy(),
                                      sc.erfinv(ends))
        ends = np.array([0.0, 2.0, 1.0, 3.0])
        np.testing.assert_array_equal(ag.erfcinv(ag.tensor(ends, backend=backend)).numpy(),
                                      sc.erfcinv(ends))


# Each op's own row is in the gradient-check table of test_ops_gradcheck (run at first and
# second order there and in test_higher_order); these are the branches that table does
# not reach, and the functions composed in scipy's spelling.
# name, function, input ranges (low, high) for each argument
GRADIENTS = [
    ("gammaln_negative", ag.gammaln, [(-2.9, -2.1)]),
    ("gammaln_large", ag.gammaln, [(14.0, 60.0)]),
    ("digamma_negative", ag.digamma, [(-0.9, -0.1)]),
    ("polygamma_negative", lambda x: ag.polygamma(1, x), [(-1.8, -1.2)]),
    ("erfinv_tail", ag.erfinv, [(0.99, 0.99999)]),
    ("i0_asymptotic", ag.i0, [(20.5, 26.0)]),
    ("i1_asymptotic", ag.i1, [(-26.0, -20.5)]),
    ("log_ndtr_far", ag.log_ndtr, [(-1e4, -1e3)]),
    ("xlogy_at_zero", lambda y: ag.xlogy(ag.zeros_like(y), y), [(0.1, 3.0)]),
    ("gamma", special.gamma, [(0.3, 4.0)]),
    ("log_expit", special.log_expit, [(-30.0, 30.0)]),
    ("rel_entr", special.rel_entr, [(0.1, 2.0), (0.1, 2.0)]),
    ("logsumexp_b", lambda a, b: special.logsumexp(a, axis=-1, b=b), [(-3.0, 3.0), (0.5, 2.0)]),
    ("softmax_all", special.softmax, [(-2.0, 2.0)]),
]


def _inputs(ranges, backend, shape=(3,)):
    rng = np.random.default_rng(3)
    return [make(rng.uniform(lo, hi, shape), backend) for lo, hi in ranges]


@pytest.mark.parametrize("case", GRADIENTS, ids=[c[0] for c in GRADIENTS])
def test_gradients_first_and_second_order(case, backend):
    name, fn, ranges = case
    inputs = _inputs(ranges, backend)
    assert ag.gradcheck(fn, inputs)
    assert ag.gradgradcheck(fn, inputs)


def _grad(fn, points, backend):
    x = make(points, backend)
    ag.sum(fn(x)).backward()
    return x.grad.numpy()


def test_derivatives_are_scipy_s_derivative_identities(backend):
    x = np.concatenate([np.linspace(0.05, 40.0, 50), -np.linspace(0.05, 9.9, 20) - 0.013])
    np.testing.assert_allclose(_grad(ag.gammaln, x, backend), sc.digamma(x), rtol=1e-13,
                               atol=1e-14)
    np.testing.assert_allclose(_grad(ag.digamma, x, backend), sc.polygamma(1, x), rtol=1e-13)
    np.testing.assert_allclose(_grad(lambda t: ag.polygamma(1, t), x, backend),
                               sc.polygamma(2, x), rtol=1e-12, atol=1e-14)
    b = np.linspace(-30.0, 30.0, 41)
    np.testing.assert_allclose(_grad(ag.i0, b, backend), sc.i1(b), rtol=1e-14)
    np.testing.assert_allclose(_grad(ag.i0e, b, backend), sc.i1e(b) - np.sign(b) * sc.i0e(b),
                               rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(_grad(ag.i1, b, backend), sc.ivp(1, b), rtol=1e-13)


def test_log_ndtr_gradient_stays_accurate_far_in_the_left_tail(backend):
    x = -np.logspace(0, 8, 30)
    # (log Phi)' = phi / Phi = sqrt(2 / pi) / erfcx(-x / sqrt 2), with scipy's erfcx.
    want = np.sqrt(2 / np.pi) / sc.erfcx(-x / np.sqrt(2))
    np.testing.assert_allclose(_grad(ag.log_ndtr, x, backend), want, rtol=1e-13)


def test_against_hips_autograd():
    autograd = pytest.importorskip("autograd")
    asp = pytest.importorskip("autograd.scipy.special")
    anp = pytest.importorskip("autograd.numpy")
    x = np.linspace(0.3, 6.0, 9)
    for name, ours in (("gammaln", ag.gammaln), ("digamma", ag.digamma), ("erfc", ag.erfc),
                       ("i0", ag.i0), ("i1", ag.i1), ("erfinv", ag.erfinv),
                       ("erfcinv", ag.erfcinv), ("logit", ag.logit)):
        points = x / 7 if name in ("erfinv", "erfcinv", "logit") else x
        theirs = autograd.elementwise_grad(getattr(asp, name))(points)
        np.testing.assert_allclose(_grad(ours, points, "numpy"), theirs, rtol=1e-12,
                                   err_msg=name)
    a, b = 1.7, 2.9
    want = autograd.grad(lambda a, b: anp.sum(asp.betaln(a, b)), argnum=(0, 1))(a, b)
    ta, tb = make(a, "numpy"), make(b, "numpy")
    ag.betaln(ta, tb).backward()
    np.testing.assert_allclose([float(ta.grad), float(tb.grad)], want, rtol=1e-12)


def test_scipy_spelling(backend):
    rng = np.random.default_rng(5)
    a = rng.uniform(-3.0, 3.0, (3, 4))
    b = rng.uniform(-1.0, 2.0, (3, 4))
    t = ag.tensor(a, backend=backend)
    for axis in (None, 0, 1):
        np.testing.assert_allclose(special.softmax(t, axis=axis).numpy(), sc.softmax(a, axis=axis),
                                   rtol=1e-14)
        np.testing.assert_allclose(special.log_softmax(t, axis=axis).numpy(),
                                   sc.log_softmax(a, axis=axis), rtol=1e-14)
        for keepdims in (False, True):
            out, sign = special.logsumexp(t, axis=axis, b=b, keepdims=keepdims, return_sign=True)
            want, want_sign = sc.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=True)
            np.testing.assert_allclose(out.numpy(), want, rtol=1e-13)
            np.testing.assert_array_equal(sign.numpy(), want_sign)
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(special.logsumexp(t, axis=1, b=b).numpy(),
                                   sc.logsumexp(a, axis=1, b=b), rtol=1e-13)
    assert special.psi is special.digamma and special.expit is ag.sigmoid
    assert float(special.polygamma(np.int64(1), 2.0)) == pytest.approx(sc.polygamma(1, 2.0),
                                                                       rel=1e-15)
    # Python numbers and backend arrays are taken as constants on the tensor's backend.
    mixed = special.xlogy(2.0, t[0] ** 2 + 1)
    assert mixed.backend.name == backend


def test_polygamma_order_must_be_one_integer():
    with pytest.raises(TypeError, match="polygamma"):
        special.polygamma(np.array([1, 2]), 2.0)
    with pytest.raises(TypeError, match="polygamma"):
        ag.polygamma(1.5, 2.0)
    with pytest.raises(TypeError, match="multigammaln"):
        ag.multigammaln(2.0, 0)
