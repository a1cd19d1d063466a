"""Never a hang: a deadline on every collective, and an abort on an uncaught exception.

MPI collectives wait without limit. If one rank dies or stops calling them, the others
would wait forever; a watchdog thread ends the job instead once a collective has run
past its deadline. A rank that raises aborts the job at once (as `python -m mpi4py`
does), so the others never start waiting for it. Aborting from the watchdog's thread
while the main thread waits in MPI needs MPI_THREAD_MULTIPLE, which mpi4py asks for by
default (`mpi4py.rc.thread_level`).
"""
from __future__ import annotations

import contextlib
import sys
import threading
import time

__all__ = ["Watchdog", "abort_on_uncaught_exception"]


class Watchdog:
    """Calls `on_expire(what, timeout)` from a daemon thread when a `watch(what)` block
    lasts longer than `timeout` seconds. None or 0 switches it off. Entering a block
    costs one lock and one notify: a few microseconds per collective."""

    def __init__(self, timeout, on_expire):
        self.timeout = float(timeout) if timeout else None
        self._on_expire = on_expire
        self._cond = threading.Condition()
        self._deadline = None
        self._what = None
        self._thread = None

    @contextlib.contextmanager
    def watch(self, what):
        if self.timeout is None:
            yield
            return
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="anygrad-watchdog",
                                                daemon=True)
                self._thread.start()
            self._deadline = time.monotonic() + self.timeout
            self._what = what
            self._cond.notify()
        try:
            yield
        finally:
            with self._cond:
                self._deadline = None

    def _run(self):
        with self._cond:
            while True:
                if self._deadline is None:
                    self._cond.wait()
                    continue
                left = self._deadline - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                what = self._what
                break
        self._on_expire(what, self.timeout)


def abort_on_uncaught_exception(abort):
    """Make an uncaught exception print its traceback and then call `abort()`, which
    ends every rank of the job (not only this one)."""
    previous = sys.excepthook

    def hook(kind, value, traceback):
        previous(kind, value, traceback)
        sys.stderr.flush()
        sys.stdout.flush()
        abort()

    sys.excepthook = hook
    return previous
