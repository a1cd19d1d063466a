"""The safetensors format, through the optional `safetensors` package: nested state
dicts flattened to dotted keys, as PyTorch names them ("model.0.weight"), so the file
opens in the rest of the ecosystem. It holds tensors only."""
from __future__ import annotations

from .tensor import Tensor

__all__ = ["flatten", "read", "write"]


def _library():
    try:
        import safetensors.numpy
    except ImportError as exc:
        raise ImportError(
            "writing or reading .safetensors files needs the safetensors package: "
            "pip install safetensors (in a checkout of anygrad: pip install -e \".[safetensors]\")"
        ) from exc
    return safetensors.numpy


def flatten(obj, prefix="", out=None):
    """{"model": {"0.weight": t}} -> {"model.0.weight": t}; only dicts and Tensors."""
    out = {} if out is None else out
    if isinstance(obj, Tensor):
        if not prefix:
            raise TypeError("save: a .safetensors file holds a dict of tensors, not one tensor")
        if prefix in out:
            raise ValueError(f"save: two entries flatten to the same key {prefix!r}")
        out[prefix] = obj
        return out
    if not isinstance(obj, dict):
        raise TypeError(
            f"save: a .safetensors file holds only (nested dicts of) tensors, but "
            f"{prefix or 'the object'} is a {type(obj).__name__}; save optimizer state, "
            "epochs and other values to an .npz checkpoint"
        )
    for key, value in obj.items():
        if not isinstance(key, (str, int)):
            raise TypeError(f"save: dict keys must be str or int, got {type(key).__name__}")
        flatten(value, f"{prefix}.{key}" if prefix else str(key), out)
    return out


def write(tensors, path):
    from .serialization import _host

    st = _library()
    import numpy as np

    st.save_file({k: np.ascontiguousarray(_host(t)) for k, t in tensors.items()}, path)


def read(path, fail):
    """{dotted key: host numpy array}; `fail(why)` raises for an unreadable file."""
    st = _library()
    try:
        return st.load_file(path)
    except Exception as exc:  # SafetensorError, and the library's own checks
        fail(f"not a valid safetensors file ({str(exc).splitlines()[0]})")
