"""Searching the archive by meaning: the stored sentences closest to a text, in any language.

The sign bits of every indexed sentence are read (eight 64-bit columns and its number,
through Arrow) and compared with the query's in numpy; the nearest in Hamming distance
are fetched by number, in the same snapshot, from the row groups whose range holds
them, and re-scored by the cosine of their int8 vectors; the best come back with their
articles and the claims already found in them. The same distance computed by DuckDB
took 2.8-4 s over 2x10^6 sentences, numpy 0.5 s; fetching by DuckLake's row id instead
of the number scanned every row group (1 s at 4x10^6 sentences).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from claimwatch.archive.codes import WORDS, column_hamming, cosines, sign_codes
from claimwatch.archive.schema import read_or_explain
from claimwatch.matching.encoder import Encoder
from claimwatch.store.connection import connect

# Sentences' sign bits compared at a time (72 MB of them).
SCAN = 1_000_000
# Sentences re-scored by their vectors, each fetched from its own row group (the cost of
# a search that grows with it): on the Tatoeba set, re-scoring the 20 nearest by sign
# bits ranked as well as float cosines over everything (MAP@5 0.902 both; the 10
# nearest 0.900, the sign bits alone 0.871). Twice that, for an archive far larger, and
# at least twice the hits asked for.
CANDIDATES = 40

_CODES = ", ".join(f"h{w}" for w in range(WORDS))


@dataclass(frozen=True)
class SentenceHit:
    """A stored sentence near the query, with where it stands."""

    similarity: float  # cosine with the query, x100
    sentence: str
    article_url: str
    field: str
    start: int
    end: int
    outlet: str
    title: str | None
    language: str | None
    published_at: datetime | None
    claims: tuple[str, ...] = ()  # claims the matcher found in this sentence


def sign_bits(db: Path, con: duckdb.DuckDBPyConnection) -> Iterator[pa.Table]:
    """The index's sentence numbers and sign bits (h0..h7), SCAN sentence numbers at a
    time (their row groups alone are read): the sign bits of 10^6 articles would take
    3 GB at once."""
    row = read_or_explain(db, con, "SELECT max(sentence_no) FROM sentence_index").fetchone()
    last = int(row[0]) if row and row[0] is not None else 0
    for first in range(0, last, SCAN):
        yield con.execute(
            f"""SELECT sentence_no, {_CODES} FROM sentence_index
                WHERE sentence_no > ? AND sentence_no <= ?""",
            [first, first + SCAN],
        ).to_arrow_table()


def nearest_numbers(
    db: Path, con: duckdb.DuckDBPyConnection, code: np.ndarray, count: int
) -> np.ndarray:
    """The numbers of the `count` sentences nearest to `code` in Hamming distance, the
    nearest so far kept from one range of sign bits to the next."""
    numbers, distances = np.array([], dtype=np.int64), np.array([], dtype=np.int32)
    for batch in sign_bits(db, con):
        distance = column_hamming([batch.column(f"h{w}").to_numpy() for w in range(WORDS)], code)
        numbers = np.concatenate([numbers, batch.column("sentence_no").to_numpy()])
        distances = np.concatenate([distances, distance])
        if len(distances) > count:
            kept = np.argpartition(distances, count - 1)[:count]
            numbers, distances = numbers[kept], distances[kept]
    return numbers


def search(
    db: Path,
    encoder: Encoder,
    text: str,
    *,
    limit: int = 10,
    min_similarity: float = 0.0,
    wait: float = 0.0,
) -> list[SentenceHit]:
    """The indexed sentences closest in meaning to `text`, best first."""
    query = encoder.encode([text])[0]
    code = sign_codes(query[None, :])[0]
    with connect(db, read_only=True, wait=wait) as con:
        # One snapshot for both reads: a row id names the same row in each.
        con.execute("BEGIN TRANSACTION")
        numbers = nearest_numbers(db, con, code, max(CANDIDATES, 2 * limit))
        if not len(numbers):
            return []
        # Numbers written into the SQL (they are integers), not bound: DuckDB then
        # prunes the row groups by their range.
        listed = ", ".join(str(int(n)) for n in numbers)
        near = con.execute(
            f"""SELECT article_url, field, sentence_start, sentence_end, vector, scale
                FROM sentence_index WHERE sentence_no IN ({listed})"""
        ).fetchall()
        if not near:
            return []
        similarity = cosines([r[4] for r in near], np.array([r[5] for r in near]), query)
        # A few spare: an article's title is often its text's first line too.
        order = [i for i in np.argsort(-similarity) if similarity[i] >= min_similarity]
        order = order[: limit + 5]
        chosen = [near[i] for i in order]
        urls = sorted({r[0] for r in chosen})
        if not urls:
            return []
        # A list of values, not one list parameter: DuckDB then skips the row groups
        # whose URLs cannot hold them.
        listed = ", ".join("?" * len(urls))
        articles = {
            row[0]: row[1:]
            for row in con.execute(
                f"""SELECT url, outlet, title, language, published_at, text FROM articles
                    WHERE url IN ({listed})""",
                urls,
            ).fetchall()
        }
        found = con.execute(
            f"""SELECT article_url, field, match_start, match_end, claim_id FROM matches
                WHERE article_url IN ({listed})""",
            urls,
        ).fetchall()
    hits: dict[tuple[str, str], SentenceHit] = {}
    for i, (url, field_name, start, end, _, _) in zip(order, chosen, strict=True):
        if url not in articles:
            continue  # removed since it was indexed
        outlet, title, language, published_at, body = articles[url]
        source = (title or "") if field_name == "title" else body
        claims = {
            c for u, f, s, e, c in found if (u, f) == (url, field_name) and s < end and e > start
        }
        key = (url, source[start:end])
        if key in hits:  # the title again as the text's first line: one hit, both claims
            hits[key] = replace(hits[key], claims=tuple(sorted({*hits[key].claims, *claims})))
            continue
        hits[key] = SentenceHit(
            round(float(similarity[i]) * 100, 1),
            source[start:end],
            url,
            field_name,
            start,
            end,
            outlet,
            title,
            language,
            published_at,
            tuple(sorted(claims)),
        )
    return list(hits.values())[:limit]
