"""Writing a monitoring pass in steps: begin, one transaction per batch, finish.

A pass stores each batch of articles as soon as it is matched, so memory stays
flat however many pages a pass reads, and a pass that dies keeps what it stored.
What lets the next pass skip work (validators, cursors, poll times) is written
only by `finish_pass`, after every batch: a pass killed before then leaves the
sources to be read in full again, and the pages already stored are skipped, so
the next pass converges on what one uninterrupted pass would have stored.

Only one pass may run against a warehouse at a time: `pass_lock` holds an
exclusive lock file beside it for the whole pass (released by the OS if the
process dies).

The row writers are store.py's (one place writes each table); this module only
orders them into the steps of a pass.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from claimwatch.catalog import Catalog
from claimwatch.discover import Poll
from claimwatch.exceptions import WarehouseError
from claimwatch.history import next_retry
from claimwatch.incremental import SourceTally, Validator
from claimwatch.lockfile import LockHeld, exclusive_lock
from claimwatch.migrations import apply_migrations
from claimwatch.records import Article, Failure, FeedItem, Match
from claimwatch.sources import Source, SourceList
from claimwatch.store import (
    RunStats,
    _assign_stories,
    _insert_articles,
    _insert_failures,
    _insert_matches,
    _insert_run,
    _upsert_claims,
    _upsert_sources,
    connect,
    transaction,
    utcnow,
)


@dataclass(frozen=True, slots=True)
class PageAttempt:
    """A page fetched but not stored, and when it may be tried again (None: never)."""

    url: str
    source: str
    title: str | None
    published_at: datetime | None
    archive: str | None
    stage: str
    reason: str
    attempts: int
    last_attempt_at: datetime
    retry_at: datetime | None


@dataclass(frozen=True, slots=True)
class SourceLog:
    """One source in one pass, as a row of `fetch_log` (articles_new is counted on insert)."""

    source: str
    polled: bool
    tally: SourceTally
    items_seen: int
    items_new: int
    pages_failed: int
    off_topic: int
    failed: bool


@dataclass(frozen=True, slots=True)
class SourcePolled:
    """What a poll leaves for the next one."""

    source: str
    polled_at: datetime
    cursor: str | None
    validators: dict[str, Validator]


class PassInProgress(WarehouseError):
    """Another pass holds the warehouse."""


@contextmanager
def pass_lock(db: Path) -> Iterator[None]:
    """Hold the warehouse's pass lock, or raise PassInProgress naming the holder."""
    try:
        with exclusive_lock(db.with_name(db.name + ".pass-lock")):
            yield
    except LockHeld as held:
        raise PassInProgress(
            f"{db}: another pass is running (process {held.holder}); wait for it to finish"
        ) from None


def begin_pass(
    db: Path,
    migrations_dir: Path,
    *,
    sources: SourceList,
    catalog: Catalog,
    wait: float = 0.0,
) -> None:
    """Bring the schema up to date and record the sources and claims of this pass.

    Run before anything is fetched, so an unwritable warehouse fails the pass early.
    """
    now = utcnow()
    with connect(db, wait=wait) as con:
        apply_migrations(con, migrations_dir)
        with transaction(con, _failed(db)):
            _upsert_sources(con, sources, now)
            _upsert_claims(con, catalog, now)


def store_batch(
    db: Path,
    *,
    run_id: str,
    articles: Sequence[Article],
    matches: Sequence[Match],
    failures: Sequence[Failure],
    attempts: Sequence[PageAttempt],
    wait: float = 0.0,
) -> tuple[int, int]:
    """Store one batch in one transaction; return (articles added, matches added)."""
    now = utcnow()
    with connect(db, wait=wait) as con, transaction(con, _failed(db)):
        articles_new = _insert_articles(con, articles, run_id)
        _assign_stories(con, run_id, now)
        matches_new = _insert_matches(con, matches, run_id, now)
        _insert_failures(con, failures, run_id, now)
        _upsert_attempts(con, attempts, run_id)
        # A page stored at last needs no more tries.
        con.execute(
            "DELETE FROM page_attempts WHERE url IN (SELECT url FROM articles WHERE run_id = ?)",
            [run_id],
        )
    return articles_new, matches_new


def finish_pass(
    db: Path,
    *,
    stats: RunStats,
    polled: Sequence[SourcePolled],
    log: Sequence[SourceLog],
    failures: Sequence[Failure],
    wait: float = 0.0,
) -> RunStats:
    """Record what the next pass needs and the pass itself, in one transaction."""
    now = utcnow()
    with connect(db, wait=wait) as con, transaction(con, _failed(db)):
        _insert_failures(con, failures, stats.run_id, now)
        _upsert_polled(con, polled)
        _insert_log(con, log, stats.run_id, now)
        _insert_run(con, stats)
    return stats


def page_attempts(
    items: Sequence[FeedItem],
    failures: Sequence[Failure],
    previous: dict[str, int],
    now: datetime,
) -> list[PageAttempt]:
    """The attempts to record for the pages of a batch that failed or were filtered out."""
    by_url = {item.url: item for item in items}
    rows = []
    for failure in failures:
        item = by_url.get(failure.url)
        if item is None:
            continue
        attempts = previous.get(item.url, 0) + 1
        rows.append(
            PageAttempt(
                url=item.url,
                source=item.source,
                title=item.title,
                published_at=item.published_at,
                archive=item.archive,
                stage=failure.stage,
                reason=failure.reason,
                attempts=attempts,
                last_attempt_at=now,
                retry_at=next_retry(failure.stage, attempts, now),
            )
        )
    return rows


def _failed(db: Path) -> str:
    return f"{db}: write failed, nothing of this batch stored"


def _replace_rows(
    con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table, keys: Sequence[str]
) -> None:
    con.register("incoming", rows)
    match = " AND ".join(f"t.{k} = i.{k}" for k in keys)
    con.execute(
        f"DELETE FROM {table} AS t WHERE EXISTS (SELECT 1 FROM incoming AS i WHERE {match})"
    )
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
    con.unregister("incoming")


def _upsert_attempts(
    con: duckdb.DuckDBPyConnection, attempts: Sequence[PageAttempt], run_id: str
) -> None:
    if attempts:
        rows = [asdict(a) | {"run_id": run_id} for a in attempts]
        _replace_rows(con, "page_attempts", pa.Table.from_pylist(rows, _ATTEMPTS), ["url"])


def _upsert_polled(con: duckdb.DuckDBPyConnection, polled: Sequence[SourcePolled]) -> None:
    if not polled:
        return
    state = [{"source": p.source, "polled_at": p.polled_at, "cursor": p.cursor} for p in polled]
    _replace_rows(con, "source_state", pa.Table.from_pylist(state, _STATE), ["source"])
    validators = [asdict(v) | {"source": p.source} for p in polled for v in p.validators.values()]
    if validators:
        table = pa.Table.from_pylist(validators, _VALIDATORS)
        _replace_rows(con, "source_validators", table, ["source", "url"])


def _insert_log(
    con: duckdb.DuckDBPyConnection, log: Sequence[SourceLog], run_id: str, now: datetime
) -> None:
    if not log:
        return
    rows = [
        asdict(entry.tally)
        | {k: v for k, v in asdict(entry).items() if k != "tally"}
        | {"run_id": run_id, "logged_at": now}
        for entry in log
    ]
    con.register("incoming", pa.Table.from_pylist(rows, _LOG))
    con.execute(
        """
        INSERT INTO fetch_log BY NAME
        SELECT i.*, coalesce(a.articles_new, 0) AS articles_new
        FROM incoming AS i
        LEFT JOIN (
            SELECT source, count(*) AS articles_new FROM articles WHERE run_id = ? GROUP BY source
        ) AS a USING (source)
        """,
        [run_id],
    )
    con.unregister("incoming")


_TS = pa.timestamp("us")
_ATTEMPTS = pa.schema(
    [
        ("url", pa.string()),
        ("source", pa.string()),
        ("title", pa.string()),
        ("published_at", _TS),
        ("archive", pa.string()),
        ("stage", pa.string()),
        ("reason", pa.string()),
        ("attempts", pa.int32()),
        ("last_attempt_at", _TS),
        ("retry_at", _TS),
        ("run_id", pa.string()),
    ]
)
_STATE = pa.schema([("source", pa.string()), ("polled_at", _TS), ("cursor", pa.string())])
_VALIDATORS = pa.schema(
    [
        ("url", pa.string()),
        ("etag", pa.string()),
        ("last_modified", pa.string()),
        ("body_sha256", pa.string()),
        ("changed_at", _TS),
        ("verified_at", _TS),
        ("conditional", pa.bool_()),
        ("source", pa.string()),
    ]
)
_LOG = pa.schema(
    [
        ("requests", pa.int32()),
        ("ok", pa.int32()),
        ("not_modified", pa.int32()),
        ("errors", pa.int32()),
        ("bytes", pa.int64()),
        ("seconds", pa.float64()),
        ("source", pa.string()),
        ("polled", pa.bool_()),
        ("items_seen", pa.int32()),
        ("items_new", pa.int32()),
        ("pages_failed", pa.int32()),
        ("off_topic", pa.int32()),
        ("failed", pa.bool_()),
        ("run_id", pa.string()),
        ("logged_at", _TS),
    ]
)


def source_logs(
    polled: Sequence[Source],
    skipped: Sequence[Source],
    polls: Sequence[Poll],
    new_items: Sequence[FeedItem],
    page_failures: Sequence[Failure],
) -> list[SourceLog]:
    """One fetch-log row per enabled source: polled ones with their counts, the rest idle."""
    by_source: dict[str, Poll] = {p.source: p for p in polls}
    new = Counter(item.source for item in new_items)
    failed = Counter(f.source for f in page_failures if f.stage != "filter")
    off_topic = Counter(f.source for f in page_failures if f.stage == "filter")
    logs = []
    for source in polled:
        poll = by_source[source.name]
        logs.append(
            SourceLog(
                source=source.name,
                polled=True,
                tally=poll.tally,
                items_seen=len(poll.items),
                items_new=new[source.name],
                pages_failed=failed[source.name],
                off_topic=off_topic[source.name],
                failed=poll.failure is not None,
            )
        )
    for source in skipped:
        logs.append(SourceLog(source.name, False, SourceTally(), 0, 0, 0, 0, False))
    return logs
