"""`torch.nn.init`: anygrad.nn.init."""
from __future__ import annotations

from anygrad.torch._forwarding import forwarding
from ...nn.init import *  # noqa: F401,F403

__getattr__ = forwarding("anygrad.torch.nn.init", "anygrad.nn.init")
