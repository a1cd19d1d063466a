"""`torch.accelerator`: the GPU when one is usable, as PyTorch's device-agnostic API."""
from __future__ import annotations

from . import cuda
from ._device import device


def is_available():
    return cuda.is_available()


def current_accelerator(check_available=False):
    """device('cuda') where a GPU is usable, else None."""
    return device("cuda") if cuda.is_available() else None


def device_count():
    return cuda.device_count()


def synchronize(device=None):
    cuda.synchronize(device)
