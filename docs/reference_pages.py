"""The API reference as Markdown: one page per public module (docs/public_api.py), each
public name with its call signature and its docstring, as `help()` shows them. The
MkDocs hook in docs/_hooks/ places these pages in the site."""
from __future__ import annotations

import inspect

import public_api

FOLDER = "reference"


def path(page):
    """The page's path inside the site's sources: reference/anygrad-nn.md."""
    return f"{FOLDER}/{page.module.replace('.', '-')}.md"


def index_page():
    lines = ["# API reference", "",
             "One page per public module, generated from the docstrings when the site is "
             "built.", ""]
    lines += [f"- [`{p.module}`]({path(p).removeprefix(FOLDER + '/')})"
              for p in public_api.PAGES]
    return "\n".join(lines) + "\n"


def module_page(page):
    module = public_api.load(page.module)
    lines = [f"# `{page.module}`", ""]
    # A module's docstring is indented from column 0, so its indented examples stay
    # indented (inspect.cleandoc would strip them when nothing else follows the summary).
    summary = inspect.getattr_static(module, "__doc__", None)
    if isinstance(summary, str) and summary.strip():
        lines += [summary.strip("\n"), ""]
    names = public_api.public_names(page.module)
    constants = [n for n in names if public_api.is_constant(getattr(module, n))]
    documented = [n for n in names if n not in constants]
    if page.table:
        lines += _table(module, documented)
    else:
        for name in documented:
            lines += _entry(name, getattr(module, name), level=2)
    if constants:
        lines += ["## Constants", "", "| name | value |", "| --- | --- |"]
        lines += [f"| `{n}` | `{getattr(module, n)!r}` |" for n in constants]
        lines.append("")
    return "\n".join(lines)


def _table(module, names):
    """A spelling layer's names: each one's summary, and a link to the anygrad name it
    forwards to (or wraps), where there is one."""
    targets = _documented_objects()
    lines = ["| name | summary | anygrad's |", "| --- | --- | --- |"]
    for name in names:
        value = getattr(module, name)
        first = public_api.docstring(value).split("\n\n")[0]
        summary = " ".join(first.split()).replace("|", "&#124;")
        target = targets.get(id(inspect.unwrap(value) if inspect.isroutine(value) else value))
        link = f"[`{target[1]}`]({target[0]}#{target[2]})" if target else ""
        lines.append(f"| `{name}` | {summary} | {link} |")
    return lines + [""]


def _documented_objects():
    """id(object) -> (page file, qualified name, anchor) over the pages with sections."""
    found = {}
    for page in public_api.PAGES:
        if page.table:
            continue
        module = public_api.load(page.module)
        for name in public_api.public_names(page.module):
            value = getattr(module, name)
            if not public_api.is_constant(value):
                found.setdefault(id(value), (path(page).split("/")[-1],
                                             f"{page.module}.{name}", name))
    return found


def _entry(name, value, level, anchor=None):
    """A name's section: heading, signature, docstring; a class's public methods and
    properties follow as subsections."""
    anchor = anchor or name
    lines = [f"{'#' * level} `{name}` {{#{anchor}}}", ""]
    signature = _signature(name.rpartition(".")[2], value, method=level > 2)
    if signature:
        lines += ["```python", signature, "```", ""]
    doc = public_api.docstring(value)
    lines += [doc if doc else "*No docstring yet.*", ""]
    if inspect.isclass(value) and level == 2:
        for member, attribute in _members(value):
            lines += _entry(f"{name}.{member}", attribute, level + 1,
                            anchor=f"{anchor}.{member}")
    return lines


def _signature(name, value, method=False):
    if isinstance(value, property):
        return None
    try:
        signature = inspect.signature(value) if callable(value) else None
    except (TypeError, ValueError):
        signature = None  # builtins and some C types have none
    if signature is not None and method:
        # Shown as called on an instance: without `self`.
        parameters = list(signature.parameters.values())
        if parameters and parameters[0].name in ("self", "cls"):
            signature = signature.replace(parameters=parameters[1:])
    text = f"{name}{signature}" if signature is not None else None
    if inspect.isclass(value):
        return f"class {text or name}"
    return text


def _members(cls):
    """The public methods and properties a class defines itself (inherited ones are
    documented on the class that defines them), in definition order."""
    for member, attribute in vars(cls).items():
        if member.startswith("_"):
            continue
        if isinstance(attribute, (staticmethod, classmethod)):
            attribute = attribute.__func__
        if not (inspect.isfunction(attribute) or isinstance(attribute, property)):
            continue
        # An override without a docstring of its own (a layer's `forward`) means what the
        # base class's method means, and is documented there.
        overrides = any(member in vars(base) for base in cls.__mro__[1:])
        if overrides and not attribute.__doc__:
            continue
        yield member, attribute
