"""A pass in a child process of its own, so that nothing it starts outlives it.

`claimwatch run` starts Prefect's temporary API server and the worker processes. Were
the pass killed (SIGKILL, a native crash's SIGABRT), they would run on, holding the
caller's output pipe. So the command runs the pass as a child in a new session and
waits: whichever way the child ends, the supervisor kills what is left of its session;
a signal to the supervisor is passed on; and if the supervisor itself is killed, the
kernel sends the child SIGTERM (Linux's parent-death signal), which it answers by
stopping what it started, as on any other exit.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from typing import NoReturn

# Set in the child: the pass runs there, and must not supervise itself again.
SUPERVISED_VARIABLE = "CLAIMWATCH_SUPERVISED"
_PASSED_ON = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_PR_SET_PDEATHSIG = 1


def become_supervisor(args: Sequence[str]) -> NoReturn:
    """Replace this process (same pid, same output) with a lean one that supervises
    `claimwatch ARGS`: a supervisor that imported the whole command line would hold
    ~100 MB for the length of the pass."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "claimwatch.supervise", *args])


def supervised() -> bool:
    """True in the child that runs the pass."""
    return os.environ.get(SUPERVISED_VARIABLE) == "1"


def run_supervised(args: Sequence[str]) -> int:
    """Run `python -m claimwatch ARGS` in a child session; its exit status, or 128 + the
    signal that ended it."""
    child = subprocess.Popen(
        [sys.executable, "-m", "claimwatch", *args],
        env=os.environ | {SUPERVISED_VARIABLE: "1"},
        start_new_session=True,
        # Safe here: the supervisor is a fresh interpreter that has started no thread.
        preexec_fn=_end_with_parent,
    )
    previous = {
        sig: signal.signal(sig, lambda sig, _: child.send_signal(sig)) for sig in _PASSED_ON
    }
    try:
        status = child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        # Whatever the pass started and did not stop (all of it, if the pass was killed).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)
    return 128 - status if status < 0 else status


def stop_on_sigterm() -> None:
    """In the child: SIGTERM ends the pass like Ctrl-C, so exit handlers stop its servers
    and workers (Python's default would end the process on the spot)."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    if supervised():
        # Registered first, so run last, after the handlers that stop what they started.
        atexit.register(_sweep_if_orphaned, os.getppid())


def _sweep_if_orphaned(supervisor: int) -> None:
    """At the child's exit, once its supervisor is gone (killed: it would have swept the
    child's session itself), kill what is left of the session, the child included.
    Without this, a supervisor killed while Prefect's temporary server was starting, by a
    caller that then closed its end of the output, left the server running
    (tests/test_supervise.py)."""
    if os.getppid() != supervisor:
        os.killpg(os.getpgrp(), signal.SIGKILL)


def _end_with_parent() -> None:
    """In the child, before it runs: SIGTERM when the supervisor dies, however it dies."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def main(args: Sequence[str]) -> int:
    status = run_supervised(args)
    if status > 128:
        print(
            f"Error: claimwatch {args[0] if args else ''} was ended by signal {status - 128};"
            " nothing it started is left running",
            file=sys.stderr,
        )
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
