"""The monitor flow under Prefect's test harness, against the sample over real HTTP."""

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect.flows import load_flow_from_entrypoint

from claimwatch.store.connection import connect
from tests.conftest import ROOT, SAMPLE, SEEDS, write_sources
from tests.faultserver import FaultServer, fault_server, reset, truncated
from tests.httpserver import Reply, ScriptedServer


@pytest.fixture(scope="module")
def monitor(prefect_harness: None) -> Iterator[Any]:
    yield load_flow_from_entrypoint(f"{ROOT / 'flows' / 'monitor.py'}:monitor")


@pytest.fixture
def faults() -> Iterator[FaultServer]:
    with fault_server() as running:
        yield running


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


def test_a_pass_over_faulty_servers_stores_every_healthy_page(
    monitor: Any,
    server: ScriptedServer,
    faults: FaultServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One feed whose links hit every fault; the pass completes and records each with its reason."""
    monkeypatch.setenv("CLAIMWATCH_FETCH__READ_TIMEOUT", "1")
    monkeypatch.setenv("CLAIMWATCH_FETCH__MAX_BYTES", "300000")
    monkeypatch.setenv("CLAIMWATCH_FETCH__RETRIES", "1")
    html = {"Content-Type": "text/html; charset=utf-8"}
    healthy = sorted((SAMPLE / "articles").glob("*.html"))[:3]
    for page in healthy:
        server.add(f"/ok/{page.name}", Reply(body=page.read_bytes(), headers=html))
    wrong_charset = healthy[0].read_text(encoding="utf-8").replace("’", "'")
    wrong_charset = wrong_charset.replace("Renewed efforts by", "Renewed café efforts by")
    server.add("/latin1", Reply(body=wrong_charset.encode("cp1252"), headers=html))
    server.add(
        "/later",
        lambda r: (
            Reply(429, headers={"Retry-After": "1"})
            if r.count == 1
            else Reply(body=healthy[1].read_bytes(), headers=html)
        ),
    )
    server.add("/down", Reply(503))
    server.add("/slow", Reply(body=b"<html></html>", headers=html, delay=3))
    server.add("/doc.pdf", Reply(body=b"%PDF-1.7", headers={"Content-Type": "application/pdf"}))
    server.add("/big", Reply(body=b"<p>" + b"x" * 400_000, headers=html))
    bomb = gzip.compress(b"<p>" + b"a" * 5_000_000)
    server.add("/bomb", Reply(body=bomb, headers=html | {"Content-Encoding": "gzip"}))
    server.add("/loop", Reply(302, headers={"Location": server.url("/loop-back")}))
    server.add("/loop-back", Reply(302, headers={"Location": server.url("/loop")}))
    server.add("/robots.txt", Reply(body=b"User-agent: *\nDisallow: /private/\n"))
    server.add("/private/page", Reply(body=healthy[2].read_bytes(), headers=html))
    links = [f"/ok/{p.name}" for p in healthy]
    fault_paths = [
        "/later",
        "/latin1",
        "/down",
        "/slow",
        "/doc.pdf",
        "/big",
        "/bomb",
        "/loop",
        "/private/page",
    ]
    # Faults that break HTTP itself come from a second host that misbehaves on purpose.
    broken_http = [
        faults.add("/reset", reset()),
        faults.add("/cut", truncated(b"<html>" + b"a" * 94, declared=1000)),
    ]
    urls = [server.url(link) for link in links + fault_paths] + broken_http
    items = "".join(f"<item><link>{url}</link></item>" for url in urls)
    feed = f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>"
    server.add(
        "/feed.xml", Reply(body=feed.encode(), headers={"Content-Type": "application/rss+xml"})
    )
    broken = feed.replace("</channel></rss>", "<item><link>").replace("/ok/", "/gone/")
    server.add("/broken.xml", Reply(body=broken.encode(), headers={"Content-Type": "text/xml"}))
    sources = write_sources(
        tmp_path / "sources.yaml",
        ("faulty", server.url("/feed.xml")),
        ("broken", server.url("/broken.xml")),
    )
    db = tmp_path / "w.duckdb"
    summary = monitor(sources=str(sources), claims=str(SEEDS / "claims.yaml"), db=str(db))

    stored = {url.rsplit("/", 1)[-1] for (url,) in _rows(db, "SELECT url FROM articles")}
    assert stored == {p.name for p in healthy} | {"later", "latin1"}
    (text,) = _rows(db, f"SELECT text FROM articles WHERE url = '{server.url('/latin1')}'")[0]
    assert "Renewed café efforts" in text  # cp1252 bytes served as UTF-8, read right
    reasons = {
        url.removeprefix(server.base_url.rstrip("/")): (stage, reason)
        for url, stage, reason in _rows(db, "SELECT url, stage, reason FROM fetch_failures")
    }
    expected = {
        "/down": "HTTP 503 (after 2 attempts)",
        "/slow": "read timed out",
        "/doc.pdf": "not HTML (Content-Type application/pdf)",
        "/big": "exceeds the 300000-byte cap",
        "/bomb": "exceeds the 300000-byte cap",
        "/loop": "more than 5 redirects",
        "/private/page": "disallowed by robots.txt",
    }
    expected |= {
        faults.url("/reset"): "connection lost: [Errno 104] Connection reset by peer",
        faults.url("/cut"): "peer closed connection without sending complete message body",
    }
    for path, reason in expected.items():
        assert reasons[path][0] == "fetch" and reason in reasons[path][1], (path, reasons[path])
    # The ill-formed feed is read as far as it goes: its links (all gone) are tried and recorded.
    assert sum(path.startswith("/gone/") for path in reasons) == len(healthy)
    assert len(reasons) == len(expected) + len(healthy)  # every fault, nothing else
    assert summary.stats.status == "completed with failures"
