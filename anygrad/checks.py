"""Checks on values the library cannot take on trust: labels in range, indices in bounds.

Some libraries wrap, clamp or read past the end where an index is out of range, so
anygrad decides such inputs itself and raises an error that names the operation. A check
reads values, so it runs on the device (`Backend.check`: a GPU backend raises at its next
host read rather than stalling now), and `ag.compile` records it as an instruction that
every replay runs again on that call's values: a check done once at recording would pass
whatever a later call brings.
"""
from __future__ import annotations

from .engine import _batching
from .modes import _recording
from .tensor import Tensor

__all__ = ["check_values", "raise_if", "reads_now", "run_check"]


def reads_now(backend):
    """Whether a check on `backend` reads its values at once: a host backend, no program
    being recorded, not inside vmap. A caller may then settle it by reading them itself."""
    return not (backend.defer_checks or _batching or _recording.get() is not None)


def check_values(backend, label, predicate, values, error):
    """Raise `error(*arrays)` where `predicate(xp, *arrays)` (a 0-d boolean array) holds.

    `values` are tensors or arrays of `backend`; `label` names the check in a compiled
    program's listing. `predicate` and `error` take the arrays as arguments and nothing
    else that varies from call to call (shapes and Python numbers are fixed for a
    recording), so a replay can run them on the arrays of its own call.
    """
    recorder = _recording.get()
    if recorder is not None:
        recorder.on_check(backend, label, predicate, values, error)
    if _batching:  # inside ag.vmap: check every example's values at once
        from .batching.tensor import physical

        values = [physical(v) for v in values]
    run_check(backend, predicate, error, *(v.array if isinstance(v, Tensor) else v for v in values))


def run_check(backend, predicate, error, *arrays):
    """The check itself, on arrays (what a compiled program's replay runs)."""
    raise_if(backend, predicate(backend.xp, *arrays), error, arrays)


def raise_if(backend, flag, error, arrays, defer=None):
    """Raise `error(*arrays)` if the 0-d boolean array `flag` holds: queued until the
    next host read where the backend defers checks (a GPU) or `defer` says so."""
    backend.check(flag, lambda: error(*arrays), defer=defer)
