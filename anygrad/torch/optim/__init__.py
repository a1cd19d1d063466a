"""`torch.optim`: anygrad's optimizers, which follow PyTorch's update rules."""
from __future__ import annotations

from anygrad.torch._forwarding import forwarding
from ...optim import *  # noqa: F401,F403
from . import lr_scheduler  # noqa: F401

__getattr__ = forwarding("anygrad.torch.optim", "anygrad.optim",
                         "this optimizer is not in {source} yet")
