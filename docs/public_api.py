"""anygrad's public modules and names, found by importing them: the API reference pages and
the documentation check both read this module, so neither keeps a list of functions.

A module's public names are its `__all__` where it has one; the top-level `anygrad`
namespace has none, so its names are those `dir(anygrad)` shows that are neither private
nor submodules (submodules get pages of their own). `anygrad.linalg` has none either, and
its names come from the op registry (see `EXTENSIONS`).
"""
from __future__ import annotations

import __future__
import importlib
import inspect
import types
from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    module: str
    title: str
    # A spelling layer (PyTorch's names over anygrad's) gets one table of names and
    # summaries instead of a section per name: each name's meaning is the original's.
    table: bool = False


PAGES = (
    Page("anygrad", "anygrad"),
    Page("anygrad.linalg", "anygrad.linalg"),
    Page("anygrad.fft", "anygrad.fft"),
    Page("anygrad.nn", "anygrad.nn"),
    Page("anygrad.nn.functional", "anygrad.nn.functional"),
    Page("anygrad.nn.init", "anygrad.nn.init"),
    Page("anygrad.nn.utils", "anygrad.nn.utils"),
    Page("anygrad.optim", "anygrad.optim"),
    Page("anygrad.optim.lr_scheduler", "anygrad.optim.lr_scheduler"),
    Page("anygrad.data", "anygrad.data"),
    Page("anygrad.tree", "anygrad.tree"),
    Page("anygrad.viz", "anygrad.viz"),
    Page("anygrad.scipy.special", "anygrad.scipy.special"),
    Page("anygrad.scipy.stats", "anygrad.scipy.stats"),
    Page("anygrad.numpy", "anygrad.numpy"),
    Page("anygrad.numpy.linalg", "anygrad.numpy.linalg"),
    Page("anygrad.numpy.fft", "anygrad.numpy.fft"),
    Page("anygrad.numpy.random", "anygrad.numpy.random"),
    Page("anygrad.torch", "anygrad.torch", table=True),
)


def load(module_name):
    """The module a reader reaches as `module_name`: `anygrad.linalg` is an attribute of
    anygrad (the standard's extension, defined in anygrad.ops), not an importable path."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError:
        parent, _, attr = module_name.rpartition(".")
        return getattr(load(parent), attr)


def public_names(module_name):
    """The public names of a module, in the order its `__all__` gives (else sorted)."""
    module = load(module_name)
    names = getattr(module, "__all__", None)
    if names is None and module_name in EXTENSIONS:
        names = _extension_names(module_name.rpartition(".")[2], module)
    if names is None:
        names = sorted(n for n in dir(module) if not n.startswith("_"))
    return [n for n in names if not _is_excluded(getattr(module, n))]


# Extension namespaces of the standard without an `__all__`: their module also holds the
# helpers their ops are declared with, so their names come from the op registry instead.
EXTENSIONS = ("anygrad.linalg",)


def _extension_names(extension, module):
    """The registry's ops of the extension, and the main namespace's functions it shares."""
    from anygrad import ops
    from anygrad.ops import registry

    shared = set(dir(module)) & set(ops.__all__)
    return sorted(set(registry.extension(extension)) | shared)


def _is_excluded(value):
    # Submodules have pages of their own; `from __future__ import annotations` leaves a
    # public-looking name behind.
    return isinstance(value, (types.ModuleType, __future__._Feature))


def is_constant(value):
    """A plain value (`anygrad.numpy.newaxis`, `anygrad.numpy.pi`): shown with its value on
    its module's page; Python gives such values no docstring of their own."""
    return value is None or isinstance(value, (bool, int, float, complex, str, tuple))


def docstring(value):
    """The docstring that documents `value`, or "" where there is none.

    A class's or function's docstring must be its own (not one inherited from a base
    class). A callable instance, such as an op made by the registry, needs one of its
    own too: its type's docstring describes every op alike, not this one. Data that is
    not callable (a dtype such as `anygrad.float32`) is documented by its type's."""
    if inspect.isclass(value):
        doc = value.__dict__.get("__doc__")
    elif inspect.isroutine(value) or not callable(value):
        doc = inspect.getdoc(value)
        # functools.wraps over an op copies the op type's docstring: the same generic text.
        inner = inspect.unwrap(value) if inspect.isroutine(value) else value
        generic = inner is not value and not inspect.isroutine(inner)
        if generic and doc == inspect.getdoc(type(inner)):
            doc = ""
    else:
        # Its own: set on the instance (an op's `doc`), not its type's.
        doc = getattr(value, "__doc__", None)
        if doc == type(value).__doc__:
            doc = ""
    return inspect.cleandoc(doc) if isinstance(doc, str) and doc.strip() else ""


def submodules_without_page():
    """Modules that a page's module lists in its `__all__` (so, public) but that have no
    page of their own. A spelling layer's submodules are covered by its one page."""
    covered = {page.module for page in PAGES}
    missing = []
    for page in PAGES:
        module = load(page.module)
        for name in getattr(module, "__all__", ()) if not page.table else ():
            value = getattr(module, name)
            qualified = f"{page.module}.{name}"
            if isinstance(value, types.ModuleType) and qualified not in covered:
                missing.append(qualified)
    return missing


def undocumented():
    """`module.name` for every public name without a docstring, sorted."""
    missing = []
    for page in PAGES:
        module = load(page.module)
        missing += [f"{page.module}.{n}" for n in public_names(page.module)
                    if not is_constant(getattr(module, n))
                    and not docstring(getattr(module, n))]
    return sorted(missing)


if __name__ == "__main__":
    # `python docs/public_api.py`: the public names without a docstring (none, or the
    # site's build fails).
    print("\n".join(undocumented()))
