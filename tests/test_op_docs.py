"""Each op's own docstring: what `help`, `inspect.getdoc` and the API reference show for
`ag.exp` is that op's text, while the `Op` class keeps its own."""
from __future__ import annotations

import inspect
import math
import pydoc

import pytest

import anygrad as ag
from anygrad.engine import Op, VariadicOp
from anygrad.ops import registry


def _public_ops():
    """(name, op) for every op the registry makes public, extensions included."""
    entries = [(n, registry.namespace()[n]) for n in registry.names()]
    entries += [(f"{e}.{n}", v) for e in ("linalg", "fft")
                for n, v in registry.extension(e).items()]
    return [(n, v) for n, v in entries if isinstance(v, Op)]


def test_op_docstring_is_its_own():
    assert ag.exp.doc
    assert ag.exp.__doc__ == ag.exp.doc
    assert inspect.getdoc(ag.exp) == ag.exp.doc
    assert inspect.getdoc(ag.sum) != inspect.getdoc(ag.exp)
    assert ag.exp.doc in pydoc.render_doc(ag.exp)


def test_classes_keep_their_own_docstring():
    assert isinstance(Op.__doc__, str) and Op.__doc__.startswith("A differentiable operation")
    assert isinstance(VariadicOp.__doc__, str) and "sequence of tensors" in VariadicOp.__doc__
    assert inspect.getdoc(Op) == inspect.cleandoc(Op.__doc__)


def test_op_without_doc_shows_the_class_text():
    plain = Op("plain", lambda xp, x: x)
    assert plain.doc is None
    assert plain.__doc__ == Op.__doc__


@pytest.mark.parametrize("name,value", _public_ops(), ids=[n for n, _ in _public_ops()])
def test_every_public_op_has_a_docstring(name, value):
    assert value.doc and value.doc.strip(), f"op {name} has no docstring of its own"
    assert value.__doc__ == value.doc


def test_a_documented_op_computes_and_differentiates(backend):
    x = ag.tensor([0.0, 1.0], dtype="float64", backend=backend, requires_grad=True)
    ag.sum(ag.exp(x)).backward()
    expected = [math.exp(0.0), math.exp(1.0)]  # d/dx sum(e^x) = e^x
    assert x.grad.numpy().tolist() == pytest.approx(expected, rel=1e-12)
