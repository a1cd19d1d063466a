"""The op registry: one declaration per op gives the namespace, `__all__`, and a
required row in the gradient-check tables."""
from __future__ import annotations

import pathlib
import re

import anygrad as ag
from anygrad import ops
from anygrad.ops import registry
from test_complex_fft import CASES as COMPLEX_CASES
from test_ops_gradcheck import CASES, INDEX_CASES

ROWS = [c[0] for c in CASES] + [c[0] for c in INDEX_CASES] + [c[0] for c in COMPLEX_CASES]


def _has_row(name):
    name = name.replace(".", "_")  # linalg.inv: rows linalg_inv...
    return any(row == name or row.startswith(name + "_") for row in ROWS)


def test_every_differentiable_op_has_a_gradcheck_row():
    # test_higher_order runs gradgradcheck over the same table, so a row here is a
    # first- and a second-order check.
    missing = [n for n in registry.differentiable_names() if not _has_row(n)]
    assert missing == [], f"differentiable ops without a gradcheck row: {missing}"


def test_namespace_and_all_come_from_the_registry():
    assert ops.__all__ == registry.names()
    assert len(set(ops.__all__)) == len(ops.__all__)
    for name in ops.__all__:
        assert getattr(ops, name) is registry.namespace()[name]
        assert getattr(ag, name) is getattr(ops, name)


def test_constant_ops_record_no_graph():
    x = ag.tensor([1.0, -2.0], requires_grad=True)
    for name in ("sign", "floor", "isnan", "argmax"):
        assert name in registry.names() and name not in registry.differentiable_names()
        assert getattr(ag, name)(x).node is None


def test_declaring_a_name_twice_is_an_error():
    import pytest

    with pytest.raises(ValueError, match="'exp' is declared twice"):
        registry.op("exp", lambda xp, x: x)


def _rule_names():
    """Every `ns.<name>` a backward rule in the library calls."""
    root = pathlib.Path(ag.__file__).parent
    found = set()
    for path in root.rglob("*.py"):
        found |= set(re.findall(r"\bns\.([a-z_0-9]+)\b", path.read_text()))
    return sorted(found)


def test_every_name_a_rule_calls_exists_in_both_namespaces(backend):
    # Rules run on raw arrays (the backend's namespace) without create_graph and on
    # tensors (anygrad.ops) with it: a name missing from either would pass first-order
    # checks and fail only at second order.
    raw = ag.get_backend(backend).ops
    names = _rule_names()
    assert "cos" in names and "sum" in names
    missing_graph = [n for n in names if not hasattr(ops, n)]
    missing_raw = [n for n in names if not hasattr(raw, n)]
    assert missing_graph == [] and missing_raw == []
