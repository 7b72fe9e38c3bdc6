"""The demo's port is a setting: the sample server takes SAMPLE_PORT or, with 8765 taken,
a free port, and the sample source of seeds/sources.yaml follows it."""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from claimwatch.exceptions import SourcesError
from claimwatch.sample_server import DEFAULT_PORT
from claimwatch.sources.config import load_sources
from tests.commands import claimwatch
from tests.conftest import ROOT, SAMPLE, SEEDS


def hold(port: int) -> socket.socket | None:
    """Listen on 127.0.0.1:`port`; None when another program holds it already."""
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        assert exc.errno == errno.EADDRINUSE
        return None
    sock.listen()
    return sock


@pytest.fixture
def default_port_taken() -> Iterator[None]:
    held = hold(DEFAULT_PORT)
    try:
        yield
    finally:
        if held is not None:
            held.close()


@pytest.fixture
def taken_port() -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    try:
        yield int(sock.getsockname()[1])
    finally:
        sock.close()


def sample_only(path: Path) -> Path:
    """seeds/sources.yaml with its sample source alone, as written there (no network)."""
    data = yaml.safe_load((SEEDS / "sources.yaml").read_text(encoding="utf-8"))
    (sample,) = [s for s in data["sources"] if s["name"] == "sample"]
    assert "${SAMPLE_PORT:-8765}" in sample["url"]
    path.write_text(yaml.safe_dump({"sources": [sample]}), encoding="utf-8")
    return path


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SAMPLE_PORT"}
    return env | extra


def serve_and(*command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "claimwatch.sample_server", str(SAMPLE), "--", *command],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )


def test_a_pass_over_the_sample_when_8765_is_taken(
    default_port_taken: None, tmp_path: Path
) -> None:
    sources, db = sample_only(tmp_path / "sources.yaml"), tmp_path / "w.duckdb"
    run = [sys.executable, "-m", "claimwatch", "run", "--sources", str(sources)]
    run += ["--claims", str(SEEDS / "claims.yaml"), "--db", str(db)]
    done = serve_and(*run, env=environment())
    assert done.returncode == 0, done.stderr[-3000:]
    first = done.stderr.splitlines()[0]
    assert first.startswith(f"serving {SAMPLE} at http://127.0.0.1:")
    assert first.endswith(f"/ ({DEFAULT_PORT} is taken)")
    port = int(first.split("127.0.0.1:")[1].split("/")[0])
    assert port != DEFAULT_PORT
    assert "New matches (" in done.stdout
    found = claimwatch(
        "sql", "SELECT url FROM articles", "--format", "json", "--db", str(db), env=environment()
    )
    urls = [r["url"] for r in json.loads(found.stdout)]
    assert len(urls) >= 12
    assert all(u.startswith(f"http://127.0.0.1:{port}/articles/") for u in urls)


def test_the_command_gets_the_port_asked_for() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = int(probe.getsockname()[1])
    printed = [sys.executable, "-c", "import os; print(os.environ['SAMPLE_PORT'])"]
    done = serve_and(*printed, env=environment(SAMPLE_PORT=str(free)))
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[0] == f"serving {SAMPLE} at http://127.0.0.1:{free}/"
    assert done.stdout.strip() == str(free)


@pytest.mark.parametrize("how", ["SAMPLE_PORT", "--port"])
def test_a_port_asked_for_and_taken_is_an_error(how: str, taken_port: int) -> None:
    env = environment(SAMPLE_PORT=str(taken_port)) if how == "SAMPLE_PORT" else environment()
    flag = ["--port", str(taken_port)] if how == "--port" else []
    done = subprocess.run(
        [sys.executable, "-m", "claimwatch.sample_server", str(SAMPLE), *flag, "--", "true"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"error: cannot serve on 127.0.0.1:{taken_port}: Address already in use"
    )


def test_sources_take_values_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SAMPLE_PORT", raising=False)
    assert str(load_sources(SEEDS / "sources.yaml").sources[0].url) == (
        f"http://127.0.0.1:{DEFAULT_PORT}/feed.xml"
    )
    monkeypatch.setenv("SAMPLE_PORT", "9123")
    assert str(load_sources(SEEDS / "sources.yaml").sources[0].url) == (
        "http://127.0.0.1:9123/feed.xml"
    )
    path = tmp_path / "sources.yaml"
    path.write_text(
        "sources:\n  - name: a\n    url: http://${FEED_HOST}/feed.xml\n", encoding="utf-8"
    )
    monkeypatch.delenv("FEED_HOST", raising=False)
    with pytest.raises(SourcesError) as missing:
        load_sources(path)
    assert str(missing.value) == (
        f"{path}:3:17: ${{FEED_HOST}} is not set; set FEED_HOST in the environment "
        "or give a default: ${FEED_HOST:-value}"
    )
    monkeypatch.setenv("FEED_HOST", "news.example.org")
    assert str(load_sources(path).sources[0].url) == "http://news.example.org/feed.xml"
