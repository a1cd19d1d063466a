"""`torch.autograd.functional`: jacobian, hessian, vjp, jvp, hvp over anygrad's transforms."""
from __future__ import annotations

from .. import transforms as _t


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    if isinstance(inputs, (tuple, list)):
        return _t.jacobian(func, argnums=tuple(range(len(inputs))))(*inputs)
    return _t.jacobian(func)(inputs)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False):
    if isinstance(inputs, (tuple, list)):
        raise NotImplementedError("autograd.functional.hessian of several inputs is not "
                                  "supported; pass one tensor")
    return _t.hessian(func)(inputs)
