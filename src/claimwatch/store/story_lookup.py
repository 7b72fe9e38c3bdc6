"""Giving a batch's new articles their stories, in the store transaction (see `stories`).

The stored side is one table, `article_sketches`: each article's two sketch halves,
its story, when it was fetched, and the keys short texts are grouped by (text digest,
page, headline). A batch reads only the rows fetched within the window before its
articles, and DuckDB joins them with the new sketches band by band, returning only
the pairs within the distance: nothing of the archive is loaded, and what a batch
reads grows with the window, not with the archive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import duckdb
import pyarrow as pa

from claimwatch.records import Article
from claimwatch.store.stories import (
    BAND_BITS,
    BANDS,
    HALF_DISTANCE,
    MAX_DISTANCE,
    WINDOW,
    Candidate,
    Halves,
    Sketch,
    assign_stories,
    page_key,
    simhashes,
    sketch,
)
from claimwatch.store.writers import arrow_rows

# Stored articles that may carry the same story as a new one, among those fetched since
# $since: a shared band (of either half) within the distance, or the same text or page,
# or for a text too short to sketch the same headline as a short one (or as one stored
# before sketches existed: the headline rule they had).
_CANDIDATES = """
WITH recent AS (
    SELECT article_url AS url, simhash, simhash2, story_id, fetched_at, text_sha256, page,
           headline
    FROM article_sketches
    WHERE fetched_at >= $since
),
recent_bands AS (
    SELECT url, 0 AS half, b, (simhash >> ($bits * b)) & $mask AS band
    FROM recent, range($bands) AS r(b) WHERE simhash IS NOT NULL
    UNION ALL
    SELECT url, 1 AS half, b, (simhash2 >> ($bits * b)) & $mask AS band
    FROM recent, range($bands) AS r(b) WHERE simhash2 IS NOT NULL
),
new_bands AS (
    SELECT url, 0 AS half, b, (simhash >> ($bits * b)) & $mask AS band
    FROM new_sketches, range($bands) AS r(b) WHERE simhash IS NOT NULL
    UNION ALL
    SELECT url, 1 AS half, b, (simhash2 >> ($bits * b)) & $mask AS band
    FROM new_sketches, range($bands) AS r(b) WHERE simhash2 IS NOT NULL
),
pairs AS (
    SELECT DISTINCT n.url AS new_url, r.url FROM new_bands AS n JOIN recent_bands AS r
    USING (half, b, band)
),
near AS (
    SELECT p.new_url, p.url,
           CASE
               WHEN n.simhash2 IS NULL OR r.simhash2 IS NULL THEN
                   CASE WHEN bit_count(xor(n.simhash, r.simhash)) <= $half_distance
                        THEN 2 * bit_count(xor(n.simhash, r.simhash)) END
               ELSE bit_count(xor(n.simhash, r.simhash)) + bit_count(xor(n.simhash2, r.simhash2))
           END AS d
    FROM pairs AS p
    JOIN new_sketches AS n ON n.url = p.new_url
    JOIN recent AS r ON r.url = p.url
),
same AS (
    SELECT n.url AS new_url, r.url
    FROM new_sketches AS n JOIN recent AS r ON r.text_sha256 = n.text_sha256
    UNION
    SELECT n.url, r.url FROM new_sketches AS n JOIN recent AS r ON r.page = n.page
    UNION
    SELECT n.url, r.url
    FROM new_sketches AS n JOIN recent AS r ON r.headline = n.headline
    WHERE n.simhash IS NULL
),
found AS (
    SELECT new_url, url, d FROM near WHERE d <= $max_distance
    UNION ALL
    SELECT new_url, url, 0 FROM same
)
SELECT f.new_url, f.url, r.story_id, min(f.d), r.fetched_at
FROM found AS f JOIN recent AS r USING (url)
GROUP BY ALL
"""


def assign_new_stories(
    con: duckdb.DuckDBPyConnection,
    articles: Sequence[Article],
    now: datetime,
    *,
    window: timedelta = WINDOW,
    halves: Mapping[str, Halves] | None = None,
) -> None:
    """Sketch the articles of a batch that have no sketch yet (those it stores for the
    first time) and give each its story (`stories.assign_stories`), looking among the
    articles fetched within `window` before them.

    `halves`: the sketches already computed, by URL (the worker that extracted a page
    sketches its text, out of this transaction); the others are computed here."""
    known = halves or {}
    first: dict[str, Article] = {}
    for article in sorted(articles, key=lambda a: a.fetched_at):
        first.setdefault(article.url, article)  # as insert_articles keeps it
    if not first:
        return
    # One query for both: which URLs are sketched already, and each headline normalised
    # by the warehouse's own macro, as the views read them. The batch goes in as an Arrow
    # table: a Python list parameter costs DuckDB a failed `import pandas` per item.
    con.register(
        "batch_titles",
        pa.table(
            {
                "url": pa.array(list(first), pa.string()),
                "title": pa.array([a.title for a in first.values()], pa.string()),
            }
        ),
    )
    looked_up = con.execute(
        "SELECT b.url, story_headline(b.title), s.article_url IS NOT NULL FROM batch_titles AS b"
        " LEFT JOIN article_sketches AS s ON s.article_url = b.url"
    ).fetchall()
    con.unregister("batch_titles")
    headlines = {url: headline for url, headline, _ in looked_up}
    for url, _, sketched in looked_up:
        if sketched:
            first.pop(url, None)
    if not first:
        return
    sketches = [
        sketch(
            a.url,
            known[a.url] if a.url in known else simhashes(a.text),
            page=page_key(a.canonical_url, a.final_url),
            headline=headlines[a.url] if len(headlines[a.url]) >= 16 else None,
            text_sha256=a.content_sha256,
            fetched_at=a.fetched_at,
        )
        for a in first.values()
    ]
    con.register("new_sketches", _sketch_table(sketches))
    found = con.execute(
        _CANDIDATES,
        {
            "since": min(s.fetched_at for s in sketches) - window,
            "bits": BAND_BITS,
            "mask": (1 << BAND_BITS) - 1,
            "bands": BANDS,
            "half_distance": HALF_DISTANCE,
            "max_distance": MAX_DISTANCE,
        },
    ).fetchall()
    con.unregister("new_sketches")
    assigned = assign_stories(sketches, [Candidate(*row) for row in found])
    by_url = {s.url: s for s in sketches}
    rows = [
        {
            "article_url": a.url,
            "simhash": a.simhash,
            "simhash2": a.simhash2,
            "story_id": a.story_id,
            "assigned_at": now,
            "fetched_at": by_url[a.url].fetched_at,
            "text_sha256": by_url[a.url].text_sha256,
            "page": by_url[a.url].page,
            # Only short texts are grouped by headline.
            "headline": by_url[a.url].headline if a.simhash is None else None,
        }
        for a in assigned
    ]
    con.register("new_story_sketches", arrow_rows(con, "article_sketches", rows))
    con.execute("INSERT INTO article_sketches BY NAME SELECT * FROM new_story_sketches")
    con.unregister("new_story_sketches")


def _sketch_table(sketches: Sequence[Sketch]) -> pa.Table:
    return pa.table(
        {
            "url": [s.url for s in sketches],
            "simhash": pa.array([s.simhash for s in sketches], pa.uint64()),
            "simhash2": pa.array([s.simhash2 for s in sketches], pa.uint64()),
            "page": pa.array([s.page for s in sketches], pa.string()),
            "headline": pa.array([s.headline for s in sketches], pa.string()),
            "text_sha256": [s.text_sha256 for s in sketches],
        }
    )
