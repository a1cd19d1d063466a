"""anygrad.numpy: numpy's names, defaults and results over anygrad's ops.

Each function is run on the same data through numpy and through anygrad.numpy (on every
backend) and the results compared; the differentiable ones are gradient-checked, and
compared with HIPS autograd's numpy where it is installed."""
from __future__ import annotations

import math

import numpy
import pytest

import anygrad as ag
import anygrad.numpy as anp
from conftest import host, make, random


def _spd(m, a):
    return m.dot(a, a.T) + 3.0 * m.eye(a.shape[0])


VECTOR_ORDS = (1, 3, math.inf, -math.inf, 0)
MATRIX_ORDS = ("fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf)
# (id, function of a numpy-like module and the arrays, the arrays' shapes)
CASES = [
    ("dot 2-D", lambda m, a, b: m.dot(a, b), [(3, 4), (4, 2)]),
    ("dot N-D", lambda m, a, b: m.dot(a, b), [(2, 3, 4), (5, 4, 2)]),
    ("dot N-D 1-D", lambda m, a, b: m.dot(a, b), [(2, 3, 4), (4,)]),
    ("dot 1-D", lambda m, a, b: m.dot(a, b), [(4,), (4,)]),
    ("dot scalar", lambda m, a, b: m.dot(a[0], b), [(3,), (2, 3)]),
    ("vdot", lambda m, a, b: m.vdot(a, b), [(2, 3), (3, 2)]),
    ("outer N-D", lambda m, a, b: m.outer(a, b), [(2, 3), (2, 2)]),
    ("inner", lambda m, a, b: m.inner(a, b), [(2, 3), (4, 3)]),
    ("tensordot", lambda m, a, b: m.tensordot(a, b, axes=([1, 2], [0, 1])), [(2, 3, 4), (3, 4, 2)]),
    ("einsum", lambda m, a, b: m.einsum("ij,jk->ik", a, b), [(2, 3), (3, 4)]),
    ("cross", lambda m, a, b: m.cross(a, b), [(4, 3), (4, 3)]),
    ("kron", lambda m, a, b: m.kron(a, b), [(2, 3), (2, 2)]),
    ("vecdot", lambda m, a, b: m.vecdot(a, b, axis=0), [(3, 2), (3, 1)]),
    ("nan reductions", lambda m, a: [f(m.where(a > 0.5, m.nan, a), axis=1) for f in (
        m.nansum, m.nanmean, m.nanmax, m.nanmin)], [(3, 4)]),
    ("array api names", lambda m, a: [m.concat([a, a]), m.permute_dims(a, (1, 0)),
                                      m.cumulative_sum(a, axis=1), m.matrix_transpose(a)],
     [(2, 3)]),
    ("trace", lambda m, a: m.trace(a, offset=1), [(3, 4)]),
    ("trace axes", lambda m, a: m.trace(a, axis1=1, axis2=2), [(2, 3, 3)]),
    ("diagonal", lambda m, a: m.diagonal(a, 1, 0, 2), [(3, 2, 4)]),
    ("take flat", lambda m, a: m.take(a, m.asarray([[0, 5], [2, 1]])), [(2, 3)]),
    ("take axis", lambda m, a: m.take(a, [2, 0, 2], axis=1), [(2, 3)]),
    ("take_along_axis", lambda m, a: m.take_along_axis(a, m.argsort(a, axis=1), axis=1), [(2, 3)]),
    ("ravel", lambda m, a: m.ravel(a), [(2, 3)]),
    ("reshape", lambda m, a: m.reshape(a, (3, -1)), [(2, 3)]),
    ("atleast_1d", lambda m, a: m.atleast_1d(a[0, 0]), [(2, 3)]),
    ("atleast_2d", lambda m, a: m.atleast_2d(a[0]), [(2, 3)]),
    ("atleast_3d 1-D", lambda m, a: m.atleast_3d(a[0]), [(2, 3)]),
    ("atleast_3d 2-D", lambda m, a: m.atleast_3d(a), [(2, 3)]),
    ("squeeze", lambda m, a: m.squeeze(a), [(1, 3, 1)]),
    ("expand_dims", lambda m, a: m.expand_dims(a, (0, 3)), [(2, 3)]),
    ("transpose", lambda m, a: m.transpose(a), [(2, 3, 4)]),
    ("transpose axes", lambda m, a: m.transpose(a, (1, 0, 2)), [(2, 3, 4)]),
    ("swapaxes", lambda m, a: m.swapaxes(a, 0, -1), [(2, 3, 4)]),
    ("moveaxis", lambda m, a: m.moveaxis(a, 0, -1), [(2, 3, 4)]),
    ("sum", lambda m, a: m.sum(a), [(2, 3, 4)]),
    ("sum axes", lambda m, a: m.sum(a, axis=(0, 2), keepdims=True), [(2, 3, 4)]),
    ("mean", lambda m, a: m.mean(a, axis=1), [(2, 3)]),
    ("prod", lambda m, a: m.prod(a, axis=0), [(2, 3)]),
    ("max", lambda m, a: m.max(a, axis=1), [(2, 3)]),
    ("amin", lambda m, a: m.amin(a), [(2, 3)]),
    ("std ddof", lambda m, a: m.std(a, ddof=1), [(2, 3)]),
    ("var axis", lambda m, a: m.var(a, axis=0, ddof=1), [(3, 2)]),
    ("argmax flat", lambda m, a: m.argmax(a), [(2, 3)]),
    ("argmin axis", lambda m, a: m.argmin(a, axis=1), [(2, 3)]),
    ("cumsum flat", lambda m, a: m.cumsum(a), [(2, 3)]),
    ("cumprod axis", lambda m, a: m.cumprod(a, axis=1), [(2, 3)]),
    ("median", lambda m, a: m.median(a, axis=1), [(2, 4)]),
    ("average", lambda m, a, w: m.average(a, axis=1, weights=w + 2.0, returned=True),
     [(2, 3), (3,)]),
    ("average counts", lambda m, a: m.average(a, axis=0, returned=True), [(2, 3)]),
    ("linspace of arrays", lambda m, a, b: m.linspace(a, b, 4, axis=1), [(2,), (2,)]),
    ("logspace of arrays", lambda m, a, b: m.logspace(a, b, 3, endpoint=False), [(2,), (2,)]),
    ("sort flat", lambda m, a: m.sort(a, axis=None), [(2, 3)]),
    ("sort axis", lambda m, a: m.sort(a, axis=0, kind="mergesort"), [(3, 2)]),
    ("argsort", lambda m, a: m.argsort(a), [(2, 3)]),
    ("clip", lambda m, a: m.clip(a, -0.5, 0.5), [(2, 3)]),
    ("abs sign", lambda m, a: m.abs(a) * m.sign(a), [(2, 3)]),
    ("exp log", lambda m, a: m.exp(a) + m.log(m.abs(a) + 1.0), [(2, 3)]),
    ("trig", lambda m, a: m.sin(a) * m.tanh(a) + m.arctan2(a, 2.0), [(2, 3)]),
    ("logaddexp", lambda m, a, b: m.logaddexp(a, b), [(2, 3), (3,)]),
    ("maximum", lambda m, a, b: m.maximum(a, b) - m.minimum(a, b), [(2, 3), (2, 3)]),
    ("power hypot", lambda m, a, b: m.power(m.abs(a) + 1.0, b) + m.hypot(a, b), [(2, 3), (2, 3)]),
    ("cbrt exp2", lambda m, a: m.cbrt(a) + m.exp2(a), [(2, 3)]),
    ("sinc deg2rad", lambda m, a: m.sinc(a) + m.deg2rad(a), [(2, 3)]),
    ("fmod mod", lambda m, a, b: m.fmod(3.0 * a, b) + m.mod(3.0 * a, b), [(2, 3), (3,)]),
    ("round", lambda m, a: m.round(a * 100.0, 1), [(2, 3)]),
    ("floor", lambda m, a: m.floor(a * 3.0) + m.ceil(a), [(2, 3)]),
    ("concatenate flat", lambda m, a, b: m.concatenate([a, b], axis=None), [(2, 3), (3,)]),
    ("stack", lambda m, a, b: m.stack([a, b], axis=1), [(2, 3), (2, 3)]),
    ("hstack", lambda m, a, b: m.hstack([a, b]), [(2, 3), (2, 1)]),
    ("hstack 1-D", lambda m, a, b: m.hstack([a, b]), [(3,), (2,)]),
    ("vstack", lambda m, a, b: m.vstack([a, b]), [(3,), (2, 3)]),
    ("dstack", lambda m, a, b: m.dstack([a, b]), [(2, 3), (2, 3)]),
    ("column_stack", lambda m, a, b: m.column_stack([a, b]), [(3,), (3, 2)]),
    ("where", lambda m, a, b: m.where(a > 0, a, b), [(2, 3), (3,)]),
    ("array_split", lambda m, a: m.array_split(a, 3, axis=1), [(2, 5)]),
    ("split", lambda m, a: m.split(a, [1, 3]), [(4, 2)]),
    ("tile repeat", lambda m, a: m.tile(a, 2)[:, 1:4] + m.repeat(a, 2, axis=1)[:, 1::2]
     + m.repeat(a, 2)[1::2].reshape(2, 3), [(2, 3)]),
    ("roll flip", lambda m, a: m.roll(a, 1) + m.flip(a, 0) + m.fliplr(a), [(2, 3)]),
    ("full of a tensor", lambda m, a: m.full((2, 3), a[0]), [(2,)]),
    ("norm", lambda m, a: m.linalg.norm(a), [(2, 3, 2)]),
    ("norm keepdims", lambda m, a: m.linalg.norm(a, keepdims=True), [(2, 3)]),
    ("norm vector ords", lambda m, a: [m.linalg.norm(a, o) for o in VECTOR_ORDS], [(4,)]),
    ("norm axis", lambda m, a: m.linalg.norm(a, ord=1.5, axis=1, keepdims=True), [(2, 3)]),
    ("norm matrix ords", lambda m, a: [m.linalg.norm(a, o) for o in MATRIX_ORDS], [(3, 4)]),
    ("norm matrix axes", lambda m, a: m.linalg.norm(a, ord="fro", axis=(2, 0), keepdims=True),
     [(2, 3, 4)]),
    ("inv", lambda m, a: m.linalg.inv(_spd(m, a)), [(3, 3)]),
    ("solve", lambda m, a, b: m.linalg.solve(_spd(m, a), b), [(3, 3), (3, 2)]),
    ("det", lambda m, a: m.linalg.det(a), [(3, 3)]),
    ("slogdet", lambda m, a: m.linalg.slogdet(a)[1], [(3, 3)]),
    ("cholesky", lambda m, a: m.linalg.cholesky(_spd(m, a)), [(3, 3)]),
    ("eigvalsh", lambda m, a: m.linalg.eigh(a)[0], [(3, 3)]),
    ("eigvalsh upper", lambda m, a: m.linalg.eigvalsh(a, UPLO="U"), [(3, 3)]),
    ("svd values", lambda m, a: m.linalg.svd(a, compute_uv=False), [(3, 4)]),
    ("pinv", lambda m, a: m.linalg.pinv(a), [(3, 4)]),
    ("matrix_power", lambda m, a: m.linalg.matrix_power(a, 3), [(3, 3)]),
    ("multi_dot", lambda m, a, b, c: m.linalg.multi_dot([a, b, c]), [(2, 3), (3, 4), (4,)]),
]
# no gradient: integer results, piecewise constants, or ops of a discrete kind
NOT_DIFFERENTIABLE = {"argmax flat", "argmin axis", "argsort", "round", "floor"}


def _on(backend, arrays):
    return [make(a, backend) for a in arrays]


def _compare(got, expected):
    if isinstance(expected, (list, tuple)):
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            _compare(g, e)
        return
    expected = numpy.asarray(expected)
    assert isinstance(got, ag.Tensor)
    assert got.shape == expected.shape
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    numpy.testing.assert_allclose(host(got), expected, rtol=1e-10, atol=1e-12)


def _data(shapes, seed):
    return [random(s, seed=seed + i) for i, s in enumerate(shapes)]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_values_match_numpy(backend, case):
    name, fn, shapes = case
    data = _data(shapes, seed=10)
    _compare(fn(anp, *_on(backend, data)), fn(numpy, *data))


def _scalar(fn):
    """The function summed to one number through a fixed random weighting, so one
    gradient covers every output."""
    def loss(*args):
        out = fn(anp, *args)
        outs = out if isinstance(out, (list, tuple)) else [out]
        return sum(anp.sum(o * anp.cos(anp.arange(o.size, dtype=float).reshape(o.shape)))
                   for o in outs)
    return loss


GRADIENT_CASES = [c for c in CASES if c[0] not in NOT_DIFFERENTIABLE]


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=[c[0] for c in GRADIENT_CASES])
def test_gradients(backend, case):
    name, fn, shapes = case
    assert ag.gradcheck(_scalar(fn), _on(backend, _data(shapes, seed=20)))


# functions HIPS autograd's numpy differentiates too: its gradients are an oracle
# (HIPS autograd's own gradients fail for N-D outer, flattened take and sort, cumprod,
# average, axis=None concatenate, vector 1-norms, UPLO="U", a broadcast where,
# and norm over two axes with keepdims)
AUTOGRAD_CASES = [c for c in GRADIENT_CASES if c[0] in {
    "dot N-D", "dot N-D 1-D", "inner", "tensordot", "einsum", "atleast_3d 1-D", "squeeze",
    "expand_dims", "std ddof", "var axis", "cumsum flat", "clip", "logaddexp", "hstack",
    "vstack", "dstack", "norm", "inv", "solve", "slogdet", "cholesky",
    "eigvalsh", "svd values", "full of a tensor", "kron", "prod",
}]


def test_gradients_match_hips_autograd(backend):
    autograd = pytest.importorskip("autograd")
    import autograd.numpy as hips

    for name, fn, shapes in AUTOGRAD_CASES:
        data = _data(shapes, seed=30)
        loss = _scalar(fn)

        def hips_loss(*args, fn=fn):
            out = fn(hips, *args)
            outs = out if isinstance(out, (list, tuple)) else [out]
            return sum(hips.sum(o * hips.cos(hips.arange(hips.size(o)).reshape(hips.shape(o))))
                       for o in outs)

        tensors = _on(backend, data)
        loss(*tensors).backward()
        for i, (t, a) in enumerate(zip(tensors, data)):
            expected = autograd.grad(hips_loss, i)(*data)
            numpy.testing.assert_allclose(host(t.grad), expected, rtol=1e-9, atol=1e-12,
                                          err_msg=name)


# where HIPS autograd falls short, jax.numpy (numpy's meaning, its own gradients) is the
# oracle (not for eigh of a non-symmetric matrix: jax symmetrizes, numpy reads one triangle)
JAX_CASES = [c for c in GRADIENT_CASES if c[0] in {
    "outer N-D", "cumprod axis", "sort flat", "norm vector ords",
}]
_JAX_GRADIENTS: dict = {}


def test_gradients_match_jax_numpy(backend):
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    assert jax.config.jax_enable_x64  # float64, as conftest asks before jax is imported
    for name, fn, shapes in JAX_CASES:
        data = _data(shapes, seed=40)
        if name not in _JAX_GRADIENTS:  # the oracle's answers, once for every backend
            def jax_loss(*args, fn=fn):
                out = fn(jnp, *args)
                outs = out if isinstance(out, (list, tuple)) else [out]
                return sum(jnp.sum(o * jnp.cos(jnp.arange(o.size).reshape(o.shape)))
                           for o in outs)
            _JAX_GRADIENTS[name] = [numpy.asarray(g) for g in jax.grad(
                jax_loss, argnums=tuple(range(len(data))))(*map(jnp.asarray, data))]
        tensors = _on(backend, data)
        _scalar(fn)(*tensors).backward()
        for t, expected in zip(tensors, _JAX_GRADIENTS[name]):
            numpy.testing.assert_allclose(host(t.grad), expected, rtol=1e-9, atol=1e-12,
                                          err_msg=name)


def test_factories_match_numpy(backend):
    cases = [
        ("zeros", (3,)), ("ones", ((2, 3),)), ("eye", (3, 4, 1)), ("identity", (2,)),
        ("arange", (1, 7, 2)), ("arange", (5.0,)), ("linspace", (0, 1, 7)),
        ("logspace", (0, 2, 5)), ("tri", (3, 4, 1)), ("full", ((2, 3), 2.5)),
        ("full", ((2,), 3)), ("empty", (0,)),
    ]
    for name, args in cases:
        _compare(getattr(anp, name)(*args), getattr(numpy, name)(*args))
    v, a = random((3,)), random((3, 4))
    x, y = make(v, backend), make(a, backend)
    for k in (-1, 0, 2):
        _compare(anp.diag(x, k), numpy.diag(v, k))
        _compare(anp.diag(y, k), numpy.diag(a, k))
        _compare(anp.triu(y, k) + anp.tril(y, k), numpy.triu(a, k) + numpy.tril(a, k))
    for indexing in ("xy", "ij"):
        for sparse in (False, True):
            _compare(anp.meshgrid(x, y[0], indexing=indexing, sparse=sparse),
                     numpy.meshgrid(v, a[0], indexing=indexing, sparse=sparse))
    _compare(anp.zeros_like(y), numpy.zeros_like(a))
    _compare(anp.full_like(y, 7), numpy.full_like(a, 7))
    assert anp.zeros(2).backend.name == backend


def test_float64_is_the_default_whatever_anygrads_default():
    ag.set_default_dtype("float32")
    try:
        for made in (anp.zeros(3), anp.ones((2,)), anp.array([1.0, 2]), anp.arange(2.0),
                     anp.linspace(0, 1, 3), anp.eye(2), anp.full(2, 0.5), anp.asarray(1.5),
                     anp.zeros(2, dtype=float), anp.float64(2)):
            assert made.dtype == ag.float64
        assert anp.array([1, 2]).dtype == ag.int64 and anp.arange(3).dtype == ag.int64
        assert anp.zeros(2, dtype=anp.float32).dtype == ag.float32
        assert anp.array([True]).dtype == ag.bool
    finally:
        ag.set_default_dtype("float64")


def test_lists_of_tensors_build_a_graph(backend):
    x, y = make(random((2,), seed=1), backend), make(random((), seed=2), backend)
    nested = anp.array([[x[0], 2.0], [y, x[1] * y]])
    assert nested.shape == (2, 2) and nested.dtype == ag.float64
    assert ag.gradcheck(lambda x, y: anp.array([[x[0], 2.0], [y, x[1] * y]]), [x, y])
    assert ag.gradcheck(lambda x, y: anp.asarray([x, x * y]), [x, y])
    with pytest.raises(ValueError, match="shapes differ"):
        anp.array([x, y])


def test_index_assignment_into_numpy_made_arrays(backend):
    t = make(random((2,), seed=3), backend)

    def fill(t):
        out = anp.zeros((2, 3))
        out[0, 1:] = t
        out[1, :] = anp.exp(t[0])
        return out

    got = fill(t)
    expected = numpy.zeros((2, 3))
    expected[0, 1:] = host(t)
    expected[1] = numpy.exp(host(t)[0])
    numpy.testing.assert_allclose(host(got), expected)
    assert ag.gradcheck(fill, [t])


def test_linalg_keyword_semantics(backend):
    a = random((3, 3), seed=4)
    x = make(a, backend)
    # eigh reads one triangle only: the gradient is zero on the other
    for uplo, other in (("L", numpy.triu_indices(3, 1)), ("U", numpy.tril_indices(3, -1))):
        values = anp.linalg.eigh(x, UPLO=uplo).eigenvalues
        numpy.testing.assert_allclose(host(values), numpy.linalg.eigh(a, UPLO=uplo)[0])
        grad = ag.grad(lambda x: anp.sum(anp.linalg.eigvalsh(x, UPLO=uplo) ** 3))(x)
        numpy.testing.assert_array_equal(host(grad)[other], 0.0)
    u, s, vh = anp.linalg.svd(x[:2], full_matrices=False)
    numpy.testing.assert_allclose(host(u * s @ vh), a[:2], atol=1e-12)
    assert anp.linalg.svd(x[:2]).U.shape == (2, 2) and anp.linalg.svd(x[:2]).Vh.shape == (3, 3)
    q, r = anp.linalg.qr(x)
    numpy.testing.assert_allclose(host(q @ r), a, atol=1e-12)
    numpy.testing.assert_allclose(numpy.abs(host(anp.linalg.qr(x, mode="r"))),
                                  numpy.abs(numpy.linalg.qr(a, mode="r")), atol=1e-12)
    with pytest.raises(ValueError, match="matrix norm"):
        anp.linalg.norm(x[0], "fro")
    with pytest.raises(ValueError, match="1-D or 2-D"):
        anp.linalg.norm(anp.reshape(x, (3, 3, 1)), 2)
    singular = numpy.diag([1.0, 0.2, 1e-3]) @ a
    for kwargs in ({"rcond": 0.3}, {"rtol": 0.1}, {}, {"rtol": None}):
        _compare(anp.linalg.pinv(make(singular, backend), **kwargs),
                 numpy.linalg.pinv(singular, **kwargs))
    eigenvalues = numpy.sort_complex(host(anp.linalg.eigvals(x)))
    numpy.testing.assert_allclose(eigenvalues, numpy.sort_complex(numpy.linalg.eigvals(a)))


def test_random_draws_numpys_streams(backend):
    for draw in (lambda r: r.randn(2, 3), lambda r: r.rand(4),
                 lambda r: r.randint(0, 10, size=5), lambda r: r.normal(1.0, 2.0, size=3)):
        anp.random.seed(3)  # numpy's global state: the same stream as numpy.random's
        ours = draw(anp.random)
        numpy.random.seed(3)
        _compare(ours, draw(numpy.random))
    assert isinstance(anp.random.randn(), float)  # a single draw is a number, as in numpy
    ours, theirs = anp.random.RandomState(0), numpy.random.RandomState(0)
    for draw in (lambda r: r.randn(3, 2), lambda r: r.uniform(-1, 1, 4),
                 lambda r: r.choice(5, 3), lambda r: r.permutation(6)):
        _compare(draw(ours), draw(theirs))
    ours, theirs = anp.random.default_rng(0), numpy.random.default_rng(0)
    for draw in (lambda g: g.normal(size=3), lambda g: g.standard_normal((2, 2)),
                 lambda g: g.uniform(0, 2, 3), lambda g: g.integers(0, 4, 5),
                 lambda g: g.choice(4, 2, replace=False), lambda g: g.permutation(4)):
        _compare(draw(ours), draw(theirs))
    assert ours.normal(size=2).backend.name == backend
    data = random((5, 2), seed=9)
    x = ag.tensor(data, backend=backend)
    anp.random.RandomState(4).shuffle(x)
    numpy.random.RandomState(4).shuffle(data)
    _compare(x, data)


def test_random_parameters_that_are_tensors_stay_in_the_graph(backend):
    loc, scale = make(random((3,), seed=5), backend), make(random((3,), seed=6) + 2.0, backend)

    def sample(loc, scale):
        return anp.random.RandomState(1).normal(loc, scale)

    noise = numpy.random.RandomState(1).standard_normal(3)
    numpy.testing.assert_allclose(host(sample(loc, scale)), host(loc) + host(scale) * noise)
    assert ag.gradcheck(sample, [loc, scale])
    picked = anp.random.RandomState(2).choice(loc, 2)
    expected = host(loc)[numpy.random.RandomState(2).choice(3, 2)]
    numpy.testing.assert_allclose(host(picked), expected)
    assert picked.requires_grad


def test_unmapped_names_and_arguments_say_so():
    with pytest.raises(AttributeError, match="anygrad.numpy has no 'fromfunction' "
                                             r"\(numpy.fromfunction is not mapped"):
        anp.fromfunction
    x = anp.ones((2, 3))
    with pytest.raises(NotImplementedError, match="order='F'"):
        anp.reshape(x, 6, order="F")
    with pytest.raises(TypeError, match="anygrad.numpy.sum: out= is not supported"):
        anp.sum(x, out=x)
    with pytest.raises(TypeError, match="anygrad.numpy.add: where= is not supported"):
        anp.add(x, x, where=x > 0)


def test_tensor_conveniences_numpy_users_reach_for(backend):
    a = random((2, 3, 4), seed=7)
    x = make(a, backend)
    for spec, expected in ((int, numpy.int64), (float, numpy.float64),
                           (numpy.float32, numpy.float32), (anp.float32, numpy.float32)):
        assert x.astype(spec).dtype == expected
    assert format(anp.sum(x), ".3f") == format(a.sum(), ".3f")
    _compare(x.ravel(), a.ravel())
    _compare(x[0].T.T, a[0])
    _compare(x[0].T.dot(x[1]), a[0].T.dot(a[1]))
    with pytest.raises(ValueError, match="anygrad.numpy.transpose"):
        x.T  # the Array API's rule: T is for matrices
    _compare(x[0].dot(x[1].T), a[0].dot(a[1].T))
    _compare(x.dot(x[0, 0]), a.dot(a[0, 0]))
    assert anp.shape(x) == (2, 3, 4) and anp.ndim(x) == 3 and anp.size(x, 1) == 3
    assert anp.allclose(x, a) and not anp.allclose(x, a + 1e-3)
    assert isinstance(x, anp.ndarray)


# numpy names that HIPS autograd's and JAX's example programs call
EXAMPLE_NAMES = """
abs allclose arange argmax array asarray atleast_2d ceil concatenate cos diag dot einsum
exp expand_dims eye float32 floor full hstack inf linspace log logaddexp matmul max maximum
mean meshgrid min minimum mod newaxis ones pi prod repeat reshape roll seterr shape sign sin
sqrt stack std sum tanh uint8 var vstack where zeros linalg.norm linalg.solve
random.RandomState random.randn random.rand random.choice random.seed random.randint
random.poisson random.gamma
""".split()


def test_the_names_example_programs_use_exist():
    for name in EXAMPLE_NAMES:
        found = anp
        for part in name.split("."):
            found = getattr(found, part)
        assert found is not None or name == "newaxis"


def test_jax_style_functional_index_updates(backend):
    a = random((4,), seed=8)
    x = make(a, backend)
    expected = a.copy()
    expected[1:3] = [5.0, 6.0]
    _compare(x.at[1:3].set(anp.array([5.0, 6.0])), expected)
    _compare(x, a)  # x itself is unchanged
    expected = a.copy()
    expected[[0, 2]] += a[:2]
    _compare(x.at[anp.array([0, 2])].add(x[:2]), expected)
    assert ag.gradcheck(lambda x: x.at[1:].multiply(x[:3]).at[0].max(0.5), [x])
