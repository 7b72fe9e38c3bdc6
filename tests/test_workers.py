"""Worker processes: a page whose parser crashes or hangs costs that page, never the pass."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from claimwatch.fetching.client import Page
from claimwatch.matching.detector import DetectorSpec
from claimwatch.records import FeedItem
from claimwatch.store.connection import connect
from claimwatch.store.stories import simhashes
from claimwatch.workers.job import FAULT_MARKER, FAULTS_VARIABLE, PageOutcome
from claimwatch.workers.pool import PagePool, WorkerConfig, in_own_process
from tests.commands import claimwatch
from tests.conftest import SAMPLE, SEEDS, write_sources
from tests.httpserver import Reply, ScriptedServer

HEALTHY = sorted((SAMPLE / "articles").glob("*.html"))
FAULTS = ("abort", "segfault", "sigkill", "spin", "sleep")


def faulty_page(fault: str) -> bytes:
    """A real page that makes its worker crash or hang where tests enable faults."""
    html = HEALTHY[0].read_bytes()
    return html.replace(b"<body>", b"<body><!-- " + FAULT_MARKER + fault.encode() + b" -->", 1)


def as_page(url: str, body: bytes) -> Page:
    return Page(url, url, 200, "text/html; charset=utf-8", body, {})


@pytest.fixture(scope="module")
def pool() -> Iterator[PagePool]:
    previous = os.environ.get(FAULTS_VARIABLE)
    os.environ[FAULTS_VARIABLE] = "1"  # inherited by the workers the pool spawns
    try:
        # Wall time to spare: the spinning page needs its 1 s of CPU before the hang limit
        # even when parallel tests share the cores (3 s was too short there).
        config = WorkerConfig(processes=2, cpu_seconds=1.0, wall_seconds=10.0)
        with PagePool(config=config) as running:
            yield running
    finally:
        if previous is None:
            del os.environ[FAULTS_VARIABLE]
        else:
            os.environ[FAULTS_VARIABLE] = previous


def run(pool: PagePool, pages: dict[str, bytes]) -> dict[str, PageOutcome]:
    futures = {
        url: pool.submit(as_page(url, body), FeedItem(url, "s")) for url, body in pages.items()
    }
    return {url: future.result(timeout=120) for url, future in futures.items()}


def test_each_fault_costs_its_page_and_is_named(
    pool: PagePool, caplog: pytest.LogCaptureFixture
) -> None:
    pages = {f"http://h.example/{fault}": faulty_page(fault) for fault in FAULTS}
    pages |= {f"http://h.example/ok/{p.name}": p.read_bytes() for p in HEALTHY[:6]}
    with caplog.at_level(logging.WARNING, logger="claimwatch.workers.pool"):
        outcomes = run(pool, pages)

    reasons = {url.rsplit("/", 1)[1]: o.failure.reason for url, o in outcomes.items() if o.failure}
    assert reasons == {
        "abort": "extractor crashed (signal 6)",
        "segfault": "extractor crashed (signal 11)",
        "sigkill": "extractor crashed (signal 9)",
        "spin": "extraction over its 1 s CPU budget",
        "sleep": "extraction hung for over 10 s",
    }
    healthy = [o for url, o in outcomes.items() if "/ok/" in url]
    assert len(healthy) == 6 and all(o.article and o.article.text for o in healthy)
    # Each lost page was tried once more, in a new worker, before it was given up.
    for fault in FAULTS:
        retried = [r.getMessage() for r in caplog.records if f"/{fault}: " in r.getMessage()]
        assert len(retried) == 1 and "trying it once more in a new worker" in retried[0]


def test_the_pool_works_on_after_its_workers_died(pool: PagePool) -> None:
    run(pool, {"http://h.example/abort": faulty_page("abort")})
    outcomes = run(pool, {f"http://h.example/{p.name}": p.read_bytes() for p in HEALTHY[:4]})
    assert all(o.article is not None for o in outcomes.values())


def test_the_workers_sketch_each_article_for_its_story(pool: PagePool) -> None:
    outcomes = run(pool, {f"http://h.example/{p.name}": p.read_bytes() for p in HEALTHY[:4]})
    for outcome in outcomes.values():
        assert outcome.article is not None
        assert outcome.sketch == simhashes(outcome.article.text)
    assert any(o.sketch is not None for o in outcomes.values())


def test_matches_are_found_in_the_workers(catalog: object) -> None:
    from claimwatch.matching.catalog import Catalog

    assert isinstance(catalog, Catalog)
    with PagePool(DetectorSpec(catalog), WorkerConfig(processes=1)) as matching:
        outcomes = run(matching, {f"http://h.example/{p.name}": p.read_bytes() for p in HEALTHY})
    found = {m.claim_id for o in outcomes.values() for m in o.matches}
    assert "where-nato-goes-war-is-most-likely" in found
    for url, outcome in outcomes.items():
        assert all(m.article_url == url for m in outcome.matches)


def test_a_pass_records_crashed_and_hung_pages_and_exits_0(
    server: ScriptedServer, tmp_path: Path
) -> None:
    html = {"Content-Type": "text/html; charset=utf-8"}
    links = []
    for page in HEALTHY:
        links.append(server.add(f"/ok/{page.name}", Reply(body=page.read_bytes(), headers=html)))
    for fault in ("abort", "sleep"):
        links.append(server.add(f"/{fault}", Reply(body=faulty_page(fault), headers=html)))
    items = "".join(f"<item><link>{url}</link></item>" for url in links)
    feed = f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>"
    rss = {"Content-Type": "application/rss+xml"}
    server.add("/feed.xml", Reply(body=feed.encode(), headers=rss))
    sources = write_sources(tmp_path / "sources.yaml", ("faulty", server.url("/feed.xml")))
    db = tmp_path / "w.duckdb"
    env = os.environ | {
        FAULTS_VARIABLE: "1",
        "CLAIMWATCH_WORKERS__WALL_SECONDS": "3",
        "CLAIMWATCH_WORKERS__PROCESSES": "2",
    }
    args = ("run", "--sources", str(sources), "--claims", str(SEEDS / "claims.yaml"))

    result = claimwatch(*args, "--db", str(db), env=env)

    assert result.returncode == 0, result.stderr[-3000:]
    with connect(db, read_only=True) as con:
        stored = con.execute("SELECT count(*) FROM articles").fetchone()
        failures = con.execute("SELECT url, stage, reason FROM fetch_failures").fetchall()
    assert stored == (len(HEALTHY),)
    assert sorted(failures) == [
        (server.url("/abort"), "extract", "extractor crashed (signal 6)"),
        (server.url("/sleep"), "extract", "extraction hung for over 3 s"),
    ]
    # Like other extraction failures, they are not fetched again.
    again = claimwatch(*args, "--db", str(db), env=env)
    assert again.returncode == 0, again.stderr[-3000:]
    assert server.hits("/abort") == 1 and server.hits("/sleep") == 1


def test_a_job_in_a_process_of_its_own_returns_its_result_and_its_errors() -> None:
    """A focused re-match chooses its articles this way, so that what DuckDB took for it
    goes back to the system when that process ends."""
    assert in_own_process(os.getpid) != os.getpid()
    assert in_own_process(divmod, 7, 2) == (3, 1)
    with pytest.raises(ZeroDivisionError):
        in_own_process(divmod, 1, 0)
