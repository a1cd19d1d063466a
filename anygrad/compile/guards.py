"""What must still hold for a recording to be replayed, checked before every replay.

A recording is faithful to the call it saw. Before a replay, the outside tensors are
found again by the paths that led to them (`self.model._modules['0']._parameters
['weight']`, `params['W']` for parameters held as plain tensors in a dict), so a batch or
parameter replaced by a new tensor is read afresh; and each
must still have the shape, dtype, backend and requires_grad it had, and no gradient
hook (but for the inputs of a backward recorded ahead of time, whose hooks the engine
runs). The `training` flag and the plain-number settings of every module called must be
unchanged, and so must every plain value (number, string, None) the function could read
from outside its arguments: in its globals and closure, and anywhere below them or
`self` or objects passed as static arguments (attributes of objects, modules and
classes, entries of dicts, lists and tuples, and the length of each of those), since
the recording baked in what it read.
The numbers optimizers and schedulers keep (learning rates, step counts) are the
exception: their steps are replayed as calls, which read them afresh, unless code the
function runs names where they are (`opt.param_groups`, `sched.get_last_lr`), when they
are checked like the others. When any of this fails the function is recorded again;
`explain()` says what failed, for the warning of a function that never settles. What
the walk cannot see whole (too many objects, too deep) makes the function run eagerly.
"""
from __future__ import annotations

import dis
import numbers
import operator
import sys
import types
import weakref
from collections import deque

from ..tensor import Tensor

__all__ = ["Guards", "PathIndex", "outside_values"]

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


def _registered(d):
    """(steps, value) for a Module's parameters, buffers and submodules, from its
    __dict__ `d`."""
    for registry in ("_parameters", "_buffers", "_modules"):
        for key, value in d[registry].items():
            yield (("attr", registry), ("item", key)), value


def _children(obj):
    """(the steps from obj to a value, the value) for what a function could read."""
    from ..nn.module import Module

    if isinstance(obj, Module):
        d = obj.__dict__
        yield from _registered(d)
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


# ------------------------------------------------------------------ plain values
_MAX_ITEMS = 256  # entries of one container walked into (plain values: all of them)


def _is_value(value):
    """A plain value a recording bakes in when the function reads it: a Python or numpy
    number, a string, None, or a tuple of these (which can only change by being
    replaced, so one identity check covers it)."""
    if isinstance(value, tuple):
        return len(value) <= _MAX_ITEMS and all(map(_is_value, value))
    return (isinstance(value, (numbers.Number, str, type(None)))
            or (type(value).__name__ in ("bool", "bool_") and getattr(value, "shape", None) == ()))


def _user_class(obj):
    """A class of the user's, whose class attributes (shared settings) a function reads."""
    return isinstance(obj, type) and _users(obj.__module__ or "builtins")


def _users(module_name, where=""):
    """Whether a module (by name, and file where known) is the user's: not the standard
    library's, an installed package's or one of the libraries anygrad knows."""
    top = module_name.split(".")[0]
    return not (top in _LIBRARIES or top in sys.stdlib_module_names
                or "site-packages" in where or "dist-packages" in where)


def _user_module(obj):
    """A Python module of the user's (a config module, say): not the standard library's,
    an installed package's or one of the libraries anygrad knows."""
    return isinstance(obj, types.ModuleType) and _users(
        obj.__name__, getattr(obj, "__file__", None) or "")


def _entries(obj):
    """(steps, value) for everything `obj` holds that a function could read: all of a
    container's plain values, the first entries of the rest."""
    from ..nn.module import Module

    if isinstance(obj, Module):
        d = obj.__dict__
        yield from _registered(d)
        for key, value in d.items():
            if key not in ("_parameters", "_buffers", "_modules", "_non_persistent"):
                yield (("attr", key),), value
        return
    if isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            if i < _MAX_ITEMS or _is_value(value):
                yield (("item", i),), value
        return
    if isinstance(obj, dict):
        for i, (key, value) in enumerate(obj.items()):
            if i < _MAX_ITEMS or _is_value(value):
                yield (("item", key),), value
        return
    if isinstance(obj, types.ModuleType):  # a user's module: its data and helpers
        for key, value in vars(obj).items():
            if not key.startswith("__") and not isinstance(value, type):
                yield (("attr", key),), value
        return
    if isinstance(obj, type):  # a user's class: the data its instances share
        names = {key for cls in obj.__mro__ if _user_class(cls) for key in vars(cls)}
        for key in sorted(names):
            value = getattr(obj, key, None)
            if not key.startswith("__") and (
                    isinstance(value, (dict, list, tuple)) or _is_value(value)):
                yield (("attr", key),), value
        return
    yield from _children(obj)
    if not isinstance(obj, types.FunctionType) and _compiled_fn(obj) is None:
        for cls in type(obj).__mro__:
            slots = getattr(cls, "__slots__", ())
            for key in (slots,) if isinstance(slots, str) else slots:
                if key not in ("__dict__", "__weakref__") and hasattr(obj, key):
                    yield (("attr", key),), getattr(obj, key)
        if _user_class(type(obj)):
            yield (("attr", "__class__"),), type(obj)


def _truncated(obj):
    """A container with more entries than the guards walk into, some of which could
    hold plain values (tensors and library objects hold none the function reads)."""
    if not isinstance(obj, (list, tuple, dict)) or len(obj) <= _MAX_ITEMS:
        return False
    rest = list(obj.values() if isinstance(obj, dict) else obj)[_MAX_ITEMS:]
    return not all(_is_value(v) or isinstance(v, Tensor) or _is_library(v) for v in rest)


def _code_names(code, names):
    """The attribute names `code` reads or writes, and its string constants (a
    `getattr(obj, "name")`), nested functions' included."""
    for ins in dis.get_instructions(code):
        if ins.opname in _ATTRIBUTE_OPS:
            names.add(ins.argval)
    for const in code.co_consts:
        if isinstance(const, str):
            names.add(const)
        elif isinstance(const, types.CodeType):
            _code_names(const, names)


_ATTRIBUTE_OPS = {"LOAD_ATTR", "LOAD_METHOD", "STORE_ATTR", "DELETE_ATTR"}


def _user_classes(obj):
    return [c for c in type(obj).__mro__ if _user_class(c)]


def _static_objects(args, kwargs):
    """The objects among a call's static arguments (a config object passed by identity):
    the plain values they hold are read like those of `self`."""
    found = []
    stack = [*args, *(kwargs or {}).values()]
    while stack:
        obj = stack.pop()
        if isinstance(obj, (list, tuple)) and not _is_value(obj):
            stack.extend(obj)
        elif isinstance(obj, dict):
            stack.extend(obj.values())
        elif not (isinstance(obj, Tensor) or _is_value(obj)):
            found.append(obj)
    return found


def outside_values(fn, statics=()):
    """The plain values the function could read outside its arguments, below its roots
    and the objects among its static arguments: (values, lengths, why). `values` holds
    (root, path, value) for each; `lengths` (root, path, len) for every list, tuple and
    dict met; `why` says what the walk could not see whole (None when it saw
    everything). The numbers of objects with replayed methods (optimizers, schedulers)
    are left to those methods, which read them afresh, unless code the function can run
    names an attribute of theirs (`opt.param_groups`, `sched.get_last_lr`): then they
    are walked too."""
    walk = _ValueWalk()
    target = fn.__func__ if isinstance(fn, types.MethodType) else fn
    code = getattr(target, "__code__", None) or getattr(type(fn).__call__, "__code__", None)
    if code is not None:
        _code_names(code, walk.names)
    start = [(value, root, ()) for root, value in _roots(fn)
             if not (root[0] != "self" and _is_value(value))]
    start += [(obj, ("arg", f"<argument {type(obj).__name__}>", obj), ()) for obj in statics]
    if isinstance(target, types.FunctionType):  # a mutable default (`config={...}`)
        here = ("fn", target.__name__, target)
        for i, value in enumerate(target.__defaults__ or ()):
            start.append((value, here, (("attr", "__defaults__"), ("item", i))))
        for key, value in (target.__kwdefaults__ or {}).items():
            start.append((value, here, (("attr", "__kwdefaults__"), ("item", key))))
    walk.run(start)
    while walk.why is None:
        read = [entry for entry in walk.held if walk.names & _exposed(entry[0])]
        if not read:
            break
        for obj, _, _ in read:
            walk.free.add(id(obj))
            walk.seen.discard(id(obj))
        walk.held = [entry for entry in walk.held if id(entry[0]) not in walk.free]
        walk.run(read)
    return walk.values, walk.lengths, walk.why


def _replays(cls):
    """Whether instances of `cls` have methods a recording replays, other than a
    Module's (whose `zero_grad` reads none of its settings)."""
    from ..nn.module import Module

    known = _REPLAYS.get(cls)
    if known is None:
        known = _REPLAYS[cls] = not issubclass(cls, Module) and any(
            getattr(member, "replayed", False) for c in cls.__mro__ for member in vars(c).values())
    return known


_REPLAYS = weakref.WeakKeyDictionary()


def _exposed(obj):
    """The attribute names through which code reads a replayed object's state: its own,
    and its class's public ones other than the replayed methods."""
    cls = type(obj)
    return set(vars(obj)) | {n for n in dir(cls) if not n.startswith("_")
                             and not getattr(getattr(cls, n, None), "replayed", False)}


class _ValueWalk:
    """A breadth-first walk (shortest paths first) gathering plain values, the lengths of
    the containers holding them, the names the code it meets uses, and the objects with
    replayed methods it stops at (`held`; walked once `free`)."""

    def __init__(self):
        self.free = set()
        self.values, self.lengths, self.held = [], [], []
        self.names = set()
        self.scanned = set()  # the user's classes whose methods' names are in `names`
        self.seen = set()
        self.why = None

    def run(self, start):
        queue = deque(start)
        while queue and self.why is None:
            obj, root, path = queue.popleft()
            if id(obj) in self.seen or isinstance(obj, Tensor) or _is_value(obj):
                continue
            self.seen.add(id(obj))
            if len(self.seen) > _MAX_VISITS:
                self.why = (f"reaches more than {_MAX_VISITS} objects from its globals, "
                            "closure and self")
            elif _replays(type(obj)) and id(obj) not in self.free:
                self.held.append((obj, root, path))
            elif not _is_library(obj) or _user_module(obj) or _user_class(obj):
                if len(path) >= _MAX_DEPTH:
                    self.why = (f"reaches objects more than {_MAX_DEPTH} steps deep "
                                f"(at {_path_text(root, path)})")
                elif _truncated(obj):
                    self.why = (f"reaches a container of {len(obj)} entries "
                                f"({_path_text(root, path)}), more than the guards walk into")
                else:
                    self._visit(obj, root, path, queue)

    def _visit(self, obj, root, path, queue):
        if isinstance(obj, types.FunctionType):
            _code_names(obj.__code__, self.names)
        elif not isinstance(obj, (list, tuple, dict, type, types.ModuleType)):
            for cls in _user_classes(obj):
                if cls in self.scanned:
                    continue
                self.scanned.add(cls)
                for member in vars(cls).values():
                    member = getattr(member, "fget", member)
                    member = getattr(member, "__func__", member)
                    if isinstance(member, types.FunctionType):
                        _code_names(member.__code__, self.names)
        if isinstance(obj, (list, tuple, dict)):  # `len(x)`, `x[-1]`, loops read it
            self.lengths.append((root, path, len(obj)))
        for steps, value in _entries(obj):
            if _is_value(value):
                self.values.append((root, path + steps, value))
            else:
                queue.append((value, root, path + steps))


def _path_text(root, path):
    """`config['scale']`, `self.hp.lr`: a path as the user would write it."""
    kind, name = root[0], root[1]
    text = "self" if kind == "self" else name
    steps = list(path)
    i = 0
    while i < len(steps):
        step, key = steps[i]
        if step == "attr" and key in ("_modules", "_parameters", "_buffers") \
                and i + 1 < len(steps) and steps[i + 1][0] == "item":
            text += f".{steps[i + 1][1]}"
            i += 2
            continue
        if step == "attr" and key == "__closure__" and i + 2 < len(steps):
            text += f".<closure {steps[i + 1][1]}>"
            i += 3
            continue
        if step == "attr" and key == "__globals__" and i + 1 < len(steps):
            text += f".<global {steps[i + 1][1]!r}>"
            i += 2
            continue
        text += f"[{key!r}]" if step == "item" else f".{key}"
        i += 1
    return text


class Guards:
    """The checks one recording needs, written as one Python function: `prepare()`
    returns the outside tensors for a replay, or None when the recording no longer
    applies."""

    def __init__(self, fn, captures, modules, hooked=(), call=((), {})):
        self.captures = captures
        # Outside tensors whose gradient hooks the engine runs itself (inputs of a
        # backward recorded ahead of time): a hook on them changes nothing recorded.
        self.hooked = frozenset(hooked)
        self.modules = [(m, flag) for m, flag in modules.values()]
        self.fn, self.statics = fn, _static_objects(*call)
        roots = _roots(fn)
        self.scalars = [(root, value) for root, value in roots
                        if _is_value(value) and root[0] != "self"]
        self.values, self.lengths, self.unseen = outside_values(fn, self.statics)
        # Settings of the modules called that no path reaches (a module passed as an
        # argument): Dropout's p, BatchNorm's momentum.
        walked = {(id(_step_owner(root, path)), path[-1][1]) for root, path, _ in self.values
                  if path[-1][0] == "attr"}
        self.attributes = []
        for owner in {id(m): m for m, _ in self.modules}.values():
            for name, value in owner.__dict__.items():
                if _is_value(value) and name != "training" and (id(owner), name) not in walked:
                    self.attributes.append((owner, name, value))
        self.prepare = self._build()

    def renew(self):
        """Take the plain values as they are now: after ag.compile itself changed some
        (an optimizer switched to flat buffers when its step was confirmed)."""
        self.values, self.lengths, self.unseen = outside_values(self.fn, self.statics)
        self.prepare = self._build()

    def _build(self):
        env = {"Tensor": Tensor, "same": _same, "same_all": _same_all}
        checks = []
        for i, (module, flag) in enumerate(self.modules):
            env[f"m{i}"] = module
            checks.append(f"m{i}.training is not {flag!r}")
        for i, (root, value) in enumerate(self.scalars):
            env[f"v{i}"] = value
            now = _root_code(root, f"r{i}", env)
            checks.append(f"((n := {now}) is not v{i} and not same(n, v{i}))")
        for i, (owner, name, value) in enumerate(self.attributes):
            env[f"o{i}"], env[f"a{i}"] = owner.__dict__, value
            checks.append(f"((n := o{i}.get({name!r})) is not a{i} and not same(n, a{i}))")
        lines = ["def prepare():"]
        if checks:
            lines.append("    if " + " or ".join(f"({c})" for c in checks) + ":")
            lines.append("        return None")
        lines += self._value_checks(env)
        if self.captures:
            lines.append("    try:")
            for k, c in enumerate(self.captures):
                if c.path is None:
                    env[f"k{k}"] = c.tensor
                    lines.append(f"        c{k} = k{k}")
                    continue
                code = _root_code(c.root, f"c{k}_root", env)
                code += "".join(_step_code(step, env) for step in c.path)
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


    def _value_checks(self, env):
        """Lines returning None when a plain value below the roots changed. Each
        container is found once by its path; its values are compared by identity first
        (a value left alone is the same object), by type and value only when not, and
        many values of one container at once."""
        if not self.values and not self.lengths:
            return []
        body = []
        local = {}

        def find(root, path):
            key = (root[0], root[1], id(root[2]), path)
            if key not in local:
                if path:
                    code = find(root, path[:-1]) + _step_code(path[-1], env)
                else:
                    code = _root_code(root, f"w_root{len(local)}", env)
                local[key] = f"p{len(local)}"
                body.append(f"        {local[key]} = {code}")
            return local[key]

        for k, (root, path, n) in enumerate(self.lengths):
            body.append(f"        if len({find(root, path)}) != {n}:")
            body.append("            return None")
        groups = {}
        for root, path, value in self.values:
            parent, (step, key) = path[:-1], path[-1]
            if step == "attr" and not key.isidentifier():
                parent, step = parent + (("attr", "__dict__"),), "item"
            group = (root[0], root[1], id(root[2]), parent, step)
            groups.setdefault(group, (root, parent, step, []))[3].append((key, value))
        for k, (root, parent, step, entries) in enumerate(groups.values()):
            where = find(root, parent)
            if len(entries) > 4:
                keys = [key for key, _ in entries]
                getter = operator.attrgetter if step == "attr" else operator.itemgetter
                env[f"get{k}"], env[f"was{k}"] = getter(*keys), tuple(v for _, v in entries)
                body.append(f"        if not same_all(get{k}({where}), was{k}):")
                body.append("            return None")
                continue
            for j, (key, value) in enumerate(entries):
                env[f"w{k}_{j}"] = value
                now = where + _step_code((step, key), env)
                body.append(f"        if (n := {now}) is not w{k}_{j} and not same(n, w{k}_{j}):")
                body.append("            return None")
        return (["    try:"] + body
                + ["    except (AttributeError, KeyError, IndexError, TypeError, ValueError):",
                   "        return None"])

    def explain(self):
        """What no longer holds, in words (None if everything does): said when a
        function keeps being recorded again."""
        for module, flag in self.modules:
            if module.training is not flag:
                return (f"{type(module).__name__} switched to "
                        f"{'training' if module.training else 'eval'} mode")
        for (kind, name, where), value in self.scalars:
            now = _read_root(kind, name, where)
            if not _same(now, value):
                place = "global" if kind == "global" else "closure variable"
                return f"the {place} {name!r} changed from {value!r} to {now!r}"
        for owner, name, value in self.attributes:
            now = owner.__dict__.get(name)
            if not _same(now, value):
                return (f"{type(owner).__name__}.{name} changed from {value!r} to {now!r}")
        for root, path, n in self.lengths:
            try:
                now = len(_follow(root, path))
            except (AttributeError, KeyError, IndexError, TypeError, ValueError):
                return f"{_path_text(root, path)} can no longer be found"
            if now != n:
                return f"the length of {_path_text(root, path)} changed from {n} to {now}"
        for root, path, value in self.values:
            try:
                now = _follow(root, path)
            except (AttributeError, KeyError, IndexError, TypeError, ValueError):
                return f"{_path_text(root, path)} can no longer be found"
            if not _same(now, value):
                return f"{_path_text(root, path)} changed from {value!r} to {now!r}"
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


def _same(now, then):
    """Whether a value read now is the one recorded: the same type and value (NaN the
    same as NaN, -0.0 not the same as 0.0)."""
    if now is then:
        return True
    if type(now) is not type(then):
        return False
    if isinstance(now, tuple):
        return len(now) == len(then) and all(map(_same, now, then))
    try:
        if now == then:
            return bool(now != 0) or repr(now) == repr(then)
        return bool(now != now and then != then)
    except (TypeError, ValueError):
        return False


def _same_all(now, then):
    return all(map(operator.is_, now, then)) or all(map(_same, now, then))


def _step_code(step, env):
    kind, key = step
    if kind == "item":
        if isinstance(key, (int, str)) and not isinstance(key, bool):
            return f"[{key!r}]"
        name = f"w_key{len(env)}"
        env[name] = key
        return f"[{name}]"
    return f".{key}" if key.isidentifier() else f".__dict__[{key!r}]"


def _follow(root, path):
    value = _read_root(*root)
    for step, key in path:
        value = value[key] if step == "item" else getattr(value, key)
    return value


def _step_owner(root, path):
    try:
        return _follow(root, path[:-1])
    except (AttributeError, KeyError, IndexError, TypeError, ValueError):
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
