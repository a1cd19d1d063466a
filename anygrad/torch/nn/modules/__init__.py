"""`torch.nn.modules` and its files (`torch.nn.modules.linear.Linear`,
`from torch.nn.modules.rnn import LSTM`): PyTorch spreads its layers over files, anygrad
keeps them in one namespace, so each of these names is `anygrad.torch.nn` itself (and a
class is the same object under every spelling, as a saved model's allowed globals
need)."""
from __future__ import annotations

import sys

from ...nn import *  # noqa: F401,F403
from ...nn import Module  # noqa: F401

_FILES = ("activation", "adaptive", "batchnorm", "container", "conv", "distance", "dropout",
          "flatten", "fold", "instancenorm", "linear", "loss", "module", "normalization",
          "padding", "pixelshuffle", "pooling", "rnn", "sparse", "transformer", "upsampling")

_nn = sys.modules["anygrad.torch.nn"]
for _name in _FILES:
    sys.modules[f"{__name__}.{_name}"] = _nn
    globals()[_name] = _nn
del _name
