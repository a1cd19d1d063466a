"""What must still hold for a recording to be replayed, checked before every replay.

A recording is faithful to the call it saw. Before a replay, the outside tensors are
found again by the paths that led to them (`self.model._modules['0']._parameters
['weight']`, `params['W']` for parameters held as plain tensors in a dict), so a batch or
parameter replaced by a new tensor is read afresh; and each
must still have the shape, dtype, backend and requires_grad it had, and no gradient
hook (but for the inputs of a backward recorded ahead of time, whose hooks the engine
runs). The `training` flag and the plain-number settings of every module called, the
plain-number attributes of `self`, and the plain numbers the function reads from its
globals and closure, must be unchanged. When any of this fails the
function is recorded again; `explain()` says what failed, for the warning of a function
that never settles.
"""
from __future__ import annotations

import types
from collections import deque

from ..tensor import Tensor

__all__ = ["Guards", "PathIndex"]

_MAX_VISITS = 20_000
_MAX_DEPTH = 16  # steps (a closure cell is three: __closure__, index, cell_contents)
_SCALARS = (int, float, bool, str, type(None))
_CONTAINERS = (dict, list, tuple)
_LIBRARIES = ("anygrad", "numpy", "torch", "jax", "jaxlib", "cupy", "array_api_strict",
              "array_api_compat", "builtins", "functools")


def _roots(fn):
    """Where a function finds what it uses: `self`, its closure, the globals it names."""
    roots = []
    target = fn
    if isinstance(fn, types.MethodType):
        roots.append((("self", "self", fn.__self__), fn.__self__))
        target = fn.__func__
    code = getattr(target, "__code__", None)
    if code is None:  # a callable object: its attributes
        roots.append((("self", "self", fn), fn))
        target = type(fn).__call__
        code = getattr(target, "__code__", None)
    if code is None:
        return roots
    cells = target.__closure__ or ()
    for name, cell in zip(code.co_freevars, cells):
        try:
            roots.append((("cell", name, cell), cell.cell_contents))
        except ValueError:  # an empty cell
            continue
    names = set(code.co_names)
    for const in code.co_consts:  # names used by nested functions and comprehensions
        if isinstance(const, types.CodeType):
            names.update(const.co_names)
    g = target.__globals__
    for name in sorted(names):
        if name in g:
            roots.append((("global", name, g), g[name]))
    return roots


def _children(obj):
    """(the steps from obj to a value, the value) for what a function could read."""
    from ..nn.module import Module

    if isinstance(obj, Module):
        d = obj.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            for key, value in d[registry].items():
                yield (("attr", registry), ("item", key)), value
        for key, value in d.items():
            if not key.startswith("_") and key != "training":
                yield (("attr", key),), value
        return
    if isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj[:256]):
            yield (("item", i),), value
        return
    if isinstance(obj, dict):
        for i, (key, value) in enumerate(obj.items()):
            if i >= 256:
                break
            if isinstance(key, (str, int)):
                yield (("item", key),), value
        return
    fn = _compiled_fn(obj)
    if fn is not None:  # a compiled helper: what its function reads
        yield (("attr", "fn"),), fn
        return
    if isinstance(obj, types.FunctionType):  # a helper the function calls: what it reads
        code = obj.__code__
        for i, name in enumerate(code.co_freevars):
            try:
                value = obj.__closure__[i].cell_contents
            except ValueError:
                continue
            yield (("attr", "__closure__"), ("item", i), ("attr", "cell_contents")), value
        for name in code.co_names:
            if name in obj.__globals__:
                yield (("attr", "__globals__"), ("item", name)), obj.__globals__[name]
        return
    d = getattr(obj, "__dict__", None)
    if isinstance(d, dict) and not isinstance(obj, (type, types.ModuleType)):
        for key, value in d.items():
            yield (("attr", key),), value


class PathIndex:
    """Paths from a function's roots to every tensor reachable from them, found by a
    breadth-first walk (so each path is a shortest one) when first asked, and walked
    again when a tensor is missing (the call may have replaced it since)."""

    def __init__(self, fn):
        self.fn = fn
        self.paths = None
        self.walks = 0

    def find(self, tensor):
        if self.paths is None or (id(tensor) not in self.paths and self.walks < 3):
            self.paths = self._walk()
        return self.paths.get(id(tensor), (None, None, None))[:2]

    def tensors(self):
        """Every tensor reachable from the roots now."""
        if self.paths is None:
            self.paths = self._walk()
        return [entry[2] for entry in self.paths.values()]

    def _walk(self):
        self.walks += 1
        paths = {}
        queue = deque((value, root, ()) for root, value in _roots(self.fn))
        seen = set()
        while queue and len(seen) < _MAX_VISITS:
            obj, root, path = queue.popleft()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if isinstance(obj, Tensor):
                paths[id(obj)] = (root, path, obj)
                continue
            if len(path) >= _MAX_DEPTH or isinstance(obj, _SCALARS) or _is_library(obj):
                continue
            for steps, value in _children(obj):
                if not isinstance(value, _SCALARS):
                    queue.append((value, root, path + steps))
        return paths


def _compiled_fn(obj):
    """The function an `ag.compile` object compiles, or None for anything else."""
    if type(obj).__name__ == "Compiled" and type(obj).__module__ == "anygrad.compile":
        return obj.fn
    return None


def _is_library(obj):
    """Objects whose insides are not the user's state: modules, classes, backends, arrays,
    the functions of libraries (anygrad's own included) and the code ag.compile generates.
    Python's own containers (dicts, lists, tuples) are the user's: parameters held in a
    dict, the functional style, are found through them."""
    if isinstance(obj, (types.ModuleType, type, types.BuiltinFunctionType, types.MethodType)):
        return True
    if isinstance(obj, types.FunctionType):
        module = obj.__module__
        return (module is None or module.split(".")[0] in _LIBRARIES
                or obj.__code__.co_filename.startswith("<ag.compile"))
    if isinstance(obj, _CONTAINERS) or _compiled_fn(obj) is not None:
        return False
    module = type(obj).__module__ or ""
    return (module.split(".")[0] in _LIBRARIES[1:] or module.startswith("anygrad.backends")
            or module.startswith("anygrad.compile"))


class Guards:
    """The checks one recording needs, written as one Python function: `prepare()`
    returns the outside tensors for a replay, or None when the recording no longer
    applies."""

    def __init__(self, fn, captures, modules, hooked=()):
        self.captures = captures
        # Outside tensors whose gradient hooks the engine runs itself (inputs of a
        # backward recorded ahead of time): a hook on them changes nothing recorded.
        self.hooked = frozenset(hooked)
        self.modules = [(m, flag) for m, flag in modules.values()]
        roots = _roots(fn)
        self.scalars = [(root, value) for root, value in roots
                        if isinstance(value, (int, float, bool, str)) and root[0] != "self"]
        # Plain numbers the recording may have baked in: the settings of every module
        # called (Dropout's p, BatchNorm's momentum) and the attributes of `self`.
        owners = [m for m, _ in self.modules] + [v for r, v in roots if r[0] == "self"]
        self.attributes = []
        for owner in {id(o): o for o in owners}.values():
            for name, value in getattr(owner, "__dict__", {}).items():
                if isinstance(value, _SCALARS) and name != "training":
                    self.attributes.append((owner, name, value))
        self.prepare = self._build()

    def _build(self):
        env = {"Tensor": Tensor}
        checks = []
        for i, (module, flag) in enumerate(self.modules):
            env[f"m{i}"] = module
            checks.append(f"m{i}.training is not {flag!r}")
        for i, (root, value) in enumerate(self.scalars):
            env[f"v{i}"] = value
            now = _root_code(root, f"r{i}", env)
            checks.append(f"type({now}) is not type(v{i}) or {now} != v{i}")
        for i, (owner, name, value) in enumerate(self.attributes):
            env[f"o{i}"], env[f"a{i}"] = owner.__dict__, value
            now = f"o{i}.get({name!r})"
            checks.append(f"type({now}) is not type(a{i}) or {now} != a{i}")
        lines = ["def prepare():"]
        if checks:
            lines.append("    if " + " or ".join(f"({c})" for c in checks) + ":")
            lines.append("        return None")
        if self.captures:
            lines.append("    try:")
            for k, c in enumerate(self.captures):
                if c.path is None:
                    env[f"k{k}"] = c.tensor
                    lines.append(f"        c{k} = k{k}")
                    continue
                code = _root_code(c.root, f"c{k}_root", env)
                for step, key in c.path:
                    if step == "item":
                        env[f"c{k}_key{len(env)}"] = key
                        code += f"[c{k}_key{len(env) - 1}]" if not isinstance(key, (int, str)) \
                            else f"[{key!r}]"
                    elif key.isidentifier():
                        code += f".{key}"
                    else:
                        code += f".__dict__[{key!r}]"
                lines.append(f"        c{k} = {code}")
            lines.append("    except (AttributeError, KeyError, IndexError, TypeError, ValueError):")
            lines.append("        return None")
        for k, c in enumerate(self.captures):
            env[f"b{k}"], env[f"d{k}"], env[f"s{k}"] = c.backend, c.dtype, c.shape
            lines.append(
                f"    if (not isinstance(c{k}, Tensor) or c{k}.backend is not b{k} or "
                f"c{k}.array.dtype != d{k} or c{k}.array.shape != s{k} or "
                f"c{k}.requires_grad is not {c.requires_grad!r}"
                + ("):" if k in self.hooked else f" or getattr(c{k}, '_hooks', None)):"))
            lines.append("        return None")
        lines.append("    return [" + "".join(f"c{k}, " for k in range(len(self.captures))) + "]")
        source = "\n".join(lines) + "\n"
        self.source = source
        exec(compile(source, "<ag.compile guards>", "exec"), env)
        return env["prepare"]


    def explain(self):
        """What no longer holds, in words (None if everything does): said when a
        function keeps being recorded again."""
        for module, flag in self.modules:
            if module.training is not flag:
                return (f"{type(module).__name__} switched to "
                        f"{'training' if module.training else 'eval'} mode")
        for (kind, name, where), value in self.scalars:
            now = _read_root(kind, name, where)
            if type(now) is not type(value) or now != value:
                place = "global" if kind == "global" else "closure variable"
                return f"the {place} {name!r} changed from {value!r} to {now!r}"
        for owner, name, value in self.attributes:
            now = owner.__dict__.get(name)
            if type(now) is not type(value) or now != value:
                return (f"{type(owner).__name__}.{name} changed from {value!r} to {now!r}")
        for k, c in enumerate(self.captures):
            where = c.describe()
            try:
                t = c.find()
            except (AttributeError, KeyError, IndexError, TypeError, ValueError):
                return f"outside tensor {where} can no longer be found"
            if not isinstance(t, Tensor):
                return f"outside tensor {where} was replaced by a {type(t).__name__}"
            for what, then, now in (
                    ("backend", c.backend.name, t.backend.name),
                    ("dtype", str(c.dtype), str(t.array.dtype)),
                    ("shape", tuple(c.shape), tuple(t.array.shape)),
                    ("requires_grad", c.requires_grad, t.requires_grad)):
                if then != now:
                    return f"outside tensor {where}: its {what} changed from {then} to {now}"
            if k not in self.hooked and getattr(t, "_hooks", None):
                return f"outside tensor {where} has a gradient hook"
        return None


def _read_root(kind, name, where):
    if kind == "cell":
        return where.cell_contents
    if kind == "global":
        return where.get(name)
    return where


def _root_code(root, name, env):
    kind, key, where = root
    env[name] = where
    if kind == "cell":
        return f"{name}.cell_contents"
    if kind == "global":
        return f"{name}.get({key!r})"
    return name
