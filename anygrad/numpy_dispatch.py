"""numpy functions called on tensors run as anygrad's ops (NEP 13 `__array_ufunc__`,
NEP 18 `__array_function__`), so numpy code is differentiated unchanged: `np.sin(t)`,
`np.sum(t, axis=0)`, `np.concatenate([t, u])` return tensors with gradients.

Only functions whose meaning anygrad's counterpart shares are mapped; any other numpy
function called on a tensor raises a TypeError naming it, never a silent detach.
"""
from __future__ import annotations

# numpy ufunc name -> anygrad op name
UFUNCS = {
    "add": "add", "subtract": "subtract", "multiply": "multiply", "divide": "divide",
    "true_divide": "divide", "power": "pow", "matmul": "matmul", "negative": "negative",
    "positive": "positive", "absolute": "abs", "fabs": "abs", "exp": "exp", "expm1": "expm1",
    "log": "log", "log1p": "log1p", "log2": "log2", "log10": "log10", "sqrt": "sqrt",
    "square": "square", "sin": "sin", "cos": "cos", "tan": "tan", "arcsin": "asin",
    "arccos": "acos", "arctan": "atan", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh",
    "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh", "arctan2": "atan2",
    "hypot": "hypot", "logaddexp": "logaddexp", "maximum": "maximum", "minimum": "minimum",
    "remainder": "remainder", "mod": "remainder", "copysign": "copysign",
    "floor_divide": "floor_divide", "sign": "sign", "floor": "floor", "ceil": "ceil",
    "trunc": "trunc", "isnan": "isnan", "isinf": "isinf", "isfinite": "isfinite",
    "signbit": "signbit", "equal": "equal", "not_equal": "not_equal", "less": "less",
    "less_equal": "less_equal", "greater": "greater", "greater_equal": "greater_equal",
    "logical_and": "logical_and", "logical_or": "logical_or", "logical_not": "logical_not",
    "logical_xor": "logical_xor", "nextafter": "nextafter",
    "bitwise_and": "logical_and", "bitwise_or": "logical_or", "invert": "logical_not",
    "conjugate": "conj",
}


def array_ufunc(ufunc, method, inputs, kwargs):
    from . import ops

    name = UFUNCS.get(ufunc.__name__)
    if method != "__call__" or name is None or any(v is not None for v in kwargs.values()):
        extra = f" with {sorted(kwargs)}" if kwargs else ""
        raise TypeError(f"numpy.{ufunc.__name__}.{method}{extra} on a Tensor has no anygrad "
                        "counterpart; call anygrad's functions, or x.numpy() (which detaches)")
    return getattr(ops, name)(*inputs)


def _axis_kwargs(kwargs, where):
    for key in ("out", "dtype", "where", "initial"):
        if kwargs.get(key) is not None:
            raise TypeError(f"numpy.{where} on a Tensor: {key}= is not supported")
    return {k: v for k, v in kwargs.items() if k not in ("out", "dtype", "where", "initial")}


def _reduction(name):
    def call(a, axis=None, **kwargs):
        from . import ops

        return getattr(ops, name)(a, axis=axis, **_axis_kwargs(kwargs, name))
    return call


def _var_like(name):
    def call(a, axis=None, ddof=0, keepdims=False, **kwargs):
        from . import ops

        _axis_kwargs(kwargs, name)
        return getattr(ops, name)(a, axis=axis, correction=ddof, keepdims=keepdims)
    return call


def _transpose(a, axes=None):
    from . import ops

    return ops.permute_dims(a, tuple(reversed(range(a.ndim))) if axes is None else tuple(axes))


def _scan(name):
    def call(a, axis=None, **kwargs):
        from . import ops

        _axis_kwargs(kwargs, name)
        if axis is None:  # numpy flattens
            a, axis = ops.reshape(a, (-1,)), 0
        return getattr(ops, name)(a, axis=axis)
    return call


def _direct(name):
    def call(*args, **kwargs):
        from . import ops

        return getattr(ops, name)(*args, **kwargs)
    return call


def _linalg(name):
    def call(*args, **kwargs):
        from .ops import linalg

        return getattr(linalg, name)(*args, **kwargs)
    return call


def _fft(name, order):
    """numpy.fft.<name>, whose arguments after the array may come by position in
    `order`; norm=None is numpy's spelling of "backward"."""
    def call(a, *args, **kwargs):
        from .ops import fft

        kwargs.update(zip(order, args))
        if kwargs.pop("out", None) is not None:
            raise TypeError(f"numpy.fft.{name} on a Tensor: out= is not supported")
        if "norm" in kwargs and kwargs["norm"] is None:
            del kwargs["norm"]
        return getattr(fft, name)(a, **kwargs)
    return call


def _angle(z, deg=False):
    import math

    from . import ops

    return ops.angle(z) * (180.0 / math.pi) if deg else ops.angle(z)


def _concatenate(arrays, axis=0, **kwargs):
    from . import ops

    _axis_kwargs(kwargs, "concatenate")
    return ops.concat(list(arrays), axis=axis)


def _stack(arrays, axis=0, **kwargs):
    from . import ops

    _axis_kwargs(kwargs, "stack")
    return ops.stack(list(arrays), axis=axis)


def _reshape(a, *args, **kwargs):
    from . import ops

    shape = args[0] if args else kwargs.get("shape", kwargs.get("newshape"))
    return ops.reshape(a, (shape,) if isinstance(shape, int) else tuple(shape))


# "module.name" of a numpy function -> its anygrad counterpart, same arguments and meaning
FUNCTIONS = {
    "numpy.sum": _reduction("sum"), "numpy.mean": _reduction("mean"),
    "numpy.prod": _reduction("prod"), "numpy.max": _reduction("max"),
    "numpy.amax": _reduction("max"), "numpy.min": _reduction("min"),
    "numpy.amin": _reduction("min"), "numpy.var": _var_like("var"), "numpy.std": _var_like("std"),
    "numpy.cumsum": _scan("cumulative_sum"), "numpy.cumprod": _scan("cumulative_prod"),
    "numpy.transpose": _transpose, "numpy.reshape": _reshape,
    "numpy.concatenate": _concatenate, "numpy.stack": _stack,
    **{f"numpy.{n}": _direct(n) for n in (
        "squeeze", "expand_dims", "broadcast_to", "flip", "moveaxis", "tile", "repeat", "roll",
        "diff", "where", "clip", "tensordot", "einsum", "outer", "sort", "argsort", "argmax",
        "argmin", "take_along_axis", "broadcast_arrays", "meshgrid", "nonzero",
        "count_nonzero", "pad")},
    **{f"numpy.linalg.{n}": _linalg(n) for n in (
        "inv", "det", "slogdet", "solve", "cholesky", "eigh", "eigvalsh", "svd", "qr", "pinv",
        "matrix_power", "matrix_rank")},
    "numpy.real": _direct("real"), "numpy.imag": _direct("imag"), "numpy.angle": _angle,
    **{f"numpy.fft.{n}": _fft(n, ("n", "axis", "norm")) for n in (
        "fft", "ifft", "rfft", "irfft", "hfft", "ihfft")},
    **{f"numpy.fft.{n}": _fft(n, ("s", "axes", "norm")) for n in (
        "fftn", "ifftn", "rfftn", "irfftn")},
    **{f"numpy.fft.{n}": _fft(n, ("axes",)) for n in ("fftshift", "ifftshift")},
}


def array_function(func, args, kwargs):
    key = f"{func.__module__}.{func.__name__}"
    impl = FUNCTIONS.get(key)
    if impl is None:
        raise TypeError(f"{key} on a Tensor has no anygrad counterpart; call anygrad's "
                        "functions, or x.numpy() (which detaches)")
    return impl(*args, **kwargs)
