"""Install hints name packages that exist: "anygrad" on the package index is another
project, so `pip install anygrad[...]` would install the wrong thing."""
from __future__ import annotations

import builtins
import importlib.util
import pathlib
import re

import pytest

import anygrad as ag
from anygrad.backends import BackendUnavailable

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_no_message_suggests_installing_anygrad_from_the_index():
    # Also where the hint is split over two string literals ("pip install " "'anygrad[...]'").
    pattern = re.compile(r"pip install\s+['\"]?anygrad\[|['\"]anygrad\[")
    offenders = [str(p.relative_to(ROOT)) for folder in ("anygrad", "backends", "examples")
                 for p in (ROOT / folder).rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []


def test_missing_cupy_message():
    if importlib.util.find_spec("cupy") is not None:
        pytest.skip("cupy is installed")
    with pytest.raises(BackendUnavailable) as info:
        ag.get_backend("cupy")
    message = str(info.value)
    assert "pip install cupy-cuda12x" in message and "cupy-cuda13x" in message
    assert '.[cuda12]' in message


def test_missing_scikit_learn_message(monkeypatch):
    from anygrad.data import datasets

    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError("No module named 'sklearn'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    with pytest.raises(ImportError, match=r"pip install scikit-learn .*pip install -e \"\.\[data\]\""):
        datasets._sklearn()
