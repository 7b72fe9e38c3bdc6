"""The monitor flow under Prefect's test harness, against the sample over real HTTP."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect.flows import load_flow_from_entrypoint
from prefect.testing.utilities import prefect_test_harness

from claimwatch.store import connect
from tests.conftest import ROOT, SEEDS, write_sources


@pytest.fixture(scope="module")
def monitor() -> Iterator[Any]:
    with prefect_test_harness(server_startup_timeout=120):
        yield load_flow_from_entrypoint(f"{ROOT / 'flows' / 'monitor.py'}:monitor")


def _rows(db: Path, sql: str) -> list[tuple]:
    with connect(db, read_only=True) as con:
        return con.execute(sql).fetchall()


def test_pass_stores_articles_and_matches_then_reruns_idempotently(
    monitor: Any, sample_url: str, tmp_path: Path
) -> None:
    sources = write_sources(
        tmp_path / "sources.yaml",
        ("sample", sample_url + "feed.xml"),
        ("dead", "http://127.0.0.1:9/feed.xml"),
    )
    db = tmp_path / "w.duckdb"
    args = {"sources": str(sources), "claims": str(SEEDS / "claims.yaml"), "db": str(db)}

    first = monitor(**args)
    feed_items = first.stats.items_seen
    assert feed_items >= 12
    assert first.stats.articles_new == feed_items
    assert first.stats.matches_new >= 10
    assert first.stats.sources_failed == 1
    assert [(f.source, f.stage) for f in first.failures] == [("dead", "discover")]
    matches = _rows(db, "SELECT claim_id, matched_text, article_url FROM claim_matches")
    assert len(matches) == first.stats.matches_new
    assert ("where-nato-goes-war-is-most-likely", "Where NATO Goes, War Is Most Likely") in {
        m[:2] for m in matches
    }
    assert _rows(db, "SELECT count(*) FROM articles WHERE text = ''") == [(0,)]
    # Every stored article is sketched and given a story, batch by batch.
    assert _rows(db, "SELECT count(*) FROM article_sketches") == [(feed_items,)]
    assert _rows(db, "SELECT stage, url FROM fetch_failures") == [
        ("discover", "http://127.0.0.1:9/feed.xml")
    ]

    second = monitor(**args)
    # The unchanged feed answers the conditional request with 304: nothing to list.
    assert (second.stats.items_seen, second.stats.pages_fetched) == (0, 0)
    log = "SELECT requests, ok, not_modified, items_seen, articles_new FROM fetch_log"
    assert _rows(db, f"{log} WHERE source = 'sample' ORDER BY logged_at") == [
        (1, 1, 0, feed_items, feed_items),
        (1, 0, 1, 0, 0),
    ]
    assert (second.stats.articles_new, second.stats.matches_new) == (0, 0)
    assert len(_rows(db, "SELECT * FROM claim_matches")) == len(matches)
    assert _rows(db, "SELECT count(*) FROM runs") == [(2,)]
    run_ids = {r[0] for r in _rows(db, "SELECT run_id FROM runs")}
    assert len(run_ids) == 2 and not any(r.startswith("local-") for r in run_ids)


def test_private_hosts_need_an_opt_in(
    monitor: Any, sample_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAIMWATCH_ALLOW_PRIVATE_HOSTS", "0")
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n"
        f"  - name: closed\n    url: {sample_url}feed.xml\n"
        f"  - name: opted-in\n    url: {sample_url}feed.xml?again\n    allow_private: true\n",
        encoding="utf-8",
    )
    db = tmp_path / "w.duckdb"
    summary = monitor(sources=str(sources), claims=str(SEEDS / "claims.yaml"), db=str(db))
    assert [(f.source, f.stage) for f in summary.failures] == [("closed", "discover")]
    assert "refused" in summary.failures[0].reason
    assert summary.stats.articles_new >= 12  # fetched through the opted-in source
    assert _rows(db, "SELECT DISTINCT source FROM articles") == [("opted-in",)]


def test_filters_and_poll_intervals(monitor: Any, sample_url: str, tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n"
        f"  - name: nato-only\n    url: {sample_url}feed.xml\n    allow_private: true\n"
        "    topic_terms: [NATO]\n    languages: [en]\n"
        f"  - name: hourly\n    url: {sample_url}feed.xml?hourly\n    allow_private: true\n"
        "    poll_minutes: 60\n",
        encoding="utf-8",
    )
    db = tmp_path / "w.duckdb"
    args = {"sources": str(sources), "claims": str(SEEDS / "claims.yaml"), "db": str(db)}
    first = monitor(**args)
    assert first.failures == []  # filtered pages are not failures
    kept = _rows(db, "SELECT text, language FROM articles WHERE source = 'nato-only'")
    filtered = _rows(db, "SELECT url, reason FROM page_attempts WHERE stage = 'filter'")
    assert kept and filtered
    assert all("NATO" in text and language != "fr" for text, language in kept)
    reasons = {url.rsplit("/", 1)[1]: reason for url, reason in filtered}
    assert reasons["northgate-aukus-at-five-workforce.html"] == "off topic: none of NATO"
    assert reasons["le-veilleur-otan-indo-pacifique-paris-prudence.html"].startswith("language fr")
    log = _rows(db, "SELECT source, polled, off_topic FROM fetch_log ORDER BY source")
    assert log == [("hourly", True, 0), ("nato-only", True, len(filtered))]

    monitor(**args)  # within the hour: the hourly source is not polled
    log = _rows(db, "SELECT source, polled, requests FROM fetch_log ORDER BY logged_at, source")
    assert log[2:] == [("hourly", False, 0), ("nato-only", True, 1)]
