"""Writing a pass in steps, what the next pass reads back, and the filters."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from claimwatch.matching.catalog import Catalog
from claimwatch.records import Article, Failure, FeedItem, Match, RunStats
from claimwatch.sources.config import FeedSource, SourceList
from claimwatch.sources.filters import apply_filters, off_topic_reason
from claimwatch.sources.reader import SourceTally, Validator
from claimwatch.store.connection import connect, write
from claimwatch.store.history import MAX_FETCH_ATTEMPTS, read_pass_memory, recall
from claimwatch.store.passes import (
    SourceLog,
    SourcePolled,
    begin_pass,
    finish_pass,
    page_attempts,
    store_batch,
)
from claimwatch.store.writers import insert_articles, insert_run
from tests.conftest import MIGRATIONS

NOW = datetime(2026, 11, 25, 12, 0)
SOURCE = FeedSource(name="s", url="https://x.example/feed")  # type: ignore[arg-type]
DEAD = FeedSource(name="dead", url="https://dead.example/feed")  # type: ignore[arg-type]


def _article(url: str, text: str = "NATO met in Brussels.", language: str = "en") -> Article:
    return Article(url, url, None, "s", False, "x", "T", None, text, language, None, NOW, "h")


def _stats(run_id: str) -> RunStats:
    return RunStats(run_id, NOW, NOW, "completed", 1, 0, 0, 0, 0, 0, 0, 0)


def _begin(db: Path, catalog: Catalog) -> None:
    begin_pass(db, MIGRATIONS, sources=SourceList(sources=(SOURCE,)), catalog=catalog)


def test_failed_pages_back_off_then_give_up(tmp_path: Path, catalog: Catalog) -> None:
    db = tmp_path / "w.duckdb"
    _begin(db, catalog)
    item = FeedItem("https://x.example/a", "s", title="A")
    attempted = NOW
    for attempt in range(1, MAX_FETCH_ATTEMPTS + 1):
        memory = read_pass_memory(db, attempted)
        failure = Failure("s", item.url, "fetch", "HTTP 503 (after 3 attempts)")
        rows = page_attempts([item], [failure], memory.attempts, attempted)
        store_batch(
            db, run_id=f"r{attempt}", articles=[], matches=[], failures=[failure], attempts=rows
        )
        retry_at = rows[0].retry_at
        assert rows[0].attempts == attempt
        if attempt == MAX_FETCH_ATTEMPTS:
            assert retry_at is None  # given up
            break
        assert retry_at == attempted + timedelta(hours=2 ** (attempt - 1))
        # Before the retry is due the page is left alone; once due it is tried again.
        early = read_pass_memory(db, retry_at - timedelta(minutes=1))
        recall(db, early, [item.url])
        assert item.url in early.known and early.retries == []
        assert early.attempts == {item.url: attempt}
        due = read_pass_memory(db, retry_at)
        (retry,) = due.retry_items({"s": SOURCE})
        assert (retry.url, retry.title) == (item.url, "A")
        attempted = retry_at
    assert read_pass_memory(db, NOW + timedelta(days=30)).retries == []


def test_a_stored_retry_clears_its_attempt(tmp_path: Path, catalog: Catalog) -> None:
    db = tmp_path / "w.duckdb"
    _begin(db, catalog)
    item = FeedItem("https://x.example/a", "s")
    failure = Failure("s", item.url, "fetch", "read timed out")
    store_batch(
        db,
        run_id="r1",
        articles=[],
        matches=[],
        failures=[failure],
        attempts=page_attempts([item], [failure], {}, NOW),
    )
    store_batch(
        db, run_id="r2", articles=[_article(item.url)], matches=[], failures=[], attempts=[]
    )
    with connect(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM page_attempts").fetchone() == (0,)


def test_extract_failures_and_filtered_pages_are_not_retried(
    tmp_path: Path, catalog: Catalog
) -> None:
    db = tmp_path / "w.duckdb"
    _begin(db, catalog)
    items = [FeedItem(f"https://x.example/{n}", "s") for n in "ab"]
    failures = [
        Failure("s", items[0].url, "extract", "no article text found"),
        Failure("s", items[1].url, "filter", "off topic: none of NATO"),
    ]
    rows = page_attempts(items, failures, {}, NOW)
    assert [r.retry_at for r in rows] == [None, None]
    store_batch(db, run_id="r", articles=[], matches=[], failures=[], attempts=rows)
    memory = read_pass_memory(db, NOW + timedelta(days=365))
    recall(db, memory, [i.url for i in items])
    assert {i.url for i in items} <= memory.known and memory.retries == []


def test_finish_records_validators_cursor_and_log(tmp_path: Path, catalog: Catalog) -> None:
    db = tmp_path / "w.duckdb"
    _begin(db, catalog)
    validator = Validator("https://x.example/feed", '"e"', None, "abc", NOW, NOW)
    tally = SourceTally(requests=2, ok=1, not_modified=1, bytes=512, seconds=0.25)
    store_batch(
        db,
        run_id="r",
        articles=[_article("https://x.example/a")],
        matches=[],
        failures=[],
        attempts=[],
    )
    for cursor in ("c1", "c2"):  # the second pass replaces the first's state
        finish_pass(
            db,
            stats=_stats("r"),
            polled=[SourcePolled("s", NOW, cursor, {validator.url: validator})],
            log=[SourceLog("s", True, tally, 3, 1, 0, 2, False)],
            failures=[],
        )
    memory = read_pass_memory(db, NOW)
    assert memory.validators == {"s": {validator.url: validator}}
    assert memory.state["s"].cursor == "c2"
    with connect(db, read_only=True) as con:
        log = con.execute(
            "SELECT requests, not_modified, bytes, items_seen, off_topic, articles_new"
            " FROM fetch_log"
        ).fetchall()
    assert log == [(2, 1, 512, 3, 2, 1)] * 2


def test_a_pass_asks_only_about_the_pages_it_found(tmp_path: Path, catalog: Catalog) -> None:
    """What a pass holds of the warehouse grows with the pages its sources announce, not
    with the archive: no stored URL is read until asked about."""
    db = tmp_path / "w.duckdb"
    _begin(db, catalog)
    stored = [_article(f"https://x.example/{n}") for n in range(20)]
    moved = Article(
        "https://x.example/old", "https://x.example/moved", None, "s", False, "x", "T", None,
        "NATO met.", "en", None, NOW, "h2",
    )  # fmt: skip
    failed = FeedItem("https://x.example/failed", "s")
    failure = Failure("s", failed.url, "extract", "no article text found")
    store_batch(
        db,
        run_id="r",
        articles=[*stored, moved],
        matches=[],
        failures=[failure],
        attempts=page_attempts([failed], [failure], {}, NOW),
    )
    memory = read_pass_memory(db, NOW)
    assert memory.known == set() and memory.attempts == {}
    assert memory.pages_before == 22  # 21 stored, 1 attempted
    announced = [stored[3].url, "https://x.example/moved", failed.url, "https://x.example/new"]
    recall(db, memory, announced)
    assert memory.known == set(announced[:3])
    assert memory.attempts == {failed.url: 1}


def test_topic_terms_match_whole_words_in_every_group() -> None:
    source = FeedSource(
        name="s",
        url="https://x.example/feed",  # type: ignore[arg-type]
        topic_terms=(("NATO", "North Atlantic"), ("Indo-Pacific", "Taiwan")),
    )
    keep = _article("u1", "NATO leaders discussed Taiwan.")
    assert off_topic_reason(keep, source) is None
    senator = _article("u2", "The senator spoke about Taiwan.")  # "nato" inside a word
    assert off_topic_reason(senator, source) == "off topic: none of NATO, North Atlantic"
    no_asia = _article("u3", "The north atlantic alliance met.")
    assert off_topic_reason(no_asia, source) == "off topic: none of Indo-Pacific, Taiwan"


def test_language_filter_keeps_unknown_languages() -> None:
    source = FeedSource(name="s", url="https://x.example/f", languages=("en",))  # type: ignore[arg-type]
    articles = [
        _article("fr", language="fr"),
        _article("en-gb", language="en-GB"),
        _article("none", language=None),
    ]  # type: ignore[arg-type]
    kept, dropped = apply_filters(articles, {"s": source})
    assert [a.url for a in kept] == ["en-gb", "none"]
    assert [(f.url, f.stage, f.reason) for f in dropped] == [
        ("fr", "filter", "language fr is not one of en")
    ]


def test_source_health_flags_silent_and_off_topic_sources(tmp_path: Path, catalog: Catalog) -> None:
    db = tmp_path / "w.duckdb"
    names = ("quiet", "offtopic", "fine")
    sources = tuple(
        FeedSource(name=n, url=f"https://{n}.example/feed")  # type: ignore[arg-type]
        for n in names
    )
    begin_pass(db, MIGRATIONS, sources=SourceList(sources=sources), catalog=catalog)
    finish_pass(db, stats=_stats("r"), polled=[], log=[], failures=[])
    # A history of passes: (source, hours ago, new items, off-topic pages).
    history = [("quiet", 240, 4, 0), ("quiet", 216, 2, 0), ("quiet", 192, 3, 0)]
    history += [("quiet", h, 0, 0) for h in (48, 24, 1)]
    history += [("offtopic", 1, 5, 5)]
    history += [("fine", h, 2, 0) for h in (3, 2, 1)]
    with connect(db) as con:
        for source, hours, new, off in history:
            con.execute(
                "INSERT INTO fetch_log VALUES (?, ?, true, 1, 1, 0, 0, 100, 0.1, ?, ?, 0, ?, ?,"
                " false, (now() AT TIME ZONE 'UTC') - to_hours(CAST(? AS BIGINT)))",
                ["r", source, new, new, off, new - off, hours],
            )
        health = dict(con.execute("SELECT source, status FROM source_health").fetchall())
        gap = con.execute("SELECT usual_gap_hours FROM source_health WHERE source = 'quiet'")
        assert gap.fetchone() == (24.0,)
    assert health == {"quiet": "silent", "offtopic": "off-topic", "fine": "ok"}


def test_a_source_polled_now_and_then_is_judged_by_its_own_polls(
    tmp_path: Path, catalog: Catalog
) -> None:
    db = tmp_path / "w.duckdb"
    _begin(db, catalog)

    def health_after(run: str, polled: bool, failed: bool) -> tuple[str, int]:
        log = SourceLog("s", polled, SourceTally(requests=int(polled)), 0, 0, 0, 0, failed)
        finish_pass(db, stats=_stats(run), polled=[], log=[log], failures=[])
        with connect(db, read_only=True) as con:
            row = con.execute(
                "SELECT status, failed_passes_in_a_row FROM source_health WHERE source = 's'"
            ).fetchone()
        assert row is not None
        return row

    assert health_after("r1", polled=True, failed=True) == ("failing", 1)
    assert health_after("r2", polled=False, failed=False) == ("failing", 1)  # not due: no news
    assert health_after("r3", polled=True, failed=True) == ("failing", 2)
    assert health_after("r4", polled=True, failed=False) == ("ok", 0)


def test_passes_at_once_store_each_article_and_match_once(tmp_path: Path, catalog: Catalog) -> None:
    """There is no pass lock: passes may overlap. Four passes store overlapping batches at
    once (threads) while another writer's transaction over the same articles stays open
    across all of them; every article and match is stored once, by whoever committed first,
    and the writer that committed last ran again on the newer snapshot and added nothing."""
    db = tmp_path / "w.duckdb"
    for _ in range(2):  # passes begun one beside the other
        _begin(db, catalog)
    claim = catalog.claims[0].id
    shared = [_article(f"https://x.example/shared-{n}") for n in range(6)]
    own = [_article(f"https://x.example/own-{n}") for n in range(4)]

    def batch(arts: list[Article]) -> tuple[list[Article], list[Match]]:
        return arts, [Match(a.url, claim, 99.0, "text", "v", "NATO", 0, 4, "…NATO…") for a in arts]

    held_tries: list[int] = []
    racers_done = threading.Event()

    def held_open(con: duckdb.DuckDBPyConnection) -> int:
        added = insert_articles(con, shared, "held")
        held_tries.append(added)
        racers_done.wait(120)  # commits after every pass below has committed
        return added

    start = threading.Barrier(len(own))

    def one_pass(n: int) -> tuple[int, int]:
        arts, matches = batch([*shared, own[n]])
        start.wait(30)
        added = store_batch(
            db, run_id=f"r{n}", articles=arts, matches=matches, failures=[], attempts=[]
        )
        finish_pass(db, stats=_stats(f"r{n}"), polled=[], log=[], failures=[])
        return added

    with ThreadPoolExecutor(1) as holding, ThreadPoolExecutor(len(own)) as passes:
        holder = holding.submit(write, db, "held", held_open)
        while not held_tries:
            time.sleep(0.05)
        try:
            added = list(passes.map(one_pass, range(len(own))))
        finally:
            racers_done.set()
        assert holder.result(timeout=120) == 0
    assert held_tries[0] == len(shared) and len(held_tries) >= 2  # ran again, added nothing
    assert sum(a for a, _ in added) == len(shared) + len(own)
    assert sum(m for _, m in added) == len(shared) + len(own)
    with connect(db, read_only=True) as con:
        urls = [r[0] for r in con.execute("SELECT url FROM articles").fetchall()]
        pairs = con.execute("SELECT article_url, claim_id FROM matches").fetchall()
        runs = {r[0] for r in con.execute("SELECT run_id FROM runs").fetchall()}
    assert sorted(urls) == sorted(a.url for a in [*shared, *own])
    assert len(pairs) == len(set(pairs)) == len(urls)
    assert runs == {f"r{n}" for n in range(len(own))}


def test_a_re_match_is_not_the_latest_pass_a_source_is_judged_by(
    tmp_path: Path, catalog: Catalog
) -> None:
    """A re-match reads no source: a page that failed in the last pass still shows after
    one, and a feed failing pass after pass still counts its failures in a row."""
    db = tmp_path / "w.duckdb"
    begin_pass(db, MIGRATIONS, sources=SourceList(sources=(SOURCE, DEAD)), catalog=catalog)
    page = Failure("s", "https://x.example/a", "fetch", "HTTP 503 (after 3 attempts)")
    feed = Failure("dead", str(DEAD.url), "discover", "connection refused")
    for number in (1, 2):
        run = replace(_stats(f"pass-{number}"), started_at=NOW + timedelta(hours=number))
        store_batch(db, run_id=run.run_id, articles=[], matches=[], failures=[page], attempts=[])
        finish_pass(db, stats=run, polled=[], log=[], failures=[feed])
    query = "SELECT source, status, failed_passes_in_a_row FROM source_health ORDER BY source"

    def health() -> list[tuple[str, str, int]]:
        with connect(db, read_only=True) as con:
            return con.execute(query).fetchall()

    before = health()
    assert before == [("dead", "failing", 2), ("s", "degraded", 0)]
    later = NOW + timedelta(hours=3)
    for run in (
        RunStats.rematch("rm", later, later),
        RunStats.rematch("s", later, later, stopped=True),
    ):
        write(db, "recording failed", lambda con, run=run: insert_run(con, run))
    assert health() == before
