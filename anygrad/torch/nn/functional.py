"""`torch.nn.functional`: anygrad.nn.functional, which takes PyTorch's arguments."""
from __future__ import annotations

from anygrad.torch._forwarding import forwarding
from ...nn.functional import *  # noqa: F401,F403

__getattr__ = forwarding("anygrad.torch.nn.functional", "anygrad.nn.functional",
                         "this PyTorch function is not in {source} yet")
