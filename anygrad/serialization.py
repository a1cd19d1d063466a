"""Checkpoints: `save` and `load` for state dicts, portable across backends.

The format is a plain `.npz` archive: every tensor becomes a host numpy array, and the
nesting of dicts, lists and Python values is stored as JSON beside them. Nothing is
pickled, so loading runs no code, and a file written from cupy loads on numpy, torch or
array_api_strict. Writing goes to a temporary file in the same directory, flushed to
disk, then renamed over the target: a crash mid-write leaves the previous checkpoint
intact, never a truncated one.
"""
from __future__ import annotations

import io
import json
import os
import tempfile

import numpy as np

from .backends import get_backend
from .engine import _wrap
from .tensor import Tensor

__all__ = ["save", "load"]

_FORMAT = "anygrad-checkpoint-1"
_META = "__anygrad__"


def save(obj, path):
    """Write `obj` (nested dicts/lists/tuples of Tensors, numbers, strings, bools, None)
    to `path` atomically."""
    arrays = {}
    structure = _pack(obj, arrays, "obj")
    meta = json.dumps({"format": _FORMAT, "structure": structure})
    buffer = io.BytesIO()  # serialise fully before touching the disk
    np.savez(buffer, **{_META: np.frombuffer(meta.encode(), dtype=np.uint8)}, **arrays)
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(buffer.getbuffer())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load(path, backend=None, device=None):
    """Read a checkpoint written by `save`; tensors land on `backend` (default: the
    current one) and `device`."""
    target = get_backend(backend)
    with np.load(os.fspath(path), allow_pickle=False) as archive:
        if _META not in archive.files:
            raise ValueError(f"load: {path} is not an anygrad checkpoint (no {_META} entry)")
        meta = json.loads(archive[_META].tobytes().decode())
        if meta.get("format") != _FORMAT:
            raise ValueError(f"load: {path} has format {meta.get('format')!r}, expected {_FORMAT!r}")
        arrays = {name: archive[name] for name in archive.files if name != _META}
    return _unpack(meta["structure"], arrays, target, device)


def _pack(obj, arrays, key):
    if isinstance(obj, Tensor):
        name = f"t{len(arrays)}"  # numbered, not named by path: paths could collide
        arrays[name] = obj.backend.to_numpy(obj.data)
        return {"tensor": name}
    if isinstance(obj, dict):
        for k in obj:
            if not isinstance(k, (str, int)):
                raise TypeError(f"save: dict keys must be str or int, got {type(k).__name__} at {key}")
        return {"dict": [[k, _pack(v, arrays, f"{key}.{k}")] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_pack(v, arrays, f"{key}.{i}") for i, v in enumerate(obj)]}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"value": obj}
    raise TypeError(
        f"save: cannot store a {type(obj).__name__} at {key}; checkpoints hold Tensors, "
        "numbers, strings, bools, None, and dicts/lists/tuples of them"
    )


def _unpack(node, arrays, backend, device):
    if "tensor" in node:
        return _wrap(backend.from_numpy(arrays[node["tensor"]], device), backend)
    if "dict" in node:
        return {k: _unpack(v, arrays, backend, device) for k, v in node["dict"]}
    if "list" in node:
        return [_unpack(v, arrays, backend, device) for v in node["list"]]
    if "tuple" in node:
        return tuple(_unpack(v, arrays, backend, device) for v in node["tuple"])
    return node["value"]
