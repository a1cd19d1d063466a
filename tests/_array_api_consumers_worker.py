"""Gradients of scikit-learn's and SciPy's Array API functions, run on anygrad tensors
(`python this.py BACKEND`), for tests/test_array_api_consumers.py.

Both libraries decide at import whether to dispatch on the Array API (SCIPY_ARRAY_API=1,
read once when scipy is first imported), so they run in a fresh process. Each case
calls an unmodified library function on float64 tensors; its value must equal the
library's own answer on numpy arrays, and its gradient (and gradient of the gradient)
must match central differences. The last line is `RESULT <json>`: case -> "ok" or
what went wrong.
"""
from __future__ import annotations

import json
import os
import sys
import traceback

os.environ["SCIPY_ARRAY_API"] = "1"  # before scipy or sklearn is imported

import numpy as np  # noqa: E402
import scipy.special as special  # noqa: E402
import scipy.stats as stats  # noqa: E402
import sklearn  # noqa: E402
from sklearn import metrics  # noqa: E402
from sklearn.metrics import pairwise  # noqa: E402
from sklearn.utils import extmath  # noqa: E402

import anygrad as ag  # noqa: E402

sklearn.set_config(array_api_dispatch=True)


def _data(shape, seed, low=-1.0, high=1.0):
    return np.random.default_rng(seed).uniform(low, high, size=shape)


POSITIVE = {"low": 0.5, "high": 2.0}
TARGET = _data((6, 2), 100)  # a fixed target the predictions are scored against

# name -> (function of the inputs, input shapes, input range): the inputs are the
# differentiated arguments; everything else is a constant.
CASES = {
    # scikit-learn, with array_api_dispatch
    "sklearn_r2_score": (lambda p: metrics.r2_score(
        _like(p, TARGET), p, multioutput="raw_values"), [(6, 2)], {}),
    "sklearn_mean_squared_error": (lambda p: metrics.mean_squared_error(
        _like(p, TARGET), p, multioutput="raw_values"), [(6, 2)], {}),
    "sklearn_explained_variance": (lambda p: metrics.explained_variance_score(
        _like(p, TARGET), p, multioutput="raw_values"), [(6, 2)], {}),
    "sklearn_mean_pinball_loss": (lambda p: metrics.mean_pinball_loss(
        _like(p, TARGET), p, alpha=0.3, multioutput="raw_values"), [(6, 2)], {}),
    "sklearn_rbf_kernel": (lambda x, y: pairwise.rbf_kernel(x, y, gamma=0.7), [(4, 3), (5, 3)],
                           {}),
    "sklearn_euclidean_distances": (pairwise.euclidean_distances, [(4, 3), (5, 3)], {}),
    "sklearn_cosine_similarity": (pairwise.cosine_similarity, [(4, 3), (5, 3)], {}),
    "sklearn_sigmoid_kernel": (lambda x, y: pairwise.sigmoid_kernel(x, y, gamma=0.5),
                               [(4, 3), (2, 3)], {}),
    "sklearn_polynomial_kernel": (lambda x, y: pairwise.polynomial_kernel(x, y, degree=3),
                                  [(4, 3), (2, 3)], {}),
    "sklearn_softmax": (lambda z: extmath.softmax(z, copy=True), [(4, 3)], {}),
    "sklearn_row_norms": (extmath.row_norms, [(4, 3)], {}),
    # scipy.special and scipy.stats, with SCIPY_ARRAY_API=1
    "scipy_logsumexp": (lambda x: special.logsumexp(x, axis=1), [(3, 4)], {}),
    "scipy_softmax": (lambda x: special.softmax(x, axis=0), [(3, 4)], {}),
    "scipy_log_softmax": (lambda x: special.log_softmax(x, axis=-1), [(3, 4)], {}),
    "scipy_erf": (special.erf, [(3, 4)], {}),
    "scipy_expit": (special.expit, [(3, 4)], {}),
    "scipy_xlogy": (special.xlogy, [(3, 4), (3, 4)], POSITIVE),
    "scipy_rel_entr": (special.rel_entr, [(3, 4), (3, 4)], POSITIVE),
    "scipy_entropy": (lambda p: stats.entropy(p, axis=1), [(3, 4)], POSITIVE),
    "scipy_relative_entropy": (lambda p, q: stats.entropy(p, q, axis=1), [(3, 4), (3, 4)],
                               POSITIVE),
    "scipy_zscore": (lambda x: stats.zscore(x, axis=1), [(3, 4)], {}),
    "scipy_skew": (lambda x: stats.skew(x, axis=1), [(3, 5)], {}),
    "scipy_kurtosis": (lambda x: stats.kurtosis(x, axis=0), [(6, 2)], {}),
    "scipy_moment": (lambda x: stats.moment(x, order=3, axis=1), [(3, 4)], {}),
    "scipy_variation": (lambda x: stats.variation(x, axis=1), [(3, 4)], POSITIVE),
    "scipy_gmean": (lambda x: stats.gmean(x, axis=1), [(3, 4)], POSITIVE),
    "scipy_hmean": (lambda x: stats.hmean(x, axis=1), [(3, 4)], POSITIVE),
    "scipy_pmean": (lambda x: stats.pmean(x, 2.5, axis=1), [(3, 4)], POSITIVE),
    "scipy_sem": (lambda x: stats.sem(x, axis=1), [(3, 4)], {}),
}


def _like(t, array):
    """A constant beside t: on t's backend for a tensor, a numpy array for numpy."""
    return ag.tensor(array, backend=t.backend.name) if isinstance(t, ag.Tensor) else array


def run(backend, name):
    fn, shapes, rng = CASES[name]
    arrays = [_data(s, seed=k, **rng) for k, s in enumerate(shapes)]
    inputs = [ag.tensor(a, dtype="float64", backend=backend, requires_grad=True) for a in arrays]
    out = fn(*inputs)
    if not isinstance(out, ag.Tensor) or not out.requires_grad:
        return f"returned {type(out).__name__}, not a tensor carrying a gradient"
    if out.backend.name != backend:
        return f"returned a tensor on {out.backend.name}, not {backend}"
    want = np.asarray(fn(*arrays), dtype=np.float64)  # the library's own answer on numpy
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-10, atol=1e-12,
                               err_msg=f"{name}: value on {backend} vs the library on numpy")
    ag.gradcheck(fn, inputs)
    ag.gradgradcheck(fn, inputs)
    return "ok"


def main(backend):
    results = {}
    for name in CASES:
        try:
            results[name] = run(backend, name)
        except Exception as exc:  # reported per case by the test
            results[name] = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=4)}"
    print("RESULT " + json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1])
