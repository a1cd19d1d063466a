"""Every differentiable function, as one namespace.

This module is also the namespace backward rules run against when gradients are
recorded (`create_graph=True`), so its names and signatures mirror the Array API's:
a rule written as `ns.sum(g, axis=0)` runs on raw arrays or on Tensors alike.

The names are not listed here: each op module declares its ops once through
`anygrad.ops.registry`, and importing the modules fills the namespace and `__all__`.
"""
from __future__ import annotations

from . import registry
from . import (  # noqa: F401  (importing a module registers its ops)
    elementwise, comparison, reductions, activations, linalg, shape, products, rearrange,
    contractions, sorting, complex, fft, special, windows,
)

globals().update(registry.namespace())
__all__ = registry.names()

# The standard's linalg namespace: the extension's own ops (most declared in `linalg`
# itself) and the functions it shares with the main namespace.
for _name, _value in registry.extension("linalg").items():
    setattr(linalg, _name, _value)
for _name in ("matmul", "matrix_transpose", "tensordot", "vecdot", "outer", "diagonal", "trace",
              "vector_norm", "cross"):
    setattr(linalg, _name, globals()[_name])
# The standard's fft extension: `anygrad.ops.fft` is the module that declares it.
for _name, _value in registry.extension("fft").items():
    setattr(fft, _name, _value)
del _name, _value
