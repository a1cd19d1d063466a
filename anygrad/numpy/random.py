"""numpy.random's spelling, drawing with numpy's own generators on every backend.

The numbers are numpy's: `seed(0); randn(3)` here gives what numpy gives after
`numpy.random.seed(0)` (the module functions share numpy's global legacy state, as
`autograd.numpy.random` does), `RandomState(0)` draws numpy's RandomState(0) stream and
`default_rng(0)` numpy's Generator stream. Arrays are drawn on the host and moved to the
backend of the tensors among the arguments, else the current backend; a single draw
(size=None) is a Python number, as in numpy. This stream is separate from anygrad's own
(`ag.manual_seed`, `ag.randn`).

A tensor `loc`/`scale` of `normal` or `low`/`high` of `uniform` stays in the graph
(loc + scale * standard normal draws); `choice` and `permutation` of a tensor index it,
so the gradient flows to the elements picked.
"""
from __future__ import annotations

import numpy as _numpy

from .. import creation, dtypes
from ..tensor import Tensor
from ._arrays import asarray, backend_name, unmapped

# numpy's drawing methods passed straight through (arguments and results converted)
_PLAIN = (
    "rand", "randn", "random", "random_sample", "ranf", "sample", "standard_normal", "randint",
    "integers", "random_integers", "poisson", "gamma", "beta", "binomial", "exponential",
    "laplace", "logistic", "lognormal", "multivariate_normal", "multinomial", "dirichlet",
    "standard_t", "chisquare", "standard_cauchy", "standard_exponential", "standard_gamma",
    "geometric", "gumbel", "weibull", "rayleigh", "vonmises", "negative_binomial",
    "hypergeometric", "pareto", "power", "triangular", "wald", "zipf", "logseries",
    "noncentral_chisquare", "noncentral_f", "f", "bytes",
)


def _host(value):
    """An argument as numpy takes it (a tensor by its values: np.asarray refuses one
    being recorded, rather than silently cutting the graph)."""
    if isinstance(value, Tensor):
        return _numpy.asarray(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_host(v) for v in value)
    return value


def _result(value, backend):
    if isinstance(value, _numpy.ndarray):
        return creation.tensor(value, backend=backend)
    return dtypes.python_scalar(value)


class _Draws:
    """numpy's drawing methods over a numpy generator (`self._source`)."""

    def _draw(self, name, *args, **kwargs):
        where = backend_name(*args, *kwargs.values())
        method = getattr(self._source, name, None)
        if method is None:
            raise AttributeError(f"anygrad.numpy.random: {type(self._source).__name__} has no "
                                 f"{name!r}")
        out = method(*(_host(a) for a in args), **{k: _host(v) for k, v in kwargs.items()})
        return _result(out, where)

    def normal(self, loc=0.0, scale=1.0, size=None):
        """numpy.random.normal; with tensors for `loc` or `scale`, `loc + scale * noise`,
        so the draw is differentiable in them."""
        if not (isinstance(loc, Tensor) or isinstance(scale, Tensor)):
            return self._draw("normal", loc, scale, size)
        loc, scale = asarray(loc, backend=backend_name(loc, scale)), \
            asarray(scale, backend=backend_name(loc, scale))
        shape = size if size is not None else _broadcast(loc, scale)
        noise = self._draw("standard_normal", shape)
        return loc + scale * asarray(noise, backend=loc.backend.name)

    def uniform(self, low=0.0, high=1.0, size=None):
        """numpy.random.uniform; with tensors for `low` or `high`, `low + (high - low) *
        u`, so the draw is differentiable in them."""
        if not (isinstance(low, Tensor) or isinstance(high, Tensor)):
            return self._draw("uniform", low, high, size)
        low, high = asarray(low, backend=backend_name(low, high)), \
            asarray(high, backend=backend_name(low, high))
        shape = size if size is not None else _broadcast(low, high)
        unit = self._draw("uniform", 0.0, 1.0, shape)
        return low + (high - low) * asarray(unit, backend=low.backend.name)

    def choice(self, a, size=None, replace=True, p=None, **kwargs):
        """numpy.random.choice; from a tensor `a`, its rows picked by index (the graph
        goes on)."""
        if not isinstance(a, Tensor):
            return self._draw("choice", a, size, replace, p, **kwargs)
        picked = self._source.choice(a.shape[0], size, replace, _host(p), **kwargs)
        return a[asarray(picked, backend=a.backend.name)]

    def permutation(self, x, **kwargs):
        """numpy.random.permutation; a tensor `x` has its rows reordered by index (the
        graph goes on)."""
        if not isinstance(x, Tensor):
            return self._draw("permutation", x, **kwargs)
        return x[asarray(self._source.permutation(x.shape[0]), backend=x.backend.name)]

    def shuffle(self, x, **kwargs):
        """Shuffles `x` in place along its first axis (a tensor through its index
        assignment, so an in-place rule of anygrad's applies)."""
        if not isinstance(x, Tensor):
            return self._source.shuffle(x, **kwargs)
        x[...] = self.permutation(x)
        return None


def _broadcast(*tensors):
    from .. import ops

    return tuple(ops.broadcast_arrays(*tensors)[0].shape)


def _plain(name):
    def call(self, *args, **kwargs):
        return self._draw(name, *args, **kwargs)
    call.__name__ = call.__qualname__ = name
    call.__doc__ = (f"numpy.random.{name}: numpy's own draw, tensor arguments read to the "
                    "host; an array result is a tensor on their backend, one draw a number.")
    return call


for _name in _PLAIN:
    setattr(_Draws, _name, _plain(_name))


class RandomState(_Draws):
    """numpy's RandomState(seed), drawing numpy's legacy stream."""

    def __init__(self, seed=None):
        self._source = _numpy.random.RandomState(seed)

    def seed(self, seed=None):
        self._source.seed(seed)

    def get_state(self):
        return self._source.get_state()

    def set_state(self, state):
        self._source.set_state(state)


class Generator(_Draws):
    """numpy's Generator (`default_rng(seed)`), drawing its PCG64 stream."""

    def __init__(self, source):
        self._source = source

    def spawn(self, n_children):
        return [Generator(g) for g in self._source.spawn(n_children)]


def default_rng(seed=None):
    """numpy's default_rng: a Generator over numpy's PCG64 stream."""
    return Generator(_numpy.random.default_rng(seed))


class _Global(_Draws):
    """numpy.random's module-level functions: numpy's global legacy state."""

    _source = _numpy.random


_GLOBAL = _Global()


def seed(seed=None):
    """Seeds numpy's global legacy stream, the one this module's functions draw from."""
    _numpy.random.seed(seed)


get_state, set_state = _numpy.random.get_state, _numpy.random.set_state

_FUNCTIONS = [n for n in _PLAIN + ("normal", "uniform", "choice", "permutation", "shuffle")
              if hasattr(_numpy.random, n)]  # Generator-only names (integers) are methods
for _name in _FUNCTIONS:
    globals()[_name] = getattr(_GLOBAL, _name)

__all__ = ["seed", "get_state", "set_state", "RandomState", "Generator", "default_rng",
           *_FUNCTIONS]
del _name


def __getattr__(name):
    raise unmapped("random", name)
