"""Writing a monitoring pass in steps: begin, one transaction per batch, finish.

A pass stores each batch of articles as soon as it is matched, so memory stays
flat however many pages a pass reads, and a pass that dies keeps what it stored.
What lets the next pass skip work (validators, cursors, poll times) is written
only by `finish_pass`, after every batch: a pass killed before then leaves the
sources to be read in full again, and the pages already stored are skipped, so
the next pass converges on what one uninterrupted pass would have stored.

Several passes may run against one warehouse at once (other sources, other
workers, other machines): every step is one transaction that `connection.write`
retries when it meets another writer, and the writers store each article, match
and suggestion once whoever commits first.

The row writers are in `writers` (one place writes each table); this module only
orders them into the steps of a pass.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from claimwatch.dates import utcnow
from claimwatch.matching.catalog import Catalog
from claimwatch.records import (
    Article,
    Failure,
    FeedItem,
    Match,
    PageAttempt,
    RunStats,
    SourceLog,
    SourcePolled,
    Suggestion,
)
from claimwatch.sources.config import Source, SourceList
from claimwatch.sources.discover import Poll
from claimwatch.sources.reader import SourceTally
from claimwatch.store.connection import migrate, write
from claimwatch.store.history import among, next_retry
from claimwatch.store.stories import WINDOW as STORY_WINDOW
from claimwatch.store.stories import Halves
from claimwatch.store.story_lookup import assign_new_stories
from claimwatch.store.writers import (
    insert_articles,
    insert_failures,
    insert_log,
    insert_matches,
    insert_run,
    insert_suggestions,
    upsert_attempts,
    upsert_claims,
    upsert_polled,
    upsert_sources,
)


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
    migrate(db, migrations_dir)

    def record(con: duckdb.DuckDBPyConnection) -> None:
        upsert_sources(con, sources, now)
        upsert_claims(con, catalog, now)

    write(db, _failed(db), record, wait=wait)


def store_batch(
    db: Path,
    *,
    run_id: str,
    articles: Sequence[Article],
    matches: Sequence[Match],
    failures: Sequence[Failure],
    attempts: Sequence[PageAttempt],
    suggestions: Sequence[Suggestion] = (),
    wait: float = 0.0,
    story_window: timedelta = STORY_WINDOW,
    sketches: Mapping[str, Halves] | None = None,
) -> tuple[int, int]:
    """Store one batch in one transaction; return (articles added, matches added).

    `story_window`: how far back a new article's story is looked for (see `stories`);
    `sketches`: the articles' sketches where already computed, by URL."""
    now = utcnow()

    def store(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
        articles_new = insert_articles(con, articles, run_id)
        assign_new_stories(con, articles, now, window=story_window, halves=sketches)
        matches_new = insert_matches(con, matches, run_id, now)
        insert_suggestions(con, suggestions, run_id, now)
        insert_failures(con, failures, run_id, now)
        upsert_attempts(con, attempts, run_id)
        # A page stored at last needs no more tries (asked by the batch's URLs: a scan of
        # the articles by run_id would grow with the archive).
        if articles:
            urls = [a.url for a in articles]
            among(con, urls, "DELETE FROM page_attempts WHERE url IN (SELECT url FROM {})")
        return articles_new, matches_new

    return write(db, _failed(db), store, wait=wait)


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

    def record(con: duckdb.DuckDBPyConnection) -> None:
        insert_failures(con, failures, stats.run_id, now)
        upsert_polled(con, polled)
        insert_log(con, log, stats.run_id, now)
        insert_run(con, stats)

    write(db, _failed(db), record, wait=wait)
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
