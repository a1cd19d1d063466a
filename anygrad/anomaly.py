"""detect_anomaly: stop at the first op whose forward or backward makes a NaN or Inf,
and say which op it was and which line of the user's code created it.

The engine looks up one context variable per op and per backward rule; while it holds
None (the default) nothing here runs, so the mode is free when off. When on, every op
records its creation site on its node (a walk up the Python stack past anygrad's own
frames) and every result is checked on the host, which synchronises with the device:
a debugging tool, not for training runs.
"""
from __future__ import annotations

import contextlib
import linecache
import os
import sys

from . import backends
from .modes import _anomaly_mode, observing
from .tensor import Tensor

__all__ = ["AnomalyError", "detect_anomaly"]

# Frames from these directories are anygrad's own; the creation site is the first
# frame outside them. anygrad.backends is installed from a directory of its own.
_OWN_DIRS = tuple(
    os.path.dirname(os.path.abspath(path)) + os.sep
    for path in (__file__, backends.__file__)
)


class AnomalyError(FloatingPointError):
    """An op made a NaN or Inf inside `detect_anomaly()`; the message names the op and
    the line that created it."""


class _Site:
    """Where an op was called: file, line and function of the first frame outside anygrad."""

    __slots__ = ("filename", "lineno", "function")

    def __init__(self, filename, lineno, function):
        self.filename = filename
        self.lineno = lineno
        self.function = function

    def __str__(self):
        code = linecache.getline(self.filename, self.lineno).strip()
        where = f'File "{self.filename}", line {self.lineno}, in {self.function}'
        return f"{where}\n    {code}" if code else where


def _caller_site():
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_OWN_DIRS):
        frame = frame.f_back
    if frame is None:
        return None
    return _Site(frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)


class _Detector:
    """The object the engine calls back while detect_anomaly() is active."""

    __slots__ = ("_rule",)

    def __init__(self):
        self._rule = None  # the node whose backward is running, if any

    def on_forward(self, op, result):
        problem = _nonfinite(result.backend.xp, result.array)
        if problem:
            rule_of = self._rule
            if rule_of is not None:  # a step of its derivative rule (create_graph) or hook
                raise AnomalyError(
                    f"the backward of {rule_of.op.name} produced {problem} (in a {op.name} "
                    f"op of its derivative rule or of a hook on its output){_created(rule_of)}"
                )
            raise AnomalyError(
                f"{op.name} produced {problem} in its forward output (shape {result.shape})"
                f"{_inputs_note(result)}, called at\n{_caller_site()}"
            )
        if result.node is not None:
            result.node.trace = _caller_site()

    def on_rule(self, node):
        """The engine is about to run `node`'s hooks and derivative rules (None: done)."""
        self._rule = node

    def on_backward(self, node, index, grad):
        array = grad.array if isinstance(grad, Tensor) else grad
        problem = _nonfinite(node.backend.xp, array)
        if problem:
            raise AnomalyError(
                f"the backward of {node.op.name} produced {problem} in the gradient of its "
                f"input {index} (shape {tuple(array.shape)}){_created(node)}"
            )


def _created(node):
    trace = getattr(node, "trace", None)
    if trace is None:
        return (f"; the {node.op.name} was created before detect_anomaly() was entered, so "
                "its creation site is unknown")
    return f"; the {node.op.name} was created at\n{trace}"


def _nonfinite(xp, array):
    """'nan', 'inf' or '' for a floating array (others cannot hold either)."""
    if not xp.isdtype(array.dtype, ("real floating", "complex floating")):
        return ""
    if bool(xp.all(xp.isfinite(array))):
        return ""
    return "nan" if bool(xp.any(xp.isnan(array))) else "inf"


def _inputs_note(result):
    """Say so when the op was handed non-finite values rather than making them."""
    if result.node is None:
        return ""
    bad = [i for i, t in enumerate(result.node.inputs)
           if isinstance(t, Tensor) and _nonfinite(t.backend.xp, t.array)]
    if not bad:
        return ""
    return f" from non-finite input {', '.join(map(str, bad))}"


@contextlib.contextmanager
def detect_anomaly():
    """Within the block, the first op whose forward or backward makes a NaN or Inf raises
    AnomalyError naming the op and the source line that created it.

        with ag.detect_anomaly():
            loss = model(x)
            loss.backward()
    """
    with observing(_anomaly_mode, _Detector()):
        yield
