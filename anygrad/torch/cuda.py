"""`torch.cuda`: whether anygrad can put tensors on a CUDA device here, and how many."""
from __future__ import annotations

from ..backends import BackendUnavailable, get_backend


def _gpu_backend():
    """The backend 'cuda' maps onto, or None where no GPU library works."""
    current = get_backend()
    if current.name == "torch":
        library = getattr(current, "library", None)
        return current if library is not None and library.cuda.is_available() else None
    try:
        return get_backend("cupy")
    except BackendUnavailable:
        return None


def is_available():
    return _gpu_backend() is not None


def device_count():
    backend = _gpu_backend()
    if backend is None:
        return 0
    if backend.name == "torch":
        return backend.library.cuda.device_count()
    return backend._device_count


def current_device():
    if not is_available():
        raise RuntimeError("torch.cuda.current_device: no CUDA device is usable here")
    return 0


def synchronize(device=None):
    """Wait for the GPU's queued work (nothing to wait for where there is no GPU)."""
    backend = _gpu_backend()
    if backend is not None:
        backend.synchronize(device)


def manual_seed(seed):
    from anygrad import manual_seed as seed_all

    seed_all(seed)


manual_seed_all = manual_seed


def is_bf16_supported():
    return False
