"""Searching the archive by meaning: the stored sentences closest to a text, in any language.

The sign bits of every indexed sentence are scanned for the CANDIDATES nearest to the
query's in Hamming distance (DuckDB, in the warehouse), those are re-scored by the cosine
of their int8 vectors, and the best come back with their articles and the claims already
found in them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from claimwatch.archive.codes import WORDS, cosines, sign_codes
from claimwatch.matching.encoder import Encoder
from claimwatch.store.connection import connect

# Sentences re-scored by their vectors: on the Tatoeba set, re-scoring the 200 nearest by
# sign bits ranked as well as float cosines over everything (MAP@5 0.902 both).
CANDIDATES = 200

_DISTANCE = " + ".join(f"bit_count(xor(h{w}, $h{w}::UBIGINT))::INTEGER" for w in range(WORDS))


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
    parameters = {f"h{w}": int(code[w]) for w in range(WORDS)}
    with connect(db, read_only=True, wait=wait) as con:
        near = con.execute(
            f"""SELECT article_url, field, sentence_start, sentence_end, vector, scale
                FROM sentence_index ORDER BY {_DISTANCE} LIMIT {CANDIDATES}""",
            parameters,
        ).fetchall()
        if not near:
            return []
        similarity = cosines([r[4] for r in near], np.array([r[5] for r in near]), query)
        # A few spare: an article's title is often its text's first line too.
        order = [i for i in np.argsort(-similarity) if similarity[i] >= min_similarity]
        order = order[: limit + 5]
        chosen = [near[i] for i in order]
        urls = sorted({r[0] for r in chosen})
        articles = {
            row[0]: row[1:]
            for row in con.execute(
                """SELECT url, outlet, title, language, published_at, text FROM articles
                   WHERE list_contains($urls, url)""",
                {"urls": urls},
            ).fetchall()
        }
        found = con.execute(
            """SELECT article_url, field, match_start, match_end, claim_id FROM matches
               WHERE list_contains($urls, article_url) ORDER BY claim_id""",
            {"urls": urls},
        ).fetchall()
    hits: list[SentenceHit] = []
    seen = set()
    for i, (url, field_name, start, end, _, _) in zip(order, chosen, strict=True):
        if url not in articles:
            continue  # removed since it was indexed
        outlet, title, language, published_at, body = articles[url]
        source = (title or "") if field_name == "title" else body
        if (url, source[start:end]) in seen:
            continue
        seen.add((url, source[start:end]))
        claims = sorted(
            {c for u, f, s, e, c in found if (u, f) == (url, field_name) and s < end and e > start}
        )
        hits.append(
            SentenceHit(
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
                tuple(claims),
            )
        )
    return hits[:limit]
