"""`torch.nn`: anygrad's layers, losses and containers, which already take PyTorch's
names and arguments. A name anygrad.nn lacks is an AttributeError saying so."""
from __future__ import annotations

import importlib

from ...nn import *  # noqa: F401,F403
from ...nn import Module, Parameter  # noqa: F401
from . import functional, init, utils  # noqa: F401

# The class of MultiheadAttention's out_proj in PyTorch, a Linear for every purpose here.
NonDynamicallyQuantizableLinear = Linear  # noqa: F405

from . import modules  # noqa: E402,F401


def __getattr__(name):
    # Layers added to anygrad.nn after this module was written are found here too.
    layers = importlib.import_module("anygrad.nn")
    try:
        return getattr(layers, name)
    except AttributeError:
        raise AttributeError(
            f"anygrad.torch.nn has no {name!r}: this PyTorch layer is not in anygrad.nn yet "
            "(write it as an nn.Module from anygrad's ops, or see 'Porting a PyTorch script' "
            "in the README)") from None
