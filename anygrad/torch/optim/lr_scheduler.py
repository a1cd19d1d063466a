"""`torch.optim.lr_scheduler`: anygrad.optim.lr_scheduler."""
from __future__ import annotations

from anygrad.torch._forwarding import forwarding
from ...optim.lr_scheduler import *  # noqa: F401,F403

__getattr__ = forwarding("anygrad.torch.optim.lr_scheduler", "anygrad.optim.lr_scheduler")
