"""A CPU budget for parsers: a thread that runs past it raises OverBudget.

Used around trafilatura and feedparser, which some hostile pages and feeds keep
busy for hours.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager


class OverBudget(BaseException):
    """Raised inside a thread whose work ran past its CPU budget.

    A BaseException, so that no parser's `except Exception` swallows it.
    """


class _Watchdog:
    """One daemon thread that interrupts calls running past their CPU budget.

    Python cannot stop a thread, but it can make one raise: the watchdog posts
    OverBudget to the thread (PyThreadState_SetAsyncExc), which raises it at its
    next Python bytecode. CPU time, not wall time, is measured (where the platform
    has per-thread CPU clocks), so a busy machine does not cut legitimate work short.
    """

    interval = 0.05

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._watched: dict[int, tuple[Callable[[], float], float]] = {}
        self._thread: threading.Thread | None = None

    @contextmanager
    def budget(self, seconds: float) -> Iterator[None]:
        ident = threading.get_ident()
        clock = _thread_clock(ident)
        with self._wake:
            outer = self._watched.get(ident)  # a budget this block runs inside of
            deadline = clock() + seconds
            self._watched[ident] = (clock, min(deadline, outer[1]) if outer else deadline)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._watch, name="claimwatch-cpu-budget", daemon=True
                )
                self._thread.start()
            self._wake.notify()
        try:
            yield
        finally:
            with self._wake:
                if outer:
                    self._watched[ident] = outer
                else:
                    self._watched.pop(ident, None)
                # Withdraw an interruption posted just now, before it is raised.
                _post(ident, None)

    def _watch(self) -> None:
        with self._wake:
            while True:
                # Asleep while nothing is watched; else a look every `interval` seconds.
                self._wake.wait(self.interval if self._watched else None)
                for ident, (clock, deadline) in list(self._watched.items()):
                    try:
                        over = clock() > deadline
                    except OSError:  # the thread is gone (it always leaves its block first)
                        over = False
                    if over:
                        del self._watched[ident]
                        _post(ident, OverBudget)


def _thread_clock(ident: int) -> Callable[[], float]:
    """A clock of the CPU time thread `ident` has used, or the wall clock where there is none."""
    try:
        clock_id = time.pthread_getcpuclockid(ident)
    except (AttributeError, OSError):
        return time.monotonic
    return lambda: time.clock_gettime(clock_id)


def _post(ident: int, exc: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(ident), ctypes.py_object(exc) if exc is not None else None
    )


_WATCHDOG = _Watchdog()


def cpu_budget(seconds: float) -> AbstractContextManager[None]:
    """Raise OverBudget in this thread once the block has used `seconds` of CPU."""
    return _WATCHDOG.budget(seconds)
