"""Prefect's temporary API server, as commands start it: a more generous start-up timeout
unless the user set one, and a start-up that times out told in one line, no traceback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from claimwatch.cli.prefect_env import STARTUP_TIMEOUT_SECONDS, STARTUP_TIMEOUT_VARIABLE
from tests.commands import claimwatch
from tests.conftest import ROOT, SEEDS, write_sources

# Prefect's own log records ("Starting temporary server on ...", its "See https://docs..."
# continuation, "Stopping temporary server on ..."), printed by every command that starts it.
PREFECT_LOG = re.compile(r"^\d\d:\d\d:\d\d\.\d+ \| \w+ +\| prefect|^See https://docs\.prefect\.io/")


def without_api_url(**extra: str) -> dict[str, str]:
    """This environment, with no Prefect server named (so the temporary one starts)."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    return env | extra


@pytest.mark.slow
def test_a_server_that_does_not_start_in_time_is_one_line(tmp_path: Path) -> None:
    sources = write_sources(tmp_path / "sources.yaml", ("quiet", "http://127.0.0.1:9/feed.xml"))
    db = tmp_path / "w.duckdb"
    # No time at all: Prefect gives up before its server could answer.
    env = without_api_url(**{STARTUP_TIMEOUT_VARIABLE: "0"})
    done = claimwatch(
        "run", "--sources", str(sources), "--claims", str(SEEDS / "claims.yaml"),
        "--db", str(db), env=env,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "RuntimeError" not in done.stderr
    ours = [line for line in done.stderr.splitlines() if not PREFECT_LOG.match(line)]
    assert ours == [
        "Error: Prefect's temporary API server did not start within 0 s (is the machine "
        "busy?), so nothing ran: run the command again, allow more time with "
        f"{STARTUP_TIMEOUT_VARIABLE}, or start a server (`prefect server start`) and set "
        "PREFECT_API_URL"
    ]
    assert "Starting temporary server" in done.stderr  # the server was really tried
    assert done.stdout == ""


# A command through the real entry point, then what Prefect itself reads.
SHOW_TIMEOUT = f"""
import os, sys
from claimwatch.cli import cli
cli(["claims", "list", "--claims", sys.argv[1], "--format", "json"], standalone_mode=False)
from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS as timeout
print(os.environ["{STARTUP_TIMEOUT_VARIABLE}"], timeout.value())
"""


@pytest.mark.parametrize(
    ("given", "expected"),
    [(None, f"{STARTUP_TIMEOUT_SECONDS} {STARTUP_TIMEOUT_SECONDS}"), ("45", "45 45")],
    ids=["default", "users-own"],
)
def test_the_startup_timeout_is_generous_unless_set(given: str | None, expected: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != STARTUP_TIMEOUT_VARIABLE}
    if given is not None:
        env[STARTUP_TIMEOUT_VARIABLE] = given
    done = subprocess.run(
        [sys.executable, "-c", SHOW_TIMEOUT, str(SEEDS / "claims.yaml")],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == expected
    assert int(STARTUP_TIMEOUT_SECONDS) > 20  # Prefect's own default
