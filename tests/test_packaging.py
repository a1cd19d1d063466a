"""What a wheel of anygrad holds: pyproject.toml names its packages one by one (backends/
installs as anygrad.backends), so a subpackage left off that list would be missing from
every non-editable install while the tests, run from the repository, still pass."""
from __future__ import annotations

import pathlib
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _packages_under(folder, name):
    return {".".join((name, *p.parent.relative_to(ROOT / folder).parts))
            for p in (ROOT / folder).rglob("__init__.py")}


def test_every_subpackage_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = _packages_under("anygrad", "anygrad") | _packages_under("backends",
                                                                     "anygrad.backends")
    assert sorted(on_disk - set(config["packages"])) == []
    assert sorted(set(config["packages"]) - on_disk) == []
