"""Re-matching's writes: the catalog first, each batch of articles as it is re-matched, and
a last step once every batch is in.

Each batch commits on its own, so memory holds one window of batches whatever the size
of the archive, and a re-match stopped halfway keeps what it committed: every commit
leaves its articles exactly as a whole re-match would, so running it again finishes
the job. A batch touches only its own articles: a pass storing new articles meanwhile
(which the re-match never read) keeps the matches it found in them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

from claimwatch.dates import utcnow
from claimwatch.exceptions import ClaimwatchError
from claimwatch.matching.catalog import Catalog
from claimwatch.records import Match, RunStats, Suggestion
from claimwatch.store.connection import migrate, write
from claimwatch.store.reviews import REVIEW_RUN
from claimwatch.store.writers import (
    insert_matches,
    insert_run,
    insert_suggestions,
    matches_table,
    upsert_claims,
    url_table,
)


class RematchStopped(ClaimwatchError):
    """A re-match stopped on request (SIGTERM, Ctrl-C) before its last batch."""


@dataclass(frozen=True)
class Committed:
    """What one batch's commit changed."""

    added: int  # pairs new to the warehouse
    removed: int  # pairs of the re-matched claims no longer found


def begin_rematch(db: Path, migrations_dir: Path, catalog: Catalog, *, wait: float = 0.0) -> None:
    """Bring the schema up to date and store the catalog's claims (a new claim's row is
    there before its first match)."""
    migrate(db, migrations_dir)
    write(
        db,
        f"{db}: re-match could not store the catalog, nothing changed",
        lambda con: upsert_claims(con, catalog, utcnow()),
        wait=wait,
    )


def commit_batch(
    db: Path,
    *,
    run_id: str,
    urls: Sequence[str],
    claims: Sequence[str],
    matches: Sequence[Match],
    suggestions: Sequence[Suggestion] = (),
    wait: float = 0.0,
) -> Committed:
    """Make the stored matches of the articles `urls` those a re-match found in them.

    For `claims` (the catalog's, or those a focused re-match looked for) on these
    articles: pairs found again keep their first `matched_at` and take the new score and
    span, new pairs are added, pairs no longer found are removed, except those a reviewer
    confirmed. Other claims (removed from the catalog, or not looked for) are untouched.
    New suggestions are added. One transaction: the batch is in whole or not at all.
    """
    now = utcnow()

    def store(con: duckdb.DuckDBPyConnection) -> Committed:
        con.register("reread", url_table(urls))
        con.register("rematched", matches_table(matches, run_id, now))
        try:
            removed = con.execute(
                """
                DELETE FROM matches AS m
                WHERE m.article_url IN (SELECT url FROM reread)
                  AND list_contains(?::VARCHAR[], m.claim_id)
                  AND m.run_id <> ?
                  AND NOT EXISTS (
                      SELECT 1 FROM rematched AS r
                      WHERE r.article_url = m.article_url AND r.claim_id = m.claim_id)
                """,
                [list(claims), REVIEW_RUN],
            ).fetchone()
            if matches:
                con.execute(
                    """
                    UPDATE matches AS m SET
                        score = r.score, field = r.field, variant = r.variant,
                        matched_text = r.matched_text, match_start = r.match_start,
                        match_end = r.match_end, snippet = r.snippet
                    FROM rematched AS r
                    WHERE r.article_url = m.article_url AND r.claim_id = m.claim_id
                    """
                )
        finally:
            con.unregister("rematched")
            con.unregister("reread")
        added = insert_matches(con, matches, run_id, now) if matches else 0
        if suggestions:
            insert_suggestions(con, suggestions, run_id, now)
        return Committed(added, int(removed[0]) if removed else 0)

    return write(db, f"{db}: a re-match batch failed, that batch unchanged", store, wait=wait)


def finish_rematch(
    db: Path,
    *,
    stats: RunStats,
    claims: Sequence[str],
    read: Collection[str] | None = None,
    wait: float = 0.0,
) -> int:
    """Once every batch is committed: remove the matches of `claims` no batch could have
    found again, record the run (`stats`), and return the pairs removed.

    Those are matches on articles no longer stored, and with `read` (the URLs a focused
    re-match chose: store/rematch.py's select_stored) matches first found before the
    re-match began on the articles it did not choose: they hold too little of the
    claims' words, and no sentence near them in meaning, so not their current wordings
    either. Matches a pass stored meanwhile (in articles stored after the re-match
    began, say) are left to that pass.
    """
    unread = """OR (EXISTS (SELECT 1 FROM articles AS a WHERE a.url = m.article_url)
                    AND m.article_url NOT IN (SELECT url FROM read)
                    AND m.matched_at < ?)"""

    def store(con: duckdb.DuckDBPyConnection) -> int:
        if read is not None:
            con.register("read", url_table(read))
        try:
            removed = con.execute(
                f"""
                DELETE FROM matches AS m
                WHERE list_contains(?::VARCHAR[], m.claim_id)
                  AND m.run_id <> ?
                  AND (NOT EXISTS (SELECT 1 FROM articles AS a WHERE a.url = m.article_url)
                       {unread if read is not None else ""})
                """,
                [
                    list(claims),
                    REVIEW_RUN,
                    *([stats.started_at] if read is not None else []),
                ],
            ).fetchone()
        finally:
            if read is not None:
                con.unregister("read")
        insert_run(con, stats)
        return int(removed[0]) if removed else 0

    return write(db, f"{db}: re-match could not finish, its batches kept", store, wait=wait)


def record_stopped_rematch(db: Path, stats: RunStats, *, wait: float = 0.0) -> None:
    """Record a re-match stopped before its end (`stats`, status REMATCH_STOPPED): the
    matches its batches committed carry its run id. Nothing is removed: the batches it
    did not reach could still find what they would have removed."""
    write(
        db,
        f"{db}: the stopped re-match could not be recorded, its batches kept",
        lambda con: insert_run(con, stats),
        wait=wait,
    )


@dataclass
class RematchTally:
    """A re-match's running counts, its progress lines, and the line it stops with."""

    total: int  # articles it will read
    stored: int  # articles in the warehouse
    rerun: str  # the command that finishes the job
    articles: int = 0
    batches: int = 0
    added: int = 0
    removed: int = 0
    suggestions: int = 0
    every: int = 10  # batches between progress lines

    def add(
        self, batches: int, articles: int, committed: Committed, suggestions: int
    ) -> str | None:
        """Count committed batches; a progress line each time `every` more are in."""
        lines = self.batches // self.every
        self.articles += articles
        self.batches += batches
        self.added += committed.added
        self.removed += committed.removed
        self.suggestions += suggestions
        if self.batches // self.every == lines:
            return None
        return (
            f"re-matched {self.articles:,} of {self.total:,} articles"
            f" ({self.articles / max(self.total, 1):.0%}): {self.added:,} matches new,"
            f" {self.removed:,} removed so far"
        )

    def reading_line(self, only: Sequence[str] | None) -> str:
        if not only:
            return f"re-matching all {self.total:,} stored articles"
        return (
            f"re-matching the {self.total:,} of {self.stored:,} stored articles that could"
            f" hold {', '.join(only)}"
        )

    def done_line(self, removed_at_the_end: int) -> str:
        return (
            f"re-matched {self.articles:,} of {self.stored:,} stored articles:"
            f" {self.added:,} matches new, {self.removed + removed_at_the_end:,} removed;"
            f" {self.suggestions:,} suggestions"
        )

    def stats(self, base: RunStats) -> RunStats:
        return replace(base, matches_new=self.added)

    def stopped(self, signal_name: str) -> RematchStopped:
        return RematchStopped(
            f"re-match stopped by {signal_name}: {self.articles:,} of {self.total:,} articles"
            f" re-matched and committed ({self.added:,} matches new, {self.removed:,} removed);"
            f" run `{self.rerun}` again to finish"
        )
