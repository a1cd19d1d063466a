"""The documentation runs: every ```python block of a page under docs/ is executed, the
page's blocks in order in one namespace (a tutorial builds on its earlier blocks); a
block fenced as ```{.python .no-run} is shown on the site but not run. Also: every public
name has a docstring of its own (the site's build refuses one without, too), and the site
builds with warnings as errors where MkDocs is installed. The README's
blocks run too.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import anygrad as ag

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]

# An opening fence: up to three spaces, three or more backticks, then the info string.
_FENCE = re.compile(r"^ {0,3}(`{3,})\s*(.*?)\s*$")


def code_blocks(text):
    """(first line number, code) of each block that runs, in page order."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, info = match.groups()
        end = i + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            end += 1
        if end == len(lines):
            raise ValueError(f"unclosed code fence at line {i + 1}")
        if info == "python":
            blocks.append((i + 2, "\n".join(lines[i + 1:end])))
        i = end + 1
    return blocks


def test_code_blocks_parser():
    text = "\n".join([
        "# A page", "", "```python", "a = 1", "```", "",
        "```{.python .no-run}", "a = 2", "```", "",
        "````python", "b = '```'", "````", "", "```text", "c", "```",
    ])
    assert code_blocks(text) == [(4, "a = 1"), (12, "b = '```'")]
    with pytest.raises(ValueError, match="unclosed"):
        code_blocks("```python\nx = 1\n")


def run_page(page):
    """Run a page's blocks in order in one namespace, on the numpy backend."""
    namespace = {"__name__": "__docs__"}
    with ag.use_backend("numpy"):
        for line, code in code_blocks(page.read_text(encoding="utf-8")):
            # Padding with blank lines makes a traceback name the page's own line numbers.
            exec(compile("\n" * (line - 1) + code, str(page), "exec"), namespace)
    return namespace


def test_run_page_shares_a_namespace_and_names_the_failing_line(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("```python\na = 2\n```\n\ntext\n\n```python\nb = a * 3\n```\n")
    assert run_page(page)["b"] == 6
    page.write_text("```python\nx = 1\n```\n\n```python\n\nassert x == 2\n```\n")
    with pytest.raises(AssertionError) as failure:
        run_page(page)
    last = failure.traceback[-1]
    assert str(last.path) == str(page) and last.lineno + 1 == 7   # 0-based in pytest


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_page_runs(page, tmp_path, monkeypatch):
    # Pictures and files a page writes go to a scratch folder, not into the tree.
    monkeypatch.chdir(tmp_path)
    run_page(page)


@pytest.fixture(scope="module")
def docs_modules():
    """docs/public_api.py and docs/reference_pages.py, the helpers the site is built with."""
    sys.path.insert(0, str(DOCS))
    try:
        import public_api
        import reference_pages
    finally:
        sys.path.remove(str(DOCS))
    return public_api, reference_pages


def test_reference_has_every_public_name(docs_modules):
    public_api, reference_pages = docs_modules
    index = reference_pages.index_page()
    for page in public_api.PAGES:
        assert reference_pages.path(page).split("/")[-1] in index, page.module
        text = reference_pages.module_page(page)
        module = public_api.load(page.module)
        for name in public_api.public_names(page.module):
            if public_api.is_constant(getattr(module, name)):
                expected = f"| `{name}` | `"
            elif page.table:
                expected = f"| `{name}` | "
            else:
                expected = f"## `{name}` {{#{name}}}"
            assert expected in text, f"{page.module}.{name} is missing from its reference page"


def test_every_public_submodule_has_a_page(docs_modules):
    assert docs_modules[0].submodules_without_page() == []


def test_what_counts_as_a_docstring(docs_modules):
    import functools

    docstring = docs_modules[0].docstring

    class Documented:
        """Its own."""

    class Inheriting(Documented):
        pass

    class Kind:
        """Says what every instance is, not what one of them does."""

        def __call__(self):
            return 1

    class Data:
        """A value, described by its type."""

    def documented():
        """Its own."""

    op = Kind()
    wrapper = functools.wraps(op)(lambda: op())
    assert docstring(Documented) == docstring(documented) == "Its own."
    assert docstring(Inheriting) == ""
    assert docstring(op) == "" and docstring(wrapper) == ""
    assert docstring(Data()) == "A value, described by its type."
    assert docstring(lambda: None) == ""


def test_public_names_have_docstrings(docs_modules):
    public_api, _ = docs_modules
    missing = public_api.undocumented()
    assert not missing, "public names without a docstring (write one): " + ", ".join(missing)


def test_site_builds_strictly(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("material")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
