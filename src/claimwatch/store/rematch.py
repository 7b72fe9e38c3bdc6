"""Re-matching: which stored texts a re-match reads, read in batches (`rematch_writes`
commits what is found in them, batch by batch)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from claimwatch.matching.terms import CJK
from claimwatch.records import StoredText
from claimwatch.store.connection import connect
from claimwatch.store.lake import exists as warehouse_exists
from claimwatch.store.reviews import Decided, decided
from claimwatch.store.sentence_near import Near


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
