"""`claimwatch run` killed mid-pass leaves no process behind, and the next pass runs.

The command supervises a child that runs the pass; the pass starts Prefect's temporary
API server and the worker processes. Either the command or the pass is killed while
pages are being fetched, with SIGKILL or SIGABRT (what a native crash sends).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import ROOT, SEEDS, serve_sample_slowly, write_sources
from tests.httpserver import ScriptedServer
from tests.processes import base_env

pytestmark = pytest.mark.slow


def _pass(sources: Path, db: Path, home: Path) -> subprocess.Popen[bytes]:
    env = base_env(home) | {"CLAIMWATCH_ALLOW_PRIVATE_HOSTS": "1", "CLAIMWATCH_BATCH_SIZE": "4"}
    command = [sys.executable, "-m", "claimwatch", "run", "--sources", str(sources)]
    command += ["--claims", str(SEEDS / "claims.yaml"), "--db", str(db)]
    return subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def _wait_for_line(process: subprocess.Popen[bytes], marker: bytes, timeout: float) -> None:
    seen = threading.Event()

    def watch() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if marker in line:
                seen.set()
        seen.set()

    threading.Thread(target=watch, daemon=True).start()
    assert seen.wait(timeout), f"no {marker!r} in {timeout} s"


# The command killed: the kernel's parent-death signal stops the pass. The pass killed (as a
# native crash would end it): the command sweeps its session.
@pytest.mark.parametrize(
    ("target", "sig"),
    [("command", signal.SIGKILL), ("pass", signal.SIGABRT)],
    ids=["command-SIGKILL", "pass-SIGABRT"],
)
def test_a_killed_pass_leaves_nothing_running(
    target: str, sig: signal.Signals, server: ScriptedServer, tmp_path: Path
) -> None:
    sources = write_sources(tmp_path / "sources.yaml", ("sample", serve_sample_slowly(server, 0.5)))
    db = tmp_path / "w.duckdb"
    command = _pass(sources, db, tmp_path / "prefect")
    try:
        _wait_for_line(command, b"fetching ", timeout=120)
        time.sleep(1.0)  # pages in flight, workers busy
        tree = psutil.Process(command.pid).children(recursive=True)
        (pass_process,) = [p for p in tree if p.ppid() == command.pid]
        started = {p.pid for p in tree} - {pass_process.pid}
        assert len(started) >= 3, "the pass has started its API server and its workers"
        victim = command.pid if target == "command" else pass_process.pid
        psutil.Process(victim).send_signal(sig)

        command.wait(timeout=60)
        _, alive = psutil.wait_procs(tree, timeout=30)
        assert alive == [], f"left running: {[(p.pid, p.cmdline()[:4]) for p in alive]}"
    finally:
        for process in psutil.Process().children(recursive=True):
            if process.pid != command.pid and command.pid in {p.pid for p in process.parents()}:
                process.kill()
        if command.poll() is None:
            command.kill()
        command.wait()
        if command.stdout:
            command.stdout.close()
    if target == "pass":
        assert command.returncode != 0

    again = _pass(sources, db, tmp_path / "prefect")
    out, _ = again.communicate(timeout=300)
    assert again.returncode == 0, out.decode()[-3000:]
    assert b"Pass completed" in out


def test_a_command_killed_as_its_api_server_starts_leaves_nothing_running(
    server: ScriptedServer, tmp_path: Path
) -> None:
    """Killed while Prefect's temporary server starts, by a caller that then closes its end
    of the output (a harness giving up on a command): the server was left running."""
    sources = write_sources(tmp_path / "sources.yaml", ("sample", serve_sample_slowly(server, 0.5)))
    command = _pass(sources, tmp_path / "w.duckdb", tmp_path / "prefect")
    assert command.stdout is not None
    try:
        for line in command.stdout:
            if b"Starting temporary server" in line:
                break
        deadline = time.monotonic() + 30
        while True:  # until the pass has started the server's process
            tree = psutil.Process(command.pid).children(recursive=True)
            if len(tree) >= 2 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert len(tree) >= 2, "the pass has started its API server"
        command.kill()
        command.stdout.close()
        command.wait(timeout=60)
        _, alive = psutil.wait_procs(tree, timeout=30)
        assert alive == [], f"left running: {[(p.pid, p.cmdline()[:4]) for p in alive]}"
    finally:
        for process in psutil.Process().children(recursive=True):
            if command.pid in {p.pid for p in process.parents()}:
                process.kill()
        if command.poll() is None:
            command.kill()
        command.wait()
