"""What earlier passes left for the next one: stored URLs, validators, cursors, retries.

A pass reads this once at its start. It tells which announced pages to leave
alone (stored, or failed and not due again), which sources are not due yet
(`poll_minutes`), how to ask each source conditionally, and which failed pages
are due for another try even though no source announces them again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from claimwatch.records import FeedItem, Validator
from claimwatch.sources.config import Source
from claimwatch.store.connection import connect, has_table
from claimwatch.store.lake import exists as warehouse_exists
from claimwatch.store.reviews import Decided, decided

# A page that failed to fetch is tried again after 1, 2, 4 hours; then given up.
RETRY_FIRST = timedelta(hours=1)
MAX_FETCH_ATTEMPTS = 4


@dataclass(frozen=True, slots=True)
class SourceState:
    polled_at: datetime
    cursor: str | None


@dataclass(frozen=True, slots=True)
class Retry:
    """A failed page that is due for another try."""

    url: str
    source: str
    title: str | None
    published_at: datetime | None
    archive: str | None
    attempts: int


@dataclass
class PassMemory:
    # URLs not to fetch: stored articles (as found and after redirects) and
    # attempted pages not due again.
    known: set[str] = field(default_factory=set)
    validators: dict[str, dict[str, Validator]] = field(default_factory=dict)
    state: dict[str, SourceState] = field(default_factory=dict)
    retries: list[Retry] = field(default_factory=list)
    # Attempts so far of every page ever attempted, so a retry counts on.
    attempts: dict[str, int] = field(default_factory=dict)
    # What reviewers confirmed and rejected, for the detector to learn from.
    decided: Decided = field(default_factory=Decided)

    def is_due(self, source: Source, now: datetime) -> bool:
        """Whether `source` should be polled now, given its poll_minutes."""
        state = self.state.get(source.name)
        if source.poll_minutes is None or state is None:
            return True
        return now - state.polled_at >= timedelta(minutes=source.poll_minutes)

    def due_and_idle(
        self, sources: Iterable[Source], now: datetime
    ) -> tuple[list[Source], list[Source]]:
        """`sources` split into those to poll now and those not due yet, in order."""
        due: list[Source] = []
        idle: list[Source] = []
        for source in sources:
            (due if self.is_due(source, now) else idle).append(source)
        return due, idle

    def validators_for(self, source: str) -> dict[str, Validator]:
        """The validators stored for `source` (none for a new one)."""
        return self.validators.get(source, {})

    def cursor_for(self, source: str) -> str | None:
        """Where `source`'s last poll left off, if it was polled before."""
        state = self.state.get(source)
        return state.cursor if state else None

    def retry_items(self, sources: dict[str, Source]) -> list[FeedItem]:
        """Due retries of enabled sources, as items to fetch again."""
        items = []
        for retry in self.retries:
            source = sources.get(retry.source)
            if source is None:
                continue
            items.append(
                FeedItem(
                    url=retry.url,
                    source=retry.source,
                    title=retry.title,
                    published_at=retry.published_at,
                    is_sample=source.sample,
                    allow_private=source.allow_private,
                    archive=retry.archive,
                )
            )
        return items


def next_retry(stage: str, attempts: int, now: datetime) -> datetime | None:
    """When to try a page again that failed at `stage` for the `attempts`-th time.

    Fetch failures are often passing (timeouts, 5xx, a page announced before it
    is published), so they back off and give up after MAX_FETCH_ATTEMPTS. A
    page that could not be extracted or was filtered out would give the same
    answer again: never.
    """
    if stage != "fetch" or attempts >= MAX_FETCH_ATTEMPTS:
        return None
    return now + RETRY_FIRST * 2 ** (attempts - 1)


def read_pass_memory(db: Path, now: datetime, *, wait: float = 0.0) -> PassMemory:
    """Read what earlier passes stored; empty for a new warehouse."""
    memory = PassMemory()
    if not warehouse_exists(db):
        return memory
    with connect(db, read_only=True, wait=wait) as con:
        memory.known = stored_urls(con)
        memory.decided = decided(con)
        if not has_table(con, "page_attempts"):
            return memory  # a warehouse from before migration 003
        for url, source, title, published, archive, attempts, retry_at in con.execute(
            "SELECT url, source, title, published_at, archive, attempts, retry_at"
            " FROM page_attempts"
        ).fetchall():
            memory.attempts[url] = attempts
            if url in memory.known:
                continue
            if retry_at is not None and retry_at <= now:
                memory.retries.append(Retry(url, source, title, published, archive, attempts))
            memory.known.add(url)
        for source, *values in con.execute(
            "SELECT source, url, etag, last_modified, body_sha256, changed_at, verified_at,"
            " conditional FROM source_validators"
        ).fetchall():
            memory.validators.setdefault(source, {})[values[0]] = Validator(*values)
        for source, polled_at, cursor in con.execute(
            "SELECT source, polled_at, cursor FROM source_state"
        ).fetchall():
            memory.state[source] = SourceState(polled_at, cursor)
    return memory


def known_urls(db: Path) -> set[str]:
    """Every URL an article is stored under (as found and after redirects)."""
    if not warehouse_exists(db):
        return set()
    with connect(db, read_only=True) as con:
        return stored_urls(con)


def stored_urls(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every URL an article is stored under, read through an open connection."""
    if not has_table(con, "articles"):
        return set()
    rows = con.execute("SELECT url FROM articles UNION SELECT final_url FROM articles")
    return {row[0] for row in rows.fetchall()}
