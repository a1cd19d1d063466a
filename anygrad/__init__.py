"""anygrad: reverse-mode automatic differentiation on any Array API library.

    import anygrad as ag
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = ag.sum(ag.exp(x) * x)
    y.backward()
    x.grad            # exp(x) * (x + 1)
"""
import sys as _sys
import types as _types

from .tensor import Tensor  # first: the engine and ops modules build on it
from .backends import (
    Backend, BackendUnavailable, available_backends, get_backend, manual_seed,
    register_backend, set_backend, use_backend,
)
from .creation import (
    arange, as_tensor, eye, full, full_like, linspace, ones, ones_like, rand, randn, tensor,
    zeros, zeros_like,
)
from .modes import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .ops import *  # noqa: F401,F403
from .ops import __all__ as _ops_all  # noqa: F401
from .ops import linalg  # the standard's linalg extension: ag.linalg.inv, ...
from .ops import fft  # the standard's fft extension: ag.fft.rfft, ...
from .gradcheck import check_grads, gradcheck, gradgradcheck
from . import tensor_methods  # noqa: F401,E402  (PyTorch's Tensor methods)
# Checkpoints, function transforms, anomaly detection, user-defined derivatives,
# modules as functions of their parameters and graph pictures are imported on first use
# (see `_LAZY` below).
from . import tree

# anygrad's dtypes: `x.dtype == ag.float32` on every backend (see anygrad.dtypes).
from .dtypes import DType, get_default_dtype, set_default_dtype  # noqa: E402
from .dtypes import DTYPES as _DTYPES  # noqa: E402

bool, int8, int16, int32, int64 = (_DTYPES[n] for n in ("bool", "int8", "int16", "int32", "int64"))
uint8, uint16, uint32, uint64 = (_DTYPES[n] for n in ("uint8", "uint16", "uint32", "uint64"))
float16, float32, float64 = (_DTYPES[n] for n in ("float16", "float32", "float64"))
complex64, complex128 = _DTYPES["complex64"], _DTYPES["complex128"]

__version__ = "0.1.0"

_SUBPACKAGES = ("nn", "optim", "data", "scipy", "viz")
# Public names whose modules are imported on first use: name -> module.
_LAZY = {
    **dict.fromkeys(("CheckpointError", "load", "save"), "serialization"),
    **dict.fromkeys(("gradients", "grad", "hessian", "hvp", "jacobian", "jvp", "value_and_grad",
                     "vjp", "elementwise_grad"), "transforms"),
    **dict.fromkeys(("AnomalyError", "detect_anomaly"), "anomaly"),
    **dict.fromkeys(("Function", "custom_vjp"), "custom"),
    "functional_call": "stateless",
    "vmap": "vmap",
    **dict.fromkeys(("CompileError", "compile"), "compile"),
    **dict.fromkeys(("checkpoint", "checkpoint_sequential"), "checkpoint"),
}


class _Package(_types.ModuleType):
    """anygrad's module type: importing a submodule that has the name of a function
    (`anygrad.compile`, `anygrad.vmap`, `anygrad.checkpoint`) would otherwise bind the
    module over `ag.compile` and friends, whichever code imports it first."""

    def __setattr__(self, name, value):
        if name in _LAZY and isinstance(value, _types.ModuleType):
            return
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package


def __getattr__(name):
    # `ag.nn`, `ag.optim`, `ag.data` after a plain `import anygrad as ag`, imported on
    # first use so that `import anygrad` stays light.
    import importlib

    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value  # later lookups find it directly
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | set(_SUBPACKAGES))
