"""`claimwatch` as tests call it: in this process through Click's runner, or as a real process.

`run`, `serve` and `rematch` always get a process of their own: they set Prefect up when they start
(its settings are read at import, its API server belongs to the process), and a test of
them checks what a user's shell sees. Every other command runs in-process, which is the
same code path minus interpreter start-up, about a second per call on these machines.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from claimwatch.cli import cli
from tests.conftest import ROOT

OWN_PROCESS = frozenset({"run", "serve", "rematch"})
# Seconds a command run as a process may take, and then to stop once told to.
TIMEOUT = 300
STOP_SECONDS = 30


@dataclass(frozen=True)
class Outcome:
    """What a caller of the command sees: exit status, standard output and error."""

    returncode: int
    stdout: str
    stderr: str


def claimwatch(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> Outcome:
    """Run one command; `env` replaces the environment, as for a process."""
    if env is None:
        env = piped_environment()
    if args and args[0] in OWN_PROCESS:
        return claimwatch_process(*args, stdin=stdin, env=env)
    overrides: dict[str, str | None] = {}
    if env is not None:
        overrides = {k: None for k in os.environ if k not in env} | dict(env)
    result = CliRunner().invoke(cli, list(args), input=stdin, env=overrides, catch_exceptions=True)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        # What the interpreter would have printed: a test that forbids tracebacks sees it.
        assert result.exc_info is not None
        stderr += "".join(traceback.format_exception(*result.exc_info))
    return Outcome(result.exit_code, result.stdout, stderr)


def piped_environment() -> dict[str, str]:
    """This environment as a script's command sees it, output to a pipe: without the test
    runner's terminal size (xdist's workers have COLUMNS set), which shapes tables."""
    return {k: v for k, v in os.environ.items() if k not in {"COLUMNS", "LINES"}}


def claimwatch_process(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> Outcome:
    """Run one command as `python -m claimwatch` in the project folder. Over TIMEOUT
    seconds, it is stopped as a user stops it, with SIGTERM (its supervisor passes the
    signal on, then kills whatever its pass started: workers, Prefect's temporary
    server), and killed only if that fails: killed at once, it left the server running."""
    with subprocess.Popen(
        [sys.executable, "-m", "claimwatch", *args],
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    ) as process:
        try:
            stdout, stderr = process.communicate(stdin, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.communicate(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
            raise
    return Outcome(process.returncode, stdout, stderr)


def pending(db: Path) -> list[dict]:
    """The suggestions `claimwatch review` lists as pending, best first."""
    listed = claimwatch("review", "--format", "json", "--db", str(db))
    assert listed.returncode == 0, listed.stderr
    return json.loads(listed.stdout)


def ids_by_score(db: Path) -> dict[float, str]:
    """Pending suggestions' ids by their score (scores unique in the tests that use it)."""
    return {r["score"]: r["id"] for r in pending(db)}
