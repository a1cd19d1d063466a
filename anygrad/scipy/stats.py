"""scipy.stats' distributions in scipy's spelling: `norm.logpdf(x, loc, scale)`, and
frozen, `norm(loc, scale).logpdf(x)`.

Each density is written with anygrad's ops, so it is differentiable in every argument
that has a derivative (x, loc, scale, shape parameters, cov) on every backend.
Arguments may be tensors, backend arrays or Python numbers and broadcast as in scipy.
Outside a distribution's support a log-density is -inf (a density 0) with gradient 0;
argument values are not checked (that would read them back to the host): an invalid
scale, say, gives nan as the arithmetic does.
"""
from __future__ import annotations

import math

from .. import creation, ops
from ..ops.special import _tensors
from . import special

_LOG_SQRT_TWO_PI = 0.5 * math.log(2.0 * math.pi)
_INF = float("inf")
_LOG_TWO = math.log(2.0)


def _on_support(inside, value_at, z, fill):
    """value_at(z) where `inside`, -inf elsewhere. z is first replaced by `fill`
    outside, so that neither the value nor its gradient is ever formed from a point
    where the formula is undefined (a nan there would reach the gradient through where)."""
    safe = ops.where(inside, z, fill)
    return ops.where(inside, value_at(safe), -_INF)


def _standardised(x, loc, scale):
    x, loc, scale = _tensors(x, loc, scale)
    return (x - loc) / scale, scale


class _Family:
    """A distribution family: its methods take the parameters after the point, as
    scipy's do; calling the family freezes parameters, as scipy's `norm(0, 2)`."""

    def __call__(self, *args, **kwargs):
        return _Frozen(self, args, kwargs)

    def __repr__(self):
        return f"anygrad.scipy.stats.{type(self).__name__.removesuffix('_gen')}"


class _Frozen:
    def __init__(self, family, args, kwargs):
        self._family, self._args, self._kwargs = family, args, kwargs

    def __getattr__(self, name):
        method = getattr(self._family, name)

        def frozen(point, **kwargs):
            return method(point, *self._args, **self._kwargs, **kwargs)

        return frozen

    def __repr__(self):
        return f"{self._family!r}(*{self._args!r}, **{self._kwargs!r})"


class _Continuous(_Family):
    """pdf from logpdf, for the families that define logpdf."""

    def pdf(self, x, *args, **kwargs):
        return ops.exp(self.logpdf(x, *args, **kwargs))


class _Discrete(_Family):
    def pmf(self, k, *args, **kwargs):
        return ops.exp(self.logpmf(k, *args, **kwargs))


# ---------------------------------------------------------------- univariate, continuous
class norm_gen(_Continuous):
    def logpdf(self, x, loc=0.0, scale=1.0):
        z, scale = _standardised(x, loc, scale)
        return -0.5 * z * z - ops.log(scale) - _LOG_SQRT_TWO_PI

    def cdf(self, x, loc=0.0, scale=1.0):
        return special.ndtr(_standardised(x, loc, scale)[0])

    def logcdf(self, x, loc=0.0, scale=1.0):
        return special.log_ndtr(_standardised(x, loc, scale)[0])

    def sf(self, x, loc=0.0, scale=1.0):
        return special.ndtr(-_standardised(x, loc, scale)[0])

    def logsf(self, x, loc=0.0, scale=1.0):
        return special.log_ndtr(-_standardised(x, loc, scale)[0])

    def ppf(self, q, loc=0.0, scale=1.0):
        q, loc, scale = _tensors(q, loc, scale)
        return loc + scale * special.ndtri(q)

    def isf(self, q, loc=0.0, scale=1.0):
        q, loc, scale = _tensors(q, loc, scale)
        return loc - scale * special.ndtri(q)


class t_gen(_Continuous):
    def logpdf(self, x, df, loc=0.0, scale=1.0):
        x, df, loc, scale = _tensors(x, df, loc, scale)
        z = (x - loc) / scale
        half = (df + 1.0) / 2.0
        return (special.gammaln(half) - special.gammaln(df / 2.0)
                - 0.5 * ops.log(df * math.pi) - ops.log(scale)
                - half * ops.log1p(z * z / df))


class gamma_gen(_Continuous):
    def logpdf(self, x, a, loc=0.0, scale=1.0):
        x, a, loc, scale = _tensors(x, a, loc, scale)
        z = (x - loc) / scale

        def inside(z):
            return special.xlogy(a - 1.0, z) - z - special.gammaln(a) - ops.log(scale)

        return _on_support(z >= 0, inside, z, 1.0)


class beta_gen(_Continuous):
    def logpdf(self, x, a, b, loc=0.0, scale=1.0):
        x, a, b, loc, scale = _tensors(x, a, b, loc, scale)
        z = (x - loc) / scale

        def inside(z):
            return (special.xlogy(a - 1.0, z) + special.xlog1py(b - 1.0, -z)
                    - special.betaln(a, b) - ops.log(scale))

        return _on_support((z >= 0) & (z <= 1), inside, z, 0.5)


class expon_gen(_Continuous):
    def logpdf(self, x, loc=0.0, scale=1.0):
        z, scale = _standardised(x, loc, scale)
        return _on_support(z >= 0, lambda z: -z - ops.log(scale), z, 0.0)

    def cdf(self, x, loc=0.0, scale=1.0):
        z = ops.clip(_standardised(x, loc, scale)[0], 0.0, None)
        return -ops.expm1(-z)

    def logcdf(self, x, loc=0.0, scale=1.0):
        # log(1 - e^{-z}): log of -expm1 near 0, log1p of -e^{-z} beyond log 2.
        z = ops.clip(_standardised(x, loc, scale)[0], 0.0, None)
        near = ops.log(-ops.expm1(-ops.clip(z, None, _LOG_TWO)))
        return ops.where(z < _LOG_TWO, near, ops.log1p(-ops.exp(-z)))

    def sf(self, x, loc=0.0, scale=1.0):
        return ops.exp(-ops.clip(_standardised(x, loc, scale)[0], 0.0, None))

    def ppf(self, q, loc=0.0, scale=1.0):
        q, loc, scale = _tensors(q, loc, scale)
        return loc - scale * ops.log1p(-q)


class laplace_gen(_Continuous):
    def logpdf(self, x, loc=0.0, scale=1.0):
        z, scale = _standardised(x, loc, scale)
        return -ops.abs(z) - ops.log(2.0 * scale)

    def cdf(self, x, loc=0.0, scale=1.0):
        z = _standardised(x, loc, scale)[0]
        half = 0.5 * ops.exp(-ops.abs(z))
        return ops.where(z > 0, 1.0 - half, half)


class logistic_gen(_Continuous):
    def logpdf(self, x, loc=0.0, scale=1.0):
        z, scale = _standardised(x, loc, scale)
        # -z - 2 log(1 + e^{-z}), written with |z| so that neither side overflows.
        a = ops.abs(z)
        return -a - 2.0 * ops.log1p(ops.exp(-a)) - ops.log(scale)

    def cdf(self, x, loc=0.0, scale=1.0):
        return special.expit(_standardised(x, loc, scale)[0])


class uniform_gen(_Continuous):
    def logpdf(self, x, loc=0.0, scale=1.0):
        z, scale = _standardised(x, loc, scale)
        return _on_support((z >= 0) & (z <= 1), lambda z: -ops.log(scale) + 0.0 * z, z, 0.5)


# ---------------------------------------------------------------- discrete
def _whole(k):
    """Where k is a non-negative integer: elsewhere a pmf is 0."""
    return (k >= 0) & (ops.floor(k) == k)


class poisson_gen(_Discrete):
    def logpmf(self, k, mu, loc=0):
        k, mu, loc = _tensors(k, mu, loc)
        k = k - loc
        return _on_support(_whole(k), lambda k: special.xlogy(k, mu) - special.gammaln(k + 1.0)
                           - mu, k, 0.0)


class bernoulli_gen(_Discrete):
    def logpmf(self, k, p, loc=0):
        k, p, loc = _tensors(k, p, loc)
        k = k - loc
        return _on_support((k == 0) | (k == 1),
                           lambda k: special.xlogy(k, p) + special.xlog1py(1.0 - k, -p), k, 0.0)


class binom_gen(_Discrete):
    def logpmf(self, k, n, p, loc=0):
        k, n, p, loc = _tensors(k, n, p, loc)
        k = k - loc

        def inside(k):
            combinations = (special.gammaln(n + 1.0) - special.gammaln(k + 1.0)
                            - special.gammaln(n - k + 1.0))
            return combinations + special.xlogy(k, p) + special.xlog1py(n - k, -p)

        return _on_support(_whole(k) & (k <= n), inside, k, 0.0)


# ---------------------------------------------------------------- multivariate
class multivariate_normal_gen(_Continuous):
    def logpdf(self, x, mean=None, cov=1, allow_singular=False):
        """x: points along its last axis (a 1-d x of a 1-d normal is a batch of points);
        the result drops that axis, as scipy's (a 0-d tensor for one point)."""
        if allow_singular:
            raise NotImplementedError(
                "multivariate_normal.logpdf: allow_singular=True (a degenerate covariance) "
                "is not supported by anygrad; pass a positive definite cov"
            )
        x, cov = _tensors(x, cov)
        dim = _dimension(mean, cov, x)
        if mean is None:
            mean = 0.0
        x, mean = _tensors(x, mean)
        cov = _matrix(cov, dim)
        if dim == 1 and (x.ndim == 0 or x.shape[-1] != 1):
            x = ops.expand_dims(x, axis=-1)
        if x.shape[-1] != dim:
            raise ValueError(f"multivariate_normal.logpdf: x has {x.shape[-1]} components "
                             f"along its last axis (shape {tuple(x.shape)}); the mean and cov "
                             f"have {dim}")
        low = ops.linalg.cholesky(cov)
        batch = tuple(x.shape[:-1])
        diff = ops.reshape(x - mean, (-1, dim))
        # The Mahalanobis term |L^{-1}(x - mean)|^2 and log det cov = 2 sum log diag L.
        whitened = ops.linalg.solve(low, ops.matrix_transpose(diff))
        distance = ops.sum(whitened * whitened, axis=0)
        log_det = 2.0 * ops.sum(ops.log(ops.diagonal(low)))
        out = -0.5 * (distance + log_det) - dim * _LOG_SQRT_TWO_PI
        return ops.reshape(out, batch)


def _dimension(mean, cov, x):
    if mean is not None:
        shape = getattr(mean, "shape", None)
        if shape is None:  # a list or a number
            return len(mean) if isinstance(mean, (list, tuple)) else 1
        return shape[-1] if len(shape) else 1
    if cov.ndim:
        return cov.shape[-1]
    return x.shape[-1] if x.ndim else 1


def _matrix(cov, dim):
    """scipy's cov: a matrix, a vector (the diagonal) or a number (times the identity)."""
    if cov.ndim == 2:
        return cov
    eye = creation.eye(dim, dtype=cov.dtype.name, backend=cov.backend, device=cov.device)
    return eye * (cov if cov.ndim == 0 else ops.expand_dims(cov, axis=0))


class dirichlet_gen(_Continuous):
    def logpdf(self, x, alpha):
        """x: components along its first axis, as scipy's (K or K - 1 of them, the last
        then implied), points along a second."""
        x, alpha = _tensors(x, alpha)
        if alpha.ndim != 1:
            raise ValueError(f"dirichlet.logpdf: alpha must be one vector, got shape "
                             f"{tuple(alpha.shape)}")
        k = alpha.shape[0]
        if x.shape[0] == k - 1:
            x = ops.concat([x, 1.0 - ops.sum(x, axis=0, keepdims=True)], axis=0)
        elif x.shape[0] != k:
            raise ValueError(f"dirichlet.logpdf: x has {x.shape[0]} components along its "
                             f"first axis (shape {tuple(x.shape)}); alpha has {k}")
        weights = ops.reshape(alpha, (k,) + (1,) * (x.ndim - 1))
        log_norm = ops.sum(special.gammaln(alpha)) - special.gammaln(ops.sum(alpha))
        return ops.sum(special.xlogy(weights - 1.0, x), axis=0) - log_norm


norm = norm_gen()
t = t_gen()
gamma = gamma_gen()
beta = beta_gen()
expon = expon_gen()
laplace = laplace_gen()
logistic = logistic_gen()
uniform = uniform_gen()
poisson = poisson_gen()
bernoulli = bernoulli_gen()
binom = binom_gen()
multivariate_normal = multivariate_normal_gen()
dirichlet = dirichlet_gen()

# Each family's own docstring: what it is and its parameters after the point, in order.
for _family, _doc in {
    norm: "The normal distribution N(loc, scale^2): logpdf, pdf, cdf, logcdf, sf, logsf, "
          "ppf and isf of (x, loc=0, scale=1).",
    t: "Student's t distribution with `df` degrees of freedom: logpdf and pdf of (x, df, "
       "loc=0, scale=1).",
    gamma: "The gamma distribution of shape `a`: logpdf and pdf of (x, a, loc=0, scale=1).",
    beta: "The beta distribution on [loc, loc + scale]: logpdf and pdf of (x, a, b, loc=0, "
          "scale=1).",
    expon: "The exponential distribution of mean `scale`: logpdf, pdf, cdf, logcdf, sf "
           "and ppf of (x, loc=0, scale=1).",
    laplace: "The Laplace distribution: logpdf, pdf and cdf of (x, loc=0, scale=1).",
    logistic: "The logistic distribution: logpdf, pdf and cdf of (x, loc=0, scale=1).",
    uniform: "The uniform distribution on [loc, loc + scale]: logpdf and pdf of (x, loc=0, "
             "scale=1).",
    poisson: "The Poisson distribution of mean `mu`: logpmf and pmf of (k, mu, loc=0).",
    bernoulli: "The Bernoulli distribution, 1 with probability `p`: logpmf and pmf of (k, "
               "p, loc=0).",
    binom: "The binomial distribution of `n` trials of probability `p`: logpmf and pmf of "
           "(k, n, p, loc=0).",
    multivariate_normal: "The multivariate normal distribution: logpdf and pdf of (x, "
                         "mean=None, cov=1); `cov` a matrix, its diagonal or a number.",
    dirichlet: "The Dirichlet distribution of concentrations `alpha`: logpdf and pdf of "
               "(x, alpha), components of x along its first axis.",
}.items():
    _family.__doc__ = _doc
del _family, _doc

__all__ = ["bernoulli", "beta", "binom", "dirichlet", "expon", "gamma", "laplace", "logistic",
           "multivariate_normal", "norm", "poisson", "t", "uniform"]
