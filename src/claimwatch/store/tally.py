"""What a monitoring pass adds up as it runs, and what it records at the end.

A pass polls the due sources, then fetches, matches and stores its pages batch by
batch. `PassTally` keeps the running counts, so the flow only composes steps: it
decides which sources are due, which pages to fetch (new ones and due retries),
which failures count (a page filtered out as off topic does not), the pass's
status, and the rows `finish_pass` writes. Each step returns the log line that
says what happened (`LogLine`), worded as users and tests read it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence, Sized
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from claimwatch.records import Failure, FeedItem, Match, RunStats, SourceLog, SourcePolled
from claimwatch.sources.config import Source
from claimwatch.sources.discover import Poll, unseen_items
from claimwatch.store.history import PassMemory
from claimwatch.store.passes import source_logs

COMPLETED = "completed"
COMPLETED_WITH_FAILURES = "completed with failures"


class LogLine(NamedTuple):
    """One log record to emit: a level, a %-format and its arguments."""

    level: int
    message: str
    args: tuple[Any, ...] = ()

    def emit(self, logger: logging.Logger | logging.LoggerAdapter[Any]) -> None:
        logger.log(self.level, self.message, *self.args)

    def text(self) -> str:
        return self.message % self.args


def emit(logger: logging.Logger | logging.LoggerAdapter[Any], lines: Iterable[LogLine]) -> None:
    """Log each of `lines` in turn."""
    for line in lines:
        line.emit(logger)


def poll_line(poll: Poll) -> LogLine:
    """How one source's poll is reported: its items (a `claimreview` source's
    fact-checks), its failure, or both."""
    found, noun = (poll.fact_checks, "fact-checks") if poll.fact_checks else (poll.items, "items")
    if poll.failure and found:
        return LogLine(
            logging.WARNING,
            f"source %s: %d {noun}, then failed: %s",
            (poll.source, len(found), poll.failure.reason),
        )
    if poll.failure:
        return LogLine(logging.WARNING, "source %s failed: %s", (poll.source, poll.failure.reason))
    return LogLine(logging.INFO, f"source %s: %d {noun}", (poll.source, len(found)))


def pass_line(stats: RunStats) -> LogLine:
    """The closing line of a pass."""
    return LogLine(
        logging.INFO,
        "pass %s: %d new articles, %d new matches, %d failures",
        (stats.status, stats.articles_new, stats.matches_new, stats.failures),
    )


def counted_failures(failures: Sequence[Failure]) -> list[Failure]:
    """The failures that make a pass 'completed with failures' (not off-topic pages)."""
    return [f for f in failures if f.stage != "filter"]


def batched(items: Sequence[FeedItem], size: int) -> list[list[FeedItem]]:
    """`items` in consecutive batches of at most `size`."""
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


@dataclass
class PassTally:
    """The running account of one pass, from the due sources to its `RunStats`."""

    run_id: str
    started_at: datetime
    memory: PassMemory
    enabled: dict[str, Source]
    due: list[Source] = field(init=False)
    idle: list[Source] = field(init=False)
    polls: list[Poll] = field(default_factory=list)
    new_items: list[FeedItem] = field(default_factory=list)
    retries: int = 0
    skipped: int = 0
    batches_total: int = 0
    batches_done: int = 0
    articles_new: int = 0
    matches_new: int = 0
    # Articles per claim: counts, not the matches, so a pass's memory does not grow with them.
    claims_found: Counter[str] = field(default_factory=Counter)
    # Pages that failed or were filtered out, as stored with their batch.
    page_failures: list[Failure] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.due, self.idle = self.memory.due_and_idle(self.enabled.values(), self.started_at)

    @classmethod
    def begin(
        cls, run_id: str, started_at: datetime, memory: PassMemory, sources: Sequence[Source]
    ) -> PassTally:
        """A tally for a pass over the enabled `sources`."""
        return cls(run_id, started_at, memory, {s.name: s for s in sources})

    def reading_line(self) -> LogLine:
        return LogLine(
            logging.INFO,
            "reading %d sources (%d not due yet); %d pages stored or attempted before",
            (len(self.due), len(self.idle), self.memory.pages_before),
        )

    def add_polls(self, polls: Sequence[Poll]) -> list[LogLine]:
        """Take the due sources' polls: the pages to fetch are their unseen items and
        the due retries. Returns a line per poll."""
        self.polls = list(polls)
        self.new_items, self.skipped = unseen_items([p.items for p in polls], self.memory.known)
        retries = self.memory.retry_items(self.enabled)
        self.new_items += retries
        self.retries = len(retries)
        return [poll_line(p) for p in self.polls]

    def batches(self, size: int) -> list[list[FeedItem]]:
        """The pages to fetch, in batches of at most `size`."""
        batches = batched(self.new_items, size)
        self.batches_total = len(batches)
        return batches

    def fetching_line(self) -> LogLine:
        return LogLine(
            logging.INFO,
            "fetching %d new pages (%d retries) in %d batches; %d skipped as seen",
            (len(self.new_items), self.retries, self.batches_total, self.skipped),
        )

    def add_batch(
        self,
        kept: Sized,
        dropped: Sequence[Failure],
        failed: Sequence[Failure],
        found: Sequence[Match],
        added: tuple[int, int],
    ) -> LogLine:
        """Count one stored batch: the articles kept (or their URLs), those filtered out
        (`dropped`), the pages that failed, the matches found and (articles, matches) the
        store added."""
        self.batches_done += 1
        self.articles_new += added[0]
        self.matches_new += added[1]
        self.claims_found.update(m.claim_id for m in found)
        self.page_failures.extend([*failed, *dropped])
        return LogLine(
            logging.INFO,
            "batch %d/%d: %d articles (%d new), %d off topic, %d failed pages",
            (self.batches_done, self.batches_total, len(kept), added[0], len(dropped), len(failed)),
        )

    @property
    def source_failures(self) -> list[Failure]:
        return [p.failure for p in self.polls if p.failure]

    @property
    def failures(self) -> list[Failure]:
        """Every failure that counts: the sources' first, then the pages'."""
        return self.source_failures + counted_failures(self.page_failures)

    def stats(self, finished_at: datetime) -> RunStats:
        failures = self.failures
        return RunStats(
            run_id=self.run_id,
            started_at=self.started_at,
            finished_at=finished_at,
            status=COMPLETED_WITH_FAILURES if failures else COMPLETED,
            sources_total=len(self.enabled),
            sources_failed=len(self.source_failures),
            items_seen=sum(len(p.items) for p in self.polls),
            pages_skipped=self.skipped,
            pages_fetched=len(self.new_items),
            articles_new=self.articles_new,
            matches_new=self.matches_new,
            failures=len(failures),
        )

    def polled(self) -> list[SourcePolled]:
        """What each poll leaves for the next pass."""
        return [SourcePolled(p.source, p.polled_at, p.cursor, p.validators) for p in self.polls]

    def fetch_log(self) -> list[SourceLog]:
        """One fetch-log row per enabled source."""
        return source_logs(self.due, self.idle, self.polls, self.new_items, self.page_failures)
