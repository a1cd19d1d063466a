"""Graph pictures: the DOT text parses, and says what the graph holds.

Nothing is installed for this: a small parser of the DOT language (the subset without
subgraphs and HTML labels) reads the text back, so a syntax slip fails here, not in
someone's Graphviz. When `dot` itself is on PATH it renders the text too.
"""
from __future__ import annotations

import importlib.util
import os
import re
import shutil

import numpy as np
import pytest

import anygrad as ag
from anygrad import viz
from conftest import make, random


def _load_example(name):
    path = os.path.join(os.path.dirname(__file__), "..", "examples", f"{name}.py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ----------------------------------------------------------------- a DOT reader
_TOKEN = re.compile(r'\s*(?:(->|--|[{}\[\];,=])|("(?:\\.|[^"\\])*")|(-?(?:\.\d+|\d+(?:\.\d*)?))'
                    r'|([A-Za-z_\x80-\uffff][\w\x80-\uffff]*))')


def _tokens(text):
    pos, out = 0, []
    while pos < len(text.rstrip()):
        m = _TOKEN.match(text, pos)
        if not m:
            raise SyntaxError(f"DOT: unexpected {text[pos:pos + 20]!r}")
        punct, quoted, number, ident = m.groups()
        if quoted is not None:
            out.append(("id", re.sub(r'\\(["\\])', r"\1", quoted[1:-1]).replace("\\n", "\n")))
        elif punct is not None:
            out.append(("p", punct))
        else:
            out.append(("id", number if number is not None else ident))
        pos = m.end()
    return out


def parse_dot(text):
    """(vertices {id: attrs}, edges [(tail, head, attrs)]) of a digraph; SyntaxError else."""
    toks = _tokens(text)
    i = 0

    def peek(kind=None, value=None):
        if i >= len(toks):
            return False
        k, v = toks[i]
        return (kind is None or k == kind) and (value is None or v == value)

    def take(kind, value=None):
        nonlocal i
        if not peek(kind, value):
            raise SyntaxError(f"DOT: expected {value or kind} at token {i}: {toks[i:i + 3]}")
        i += 1
        return toks[i - 1][1]

    def attrs():
        found = {}
        while peek("p", "["):
            take("p", "[")
            while not peek("p", "]"):
                key = take("id")
                take("p", "=")
                found[key] = take("id")
                if peek("p", ",") or peek("p", ";"):
                    take("p")
            take("p", "]")
        return found

    if take("id") != "digraph":
        raise SyntaxError("DOT: expected a digraph")
    if peek("id"):
        take("id")
    take("p", "{")
    vertices, edges = {}, []
    while not peek("p", "}"):
        first = take("id")
        if first in ("graph", "node", "edge") and peek("p", "["):
            attrs()
        elif peek("p", "="):
            take("p", "=")
            take("id")
        elif peek("p", "->"):
            chain = [first]
            while peek("p", "->"):
                take("p", "->")
                chain.append(take("id"))
            a = attrs()
            edges.extend((t, h, a) for t, h in zip(chain, chain[1:]))
        else:
            vertices[first] = attrs()
        if peek("p", ";"):
            take("p", ";")
    take("p", "}")
    if i != len(toks):
        raise SyntaxError("DOT: text after the closing brace")
    return vertices, edges


def check_graph(text):
    """Parse, then check the structure every picture must have: edges join declared
    vertices, the graph is acyclic, ops take inputs and give exactly one output."""
    vertices, edges = parse_dot(text)
    for tail, head, _ in edges:
        assert tail in vertices and head in vertices, f"edge {tail} -> {head} to nowhere"
    into = {v: [] for v in vertices}
    out_of = {v: [] for v in vertices}
    for tail, head, _ in edges:
        into[head].append(tail)
        out_of[tail].append(head)
    state = {}
    for start in vertices:  # acyclic: iterative three-colour DFS
        stack = [(start, iter(out_of[start]))]
        state.setdefault(start, 1)
        while stack:
            v, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[v] = 2
                stack.pop()
            elif state.get(child) == 1:
                raise AssertionError(f"cycle through {child}")
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(out_of[child])))
    ops = {v: a for v, a in vertices.items() if a.get("shape") == "box"}
    for v in ops:
        if "freed" not in ops[v]["label"]:
            assert into[v], f"op {ops[v]['label']} has no inputs"
        assert len(out_of[v]) == 1, f"op {ops[v]['label']} must have one output"
    return vertices, edges, into


def op_names(vertices):
    return sorted(a["label"].split("\n")[0] for a in vertices.values() if a.get("shape") == "box")


def labels(vertices, **style):
    return [a["label"] for a in vertices.values()
            if all(a.get(k) == v for k, v in style.items())]


@pytest.mark.parametrize("bad", [
    'digraph g { a [label="x"];',  # no closing brace
    'digraph g { a [label=two words]; }',  # unquoted space
    'digraph g { a [label="x]; }',  # unterminated string
    'digraph g { a [label="x"]; a -> b; }',  # edge to an undeclared vertex
    'digraph g { a [label="x", shape=box]; }',  # an op without inputs or output
])
def test_the_checker_rejects_broken_text(bad):
    with pytest.raises((SyntaxError, AssertionError)):
        check_graph(bad)


# ----------------------------------------------------------------- to_dot
def test_small_graph_ops_tensors_and_kinds(backend):
    x = make(random((3,)), backend)
    w = make(random((3, 2)), backend)
    c = make(random((2,)), backend, requires_grad=False)
    y = ag.sum(ag.tanh(x @ w) * 2.0 + c, axis=0)
    vertices, edges, into = check_graph(viz.to_dot(y, params={"weight": w}))
    assert op_names(vertices) == ["add", "matmul", "multiply", "sum", "tanh"]
    assert labels(vertices, shape="doubleoctagon") == ["output\n() float64"]
    assert labels(vertices, fillcolor="#a8d08d") == ["weight\n(3, 2) float64"]  # parameter
    assert labels(vertices, fillcolor="#cfe8ff") == ["(3,) float64"]  # plain leaf
    assert labels(vertices, style="dashed") == ["(2,) float64"]  # constant
    assert labels(vertices, shape="plaintext") == ["2.0"]  # Python scalar
    sum_op = next(v for v, a in vertices.items() if a["label"].startswith("sum"))
    assert vertices[sum_op]["label"] == "sum\naxis=0"
    matmul = next(v for v, a in vertices.items() if a["label"] == "matmul")
    order = sorted((a["label"], vertices[t]["label"]) for t, h, a in edges if h == matmul)
    assert order == [("0", "(3,) float64"), ("1", "weight\n(3, 2) float64")]


def test_text_is_deterministic(backend):
    def build():
        x = make([1.0, 2.0], backend)
        return ag.sum(ag.exp(x) * x)

    assert viz.to_dot(build()) == viz.to_dot(build())


def test_shared_subgraph_is_drawn_once(backend):
    x = make([1.0, 2.0], backend)
    e = ag.exp(x)
    a, b = ag.sum(e * e), ag.sum(e + 1.0)
    vertices, _, into = check_graph(viz.to_dot([a, b]))
    assert op_names(vertices).count("exp") == 1
    assert len(labels(vertices, shape="doubleoctagon")) == 2
    square = next(v for v, a in vertices.items() if a["label"] == "multiply")
    assert len(into[square]) == 2 and len(set(into[square])) == 1  # e, twice


def test_gradient_graph_joins_forward_ops(backend):
    x = make(random((3,)), backend)
    y = ag.sum(ag.tanh(x))
    (g,) = ag.gradients(y, x, create_graph=True)
    vertices, _, _ = check_graph(viz.to_dot(g, params={"x": x}))
    names = op_names(vertices)
    # tanh' = 1 - tanh^2 reuses the forward output: the one tanh vertex is in the picture.
    assert names.count("tanh") == 1
    assert "multiply" in names and "subtract" in names
    assert labels(vertices, fillcolor="#a8d08d") == ["x\n(3,) float64"]


def test_names_from_attribute_and_nn_parameters(backend):
    class Named(ag.Tensor):  # no __slots__: instances can carry a name
        pass

    w = Named(np.ones(2), requires_grad=True, backend=backend)
    w.name = 'bias "b"\\1'  # quotes and a backslash survive the round trip
    vertices, _, _ = check_graph(viz.to_dot(ag.sum(w * 3.0)))
    assert labels(vertices, fillcolor="#a8d08d") == ['bias "b"\\1\n(2,) float64']

    nn = pytest.importorskip("anygrad.nn")
    p = nn.Parameter(np.ones(2), backend=backend)
    vertices, _, _ = check_graph(viz.to_dot(ag.sum(p * 3.0)))
    assert labels(vertices, fillcolor="#a8d08d") == ["(2,) float64"]


def test_freed_graph_says_so(backend):
    x = make([1.0], backend)
    y = ag.sum(ag.exp(x))
    y.backward()
    vertices, _, _ = check_graph(viz.to_dot(y))
    assert labels(vertices, shape="box") == ["sum\n(freed by backward)"]


def test_leaf_alone(backend):
    vertices, edges, _ = check_graph(viz.to_dot(make([1.0], backend)))
    assert len(vertices) == 1 and not edges


# ----------------------------------------------------------------- render
def test_render_dot_file_needs_nothing(tmp_path, backend):
    path = viz.render(ag.sum(make([1.0], backend) * 2.0), tmp_path / "g.dot")
    check_graph(open(path, encoding="utf-8").read())


def test_render_without_graphviz_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    with pytest.raises(viz.GraphvizNotFound,
                       match=r"apt-get install graphviz.*conda install graphviz"):
        viz.render(ag.sum(ag.tensor([1.0], requires_grad=True)), tmp_path / "g.svg")


def test_render_rejects_unknown_format(tmp_path):
    with pytest.raises(ValueError, match="unknown format 'jpg'"):
        viz.render(ag.tensor([1.0]), tmp_path / "g.jpg")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_render_svg_with_graphviz(tmp_path):
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    path = viz.render(ag.sum(ag.exp(x)), tmp_path / "g.svg")
    assert "<svg" in open(path, encoding="utf-8").read()


# ----------------------------------------------------------------- the example
def test_graph_picture_example(tmp_path, backend):
    written = _load_example("graph_picture").main(["--quick", "--out", str(tmp_path), "--backend", backend])
    dots = {os.path.basename(p): p for p in written if p.endswith(".dot")}
    assert sorted(dots) == ["gradient.dot", "loss.dot"]
    loss_vertices, _, _ = check_graph(open(dots["loss.dot"], encoding="utf-8").read())
    assert op_names(loss_vertices) == ["add", "add", "gather", "log_softmax", "matmul",
                                       "matmul", "mean", "negative", "relu"]
    grad_vertices, _, _ = check_graph(open(dots["gradient.dot"], encoding="utf-8").read())
    outputs = sorted(a.split("\n")[0] for a in labels(grad_vertices, shape="doubleoctagon"))
    assert outputs == [f"d loss / d layer{i}.{k}" for i in (1, 2) for k in ("bias", "weight")]
    assert len(grad_vertices) > len(loss_vertices)
