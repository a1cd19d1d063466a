"""Checkpoints: `save` and `load` for state dicts, portable across backends.

The default format is a plain `.npz` archive: every tensor becomes a numpy `.npy`
entry, and the nesting of dicts, lists and Python values is stored as JSON beside
them. Nothing is pickled, so loading runs no code, and a file written from cupy loads
on numpy, torch or array_api_strict. A path ending in `.safetensors` writes that
format instead (the `safetensors` package), for the rest of the ecosystem.

`save(..., allow_pickle=True)` also stores objects that are none of these (a whole
Module): they are pickled, their tensors kept as array entries (see
`anygrad.object_pickle`); `load` rebuilds them only when allowed to.

Writing streams one tensor at a time into a temporary file next to the target
(created with the umask's permissions), flushes it to disk and renames it over the
target: a crash leaves the previous checkpoint intact, a failure removes the
temporary file, and one left by a killed process is removed by the next save to
the same path. Peak memory above the state itself is one tensor's host copy at most
(none for numpy tensors), not a second copy of the whole state.
"""
from __future__ import annotations

import json
import os
import secrets
import zipfile

import numpy as np

from .backends import get_backend
from .engine import _wrap
from .tensor import Tensor

__all__ = ["CheckpointError", "load", "save"]

_FORMAT = "anygrad-checkpoint-1"
_META = "__anygrad__"
_TMP_SUFFIX = ".anygrad-tmp"
_ZIP_MAGIC = b"PK\x03\x04"


class CheckpointError(ValueError):
    """A file that `ag.load` cannot read as a checkpoint (truncated, corrupted, or not
    one); the message names the path and what is wrong."""


# ----------------------------------------------------------------- saving
def save(obj, path, *, allow_pickle=False):
    """Write `obj` (nested dicts/lists/tuples of Tensors, numpy arrays, numbers, strings,
    bools, None) to `path` atomically; `.safetensors` paths take nested dicts of Tensors only.

    `path` may also be a binary file object open for writing (written in place, so not
    atomically). With `allow_pickle`, any other object in `obj` (a Module) is pickled
    with its tensors stored beside it, as `torch.save` does."""
    if hasattr(path, "write"):
        _write_archive(obj, path, allow_pickle)
        return
    path = os.fspath(path)
    if path.endswith(".safetensors"):
        from . import safetensors_format

        tensors = safetensors_format.flatten(obj)
        with _atomic(path) as tmp:
            safetensors_format.write(tensors, tmp)
        return
    entries = _entries(obj, allow_pickle)  # checks everything before touching the disk
    with _atomic(path) as tmp:
        with open(tmp, "wb") as f:
            _write_archive(obj, f, allow_pickle, entries)
            f.flush()
            os.fsync(f.fileno())


def _entries(obj, allow_pickle):
    tensors = []
    structure = _pack(obj, tensors, "obj", allow_pickle)
    meta = json.dumps({"format": _FORMAT, "structure": structure}).encode()
    return [(_META, np.frombuffer(meta, dtype=np.uint8))] + tensors


def _write_archive(obj, f, allow_pickle, entries=None):
    entries = _entries(obj, allow_pickle) if entries is None else entries
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, tensor in entries:
            _write_entry(archive, name, _host(tensor))


def _host(tensor):
    """The tensor as a host numpy array: its own array when it already is one."""
    if isinstance(tensor, np.ndarray):  # an entry made on the host (a pickle's bytes)
        return tensor
    if isinstance(tensor.array, np.ndarray):
        return tensor.array
    return tensor.backend.to_numpy(tensor.array)


def _write_entry(archive, name, array):
    # The layout np.savez writes, one entry at a time (np.load reads these files too).
    with archive.open(name + ".npy", "w", force_zip64=True) as entry:
        np.lib.format.write_array(entry, np.ascontiguousarray(array), allow_pickle=False)


class _atomic:
    """A fresh temporary path beside `path`, renamed over it on success and removed on
    failure. Temporary files of earlier saves to `path` whose process has died are
    removed first."""

    def __init__(self, path):
        self.path = path
        directory, name = os.path.split(os.path.abspath(path))
        self.directory, self.prefix = directory, f".{name}."
        self.tmp = os.path.join(directory, f"{self.prefix}{os.getpid()}-{secrets.token_hex(4)}"
                                           f"{_TMP_SUFFIX}")

    def __enter__(self):
        _remove_stale(self.directory, self.prefix)
        # O_EXCL: never follow or reuse someone else's file. Mode 0o666 less the umask,
        # as for any file the user writes.
        os.close(os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        self.mode = os.stat(self.tmp).st_mode & 0o777
        return self.tmp

    def __exit__(self, kind, exc, tb):
        try:
            if kind is None:
                # A writer that replaced the file (safetensors does) may have set 0600.
                if os.stat(self.tmp).st_mode & 0o777 != self.mode:
                    os.chmod(self.tmp, self.mode)
                os.replace(self.tmp, self.path)
                return False
        except BaseException:
            _unlink(self.tmp)
            raise
        _unlink(self.tmp)
        return False


def _remove_stale(directory, prefix):
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and name.endswith(_TMP_SUFFIX)):
            continue
        pid = name[len(prefix):-len(_TMP_SUFFIX)].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            _unlink(os.path.join(directory, name))


def _alive(pid):
    if pid == os.getpid():
        return True  # another save in this process may be writing it now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, AttributeError):
        return True  # someone else's process, or no way to tell: leave the file alone
    return True


def _unlink(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _store(tensors, obj):
    name = f"t{len(tensors)}"  # numbered, not named by path: paths could collide
    tensors.append((name, obj))
    return name


def _pack(obj, tensors, key, allow_pickle=False):
    if isinstance(obj, Tensor):
        return {"tensor": _store(tensors, obj)}
    if isinstance(obj, np.ndarray) and not obj.dtype.hasobject:  # kept a numpy array
        return {"ndarray": _store(tensors, obj)}
    if isinstance(obj, dict):
        for k in obj:
            if not isinstance(k, (str, int)):
                raise TypeError(f"save: dict keys must be str or int, got {type(k).__name__} at {key}")
        return {"dict": [[k, _pack(v, tensors, f"{key}.{k}", allow_pickle)]
                         for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_pack(v, tensors, f"{key}.{i}", allow_pickle) for i, v in enumerate(obj)]}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"value": obj}
    if allow_pickle:
        from . import object_pickle

        array = object_pickle.dump(obj, lambda t: _store(tensors, t))
        return {"pickle": _store(tensors, array)}
    raise TypeError(
        f"save: cannot store a {type(obj).__name__} at {key}; checkpoints hold Tensors, "
        "numbers, strings, bools, None, and dicts/lists/tuples of them (save(..., "
        "allow_pickle=True) pickles other objects)"
    )


# ----------------------------------------------------------------- loading
def load(path, backend=None, device=None, *, allow_pickle=False, safe_globals=()):
    """Read a checkpoint written by `save`; tensors land on `backend` (default: the
    current one) and `device`. A `.safetensors` file gives a flat dict of dotted keys.
    `path` may also be a binary file object open for reading.

    Anything else (a truncated or corrupted file, a pickle, a PyTorch `.pt` file)
    raises CheckpointError naming the path. Objects that `save(..., allow_pickle=True)`
    pickled are rebuilt only from the classes and functions in `safe_globals`, or from
    any with `allow_pickle=True` (which runs code the file names: trusted files only);
    otherwise nothing in the file is ever executed."""
    target = get_backend(backend)
    if hasattr(path, "read"):
        source, path = _readable(path), getattr(path, "name", "the file object")
        start = source.tell()
        head = source.read(8)
        source.seek(start)
    else:
        path = source = os.fspath(path)
        with open(path, "rb") as f:
            head = f.read(8)
    if head[:4] != _ZIP_MAGIC and source is path and (
            path.endswith(".safetensors") or _safetensors_header(path, head)):
        from . import safetensors_format

        arrays = safetensors_format.read(path, lambda why: _bad(path, why))
        return {k: _wrap(target.from_numpy(a, device), target) for k, a in arrays.items()}
    if head[:4] != _ZIP_MAGIC:
        _bad(path, _describe_foreign(head))
    try:
        with zipfile.ZipFile(source) as archive:
            entries = set(archive.namelist())
            if _META + ".npy" not in entries:
                hint = " (it looks like a PyTorch .pt file)" if any(
                    n.endswith("data.pkl") for n in entries) else ""
                _bad(path, f"a zip archive without anygrad's {_META} entry{hint}")
            meta = json.loads(_read_entry(archive, _META).tobytes().decode())
            if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
                found = meta.get("format") if isinstance(meta, dict) else None
                _bad(path, f"format {found!r}, expected {_FORMAT!r}")
            objects = {"allow_pickle": allow_pickle, "safe_globals": tuple(safe_globals),
                       "where": path}
            return _unpack(meta["structure"], archive, entries, target, device, objects)
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, KeyError,
            TypeError, IndexError, UnicodeDecodeError, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        _bad(path, _reason(exc))


def _readable(f):
    """A seekable view of a file object (zip archives are read from the end)."""
    try:
        if f.seekable():
            return f
    except AttributeError:
        pass
    import io

    return io.BytesIO(f.read())


def _bad(path, why):
    raise CheckpointError(f"load: {path} is not a readable anygrad checkpoint: {why}") from None


def _safetensors_header(path, head):
    """True when the file starts as safetensors does: a little-endian header length,
    then a JSON object."""
    if len(head) < 8:
        return False
    size = int.from_bytes(head, "little")
    if not 2 <= size <= os.path.getsize(path) - 8:
        return False
    with open(path, "rb") as f:
        f.seek(8)
        return f.read(1) == b"{"


def _describe_foreign(head):
    if not head:
        return "the file is empty"
    if head[:1] == b"\x80":
        return "it is a Python pickle (e.g. an old-style torch.save file), which anygrad never loads"
    if head[:6] == b"\x93NUMPY":
        return "it is a single .npy array, not a checkpoint"
    return "it does not start like a zip archive (truncated at the start, or another format)"


def _reason(exc):
    text = str(exc).split("\n")[0]
    if isinstance(exc, zipfile.BadZipFile):
        return f"the archive is damaged or incomplete ({text})"
    if isinstance(exc, (EOFError, UnicodeDecodeError)) or "truncat" in text.lower():
        return f"the file is truncated ({type(exc).__name__})"
    return f"{type(exc).__name__}: {text}"


def _read_entry(archive, name):
    """One .npy entry, its header checked before any data is read: object arrays (which
    need unpickling) are refused."""
    with archive.open(name + ".npy") as entry:
        version = np.lib.format.read_magic(entry)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(entry)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(entry)
        if dtype.hasobject:
            raise ValueError(f"entry {name!r} holds Python objects, which anygrad never unpickles")
        count = int(np.prod(shape, dtype=np.int64))
        data = entry.read(count * dtype.itemsize)
        if len(data) != count * dtype.itemsize:
            raise EOFError(f"entry {name!r} is shorter than its header says")
        if entry.read(1):  # also reaches the end, where the zip checks the CRC
            raise ValueError(f"entry {name!r} is longer than its header says")
        array = np.frombuffer(data, dtype=dtype)
        order = "F" if fortran else "C"
        return array.reshape(shape, order=order)


def _unpack(node, archive, entries, backend, device, objects):
    def tensor(name):
        if name + ".npy" not in entries:
            raise KeyError(f"tensor entry {name!r} is missing (a half-written file?)")
        return _wrap(backend.from_numpy(_read_entry(archive, name), device), backend)

    def inner(node):
        return _unpack(node, archive, entries, backend, device, objects)

    if "tensor" in node:
        return tensor(node["tensor"])
    if "ndarray" in node:
        return np.array(_read_entry(archive, node["ndarray"]))
    if "pickle" in node:
        from . import object_pickle

        return object_pickle.load(_read_entry(archive, node["pickle"]), tensor, **objects)
    if "dict" in node:
        return {k: inner(v) for k, v in node["dict"]}
    if "list" in node:
        return [inner(v) for v in node["list"]]
    if "tuple" in node:
        return tuple(inner(v) for v in node["tuple"])
    return node["value"]
