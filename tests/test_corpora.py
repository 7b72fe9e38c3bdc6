"""The web as it is: third-party feeds and saved pages from ../shared/corpora, over real HTTP.

Every feed is parsed as far as it goes or recorded as failed with a reason; every
page is extracted or recorded; nothing raises. Where the corpora state answers
(the manifest's expected encodings, fastfeedparser's golden outputs), they are
checked. The counts are printed (`pytest -s`) for the record.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest

from claimwatch.dates import utcnow
from claimwatch.fetching.articles import fetch_articles
from claimwatch.fetching.charset import decode_body
from claimwatch.fetching.client import FetchConfig, Fetcher
from claimwatch.records import Article, Failure, FeedItem
from claimwatch.sources.config import FeedSource
from claimwatch.sources.discover import poll_source
from claimwatch.store.connection import connect
from claimwatch.urls import normalize_url
from tests.conftest import ROOT, SEEDS, write_sources
from tests.httpserver import Reply, ScriptedServer, scripted_server

CORPORA = Path(os.environ.get("CLAIMWATCH_CORPORA") or ROOT.parent / "shared" / "corpora")
FEEDS = CORPORA / "feeds"
PAGES = CORPORA / "pages"

pytestmark = pytest.mark.skipif(
    not (FEEDS / "manifest.json").is_file() or not PAGES.is_dir(),
    reason=f"no corpora at {CORPORA} (set CLAIMWATCH_CORPORA to their folder)",
)

# What a server would send for each kind of feed the manifest names.
CONTENT_TYPES = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "rdf": "application/rdf+xml",
    "cdf": "application/xml",
    "json-feed": "application/feed+json",
    "html": "text/html",
}
# Signs of text decoded with the wrong charset: UTF-8 read as cp1252, or replacement marks.
MOJIBAKE = re.compile("Ã[\u0080-\u00bf]|â€|\ufffd")
# The real-world captures the corpora README lists as ill-formed but readable.
ILL_FORMED_BUT_READABLE = ("aivarsk.com", "codearcana.com", "oscardom.dev", "blog.kroy.io")


def manifest() -> list[dict[str, Any]]:
    rows = json.loads((FEEDS / "manifest.json").read_text(encoding="utf-8"))
    # The fastfeedparser golden outputs are answers, not feeds.
    return [r for r in rows if r["group"] != "golden-expected-output"]


def feed_reply(row: dict[str, Any]) -> Reply:
    """The file, with the headers the manifest asks for (or the usual ones for its kind)."""
    kind = row["kind"].removeprefix("gzip:")
    family = next((k for k in CONTENT_TYPES if kind.startswith(k)), "")
    headers = {"Content-Type": CONTENT_TYPES.get(family, "application/xml")}
    if row["kind"].startswith("gzip:"):
        headers["Content-Encoding"] = "gzip"  # a gzip body, for the client to undo
    name, _, value = row["http_header"].partition(":")
    if value:
        key = "Content-Type" if name.strip().lower() == "content-type" else name.strip()
        headers[key] = value.strip()
    return Reply(body=(FEEDS / row["path"]).read_bytes(), headers=headers)


@pytest.fixture(scope="module")
def corpus_server() -> Iterator[ScriptedServer]:
    with scripted_server() as server:
        for row in manifest():
            server.add("/feeds/" + row["path"], feed_reply(row))
        for page in PAGES.glob("*.html"):
            # Served as many servers do: no charset, so the page's own declaration counts.
            reply = Reply(body=page.read_bytes(), headers={"Content-Type": "text/html"})
            server.add("/pages/" + quote(page.name), reply)
        yield server


@dataclass
class FeedOutcome:
    row: dict[str, Any]
    items: list[FeedItem] = field(default_factory=list)
    failure: Failure | None = None
    crash: str | None = None


@pytest.fixture(scope="module")
def feeds(corpus_server: ScriptedServer) -> dict[str, FeedOutcome]:
    """Every feed through the discover stage, as a pass polls a source."""
    outcomes: dict[str, FeedOutcome] = {}
    started = time.perf_counter()
    with Fetcher(FetchConfig(allow_private=True, retries=0, host_delay=0)) as fetcher:
        for number, row in enumerate(manifest()):
            url = corpus_server.url("/feeds/" + row["path"])
            source = FeedSource(name=f"feed-{number}", url=url, allow_private=True)  # type: ignore[arg-type]
            outcome = outcomes[row["path"]] = FeedOutcome(row)
            try:
                poll = poll_source(source, fetcher, validators={}, cursor=None, now=utcnow())
            except Exception as exc:  # recorded, so that one crash does not hide the others
                outcome.crash = f"{type(exc).__name__}: {exc}"
                continue
            outcome.items, outcome.failure = poll.items, poll.failure
    seconds = time.perf_counter() - started
    with_items = sum(bool(o.items) for o in outcomes.values())
    failed = sum(o.failure is not None for o in outcomes.values())
    print(
        f"\ncorpus feeds: {len(outcomes)} read in {seconds:.1f} s: {with_items} with items "
        f"({sum(len(o.items) for o in outcomes.values())} items), "
        f"{len(outcomes) - with_items - failed} parsed without items, {failed} failed"
    )
    return outcomes


def test_no_feed_crashes(feeds: dict[str, FeedOutcome]) -> None:
    assert {path: o.crash for path, o in feeds.items() if o.crash} == {}


def test_feeds_yield_items_or_a_one_line_reason(feeds: dict[str, FeedOutcome]) -> None:
    assert len(feeds) == 200
    with_items = [o for o in feeds.values() if o.items]
    assert len(with_items) >= 80
    failed = [o for o in feeds.values() if o.failure]
    assert len(failed) <= 15
    for outcome in failed:
        assert outcome.failure is not None and outcome.failure.reason
        assert "\n" not in outcome.failure.reason and len(outcome.failure.reason) < 400
    # Of the real-world captures (news sites, blogs), all but the two unparseable
    # "<?xml?xml" feeds and an HTML page served as a feed yield items.
    real = [o for p, o in feeds.items() if p.startswith("realworld/")]
    assert sum(not o.items for o in real) == 3
    assert {p.rsplit("/", 1)[1].split("__")[0] for p, o in feeds.items() if o.failure} >= {
        "dylanharris.org",
        "malformed_rss_namespaced.xml",
        "notafeed.html",
    }


def test_ill_formed_feeds_are_read_as_far_as_they_go(feeds: dict[str, FeedOutcome]) -> None:
    ill = {p: o for p, o in feeds.items() if not o.row["wellformed"]}
    assert len(ill) == 37
    assert sum(bool(o.items) for o in ill.values()) >= 10
    for name in ILL_FORMED_BUT_READABLE:
        (outcome,) = [o for p, o in ill.items() if f"/{name}__" in p]
        assert len(outcome.items) >= 10, name


def test_titles_are_readable(feeds: dict[str, FeedOutcome]) -> None:
    """No feed's titles come out as mojibake, whatever its encoding traps."""
    garbled = {
        path: item.title
        for path, o in feeds.items()
        for item in o.items
        if item.title
        and MOJIBAKE.search(item.title)
        # feedparser's own test of text double-encoded at its source: garbled as published.
        and "double-encoded" not in path
    }
    assert garbled == {}


def test_golden_outputs_agree(feeds: dict[str, FeedOutcome]) -> None:
    """fastfeedparser's expected output for its integration feeds: the same links, the
    same titles (one feed, with namespaced RSS elements, only fastfeedparser reads)."""
    folder = "realworld/fastfeedparser-integration/"
    checked = 0
    for golden in sorted((FEEDS / folder).glob("*.json")):
        name = golden.stem
        if name.endswith(".expected") or name == "json_feed_sample":
            continue
        source = folder + name + ".xml"
        expected = {
            normalize_url(e["link"]): (e.get("title") or "").strip() or None
            for e in json.loads(golden.read_text(encoding="utf-8"))["entries"]
            if (e.get("link") or "").startswith("http")
        }
        outcome = feeds[source]
        if name == "malformed_rss_namespaced":
            assert outcome.failure is not None and not outcome.items
            continue
        assert {i.url: i.title for i in outcome.items} == expected, name
        checked += 1
    sample = json.loads((FEEDS / folder / "json_feed_sample.expected.json").read_text())
    json_items = feeds[folder + "json_feed_sample.json"].items
    assert [i.url for i in json_items] == [e["link"] for e in sample["entries"]]
    assert checked == 12


def test_manifest_encodings_agree() -> None:
    """Where a feedparser test expects an encoding, the decoded text is the same."""
    checked = 0
    for row in manifest():
        expected = re.search(r"encoding == '([^']+)'", row["expect"])
        if not expected:
            continue
        body = (FEEDS / row["path"]).read_bytes()
        header = re.search(r"charset\s*=\s*['\"]?\s*([\w.-]+)", row["http_header"])
        decoded = decode_body(body, header.group(1) if header else None, markup="xml")
        assert decoded.text.lstrip("\ufeff") == body.decode(expected.group(1)).lstrip("\ufeff")
        checked += 1
    assert checked == 20  # incl. 8 undeclared legacy encodings (big5, euc-jp, koi8-r, ...)


# --- pages ----------------------------------------------------------------------------------


@dataclass
class PageRun:
    articles: dict[str, Article]
    failures: dict[str, Failure]
    seconds: float


def _fetch_pages(server: ScriptedServer, names: list[str]) -> PageRun:
    items = [FeedItem(page_url(server, "/pages/", n), "corpus", allow_private=True) for n in names]
    started = time.perf_counter()
    with Fetcher(FetchConfig(allow_private=True, retries=0, host_delay=0)) as fetcher:
        articles, failures = fetch_articles(items, fetcher)
    seconds = time.perf_counter() - started
    return PageRun(
        {page_name(a.url): a for a in articles}, {page_name(f.url): f for f in failures}, seconds
    )


def page_url(server: ScriptedServer, prefix: str, name: str) -> str:
    return server.url(prefix + quote(name))  # "mandelplätzchen.html" is requested quoted


def page_name(url: str) -> str:
    return unquote(url.rsplit("/", 1)[1])


@pytest.fixture(scope="module")
def pages(corpus_server: ScriptedServer) -> PageRun:
    names = sorted(p.name for p in PAGES.glob("*.html"))
    run = _fetch_pages(corpus_server, names)
    print(
        f"\ncorpus pages: {len(names)} fetched and extracted in {run.seconds:.1f} s: "
        f"{len(run.articles)} articles, {len(run.failures)} failed "
        f"({', '.join(f'{n}: {f.reason}' for n, f in run.failures.items()) or 'none'})"
    )
    return run


def test_every_page_is_an_article_or_a_recorded_failure(pages: PageRun) -> None:
    names = {p.name for p in PAGES.glob("*.html")}
    assert len(names) == 110
    assert set(pages.articles) | set(pages.failures) == names
    assert not set(pages.articles) & set(pages.failures)
    assert len(pages.articles) >= 100
    for failure in pages.failures.values():
        assert "\n" not in failure.reason and failure.stage == "extract"


def test_page_text_is_decoded_right(pages: PageRun) -> None:
    """Including the pages in ISO-8859-1 (by their meta tag) and those that declare
    ISO-8859-1 but are written in UTF-8."""
    garbled = {n: MOJIBAKE.findall(a.text)[:3] for n, a in pages.articles.items()}
    assert {n: found for n, found in garbled.items() if found} == {}
    latin1 = pages.articles["cdu-fraktion-erfurt.de.waldorfschule.html"].text
    assert re.search("[äöüß]", latin1)


def test_a_lying_header_changes_nothing(corpus_server: ScriptedServer, pages: PageRun) -> None:
    """The same UTF-8 pages served as ISO-8859-1 (a common server default) extract the same."""
    names = [n for n in sorted(pages.articles) if _utf8_not_ascii((PAGES / n).read_bytes())][:15]
    for name in names:
        body = (PAGES / name).read_bytes()
        reply = Reply(body=body, headers={"Content-Type": "text/html; charset=ISO-8859-1"})
        corpus_server.add("/lying/" + quote(name), reply)
    lied = _fetch_pages_at(corpus_server, "/lying/", names)
    assert {n: lied[n].text for n in names} == {n: pages.articles[n].text for n in names}


def _utf8_not_ascii(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not body.isascii()


def _fetch_pages_at(server: ScriptedServer, prefix: str, names: list[str]) -> dict[str, Article]:
    items = [FeedItem(page_url(server, prefix, n), "corpus", allow_private=True) for n in names]
    with Fetcher(FetchConfig(allow_private=True, retries=0, host_delay=0)) as fetcher:
        articles, failures = fetch_articles(items, fetcher)
    assert failures == []
    return {page_name(a.url): a for a in articles}


def test_decoding_is_a_sliver_of_extraction(pages: PageRun) -> None:
    """Measured on the real pages: charset decisions cost next to nothing beside trafilatura."""
    bodies = [p.read_bytes() for p in sorted(PAGES.glob("*.html"))]
    started = time.perf_counter()
    for body in bodies:
        decode_body(body, None)
    decoding = time.perf_counter() - started
    print(f"\ncorpus pages: decoding all {len(bodies)} took {decoding * 1000:.0f} ms")
    assert decoding < pages.seconds * 0.05


# --- a whole pass --------------------------------------------------------------------------

PASS_FEEDS = {
    "bbc-world": "realworld/fastfeedparser-benchmark/feeds.bbci.co.uk__1796df62c4a287cc.xml",
    "npr": "realworld/fastfeedparser-benchmark/feeds.npr.org__7be307059415227d.xml",
    "dw-rdf": "realworld/fastfeedparser-benchmark/rss.dw.com__14dda539770f94e3.xml",
    "aivarsk-ill-formed": (
        "realworld/fastfeedparser-benchmark/aivarsk.com__3d13901a267083a8.atom.xml"
    ),
    "gzipped": "realworld/node-feedparser/compressed.xml",
    "windows-1251": "realworld/node-feedparser/iconv.xml",
    "not-a-feed": "realworld/node-feedparser/notafeed.html",
    "garbage-decl": "realworld/fastfeedparser-benchmark/dylanharris.org__7ef13a42fa7e177a.xml",
    "big5-undeclared": "feedparser/illformed/chardet/big5.xml",
}


@pytest.mark.slow
def test_a_monitoring_pass_over_corpus_feeds_records_failures(
    corpus_server: ScriptedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The monitor flow (as tests/test_flow.py runs it) over real feeds served locally,
    plus one feed of real saved pages. The feeds' own links point at the internet,
    which is out of reach here: each is a recorded fetch failure, not an error."""
    from prefect.flows import load_flow_from_entrypoint
    from prefect.testing.utilities import prefect_test_harness

    pages = sorted(p.name for p in PAGES.glob("*.html"))[:12]
    items = "".join(
        f"<item><title>{n}</title><link>{page_url(corpus_server, '/pages/', n)}</link></item>"
        for n in pages
    )
    rss = f'<rss version="2.0"><channel><title>pages</title>{items}</channel></rss>'
    corpus_server.add(
        "/pages-feed.xml",
        Reply(body=rss.encode(), headers={"Content-Type": "application/rss+xml"}),
    )
    feeds = [(name, corpus_server.url("/feeds/" + path)) for name, path in PASS_FEEDS.items()]
    sources = write_sources(
        tmp_path / "sources.yaml", *feeds, ("pages", corpus_server.url("/pages-feed.xml"))
    )
    db = tmp_path / "w.duckdb"
    monkeypatch.setenv("CLAIMWATCH_FETCH__RETRIES", "0")  # unreachable hosts fail at once
    monkeypatch.setenv("CLAIMWATCH_FETCH__HOST_DELAY", "0")  # one local host serves it all

    started = time.perf_counter()
    with prefect_test_harness(server_startup_timeout=120):
        monitor = load_flow_from_entrypoint(f"{ROOT / 'flows' / 'monitor.py'}:monitor")
        summary = monitor(sources=str(sources), claims=str(SEEDS / "claims.yaml"), db=str(db))
    seconds = time.perf_counter() - started

    stats = summary.stats
    failed_sources = {f.source for f in summary.failures if f.stage == "discover"}
    print(
        f"\ncorpus pass: {stats.sources_total} sources ({stats.sources_failed} failed), "
        f"{stats.items_seen} links, {stats.articles_new} articles, {stats.failures} failures, "
        f"{seconds:.1f} s"
    )
    assert stats.sources_total == len(PASS_FEEDS) + 1
    assert failed_sources == {"not-a-feed", "garbage-decl"}
    assert stats.status == "completed with failures"
    assert stats.articles_new >= 10  # the saved pages
    external = [f for f in summary.failures if f.stage == "fetch"]
    assert len(external) >= 50  # BBC, NPR, DW, ... links: nowhere to fetch them from here
    assert all(f.reason and "\n" not in f.reason for f in summary.failures)
    with connect(db, read_only=True) as con:
        stored = con.execute("SELECT count(*) FROM articles").fetchone()
        recorded = con.execute("SELECT count(*) FROM fetch_failures").fetchone()
    assert stored is not None and stored[0] == stats.articles_new
    assert recorded is not None and recorded[0] == stats.failures
