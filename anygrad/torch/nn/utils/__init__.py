"""`torch.nn.utils`: anygrad.nn.utils (clip_grad_norm_, ...)."""
from __future__ import annotations

from anygrad.torch._forwarding import forwarding
from ....nn.utils import *  # noqa: F401,F403

__getattr__ = forwarding("anygrad.torch.nn.utils", "anygrad.nn.utils")
