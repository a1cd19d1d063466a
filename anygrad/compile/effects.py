"""Methods that a compiled function replays by calling them again.

An optimizer step, `zero_grad` or a scheduler step changes state that lives outside the
arrays of one call (step counts, learning rates, momentum buffers, which gradients are
set). Recording their array operations would bake those in; calling the method again at
its place in the program reads them afresh, exactly as eager execution would.
"""
from __future__ import annotations

import functools

from ..modes import _recording


def replayed(method):
    """Mark `method` as an effect: inside a recording it becomes one program step."""

    @functools.wraps(method)
    def call(self, *args, **kwargs):
        recorder = _recording.get()
        if recorder is None:
            return method(self, *args, **kwargs)
        return recorder.on_effect(method, self, args, kwargs)

    call.replayed = True  # the guards leave to it the numbers its owner holds (guards.py)
    return call
