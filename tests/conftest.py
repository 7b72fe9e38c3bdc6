from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

# Prefect reads these when it is first imported; an offline machine must not send telemetry.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ["CLAIMWATCH_ALLOW_PRIVATE_HOSTS"] = "1"
# Local servers need no politeness delay; tests of the delay set it on their FetchConfig.
os.environ["CLAIMWATCH_FETCH__HOST_DELAY"] = "0"
# One cache of built models and embedded catalogs for the whole run, never the user's own.
os.environ["CLAIMWATCH_CACHE_DIR"] = tempfile.mkdtemp(prefix="claimwatch-test-cache-")

import pytest

from claimwatch.matching.catalog import Catalog, load_catalog
from claimwatch.sample_server import serve_directory
from tests.httpserver import Reply, ScriptedServer, scripted_server

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SAMPLE = SEEDS / "sample"
MIGRATIONS = ROOT / "warehouse" / "migrations"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(SEEDS / "claims.yaml")


@pytest.fixture(scope="session")
def sample_url() -> Iterator[str]:
    """The offline sample served over real HTTP on 127.0.0.1."""
    with serve_directory(SAMPLE) as base_url:
        yield base_url


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with scripted_server() as state:
        yield state


def serve_sample_slowly(server: ScriptedServer, delay: float) -> str:
    """The sample on `server`, each page answered after `delay` s; the feed's URL."""
    for page in (SAMPLE / "articles").glob("*.html"):
        reply = Reply(body=page.read_bytes(), headers={"Content-Type": "text/html"}, delay=delay)
        server.add(f"/articles/{page.name}", reply)
    feed = (SAMPLE / "feed.xml").read_bytes()
    server.add("/feed.xml", Reply(body=feed, headers={"Content-Type": "application/rss+xml"}))
    return server.url("/feed.xml")


def write_sources(path: Path, *feeds: tuple[str, str], sample: bool = False) -> Path:
    """A sources file with one feed per (name, url)."""
    lines = ["sources:"]
    for name, url in feeds:
        lines += [f"  - name: {name}", f"    url: {url}", "    allow_private: true"]
        lines += ["    sample: true"] if sample else []
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object]]:
    """A real `prefect server` for the whole session: (API URL, its process)."""
    from tests.processes import prefect_server_running

    with prefect_server_running(tmp_path_factory.mktemp("prefect-server")) as running:
        yield running
