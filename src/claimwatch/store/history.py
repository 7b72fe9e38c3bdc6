"""What earlier passes left for the next one: validators, cursors, retries, stored pages.

A pass reads this at its start (`read_pass_memory`): which sources are not due yet
(`poll_minutes`), how to ask each source conditionally, and which failed pages are
due for another try even though no source announces them again. Once its sources
are polled, it asks the warehouse about the pages they announced, and only those
(`recall`): which to leave alone (stored, or failed and not due again) and how often
each was tried. The warehouse answers that in SQL, so what a pass holds and how long
it waits do not grow with the archive.
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
from claimwatch.store.writers import url_table

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
    # Of the URLs asked about (`recall`) and the due retries, those not to fetch from a
    # source's announcement: stored articles (as found and after redirects) and
    # attempted pages (due ones come back as retries).
    known: set[str] = field(default_factory=set)
    validators: dict[str, dict[str, Validator]] = field(default_factory=dict)
    state: dict[str, SourceState] = field(default_factory=dict)
    retries: list[Retry] = field(default_factory=list)
    # Attempts so far of the pages asked about and the due retries, so a retry counts on.
    attempts: dict[str, int] = field(default_factory=dict)
    # What reviewers confirmed and rejected, for the detector to learn from.
    decided: Decided = field(default_factory=Decided)
    # How many pages earlier passes stored or attempted (what the pass says it starts from).
    pages_before: int = 0

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
    """Read what earlier passes left, for the sources and the due retries; empty for a new
    warehouse. Which announced pages are stored is asked later, by `recall`."""
    memory = PassMemory()
    if not warehouse_exists(db):
        return memory
    with connect(db, read_only=True, wait=wait) as con:
        memory.decided = decided(con)
        memory.pages_before = _count(con, "articles")
        if not has_table(con, "page_attempts"):
            return memory  # a warehouse from before migration 003
        memory.pages_before += _count(con, "page_attempts")
        due = con.execute(
            "SELECT url, source, title, published_at, archive, attempts FROM page_attempts"
            " WHERE retry_at <= ? ORDER BY retry_at, url",
            [now],
        ).fetchall()
        stored = stored_among(con, [row[0] for row in due])
        for url, source, title, published, archive, attempts in due:
            memory.attempts[url] = attempts
            memory.known.add(url)
            if url not in stored:
                memory.retries.append(Retry(url, source, title, published, archive, attempts))
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


def recall(db: Path, memory: PassMemory, urls: Iterable[str], *, wait: float = 0.0) -> None:
    """Add to `memory` what earlier passes know of `urls` (the pages the sources announced):
    which are stored or were attempted, and how often each was tried.

    Only these URLs are looked up, in the warehouse, so a pass holds a few per page it
    found, not one per page ever stored.
    """
    wanted = sorted(set(urls) - memory.known)
    if not wanted or not warehouse_exists(db):
        return
    with connect(db, read_only=True, wait=wait) as con:
        memory.known |= stored_among(con, wanted)
        if not has_table(con, "page_attempts"):
            return
        for url, attempts in among(
            con, wanted, "SELECT url, attempts FROM page_attempts WHERE url IN (SELECT url FROM {})"
        ):
            memory.attempts[url] = attempts
            memory.known.add(url)


def known_urls(db: Path, urls: Iterable[str]) -> set[str]:
    """Those of `urls` an article is stored under (as found or after redirects)."""
    if not warehouse_exists(db):
        return set()
    with connect(db, read_only=True) as con:
        return stored_among(con, urls)


def stored_among(con: duckdb.DuckDBPyConnection, urls: Iterable[str]) -> set[str]:
    """Those of `urls` an article is stored under (as found or after redirects)."""
    wanted = sorted(set(urls))
    if not wanted or not has_table(con, "articles"):
        return set()
    rows = among(
        con,
        wanted,
        "SELECT url FROM articles WHERE url IN (SELECT url FROM {0})"
        " UNION SELECT final_url FROM articles WHERE final_url IN (SELECT url FROM {0})",
    )
    return {row[0] for row in rows}


def among(con: duckdb.DuckDBPyConnection, urls: list[str], query: str) -> list[tuple]:
    """Rows of `query`, its `{}` naming a table of `urls` (one column, url). The URLs are
    the small side of each join: the warehouse's tables are scanned, never loaded."""
    name = "recall_urls"
    con.register(name, url_table(urls))
    try:
        return con.execute(query.format(name)).fetchall()
    finally:
        con.unregister(name)


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    if not has_table(con, table):
        return 0
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0
