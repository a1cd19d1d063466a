"""Grad-recording mode, per thread and per async task (contextvars)."""
from __future__ import annotations

import contextlib
import contextvars

_grad_enabled = contextvars.ContextVar("anygrad_grad_enabled", default=True)
# The active anomaly detector (see anygrad.anomaly), or None: one lookup per op when off.
_anomaly_mode = contextvars.ContextVar("anygrad_anomaly_mode", default=None)
# The active ag.compile recorder (see anygrad.compile.recorder), or None: likewise.
_recording = contextvars.ContextVar("anygrad_recording", default=None)
# True while either of the two above is set: ops look up only this one when both are off.
_observed = contextvars.ContextVar("anygrad_observed", default=False)


@contextlib.contextmanager
def observing(var, value):
    """Set `var` (`_anomaly_mode` or `_recording`) to `value` within the block."""
    token = var.set(value)
    seen = _observed.set(True)
    try:
        yield value
    finally:
        _observed.reset(seen)
        var.reset(token)

is_grad_enabled = _grad_enabled.get


@contextlib.contextmanager
def _grad_mode(enabled: bool):
    token = _grad_enabled.set(enabled)
    try:
        yield
    finally:
        _grad_enabled.reset(token)


def no_grad():
    """Within the block, ops record no graph (inference, parameter updates)."""
    return _grad_mode(False)


def enable_grad():
    """Within the block, ops record a graph even inside `no_grad`."""
    return _grad_mode(True)


def set_grad_enabled(enabled: bool):
    """Within the block, ops record a graph if `enabled`, else none: `enable_grad` or
    `no_grad` chosen by a flag."""
    return _grad_mode(bool(enabled))
