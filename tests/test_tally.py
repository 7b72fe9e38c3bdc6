"""The running account of a pass: due sources, pages to fetch, counted failures, its stats."""

import logging
from collections import Counter
from datetime import datetime, timedelta

import pytest

from claimwatch.records import Article, Failure, FeedItem, Match, RunStats, SourceTally, Validator
from claimwatch.sources.config import FeedSource
from claimwatch.sources.discover import Poll
from claimwatch.store.history import PassMemory, Retry, SourceState
from claimwatch.store.tally import (
    LogLine,
    PassTally,
    batched,
    counted_failures,
    emit,
    pass_line,
    poll_line,
)

NOW = datetime(2026, 11, 25, 12, 0)


def _source(name: str, poll_minutes: float | None = None) -> FeedSource:
    return FeedSource(name=name, url=f"https://{name}.example/feed", poll_minutes=poll_minutes)  # type: ignore[arg-type]


def _poll(source: str, urls: list[str], failure: Failure | None = None) -> Poll:
    items = [FeedItem(url, source) for url in urls]
    validator = Validator(f"https://{source}.example/feed", '"e"', None, "h", NOW, NOW)
    return Poll(
        source, items, f"cursor-{source}", {validator.url: validator}, SourceTally(), NOW, failure
    )


def _article(url: str, source: str = "a") -> Article:
    return Article(url, url, None, source, False, "x", "T", None, "text", "en", None, NOW, "h")


def _match(url: str) -> Match:
    return Match(url, "claim", 90.0, "text", "claim", "claim", 0, 5, "claim")


def _memory() -> PassMemory:
    """`a` is new, `b` was polled 5 minutes ago and waits 60, `c` 2 hours ago."""
    return PassMemory(
        known={"https://a.example/old"},
        pages_before=1,
        state={
            "b": SourceState(NOW - timedelta(minutes=5), "b-was-here"),
            "c": SourceState(NOW - timedelta(hours=2), None),
        },
        retries=[
            Retry("https://a.example/retry", "a", "R", None, None, 1),
            Retry("https://gone.example/x", "gone", None, None, None, 1),
        ],
    )


def _tally() -> PassTally:
    sources = [_source("a"), _source("b", 60), _source("c", 60)]
    return PassTally.begin("run-1", NOW, _memory(), sources)


def test_due_and_idle_follow_poll_minutes_in_order() -> None:
    sources = [_source("a"), _source("b", 60), _source("c", 60)]
    due, idle = _memory().due_and_idle(sources, NOW)
    assert [s.name for s in due] == ["a", "c"]
    assert [s.name for s in idle] == ["b"]
    # An hour later b is due again.
    due, idle = _memory().due_and_idle(sources, NOW + timedelta(hours=1))
    assert [s.name for s in due] == ["a", "b", "c"] and idle == []


def test_cursor_and_validators_of_a_new_source_are_empty() -> None:
    memory = _memory()
    assert memory.cursor_for("b") == "b-was-here"
    assert memory.cursor_for("a") is None
    assert memory.validators_for("a") == {}


def test_poll_lines_say_items_failure_or_both() -> None:
    broken = Failure("a", "https://a.example/feed", "discover", "refused")
    assert poll_line(_poll("a", ["u1", "u2"])) == LogLine(
        logging.INFO, "source %s: %d items", ("a", 2)
    )
    partial = poll_line(_poll("a", ["u1"], broken))
    assert partial.level == logging.WARNING
    assert partial.text() == "source a: 1 items, then failed: refused"
    failed = poll_line(_poll("a", [], broken))
    assert failed.level == logging.WARNING
    assert failed.text() == "source a failed: refused"


def test_pages_to_fetch_are_unseen_items_then_due_retries_of_enabled_sources() -> None:
    tally = _tally()
    assert tally.reading_line().text() == (
        "reading 2 sources (1 not due yet); 1 pages stored or attempted before"
    )
    lines = tally.add_polls(
        [
            _poll("a", ["https://a.example/old", "https://a.example/new", "https://x.example/1"]),
            _poll("c", ["https://x.example/1"]),
        ]
    )
    assert [line.text() for line in lines] == ["source a: 3 items", "source c: 1 items"]
    assert [i.url for i in tally.new_items] == [
        "https://a.example/new",
        "https://x.example/1",
        "https://a.example/retry",  # the retry of the source no longer configured is dropped
    ]
    assert tally.skipped == 1
    assert [len(b) for b in tally.batches(2)] == [2, 1]
    assert tally.fetching_line().text() == (
        "fetching 3 new pages (1 retries) in 2 batches; 1 skipped as seen"
    )


def test_batches_add_up_and_off_topic_pages_are_no_failures() -> None:
    tally = _tally()
    tally.add_polls([_poll("a", ["u1", "u2", "u3"]), _poll("c", ["u4"])])
    tally.batches(3)
    off_topic = Failure("a", "u2", "filter", "off topic")
    line = tally.add_batch([_article("u1")], [off_topic], [], [_match("u1")], (1, 1))
    assert line.text() == "batch 1/2: 1 articles (1 new), 1 off topic, 0 failed pages"
    assert tally.failures == []
    assert tally.stats(NOW).status == "completed"

    timeout = Failure("c", "u4", "fetch", "timed out")
    line = tally.add_batch([_article("u3")], [], [timeout], [], (0, 0))
    assert line.text() == "batch 2/2: 1 articles (0 new), 0 off topic, 1 failed pages"
    assert tally.failures == [timeout]
    assert tally.page_failures == [off_topic, timeout]  # both are recorded with their pages
    stats = tally.stats(NOW + timedelta(minutes=1))
    assert stats == RunStats(
        run_id="run-1",
        started_at=NOW,
        finished_at=NOW + timedelta(minutes=1),
        status="completed with failures",
        sources_total=3,
        sources_failed=0,
        items_seen=4,
        pages_skipped=0,
        pages_fetched=5,  # four new pages and the retry
        articles_new=1,
        matches_new=1,
        failures=1,
    )
    assert tally.claims_found == Counter({"claim": 1})


def test_source_failures_come_first_and_count() -> None:
    tally = _tally()
    refused = Failure("c", "https://c.example/feed", "discover", "refused")
    tally.add_polls([_poll("a", ["u1"]), _poll("c", [], refused)])
    tally.batches(50)
    broken = Failure("a", "u1", "extract", "no text")
    tally.add_batch([], [], [broken], [], (0, 0))
    assert tally.source_failures == [refused]
    assert tally.failures == [refused, broken]
    stats = tally.stats(NOW)
    assert (stats.sources_failed, stats.failures, stats.status) == (
        1,
        2,
        "completed with failures",
    )


def test_fetch_log_has_a_row_per_enabled_source_and_polled_rows_per_poll() -> None:
    tally = _tally()
    refused = Failure("c", "https://c.example/feed", "discover", "refused")
    tally.add_polls([_poll("a", ["u1", "u2"]), _poll("c", [], refused)])
    tally.batches(50)
    tally.add_batch(
        [], [Failure("a", "u1", "filter", "off")], [Failure("a", "u2", "fetch", "x")], [], (0, 0)
    )
    rows = {row.source: row for row in tally.fetch_log()}
    assert set(rows) == {"a", "b", "c"}
    assert (rows["a"].polled, rows["a"].items_seen, rows["a"].items_new) == (True, 2, 3)
    assert (rows["a"].pages_failed, rows["a"].off_topic, rows["a"].failed) == (1, 1, False)
    assert rows["b"].polled is False
    assert rows["c"].failed is True
    polled = tally.polled()
    assert [(p.source, p.cursor) for p in polled] == [("a", "cursor-a"), ("c", "cursor-c")]
    assert list(polled[0].validators) == ["https://a.example/feed"]


def test_counted_failures_and_batches() -> None:
    failures = [Failure("a", "u", "filter", "off"), Failure("a", "v", "fetch", "x")]
    assert counted_failures(failures) == failures[1:]
    items = [FeedItem(f"u{i}", "a") for i in range(5)]
    assert [[i.url for i in b] for b in batched(items, 2)] == [["u0", "u1"], ["u2", "u3"], ["u4"]]
    assert batched([], 2) == []


def test_lines_are_emitted_with_their_level(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("claimwatch.test_tally")
    stats = RunStats("r", NOW, NOW, "completed", 1, 0, 2, 0, 2, 2, 1, 0)
    with caplog.at_level(logging.INFO, logger=logger.name):
        emit(logger, [LogLine(logging.WARNING, "source %s failed: %s", ("a", "refused"))])
        pass_line(stats).emit(logger)
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, "source a failed: refused"),
        (logging.INFO, "pass completed: 2 new articles, 1 new matches, 0 failures"),
    ]


def test_rematch_stats_and_run_ids() -> None:
    later = NOW + timedelta(seconds=3)
    stats = RunStats.rematch("r", NOW, later)
    assert (stats.run_id, stats.started_at, stats.finished_at, stats.status) == (
        "r",
        NOW,
        later,
        "rematch",
    )
    assert (stats.sources_total, stats.pages_fetched, stats.matches_new, stats.failures) == (
        0,
        0,
        0,
        0,
    )
    assert RunStats.new_run_id("0f3a", NOW) == "0f3a"
    assert RunStats.new_run_id(None, NOW) == "local-20261125T120000"
