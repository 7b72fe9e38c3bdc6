"""Child processes for tests: started in their own process group, stopped with it.

Also starts a real `prefect server` (the `prefect_server` fixture in conftest uses it).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PREFECT = Path(sys.executable).with_name("prefect")
T = TypeVar("T")


def shared_cache_dir() -> str:
    """A cache folder for built models and embedded catalogs, new for each run and shared by
    pytest-xdist's workers (its writes are atomic and locked), so that each model is built
    once a run rather than once a worker."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if not run:
        return tempfile.mkdtemp(prefix="claimwatch-test-cache-")
    path = Path(tempfile.gettempdir()) / f"claimwatch-test-cache-{run}"
    path.mkdir(exist_ok=True)
    return str(path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def base_env(home: Path) -> dict[str, str]:
    """This environment without Prefect or claimwatch settings, plus a private PREFECT_HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "CLAIMWATCH_"))}
    home.mkdir(parents=True, exist_ok=True)
    return env | {"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


@dataclass
class Process:
    """A child process in its own process group, with its output in a file."""

    popen: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        """SIGTERM to the group (the process and the runs it started), SIGKILL if it lingers."""
        with suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)
        # Children that outlived their parent still carry the group's id.
        with suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


@contextmanager
def started(command: list[str], env: dict[str, str], log: Path) -> Iterator[Process]:
    with log.open("wb") as out:
        popen = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    process = Process(popen, log)
    try:
        yield process
    finally:
        process.stop()


def wait_for(what: str, check: Callable[[], T | None], timeout: float, process: Process) -> T:
    """Poll `check` until it returns a value; fail with the process's log if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            pytest.fail(f"{what}: process exited with {process.popen.returncode}\n{process.tail()}")
        value = check()
        if value is not None:
            return value
        time.sleep(0.5)  # often enough to go on soon after the check holds, cheap for a server
    pytest.fail(f"{what}: not within {timeout:.0f} s\n{process.tail()}")


@contextmanager
def prefect_server_running(tmp: Path) -> Iterator[tuple[str, Process]]:
    """`prefect server start` on a free loopback port; yields its API URL."""
    port = free_port()
    env = base_env(tmp / "home") | {
        "PREFECT_UI_ENABLED": "false",
        # Look for runs to schedule every few seconds rather than every minute.
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "5",
    }
    command = [str(PREFECT), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    with started(command, env, tmp / "server.log") as server:
        api = f"http://127.0.0.1:{port}/api"

        def healthy() -> bool | None:
            try:
                return httpx.get(f"{api}/health", timeout=2).status_code == 200 or None
            except httpx.TransportError:
                return None

        wait_for("server health", healthy, 90, server)
        yield api, server


_HOLDER = (
    "import sys, time\n"
    "from pathlib import Path\n"
    "from claimwatch.store.connection import connect\n"
    "db, mode, seconds = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])\n"
    "with connect(db, read_only=mode == 'read') as con:\n"
    "    con.execute('BEGIN TRANSACTION')\n"
    "    con.execute('SELECT count(*) FROM articles').fetchall()\n"
    "    if mode == 'write':\n"
    "        con.execute('INSERT INTO runs SELECT * FROM runs')\n"
    "    print('held', flush=True)\n"
    "    time.sleep(seconds)\n"
)


@contextmanager
def warehouse_held(db: Path, mode: str, seconds: float) -> Iterator[subprocess.Popen[str]]:
    """Another process inside a transaction on `db` for `seconds`: mode 'read' (a read-only
    connection, as a notebook holds it), 'open' (read-write) or 'write' (with rows written
    and not committed, as a pass's store step holds it). Ended when the block leaves."""
    with subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(db), mode, str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        try:
            assert holder.stdout and holder.stdout.readline().strip() == "held"
            yield holder
        finally:
            holder.kill()


_LOCKER = (
    "import sqlite3, sys, time\n"
    "catalog, seconds = sys.argv[1], float(sys.argv[2])\n"
    "con = sqlite3.connect(catalog, isolation_level=None)\n"
    "con.execute('PRAGMA locking_mode=EXCLUSIVE')\n"
    "con.execute('BEGIN EXCLUSIVE')\n"
    "print('locked', flush=True)\n"
    "time.sleep(seconds)\n"
    "con.execute('COMMIT')\n"
    "con.close()\n"
    "print('released', flush=True)\n"
    "time.sleep(3600)\n"
)


@contextmanager
def catalog_locked(db: Path, seconds: float) -> Iterator[subprocess.Popen[str]]:
    """Another program holding the embedded warehouse's SQLite catalog locked for `seconds`
    (as a `sqlite3` shell left in an exclusive transaction would): nobody reads or writes
    it until then. The process lives on, lock released, until the block leaves."""
    with subprocess.Popen(
        [sys.executable, "-c", _LOCKER, str(db / "catalog.sqlite"), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    ) as locker:
        try:
            assert locker.stdout and locker.stdout.readline().strip() == "locked"
            yield locker
        finally:
            locker.kill()


@contextmanager
def dask_processes(
    command: list[str], cwd: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """A `dask` command (scheduler, worker) in its own process group, run from `cwd` (not
    the checkout: workers get the flow's tasks by value), stopped by its id at the end."""
    with (cwd / f"{command[0]}.log").open("wb") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("dask")), *command],
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def wait_for_port(port: int, timeout: float) -> None:
    """Until something listens on 127.0.0.1:`port`, or fail the test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    pytest.fail(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")
