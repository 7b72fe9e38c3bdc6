"""Re-matching: stored texts read in batches (`rematch_writes` commits what is found in
them), and the matches of a whole re-match replaced in one transaction."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import duckdb

from claimwatch.dates import utcnow
from claimwatch.matching.catalog import Catalog
from claimwatch.matching.terms import CJK
from claimwatch.records import Match, RunStats, StoredText, Suggestion
from claimwatch.store.connection import connect, migrate, write
from claimwatch.store.lake import exists as warehouse_exists
from claimwatch.store.reviews import REVIEW_RUN, Decided, decided
from claimwatch.store.sentence_near import Near
from claimwatch.store.writers import (
    insert_matches,
    insert_run,
    insert_suggestions,
    matches_table,
    upsert_claims,
)


def holding_filter(
    holding: Sequence[str] | None, near: Near | None = None
) -> tuple[str, list[object]]:
    """The SQL condition on an article (its title, text, language) that a focused re-match
    reads it by, and its parameters: it holds one of the terms `holding`, or is not in
    English (where a translation shares no term) and, with `near`, the sentence index
    does not rule it out (store/sentence_near.py). Without terms, "true"."""
    if holding is None:
        return "true", []
    # Terms are word beginnings ("pacifi"); CJK ones (two characters) stand anywhere.
    latin = "|".join(re.escape(t) for t in holding if not CJK.search(t))
    cjk = "|".join(re.escape(t) for t in holding if CJK.search(t))
    patterns = []
    if latin:
        patterns.append(f"(?:^|[^\\pL\\pN])(?:{latin})")
    if cjk:
        patterns.append(cjk)
    other, other_parameters = near.condition() if near is not None else ("true", [])
    where = f"""(regexp_matches(lower(coalesce(title, '') || ' ' || text), ?)
                OR (coalesce(language, '') NOT LIKE 'en%' AND {other}))"""
    return where, ["|".join(patterns) or "$^", *other_parameters]


def iter_stored_texts(
    db: Path, batch_size: int, holding: Sequence[str] | None = None, near: Near | None = None
) -> Iterator[list[StoredText]]:
    """The stored articles' URL, title and text, in batches, streamed: memory holds one.

    With `holding` (lowercase terms), only the articles `holding_filter` lets through:
    DuckDB scans the column, and the rest are never read into Python. In storage order,
    unsorted: an ORDER BY would sort every text before the first batch (a query over
    3*10^7 short rows took 14 s to return its first row sorted, 0.02 s unsorted).
    """
    where, parameters = holding_filter(holding, near)
    with connect(db, read_only=True) as con:
        cursor = con.execute(
            f"SELECT url, title, text FROM articles WHERE coalesce({where}, false)", parameters
        )
        while rows := cursor.fetchmany(batch_size):
            yield [StoredText(*row) for row in rows]


def count_stored_texts(
    db: Path, holding: Sequence[str] | None = None, near: Near | None = None
) -> int:
    """How many articles iter_stored_texts reads with `holding` and `near`."""
    where, parameters = holding_filter(holding, near)
    with connect(db, read_only=True) as con:
        row = con.execute(
            f"SELECT count(*) FROM articles WHERE coalesce({where}, false)", parameters
        ).fetchone()
    return int(row[0]) if row else 0


def read_decided(db: Path, *, wait: float = 0.0) -> Decided:
    """What reviewers decided so far, for the detector of a re-match."""
    if not warehouse_exists(db):
        return Decided()
    with connect(db, read_only=True, wait=wait) as con:
        return decided(con)


def replace_matches(
    db: Path,
    migrations_dir: Path,
    *,
    stats: RunStats,
    catalog: Catalog,
    matches: Sequence[Match],
    suggestions: Sequence[Suggestion] = (),
    only: Sequence[str] | None = None,
    wait: float = 0.0,
) -> tuple[RunStats, int]:
    """Make the stored matches those of a re-match over every stored article.

    In one transaction: pairs found again keep their first `matched_at`, new ones
    are added, and pairs of catalog claims that no longer match are removed.
    Matches of claims removed from the catalog are kept, like their claim rows, and
    so are matches a reviewer confirmed. New suggestions are added. With `only`, the
    re-match looked for those claims alone, and only their matches are replaced.
    Returns the run's stats (matches_new = pairs added) and the pairs removed.
    """
    now = utcnow()
    claims = list(only) if only is not None else None
    migrate(db, migrations_dir)

    def store(con: duckdb.DuckDBPyConnection) -> tuple[RunStats, int]:
        upsert_claims(con, catalog, now)
        con.register("rematched", matches_table(matches, stats.run_id, now))
        removed = con.execute(
            """
            DELETE FROM matches AS m
            WHERE m.claim_id IN (SELECT id FROM claims WHERE in_catalog)
              AND (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], m.claim_id))
              AND m.run_id <> ?
              AND NOT EXISTS (
                  SELECT 1 FROM rematched AS r
                  WHERE r.article_url = m.article_url AND r.claim_id = m.claim_id)
            """,
            [claims, claims, REVIEW_RUN],
        ).fetchone()
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
        added = insert_matches(con, matches, stats.run_id, now)
        insert_suggestions(con, suggestions, stats.run_id, now)
        con.unregister("rematched")
        done = replace(stats, matches_new=added)
        insert_run(con, done)
        return done, int(removed[0]) if removed else 0

    return write(db, f"{db}: re-match failed, nothing changed", store, wait=wait)
