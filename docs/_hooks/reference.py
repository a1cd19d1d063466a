"""MkDocs hook: the API reference pages (docs/reference_pages.py) join the site's files
and its navigation at build time, so that neither mkdocs.yml nor any page lists modules
or functions by hand."""
from __future__ import annotations

import sys
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import public_api  # noqa: E402
import reference_pages  # noqa: E402

NAV_ENTRY = "API reference"


def on_config(config):
    missing = public_api.undocumented()
    if missing:
        raise PluginError("public names without a docstring: " + ", ".join(missing))
    pages = [{p.title: reference_pages.path(p)} for p in public_api.PAGES]
    for i, entry in enumerate(config["nav"]):
        if isinstance(entry, dict) and NAV_ENTRY in entry:
            config["nav"][i] = {NAV_ENTRY: [f"{reference_pages.FOLDER}/index.md", *pages]}
    return config


def on_files(files, config):
    files.append(File.generated(config, f"{reference_pages.FOLDER}/index.md",
                                content=reference_pages.index_page()))
    for page in public_api.PAGES:
        files.append(File.generated(config, reference_pages.path(page),
                                    content=reference_pages.module_page(page)))
    return files
