"""Pictures of a graph: Graphviz DOT text of what produced a tensor, and rendering it.

`to_dot` only reads the recorded nodes, so it needs nothing installed and works on any
backend; `render` hands the text to Graphviz's `dot` program. A gradient taken with
`create_graph=True` is a graph too, and draws the same way: its backward ops, joined to
the forward ops whose outputs the derivative rules reuse.
"""
from __future__ import annotations

import os
import shutil
import subprocess

from .tensor import Tensor

__all__ = ["GraphvizNotFound", "render", "to_dot"]

_FORMATS = ("svg", "png", "pdf")
_STYLE = {
    "op": 'shape=box, style="rounded,filled", fillcolor="#eeeeee"',
    "tensor": "shape=ellipse",
    "leaf": 'shape=ellipse, style=filled, fillcolor="#cfe8ff"',
    "parameter": 'shape=ellipse, style=filled, fillcolor="#a8d08d"',
    "constant": 'shape=ellipse, style=dashed, color="#888888", fontcolor="#555555"',
    "scalar": 'shape=plaintext, fontcolor="#555555"',
    "output": 'shape=doubleoctagon, style=filled, fillcolor="#ffe4a8"',
    "freed": 'shape=box, style="rounded,dashed", color="#888888"',
}


class GraphvizNotFound(RuntimeError):
    """Graphviz's `dot` program is needed to render a picture and is not on PATH."""


def to_dot(outputs, params=None, graph_name="anygrad"):
    """Graphviz DOT text of the graph that produced `outputs` (a tensor or a sequence).

    Ops are boxes labelled with their name and parameters; tensors are ellipses with
    shape and dtype. Leaves that require grad are filled, parameters (an `nn.Parameter`
    or a name from `params`, e.g. `dict(model.named_parameters())`, or a tensor's own
    `name` attribute) in green with their name; constants are dashed; outputs are
    octagons. The text is the same for the same graph on every run.
    """
    names = {_key(t): name for name, t in (params or {}).items()}
    return _Drawing(names).draw(_as_list(outputs), graph_name)


def render(outputs, path, params=None, format=None):
    """Draw the graph of `outputs` to `path`: SVG, PNG or PDF via Graphviz's `dot`, chosen
    by `format` or the file's extension; a `.dot` path gets the text itself. Returns path."""
    text = to_dot(outputs, params)
    fmt = (format or os.path.splitext(str(path))[1].lstrip(".")).lower()
    if fmt in ("dot", "gv"):
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path
    if fmt not in _FORMATS:
        raise ValueError(f"render: unknown format {fmt!r}; use one of {', '.join(_FORMATS)} or dot")
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizNotFound(
            "render: drawing a picture needs Graphviz's `dot` program, which is not on PATH. "
            "Install it with `apt-get install graphviz` (Debian/Ubuntu), `conda install "
            "graphviz` or `brew install graphviz`; or save to_dot()'s text to a .dot file "
            "and open that in any Graphviz viewer."
        )
    done = subprocess.run([exe, f"-T{fmt}", "-o", str(path)], input=text.encode("utf-8"),
                          capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"render: dot failed: {done.stderr.decode(errors='replace').strip()}")
    return path


class _Drawing:
    """One walk over the graph, numbering vertices in the order they are met."""

    def __init__(self, names):
        self.names = names
        self.ids = {}
        self.vertices = []
        self.edges = []

    def draw(self, outputs, graph_name):
        stack = []
        for t in outputs:
            vertex = self._tensor(t, output=True)
            if t.node is not None:
                self._produced_by(t.node, vertex, stack)
        while stack:
            node = stack.pop()
            if node.inputs is None:
                continue
            tensors = sum(isinstance(a, Tensor) for a in node.inputs)
            for index, a in enumerate(node.inputs):
                if isinstance(a, Tensor):
                    vertex = self._tensor(a)
                    if a.node is not None:
                        self._produced_by(a.node, vertex, stack)
                else:
                    vertex = self._scalar(a)
                label = f' [label="{index}"]' if tensors > 1 else ""
                self.edges.append(f"  {vertex} -> {self.ids[('op', id(node))]}{label};")
        body = "\n".join(self.vertices + self.edges)
        return (f"digraph {_quote(graph_name)} {{\n"
                '  node [fontname="Helvetica", fontsize=10];\n'
                '  edge [fontname="Helvetica", fontsize=8, color="#555555"];\n'
                f"{body}\n}}\n")

    def _vertex(self, key, label, style):
        """The id of the vertex for `key`, added on first sight; (id, whether new)."""
        if key in self.ids:
            return self.ids[key], False
        vid = f"n{len(self.ids)}"
        self.ids[key] = vid
        self.vertices.append(f"  {vid} [label={_quote(label)}, {_STYLE[style]}];")
        return vid, True

    def _tensor(self, t, output=False):
        key = _key(t)
        name = self.names.get(key) or _own_name(t)
        if name is None and output:
            name = "output"
        label = _describe(t) if name is None else f"{name}\n{_describe(t)}"
        if output:
            style = "output"
        elif t.node is not None:
            style = "tensor"
        elif name is not None or _is_parameter(t):
            style = "parameter"
        else:
            style = "leaf" if t.requires_grad else "constant"
        return self._vertex(key, label, style)[0]

    def _produced_by(self, node, vertex, stack):
        freed = node.inputs is None
        label = node.op.name + _describe_params(node.params)
        op, new = self._vertex(("op", id(node)), label + ("\n(freed by backward)" if freed else ""),
                               "freed" if freed else "op")
        if new:
            self.edges.append(f"  {op} -> {vertex};")
            stack.append(node)

    def _scalar(self, value):
        vid = f"n{len(self.ids)}"
        self.ids[("scalar", len(self.ids))] = vid
        self.vertices.append(f"  {vid} [label={_quote(_short(value))}, {_STYLE['scalar']}];")
        return vid


def _key(t):
    """A computed tensor is keyed by its node, so the output of an op is one vertex however
    many Tensor objects share it (create_graph rewraps outputs for the derivative rules)."""
    return ("value", id(t.node)) if t.node is not None else ("tensor", id(t))


def _describe(t):
    dtype = str(t.dtype).rsplit(".", 1)[-1]
    return f"{t.shape} {dtype}"


def _describe_params(params):
    """Op parameters worth a label (axis=1, keepdims=True); objects are left out."""
    shown = [f"{k}={_short(v)}" for k, v in params.items() if _simple(v)]
    return f"\n{', '.join(shown)}" if shown else ""


def _simple(v):
    if isinstance(v, (tuple, list)):
        return len(v) <= 6 and all(_simple(x) for x in v)
    return v is None or isinstance(v, (bool, int, float, str))


def _short(v):
    text = repr(v) if not isinstance(v, Tensor) else _describe(v)
    return text if len(text) <= 40 else text[:37] + "..."


def _own_name(t):
    name = getattr(t, "name", None)
    return name if isinstance(name, str) else None


def _is_parameter(t):
    # By class name, so drawing needs no import of anygrad.nn.
    return any(c.__name__ == "Parameter" for c in type(t).__mro__)


def _quote(text):
    text = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def _as_list(x):
    return list(x) if isinstance(x, (tuple, list)) else [x]
