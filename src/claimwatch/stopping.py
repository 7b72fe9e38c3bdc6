"""Asking a long job to stop between two of its steps (Ctrl-C, SIGTERM).

`claimwatch run` and `rematch` turn SIGTERM into SystemExit like Ctrl-C's
KeyboardInterrupt (`supervise.stop_on_sigterm`), raised wherever the main thread is.
A job that commits as it goes wants the request at a step's end instead: raised inside
a DuckDB call, the exception does not even survive (DuckDB turns it into
`RuntimeError('Query interrupted')`), and a step cut short is one to count and redo.
Inside `stop_requests()` the two signals are recorded, and the job looks at the record
between steps; a second one stops at once, as before.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest:
    """Whether, and by which signal, the job was asked to stop."""

    def __init__(self) -> None:
        self.signal: signal.Signals | None = None

    def __call__(self) -> bool:
        return self.signal is not None

    @property
    def name(self) -> str:
        return self.signal.name if self.signal is not None else "request"


@contextmanager
def stop_requests() -> Iterator[StopRequest]:
    """SIGINT and SIGTERM recorded in the StopRequest yielded instead of raising, until
    the block ends; then the handlers are those before. Off the main thread (where
    signals cannot be handled) the request is never set."""
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request
        return
    previous: dict[int, Any] = {}

    def record(number: int, frame: FrameType | None) -> None:
        if request.signal is not None:  # asked twice: stop now, as without this block
            _restore(previous)
            signal.raise_signal(number)
            return
        request.signal = signal.Signals(number)

    for number in SIGNALS:
        previous[number] = signal.signal(number, record)
    try:
        yield request
    finally:
        _restore(previous)


def _restore(previous: dict[int, Any]) -> None:
    for number, handler in previous.items():
        signal.signal(number, handler)
