"""A pass that cannot write fails with one line and stores no partial batch.

A full disk: it fills up for the pass's process only. RLIMIT_FSIZE caps the size
of any file it writes, and with SIGXFSZ ignored a write past it fails with EFBIG,
as a write to a full disk fails with ENOSPC. A read-only warehouse: the file and
its folder lose their write bits (for root, who ignores those, they are made
immutable with `chattr +i`). Passes run against a real `prefect server`, so
Prefect's own database is not under the cap.
"""

from __future__ import annotations

import os
import random
import resource
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from claimwatch.exceptions import WarehouseError
from claimwatch.store import lake
from claimwatch.store.connection import connect, migrate, write
from tests.conftest import MIGRATIONS, ROOT, SAMPLE, SEEDS
from tests.httpserver import Reply, ScriptedServer
from tests.postgres import PostgresCatalog
from tests.processes import base_env

pytestmark = pytest.mark.slow


def _run(
    sources: Path,
    db: Path,
    env: dict[str, str],
    file_cap: int | None = None,
) -> subprocess.CompletedProcess[str]:
    def cap_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        if file_cap is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_cap, file_cap))

    command = [sys.executable, "-m", "claimwatch", "run", "--sources", str(sources)]
    return subprocess.run(
        [*command, "--db", str(db)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        preexec_fn=cap_files,
    )


@contextmanager
def read_only(*paths: Path) -> Iterator[None]:
    """Make `paths` unwritable: write bits off, or for root (who ignores them) immutable."""
    if os.geteuid() != 0:
        for path in paths:
            path.chmod(path.stat().st_mode & 0o555)
        try:
            yield
        finally:
            for path in paths:
                path.chmod(path.stat().st_mode | 0o200)
        return
    if subprocess.run(["chattr", "+i", *map(str, paths)], capture_output=True).returncode:
        pytest.skip("running as root where `chattr +i` is not possible")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *map(str, paths)], check=True)


def _counts(db: Path) -> tuple[int, int, int]:
    with connect(db, read_only=True) as con:
        row = con.execute(
            "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM matches),"
            " (SELECT count(*) FROM runs)"
        ).fetchone()
    assert row is not None
    return row


def test_full_disk_fails_the_pass_and_keeps_what_was_stored(
    prefect_server: tuple[str, object], server: ScriptedServer, tmp_path: Path
) -> None:
    api, _ = prefect_server
    pages = sorted((SAMPLE / "articles").glob("*.html"))
    rng = random.Random(7)
    for page in pages:
        server.add(
            f"/articles/{page.name}",
            Reply(body=page.read_bytes(), headers={"Content-Type": "text/html"}),
        )
        # The same pages again under other URLs, padded with words that don't compress,
        # so the second pass has megabytes to write.
        noise = " ".join(f"w{rng.getrandbits(40):x}" for _ in range(40_000))
        padded = page.read_bytes().replace(b"</article>", f"<p>{noise}.</p></article>".encode())
        server.add(f"/more/{page.name}", Reply(body=padded, headers={"Content-Type": "text/html"}))
    feed = (SAMPLE / "feed.xml").read_bytes()
    server.add("/feed.xml", Reply(body=feed, headers={"Content-Type": "application/rss+xml"}))
    server.add(
        "/more.xml",
        Reply(
            body=feed.replace(b"articles/", b"more/"),
            headers={"Content-Type": "application/rss+xml"},
        ),
    )
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        f"sources:\n  - name: sample\n    url: {server.url('/feed.xml')}\n"
        "    allow_private: true\n",
        encoding="utf-8",
    )
    env = base_env(tmp_path / "home") | {
        "PREFECT_API_URL": api,
        "CLAIMWATCH_CLAIMS": str(SEEDS / "claims.yaml"),
        "CLAIMWATCH_ALLOW_PRIVATE_HOSTS": "1",
        "CLAIMWATCH_FETCH__HOST_DELAY": "0",
    }
    db = tmp_path / "w.duckdb"
    first = _run(sources, db, env)
    assert first.returncode == 0, first.stderr[-2000:]
    before = _counts(db)

    sources.write_text(
        sources.read_text(encoding="utf-8")
        + f"  - name: more\n    url: {server.url('/more.xml')}\n    allow_private: true\n",
        encoding="utf-8",
    )
    # Room for little more than the pass's bookkeeping in the catalog.
    cap = (db / "catalog.sqlite").stat().st_size + 256 * 1024
    full = _run(sources, db, env, file_cap=cap)
    assert full.returncode == 1, full.stdout[-2000:] + full.stderr[-2000:]
    # Prefect's log above it names the failed task, without a traceback; the pass
    # ends on one line for the user.
    assert "Traceback" not in full.stderr, full.stderr[-3000:]
    last_line = full.stderr.strip().splitlines()[-1]
    assert last_line.startswith(f"Error: {db}: write failed"), full.stderr[-3000:]
    # DuckLake does not pass SQLite's "File too large" on: the line says what to check.
    assert "cannot write the warehouse: is the disk full" in last_line
    assert _counts(db) == before  # nothing of the failed batch, and no run row

    again = _run(sources, db, env)  # with room again, the pass completes
    assert again.returncode == 0, again.stderr[-2000:]
    articles, _, runs = _counts(db)
    assert (articles, runs) == (before[0] + len(pages), before[2] + 1)


def test_read_only_warehouse_fails_before_anything_is_fetched(
    prefect_server: tuple[str, object], server: ScriptedServer, tmp_path: Path
) -> None:
    api, _ = prefect_server
    page = sorted((SAMPLE / "articles").glob("*.html"))[0]
    server.add("/a.html", Reply(body=page.read_bytes(), headers={"Content-Type": "text/html"}))
    feed = f"<rss version='2.0'><channel><item><link>{server.url('/a.html')}</link></item>"
    server.add("/feed.xml", Reply(body=(feed + "</channel></rss>").encode()))
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        f"sources:\n  - name: s\n    url: {server.url('/feed.xml')}\n    allow_private: true\n",
        encoding="utf-8",
    )
    env = base_env(tmp_path / "home") | {
        "PREFECT_API_URL": api,
        "CLAIMWATCH_CLAIMS": str(SEEDS / "claims.yaml"),
        "CLAIMWATCH_FETCH__HOST_DELAY": "0",
    }
    folder = tmp_path / "warehouse"
    folder.mkdir()
    db = folder / "w.duckdb"
    first = _run(sources, db, env)
    assert first.returncode == 0, first.stderr[-3000:]
    before = _counts(db)
    # The warehouse folder, its catalog (with SQLite's WAL files) and data, and its parent.
    unwritable = [*sorted(db.glob("catalog.sqlite*")), db / "data", db, folder]
    with read_only(*unwritable):
        result = _run(sources, db, env)
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    last_line = result.stderr.strip().splitlines()[-1]
    # What SQLite answered, then what to check.
    assert last_line == (
        f"Error: {db}: cannot write the warehouse (attempt to write a readonly database): "
        "is the disk full, or the folder read-only?"
    ), result.stderr[-3000:]
    assert server.hits("/feed.xml") == 1  # the failed pass asked no source
    assert _counts(db) == before


def test_a_read_only_postgres_catalog_names_its_server(
    postgres_catalog: PostgresCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A catalog in PostgreSQL that refuses writes: the line says what PostgreSQL
    answered and that the catalog server is the thing to check, not a disk."""
    db = postgres_catalog.db
    monkeypatch.setenv("CLAIMWATCH_DATA_PATH", str(postgres_catalog.data_path))
    migrate(db, MIGRATIONS)
    server, name = postgres_catalog.server, postgres_catalog.dbname
    server.psql(name, f"ALTER DATABASE {name} SET default_transaction_read_only = on")
    lake.forget(lake.locate(db))  # a new session takes the setting
    with pytest.raises(WarehouseError) as failed:  # the write fence alone is a write
        write(db, f"{db}: write failed", lambda con: None)
    message = str(failed.value)
    assert message == (
        f"{db}: write failed: cannot write the warehouse's catalog "
        "(cannot execute INSERT in a read-only transaction): does PostgreSQL take writes?"
    )
