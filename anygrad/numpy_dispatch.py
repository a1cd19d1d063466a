"""numpy functions called on tensors run as anygrad's ops (NEP 13 `__array_ufunc__`,
NEP 18 `__array_function__`), so numpy code is differentiated unchanged: `np.sin(t)`,
`np.sum(t, axis=0)`, `np.linalg.norm(t)` return tensors with gradients.

anygrad.numpy decides what each numpy function means: `numpy.X` on a tensor is
`anygrad.numpy.X`, `numpy.linalg.X` is `anygrad.numpy.linalg.X`, and so on, with the
same arguments. A numpy function that anygrad.numpy lacks raises a TypeError naming
it, never a silent detach.
"""
from __future__ import annotations

import importlib

_ADVICE = "call anygrad's functions, or x.numpy() (which detaches)"


def _counterpart(module, name):
    """anygrad.numpy's function for numpy's `module.name`, or None."""
    if module != "numpy" and not module.startswith("numpy."):
        return None
    try:
        namespace = importlib.import_module("anygrad." + module)
    except ImportError:
        return None
    if name not in getattr(namespace, "__all__", ()):
        return None
    found = getattr(namespace, name)
    return found if callable(found) else None


def array_ufunc(ufunc, method, inputs, kwargs):
    impl = _counterpart("numpy", ufunc.__name__) if method == "__call__" else None
    if impl is None:
        extra = f" with {sorted(kwargs)}" if kwargs else ""
        raise TypeError(f"numpy.{ufunc.__name__}.{method}{extra} on a Tensor has no anygrad "
                        f"counterpart; {_ADVICE}")
    return impl(*inputs, **kwargs)


def array_function(func, args, kwargs):
    module = func.__module__ or "numpy"
    impl = _counterpart(module, func.__name__)
    if impl is None:
        raise TypeError(f"{module}.{func.__name__} on a Tensor has no anygrad counterpart; "
                        f"{_ADVICE}")
    return impl(*args, **kwargs)
