"""The warehouse with a PostgreSQL catalog, and several writers at once.

Every pass is a `claimwatch run` process against a real `prefect server`; the
catalog lives in a real PostgreSQL server the tests start (tests/postgres.py), the
Parquet data in a folder named by CLAIMWATCH_DATA_PATH. The sample is served with a
delay per page, as feeds that overlap: four passes run at once, each over a feed of
its own, every page announced by three of them. Whatever order their batches commit
in, the warehouse must then hold what one pass over the whole sample stores: each
article, match and suggestion once, none lost. The same race runs on the embedded
warehouse (a folder, its catalog in SQLite). A pass on a Dask cluster commits its
batches from the Dask workers, as PostgreSQL itself records.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from claimwatch.store.connection import migrate
from tests.commands import claimwatch, claimwatch_process
from tests.conftest import MIGRATIONS, ROOT, SAMPLE, SEEDS, serve_sample_slowly, write_sources
from tests.httpserver import Reply, ScriptedServer, scripted_server
from tests.postgres import PostgresCatalog
from tests.processes import base_env, dask_processes, free_port, wait_for_port

pytestmark = pytest.mark.slow

WRITERS = 4
PAGE_DELAY = 0.3  # seconds per page: each pass spends a few seconds fetching
FLOW_APP = "claimwatch-flow"
WORKER_APP = "claimwatch-dask-worker"


@dataclass(frozen=True)
class SplitSample:
    """The sample served slowly: the whole feed and WRITERS feeds that overlap."""

    whole: str
    feeds: list[str]


def _split_feeds(server: ScriptedServer, parts: int) -> list[str]:
    """`parts` feeds of the sample on `server`, feed k leaving out every parts-th item
    from the k-th on, so each item is in all feeds but one."""
    xml = (SAMPLE / "feed.xml").read_text(encoding="utf-8")
    items = re.findall(r"<item>.*?</item>", xml, re.DOTALL)
    head, tail = xml[: xml.index("<item>")], xml[xml.rindex("</item>") + len("</item>") :]
    urls = []
    for k in range(parts):
        kept = [item for j, item in enumerate(items) if j % parts != k]
        body = (head + "\n".join(kept) + tail).encode("utf-8")
        reply = Reply(body=body, headers={"Content-Type": "application/rss+xml"})
        urls.append(server.add(f"/feed-{k}.xml", reply))
    return urls


@pytest.fixture(scope="module")
def split_sample() -> Iterator[SplitSample]:
    with scripted_server() as server:
        whole = serve_sample_slowly(server, PAGE_DELAY)
        yield SplitSample(whole, _split_feeds(server, WRITERS))


def _env(api: str, home: Path, **extra: str) -> dict[str, str]:
    return base_env(home) | {
        "PREFECT_API_URL": api,
        "CLAIMWATCH_CLAIMS": str(SEEDS / "claims.yaml"),
        "CLAIMWATCH_ALLOW_PRIVATE_HOSTS": "1",
        "CLAIMWATCH_BATCH_SIZE": "3",
        "CLAIMWATCH_FETCH__HOST_DELAY": "0",
        "CLAIMWATCH_LOCK_WAIT": "60",
        **extra,
    }


def _sql(db: str, query: str) -> list[dict]:
    """Rows as `claimwatch sql --format json` gives them to a script."""
    done = claimwatch("sql", query, "--format", "json", "--db", db)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@dataclass(frozen=True)
class Stored:
    """What a warehouse holds, as lists: a duplicate shows as a repeated entry."""

    articles: list[str]
    matches: list[tuple[str, str]]
    suggestions: list[str]

    @classmethod
    def read(cls, db: str) -> Stored:
        articles = [r["url"] for r in _sql(db, "SELECT url FROM articles")]
        matches = _sql(db, "SELECT article_url, claim_id FROM matches")
        suggestions = [r["id"] for r in _sql(db, "SELECT id FROM suggestions")]
        return cls(
            sorted(articles),
            sorted((m["article_url"], m["claim_id"]) for m in matches),
            sorted(suggestions),
        )


@pytest.fixture(scope="module")
def expected(
    prefect_server: tuple[str, object],
    split_sample: SplitSample,
    tmp_path_factory: pytest.TempPathFactory,
) -> Stored:
    """What one pass over the whole sample stores, on a fresh embedded warehouse."""
    tmp = tmp_path_factory.mktemp("union")
    sources = write_sources(tmp / "sources.yaml", ("sample", split_sample.whole))
    db = str(tmp / "lake")
    env = _env(prefect_server[0], tmp / "home")
    done = claimwatch_process("run", "--sources", str(sources), "--db", db, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    stored = Stored.read(db)
    assert len(stored.articles) == 17 and len(stored.matches) >= 20
    return stored


def test_a_pass_on_a_postgres_catalog_is_stored_and_read_back(
    prefect_server: tuple[str, object], postgres_catalog: PostgresCatalog, sample_url: str
) -> None:
    catalog = postgres_catalog
    tmp = catalog.data_path.parent
    sources = write_sources(tmp / "sources.yaml", ("sample", sample_url + "feed.xml"))
    env = _env(prefect_server[0], tmp / "home", CLAIMWATCH_DATA_PATH=f"{catalog.data_path}/")

    done = claimwatch_process("run", "--sources", str(sources), "--db", catalog.db, env=env)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "pass completed: 17 new articles" in done.stdout + done.stderr
    # The catalog is in PostgreSQL, and remembers the data path it was created with.
    remembered = catalog.server.psql(
        catalog.dbname, "SELECT value FROM ducklake_metadata WHERE key = 'data_path'"
    )
    assert remembered.strip() == f"{catalog.data_path}/"
    assert not (ROOT / "warehouse" / "lake" / "data").is_relative_to(catalog.data_path)
    # Reports and `sql` read it, with no data path given: the catalog tells them.
    report = claimwatch("report", "matches-per-claim", "--format", "json", "--db", catalog.db)
    assert report.returncode == 0, report.stderr
    per_claim = {r["claim_id"]: r for r in json.loads(report.stdout)}
    assert "where-nato-goes-war-is-most-likely" in per_claim
    counted = _sql(catalog.db, "SELECT count(*) AS n FROM articles")
    assert counted == [{"n": 17}]
    matches = _sql(catalog.db, "SELECT count(*) AS n FROM claim_matches")
    assert matches[0]["n"] >= 20
    assert _sql(catalog.db, "SELECT status FROM runs") == [{"status": "completed"}]


@dataclass(frozen=True)
class Race:
    seconds: float  # from the first start to the last exit
    runs: list[dict]  # the rows of `runs`, one per pass


def _race(db: str, feeds: list[str], tmp: Path, env: dict[str, str]) -> Race:
    """One `claimwatch run` per feed, all started at once against `db`."""
    processes: list[subprocess.Popen[bytes]] = []
    started = time.monotonic()
    try:
        for k, feed in enumerate(feeds):
            sources = write_sources(tmp / f"sources-{k}.yaml", (f"feed-{k}", feed))
            command = [sys.executable, "-m", "claimwatch", "run", "--sources", str(sources)]
            with (tmp / f"pass-{k}.log").open("wb") as log:
                processes.append(
                    subprocess.Popen(
                        [*command, "--db", db],
                        env=env,
                        cwd=ROOT,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        for k, process in enumerate(processes):
            returncode = process.wait(timeout=600)
            output = (tmp / f"pass-{k}.log").read_text(encoding="utf-8", errors="replace")
            assert returncode == 0, f"pass {k} exited with {returncode}:\n{output[-3000:]}"
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
    seconds = time.monotonic() - started
    runs = _sql(db, "SELECT started_at, finished_at, articles_new, matches_new FROM runs")
    return Race(seconds, runs)


def _assert_each_once_none_lost(stored: Stored, expected: Stored) -> None:
    assert len(set(stored.articles)) == len(stored.articles), "an article stored twice"
    assert len(set(stored.matches)) == len(stored.matches), "a match stored twice"
    assert len(set(stored.suggestions)) == len(stored.suggestions), "a suggestion stored twice"
    assert stored == expected


@pytest.mark.parametrize("kind", ["postgres", "embedded"])
def test_four_passes_at_once_store_each_article_and_match_once(
    kind: str,
    request: pytest.FixtureRequest,
    prefect_server: tuple[str, object],
    split_sample: SplitSample,
    expected: Stored,
    tmp_path: Path,
) -> None:
    extra = {}
    if kind == "postgres":
        catalog: PostgresCatalog = request.getfixturevalue("postgres_catalog")
        db, extra = catalog.db, {"CLAIMWATCH_DATA_PATH": f"{catalog.data_path}/"}
    else:
        db = str(tmp_path / "lake")
    env = _env(prefect_server[0], tmp_path / "home", **extra)

    race = _race(db, split_sample.feeds, tmp_path, env)

    print(f"{kind}: {WRITERS} passes at once in {race.seconds:.1f} s")
    assert len(race.runs) == WRITERS
    # They ran at once: each pass ran while another did.
    for run in race.runs:
        others = [r for r in race.runs if r is not run]
        assert any(
            o["started_at"] < run["finished_at"] and run["started_at"] < o["finished_at"]
            for o in others
        ), race.runs
    stored = Stored.read(db)
    _assert_each_once_none_lost(stored, expected)
    # Each new article and match was counted by the one pass that stored it.
    assert sum(r["articles_new"] for r in race.runs) == len(expected.articles)
    assert sum(r["matches_new"] for r in race.runs) == len(expected.matches)


# Each commit to the catalog, with the application name of the connection that made it.
COMMIT_AUTHORS = """
CREATE TABLE commit_authors (snapshot_id BIGINT, application_name TEXT);
CREATE FUNCTION note_commit_author() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO commit_authors VALUES (NEW.snapshot_id, current_setting('application_name'));
  RETURN NEW;
END $$;
CREATE TRIGGER note_commit_author AFTER INSERT ON ducklake_snapshot
  FOR EACH ROW EXECUTE FUNCTION note_commit_author();
"""
# Who committed the rows of `articles`: the snapshots that inserted into it.
ARTICLE_AUTHORS = """
SELECT DISTINCT a.application_name
FROM commit_authors AS a
JOIN ducklake_snapshot_changes AS c USING (snapshot_id)
JOIN ducklake_table AS t ON t.table_name = 'articles' AND t.end_snapshot IS NULL
WHERE c.changes_made ~ ('(^|,)(inlined_)?insert(ed_into_table)?:' || t.table_id || '(,|$)')
"""


def test_a_dask_pass_commits_its_batches_from_the_workers(
    prefect_server: tuple[str, object],
    postgres_catalog: PostgresCatalog,
    split_sample: SplitSample,
    expected: Stored,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    catalog = postgres_catalog
    data_path = f"{catalog.data_path}/"
    # The catalog made ahead of the pass, so that PostgreSQL can note who commits what.
    monkeypatch.setenv("CLAIMWATCH_DATA_PATH", data_path)
    migrate(catalog.db, MIGRATIONS)
    catalog.server.psql(catalog.dbname, COMMIT_AUTHORS)

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    quiet = ["--dashboard-address", "127.0.0.1:0"]
    # libpq names each connection after PGAPPNAME: the workers' commits say they are theirs.
    workers_env = base_env(tmp_path / "worker-home") | {"PGAPPNAME": WORKER_APP}
    scheduler = ["scheduler", "--host", "127.0.0.1", "--port", str(port), *quiet]
    workers = ["worker", address, "--nworkers", "2", "--nthreads", "1", "--host", "127.0.0.1"]
    sources = write_sources(tmp_path / "sources.yaml", ("sample", split_sample.whole))
    env = _env(
        prefect_server[0],
        tmp_path / "home",
        CLAIMWATCH_DATA_PATH=data_path,
        CLAIMWATCH_TASK_RUNNER="dask",
        CLAIMWATCH_DASK_ADDRESS=address,
        PGAPPNAME=FLOW_APP,
    )
    with (
        dask_processes(scheduler, tmp_path, workers_env),
        dask_processes([*workers, *quiet], tmp_path, workers_env),
    ):
        wait_for_port(port, 60)
        done = claimwatch_process("run", "--sources", str(sources), "--db", catalog.db, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"existing Dask cluster at {address}" in done.stdout + done.stderr

    pairs = sorted(
        {
            (m["article_url"], m["claim_id"])
            for m in _sql(catalog.db, "SELECT article_url, claim_id FROM claim_matches")
        }
    )
    assert pairs == sorted(set(expected.matches))  # what the threaded runner stored
    _assert_each_once_none_lost(Stored.read(catalog.db), expected)
    authors = catalog.server.psql(catalog.dbname, ARTICLE_AUTHORS).split()
    assert authors == [WORKER_APP]
    # The flow's own process committed the pass's start and end.
    everyone = catalog.server.psql(
        catalog.dbname, "SELECT DISTINCT application_name FROM commit_authors"
    )
    assert set(everyone.split()) == {FLOW_APP, WORKER_APP}
