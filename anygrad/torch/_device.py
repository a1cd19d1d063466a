"""PyTorch's device names on anygrad's backends.

`'cpu'` is the host: the current backend when it keeps arrays on the host (numpy,
array_api_strict, jax or dask on the CPU, torch on the CPU), else numpy. `'cuda'` and
`'cuda:N'` are the GPU: torch's CUDA device when the current backend is torch, else
cupy. A device that no installed library provides is an error that names what to
install, never a silent fall-back to the host.
"""
from __future__ import annotations

import builtins

from ..backends import Backend, BackendUnavailable, get_backend

_HOST_BACKENDS = ("numpy", "array_api_strict", "jax", "dask")


class device:
    """`torch.device('cuda:1')`, `torch.device('cuda', 1)`, `torch.device('cpu')`."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        elif isinstance(type, builtins.int) and not isinstance(type, builtins.bool):
            type, index = "cuda", type
        elif not isinstance(type, str):
            type = _name_of_native(type)
        kind, colon, number = type.strip().lower().partition(":")
        if colon:
            if index is not None or not number.isdigit():
                raise ValueError(f"device: cannot read {type!r} (with index={index!r})")
            index = builtins.int(number)
        if kind not in ("cpu", "cuda", "meta", "mps", "xpu", "gpu"):
            raise ValueError(f"device: unknown device type {kind!r} in {type!r}; anygrad.torch "
                             "knows 'cpu' and 'cuda[:N]'")
        self.type = "cuda" if kind == "gpu" else kind
        self.index = index

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{index})"

    def __eq__(self, other):
        try:
            other = as_device(other)
        except (TypeError, ValueError):
            return NotImplemented
        return (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))


def _name_of_native(spec):
    """'cuda:0' / 'cpu' from a library's own device object (torch.device, cupy Device)."""
    kind = getattr(spec, "type", None)
    if isinstance(kind, str):  # torch.device
        index = getattr(spec, "index", None)
        return kind if index is None else f"{kind}:{index}"
    number = getattr(spec, "id", None)
    platform = getattr(spec, "platform", None)  # jax's devices
    if isinstance(platform, str):
        return "cpu" if platform == "cpu" else f"cuda:{number}"
    if isinstance(number, builtins.int):  # cupy.cuda.Device
        return f"cuda:{number}"
    name = str(spec).lower()  # jax's CpuDevice(id=0), array_api_strict's Device('CPU_DEVICE')
    if "cpu" in name:
        return "cpu"
    raise TypeError(f"device: cannot read {spec!r} as a device")


def as_device(spec):
    """A `device` from a string, an index, a `device`, or a library's device object."""
    return spec if isinstance(spec, device) else device(spec)


def is_device_spec(spec):
    """Whether `spec` (the first argument of `t.to(...)`) names a device, not a backend
    or a dtype: 'cpu', 'cuda:1', a `device`, or a library's device object (`x.device`)."""
    if isinstance(spec, device):
        return True
    if isinstance(spec, str):
        return spec.strip().lower().partition(":")[0] in ("cpu", "cuda", "gpu")
    if spec is None or isinstance(spec, (Backend, builtins.int, builtins.float)):
        return False
    try:
        _name_of_native(spec)
    except TypeError:
        return False
    return True


def placement(spec, like=None):
    """(backend, device-for-that-backend) for a PyTorch device; None is the current
    backend's default. With `like` (a Backend), 'cpu' and 'cuda' stay on that backend
    where it can hold them (a torch tensor's `.cpu()` stays a torch tensor)."""
    current = like if like is not None and like.name == "torch" else get_backend()
    if spec is None:
        return current, None
    if isinstance(spec, Backend):
        return spec, None
    d = as_device(spec)
    if d.type == "cpu":
        host = _host(current)
        return host, ("cpu" if host.name == "torch" else None)
    if d.type == "cuda":
        return _cuda(current, d)
    raise ValueError(f"device {str(d)!r}: anygrad.torch places tensors on 'cpu' or 'cuda[:N]'")


def _host(current):
    if current.name in _HOST_BACKENDS:
        return current
    if current.name == "torch":
        return current  # torch's own CPU device
    return get_backend("numpy")


def _cuda(current, d):
    if current.name == "torch":
        library = getattr(current, "library", None)
        if library is not None and library.cuda.is_available():
            return current, str(d)
        raise BackendUnavailable(
            f"device {str(d)!r}: the torch backend is current but this PyTorch build sees no "
            "CUDA device; install a CUDA build of torch, or use device 'cpu'") from None
    try:
        cupy = get_backend("cupy")
    except BackendUnavailable as exc:
        raise BackendUnavailable(
            f"device {str(d)!r}: anygrad runs CUDA arrays through CuPy, which is not usable here "
            f"({exc}); install it (pip install cupy-cuda12x) or choose the torch backend with a "
            "CUDA build of PyTorch (ag.set_backend('torch')), or use device 'cpu'") from exc
    return cupy, d.index


def device_of(t):
    """The PyTorch device a tensor lives on."""
    if t.backend.name == "cupy":
        return device("cuda", t.device.id)
    if t.backend.name == "torch":
        return device(_name_of_native(t.array.device))
    return device("cpu")
