"""Prefect's temporary API server started as a pass's process begins, and used by its
flow: one server, ours, for the whole pass; none where a server is named; Prefect's own
when ours could not start."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from claimwatch import temporary_server
from tests.conftest import ROOT, SEEDS, write_sources
from tests.processes import base_env


def _servers_seen(command: subprocess.Popen[str], seen: dict[int, dict[str, str]]) -> None:
    """Every uvicorn process under `command` while it runs, with its environment."""
    while command.poll() is None:
        try:
            tree = psutil.Process(command.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return
        for process in tree:
            try:
                if process.pid not in seen and "uvicorn" in process.cmdline():
                    seen[process.pid] = process.environ()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        time.sleep(0.05)


@pytest.mark.slow
def test_a_pass_uses_the_server_started_as_it_began(tmp_path: Path) -> None:
    sources = write_sources(tmp_path / "sources.yaml", ("quiet", "http://127.0.0.1:9/feed.xml"))
    command = [sys.executable, "-m", "claimwatch", "run", "--sources", str(sources)]
    command += ["--claims", str(SEEDS / "claims.yaml"), "--db", str(tmp_path / "w.duckdb")]
    seen: dict[int, dict[str, str]] = {}
    with subprocess.Popen(
        command, env=base_env(tmp_path / "prefect"), cwd=ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    ) as process:  # fmt: skip
        watcher = threading.Thread(target=_servers_seen, args=(process, seen))
        watcher.start()
        out, err = process.communicate(timeout=300)
        watcher.join()
    assert process.returncode == 0, err[-3000:]
    assert "Pass completed" in out
    # One server for the pass, and it is the one started as the pass began: Prefect did
    # not start its own.
    assert len(seen) == 1, seen.keys()
    (environment,) = seen.values()
    assert environment.get("CLAIMWATCH_TEMPORARY_SERVER") == "1"
    assert err.count("Starting temporary server on http://127.0.0.1:") == 1
    assert not any(psutil.pid_exists(pid) for pid in seen)


@pytest.fixture
def no_server_started() -> Iterator[None]:
    yield
    if temporary_server._started is not None:
        temporary_server._started.stop()
        temporary_server._started = None


@pytest.mark.usefixtures("no_server_started")
def test_none_is_started_where_a_server_is_named() -> None:
    temporary_server.start_early({"PREFECT_API_URL": "http://127.0.0.1:9/api"})
    assert temporary_server._started is None


@pytest.mark.usefixtures("no_server_started")
def test_prefect_starts_its_own_when_ours_could_not_start() -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    # A server process that ended at once, as one whose port was taken does.
    ended = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    ended.wait()
    temporary_server._started = temporary_server.TemporaryServer(ended, "http://127.0.0.1:9/api")
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        assert PREFECT_API_URL.value() is None
        with temporary_server.used():
            assert PREFECT_API_URL.value() is None  # left for Prefect to start its own


@pytest.mark.usefixtures("no_server_started")
def test_the_flow_is_pointed_at_the_server_once_it_answers(tmp_path: Path) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    temporary_server.start_early(base_env(tmp_path / "prefect"))
    server = temporary_server._started
    assert server is not None
    with temporary_settings(restore_defaults={PREFECT_API_URL}), temporary_server.used():
        assert PREFECT_API_URL.value() == server.url
        import httpx

        assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200
    server.stop()
    assert server.process.poll() is not None
