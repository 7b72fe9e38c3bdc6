"""Stories: one text carried by many outlets (wire copy, AMP and print pages, republications).

Every stored article gets a sketch: a 64-bit simhash of the set of its 3-word
shingles (words lowercased, punctuation dropped), each shingle hashed with
blake2b (8 bytes; Python's `hash()` changes between processes). Two texts are one
story when their sketches differ in at most `MAX_DISTANCE` bits.

Measured on a 444-word wire story with 64 hash keys (tests/test_stories.py, run
with -s): copies with other boilerplate, six edited words or cut to 90 % lie 6-7
bits away on average, with a new intro paragraph 9, cut to 80 % 11; different
stories on the same topic, sharing much of the vocabulary, 29-31 and never
closer than 20; a follow-up reusing 3 of its 7 paragraphs 22, never closer than
15. At 12 bits a lookup groups 89-100 % of the light copies, 73 % of the heavy
ones (cut to 80 %; new intro plus edits) and 14 % of a copy cut to 60 %, and no
different story. k = 3, the usual choice for web pages, would group only exact
copies (3-19 % of the light ones), k = 7 a third to three quarters. 1- and 2-word
shingles bring different stories closer; 4 and 5 words change little.

Lookup is not all-pairs: the 64 bits are cut into 8 bands of 8 bits (bytes), and
only texts that share at least one band are compared. By the pigeonhole
principle every pair within 7 bits shares a band; pairs 9-12 bits apart share
one 80-98 % of the time. An unrelated text shares a band with 3-7 % of the
stored ones, so each lookup compares a few percent of the warehouse.

Texts under `MIN_WORDS` words (teasers, stubs) give unstable sketches; they
group by their exact text, their page (canonical URL, else final URL) or, as
before sketches existed, by the same headline as another short text or as an
article stored before sketches existed. Any text joins a story on an equal page
or text; a long text never by its headline alone ("Live: NATO summit").

A new article joins the story of its nearest match (fewest differing bits, then
the earliest fetched, then URL) among the stored articles and the articles of
the same pass fetched before it; otherwise it starts a story named after its
URL. Story ids never change once given: an article close to two stories joins
one, it does not merge them.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import duckdb
import numpy as np
import pyarrow as pa

from claimwatch.store.writers import arrow_rows

SHINGLE_WORDS = 3
MAX_DISTANCE = 12
MIN_WORDS = 50
BANDS = 8  # of 64 / BANDS = 8 bits each
BAND_BITS = 64 // BANDS

_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """The words of a text, lowercased, without punctuation (quotes, dashes, hyphens)."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def simhash(text: str, *, key: bytes = b"") -> int | None:
    """The text's 64-bit sketch, or None when it has fewer than MIN_WORDS words.

    `key` (up to 64 bytes) picks another hash function, to measure how distances vary;
    stored sketches all use the default.
    """
    tokens = words(text)
    if len(tokens) < MIN_WORDS:
        return None
    shingles = {
        " ".join(tokens[i : i + SHINGLE_WORDS]) for i in range(len(tokens) - SHINGLE_WORDS + 1)
    }
    digests = b"".join(
        hashlib.blake2b(s.encode("utf-8"), digest_size=8, key=key).digest() for s in shingles
    )
    # One row of 64 bits per shingle, bit i of the row = bit i of the little-endian hash.
    bits = np.unpackbits(np.frombuffer(digests, dtype=np.uint8), bitorder="little")
    ones = bits.reshape(-1, 64).sum(axis=0, dtype=np.int64)
    majority = (2 * ones > len(shingles)).astype(np.uint8)
    return int.from_bytes(np.packbits(majority, bitorder="little").tobytes(), "little")


def hamming(a: int, b: int) -> int:
    """How many bits of two sketches differ."""
    return (a ^ b).bit_count()


def bands(sketch: int) -> tuple[int, ...]:
    """The sketch's bands, low bits first: two sketches are compared only if one is equal."""
    mask = (1 << BAND_BITS) - 1
    return tuple((sketch >> (BAND_BITS * i)) & mask for i in range(BANDS))


def new_story_id(url: str) -> str:
    """The id of a story an article starts: stable, from its URL."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:12]


def page_key(canonical_url: str | None, final_url: str | None) -> str | None:
    """The page an article is a copy of; None for a site's home page (a lazy canonical tag)."""
    page = canonical_url or final_url
    if not page:
        return None
    try:
        path = urlsplit(page).path
    except ValueError:
        return None
    return page if path.strip("/") else None


@dataclass(frozen=True, slots=True)
class Sketch:
    """What story detection keeps of one article."""

    url: str
    simhash: int | None  # None: fewer than MIN_WORDS words
    page: str | None  # page_key()
    headline: str | None  # the normalised headline, if 16 characters or more
    text_sha256: str
    fetched_at: datetime


def sketch(
    url: str,
    text: str,
    *,
    page: str | None,
    headline: str | None,
    text_sha256: str,
    fetched_at: datetime,
) -> Sketch:
    return Sketch(url, simhash(text), page, headline, text_sha256, fetched_at)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stored article that may carry the same story as a new one."""

    new_url: str
    url: str
    story_id: str
    distance: int  # differing bits; 0 for an equal page, text or headline
    fetched_at: datetime


@dataclass(frozen=True, slots=True)
class Assignment:
    """The story a new article joins or starts."""

    url: str
    simhash: int | None
    story_id: str
    joined: str | None  # the article whose story it joined; None: it starts one
    distance: int | None


def assign_stories(
    sketches: Sequence[Sketch],
    stored: Iterable[Candidate],
    *,
    max_distance: int = MAX_DISTANCE,
) -> list[Assignment]:
    """Give each new article a story, in the order they were fetched (then by URL).

    `stored`: the stored articles that share a band within `max_distance`, or an
    equal page, text or headline, with each new one (see `assign_new_stories`).
    Articles of the batch are compared with each other by the same rules, so a
    copy gets the same story whether it arrives in the pass of its original or later.
    """
    options: dict[str, list[Candidate]] = defaultdict(list)
    for c in stored:
        if c.distance <= max_distance:
            options[c.new_url].append(c)
    by_band: dict[tuple[int, int], list[Sketch]] = defaultdict(list)
    by_key: dict[tuple[str, str], list[Sketch]] = defaultdict(list)
    story_of: dict[str, str] = {}
    assignments = []
    for s in sorted(sketches, key=lambda s: (s.fetched_at, s.url)):
        found = list(options.get(s.url, ()))
        for earlier, distance in _batch_matches(s, by_band, by_key, max_distance):
            found.append(
                Candidate(s.url, earlier.url, story_of[earlier.url], distance, earlier.fetched_at)
            )
        best = min(found, key=lambda c: (c.distance, c.fetched_at, c.url), default=None)
        story_id = best.story_id if best else new_story_id(s.url)
        story_of[s.url] = story_id
        assignments.append(
            Assignment(
                s.url,
                s.simhash,
                story_id,
                best.url if best else None,
                best.distance if best else None,
            )
        )
        _index(s, by_band, by_key)
    return assignments


def _keys(s: Sketch) -> list[tuple[str, str]]:
    keys = [("text", s.text_sha256)]
    if s.page:
        keys.append(("page", s.page))
    if s.headline and s.simhash is None:
        keys.append(("headline", s.headline))
    return keys


def _index(
    s: Sketch,
    by_band: dict[tuple[int, int], list[Sketch]],
    by_key: dict[tuple[str, str], list[Sketch]],
) -> None:
    if s.simhash is not None:
        for i, value in enumerate(bands(s.simhash)):
            by_band[(i, value)].append(s)
    for key in _keys(s):
        by_key[key].append(s)


def _batch_matches(
    s: Sketch,
    by_band: dict[tuple[int, int], list[Sketch]],
    by_key: dict[tuple[str, str], list[Sketch]],
    max_distance: int,
) -> Iterable[tuple[Sketch, int]]:
    """Earlier articles of the same batch that carry the same story as `s`."""
    for key in _keys(s):
        yield from ((e, 0) for e in by_key.get(key, ()))
    if s.simhash is not None:
        seen: set[str] = set()
        for i, value in enumerate(bands(s.simhash)):
            for e in by_band.get((i, value), ()):
                if e.url in seen or e.simhash is None:
                    continue
                seen.add(e.url)
                distance = hamming(s.simhash, e.simhash)
                if distance <= max_distance:
                    yield e, distance


def assign_new_stories(con: duckdb.DuckDBPyConnection, run_id: str, now: datetime) -> None:
    """Sketch the articles of `run_id` that have none yet (this pass's or batch's new ones)
    and give each its story (`assign_stories` above).

    Stored sketches are not loaded into memory: the new ones are joined with them
    band by band in DuckDB, which returns only the pairs within the distance. That
    scans every stored sketch (8 bytes each) once per pass, and keeps stories that
    resurface after months (a window of recent days would scan less and miss those).
    """
    rows = con.execute(
        """
        SELECT url, canonical_url, final_url, story_headline(title), text, content_sha256,
               fetched_at
        FROM articles AS a
        WHERE run_id = ?
          AND NOT EXISTS (SELECT 1 FROM article_sketches AS s WHERE s.article_url = a.url)
        """,
        [run_id],
    ).fetchall()
    if not rows:
        return
    sketches = [
        sketch(
            url,
            text,
            page=page_key(canonical, final),
            headline=headline if len(headline) >= 16 else None,
            text_sha256=sha,
            fetched_at=fetched_at,
        )
        for url, canonical, final, headline, text, sha, fetched_at in rows
    ]
    con.register(
        "new_sketches",
        pa.table(
            {
                "url": [s.url for s in sketches],
                "simhash": pa.array([s.simhash for s in sketches], pa.uint64()),
                "page": pa.array([s.page for s in sketches], pa.string()),
                "headline": pa.array([s.headline for s in sketches], pa.string()),
                "text_sha256": [s.text_sha256 for s in sketches],
            }
        ),
    )
    # Stored articles that may carry the same story: a shared band within the distance,
    # or the same text or page, or for a text too short to sketch the same headline as a
    # short one or as one stored before sketches existed (the headline rule they had).
    found = con.execute(
        """
        WITH near AS (
            SELECT DISTINCT n.url AS new_url, s.url, bit_count(xor(n.simhash, s.simhash)) AS d
            FROM (
                SELECT url, simhash, b, (simhash >> ($bits * b)) & $mask AS band
                FROM new_sketches, range($bands) AS r(b) WHERE simhash IS NOT NULL
            ) AS n
            JOIN (
                SELECT article_url AS url, simhash, b, (simhash >> ($bits * b)) & $mask AS band
                FROM article_sketches, range($bands) AS r(b) WHERE simhash IS NOT NULL
            ) AS s USING (b, band)
            WHERE bit_count(xor(n.simhash, s.simhash)) <= $max_distance
        ),
        same AS (
            SELECT n.url AS new_url, a.url
            FROM new_sketches AS n JOIN articles AS a ON a.content_sha256 = n.text_sha256
            UNION
            SELECT n.url, a.url
            FROM new_sketches AS n
            JOIN articles AS a ON coalesce(a.canonical_url, a.final_url) = n.page
            UNION
            SELECT n.url, a.url
            FROM new_sketches AS n
            JOIN (
                SELECT a.url, story_headline(a.title) AS headline
                FROM articles AS a
                LEFT JOIN article_sketches AS k ON k.article_url = a.url
                WHERE k.simhash IS NULL
            ) AS a USING (headline)
            WHERE n.simhash IS NULL
        ),
        found AS (
            SELECT new_url, url, d FROM near
            UNION ALL
            SELECT new_url, url, 0 FROM same WHERE url NOT IN (SELECT url FROM new_sketches)
        )
        SELECT f.new_url, f.url, st.story_id, min(f.d), a.fetched_at
        FROM found AS f
        JOIN article_stories AS st ON st.article_url = f.url
        JOIN articles AS a ON a.url = f.url
        GROUP BY ALL
        """,
        {
            "bits": BAND_BITS,
            "mask": (1 << BAND_BITS) - 1,
            "bands": BANDS,
            "max_distance": MAX_DISTANCE,
        },
    ).fetchall()
    con.unregister("new_sketches")
    assigned = assign_stories(sketches, [Candidate(*row) for row in found])
    table = arrow_rows(
        con,
        "article_sketches",
        [
            {"article_url": a.url, "simhash": a.simhash, "story_id": a.story_id, "assigned_at": now}
            for a in assigned
        ],
    )
    con.register("new_story_sketches", table)
    con.execute("INSERT INTO article_sketches BY NAME SELECT * FROM new_story_sketches")
    con.unregister("new_story_sketches")
