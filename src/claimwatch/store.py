"""The warehouse: DuckDB, written once per pass in one transaction, read by reports."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from claimwatch import stories
from claimwatch.catalog import Catalog
from claimwatch.exceptions import WarehouseError
from claimwatch.migrations import apply_migrations
from claimwatch.records import Article, Failure, Match
from claimwatch.sources import SourceList


@dataclass(frozen=True, slots=True)
class RunStats:
    """One monitoring pass, as recorded in the `runs` table."""

    run_id: str
    started_at: datetime
    finished_at: datetime
    status: str
    sources_total: int
    sources_failed: int
    items_seen: int
    pages_skipped: int
    pages_fetched: int
    articles_new: int
    matches_new: int
    failures: int


def utcnow() -> datetime:
    """Naive UTC, the convention of every timestamp in the warehouse."""
    return datetime.now(UTC).replace(tzinfo=None)


_LOCK_HOLDER = re.compile(r"\(PID (\d+)\)")
_log = logging.getLogger("claimwatch.store")


@contextmanager
def connect(
    db: Path, *, read_only: bool = False, wait: float = 0.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse, turning DuckDB's errors into one-line WarehouseErrors.

    DuckDB refuses a file to every other process while one holds it for writing
    (a pass's store step, about a second). With `wait` > 0 a busy file is retried
    for up to that many seconds, announced once as a warning on the `claimwatch`
    logger, before giving up.
    """
    if read_only and not db.exists():
        raise WarehouseError(f"{db}: no warehouse here yet; run `claimwatch run` first")
    if not read_only:
        db.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait
    delay = 0.05
    announced = False
    while True:
        try:
            con = duckdb.connect(str(db), read_only=read_only)
            break
        except duckdb.IOException as exc:
            holder = _LOCK_HOLDER.search(str(exc))
            if "lock" not in str(exc).lower():
                raise WarehouseError(f"{db}: cannot open: {str(exc).splitlines()[0]}") from None
            who = f" (process {holder.group(1)})" if holder else ""
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                waited = f"; waited {wait:g} s" if wait else ""
                raise WarehouseError(
                    f"{db}: in use by another process{who}{waited}; try again later"
                ) from None
            if not announced:
                _log.warning("%s: in use by another process%s; waiting up to %g s", db, who, wait)
                announced = True
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, 1.0)
        except duckdb.Error as exc:
            raise WarehouseError(f"{db}: cannot open: {str(exc).splitlines()[0]}") from None
    try:
        yield con
    finally:
        con.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection, failure: str) -> Iterator[None]:
    """Run the block in one transaction; on error roll back and raise WarehouseError.

    `failure` starts the message, e.g. "w.duckdb: write failed, nothing stored".
    """
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except (duckdb.Error, OSError) as exc:
        # A failed COMMIT (say, on a full disk) has already ended the transaction.
        with suppress(duckdb.Error):
            con.execute("ROLLBACK")
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise WarehouseError(f"{failure}: {first}") from None


def known_urls(db: Path) -> set[str]:
    """Every URL an article is stored under (as found and after redirects)."""
    if not db.exists():
        return set()
    with connect(db, read_only=True) as con:
        return stored_urls(con)


def stored_urls(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every URL an article is stored under, read through an open connection."""
    if not _has_table(con, "articles"):
        return set()
    rows = con.execute("SELECT url FROM articles UNION SELECT final_url FROM articles")
    return {row[0] for row in rows.fetchall()}


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchone()
    return bool(found and found[0])


def migrate(db: Path, migrations_dir: Path) -> list[str]:
    """Create or upgrade the warehouse schema; return the migrations applied."""
    with connect(db) as con:
        return apply_migrations(con, migrations_dir)


def store_pass(
    db: Path,
    migrations_dir: Path,
    *,
    stats: RunStats,
    sources: SourceList,
    catalog: Catalog,
    articles: Sequence[Article],
    matches: Sequence[Match],
    failures: Sequence[Failure],
    wait: float = 0.0,
) -> RunStats:
    """Write one pass in one transaction; rows already stored are not added again.

    `wait`: seconds to wait for a reader that holds the file (see `connect`).

    Returns `stats` with the numbers of articles and matches actually added.
    """
    now = utcnow()
    with connect(db, wait=wait) as con:
        apply_migrations(con, migrations_dir)
        with transaction(con, f"{db}: write failed, nothing stored"):
            _upsert_sources(con, sources, now)
            _upsert_claims(con, catalog, now)
            articles_new = _insert_articles(con, articles, stats.run_id)
            _assign_stories(con, stats.run_id, now)
            matches_new = _insert_matches(con, matches, stats.run_id, now)
            _insert_failures(con, failures, stats.run_id, now)
            stats = replace(stats, articles_new=articles_new, matches_new=matches_new)
            _insert_run(con, stats)
    return stats


def _insert_run(con: duckdb.DuckDBPyConnection, stats: RunStats) -> None:
    con.execute(
        f"INSERT INTO runs VALUES ({', '.join('?' * len(fields(RunStats)))})",
        list(asdict(stats).values()),
    )


def _upsert_sources(con: duckdb.DuckDBPyConnection, sources: SourceList, now: datetime) -> None:
    table = pa.Table.from_pylist(
        [
            {
                "name": s.name,
                "kind": str(s.kind),
                "url": s.location,
                "is_sample": s.sample,
                "enabled": s.enabled,
                "updated_at": now,
            }
            for s in sources.sources
        ]
    )
    con.register("new_sources", table)
    con.execute("DELETE FROM sources WHERE name IN (SELECT name FROM new_sources)")
    con.execute("INSERT INTO sources BY NAME SELECT * FROM new_sources")
    con.unregister("new_sources")


def _upsert_claims(con: duckdb.DuckDBPyConnection, catalog: Catalog, now: datetime) -> None:
    table = pa.Table.from_pylist(
        [
            {
                "id": c.id,
                "text": c.text,
                "kind": c.kind.value,
                "variants": [v.text for v in c.variants],
                "document": c.document,
                "attributed_to": c.attributed_to,
                "said_on": c.said_on,
                "tags": list(c.tags),
                "threshold": c.threshold,
                "in_catalog": True,
                "updated_at": now,
            }
            for c in catalog.claims
        ],
        schema=_CLAIMS_SCHEMA,
    )
    con.register("new_claims", table)
    # Claims dropped from the file stay, so their stored matches keep their text.
    con.execute("UPDATE claims SET in_catalog = false WHERE id NOT IN (SELECT id FROM new_claims)")
    con.execute("DELETE FROM claims WHERE id IN (SELECT id FROM new_claims)")
    con.execute("INSERT INTO claims BY NAME SELECT * FROM new_claims")
    con.unregister("new_claims")


def _insert_articles(
    con: duckdb.DuckDBPyConnection, articles: Sequence[Article], run_id: str
) -> int:
    rows = [asdict(a) | {"run_id": run_id} for a in articles]
    con.register("new_articles", pa.Table.from_pylist(rows, schema=_ARTICLES_SCHEMA))
    result = con.execute(
        """
        INSERT INTO articles BY NAME
        SELECT * FROM new_articles AS n
        WHERE NOT EXISTS (SELECT 1 FROM articles AS a WHERE a.url = n.url)
        QUALIFY row_number() OVER (PARTITION BY n.url ORDER BY n.fetched_at) = 1
        """
    ).fetchone()
    con.unregister("new_articles")
    return int(result[0]) if result else 0


def _assign_stories(con: duckdb.DuckDBPyConnection, run_id: str, now: datetime) -> None:
    """Sketch the articles of `run_id` that have none yet (this pass's or batch's new ones)
    and give each its story (see stories.py).

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
        stories.sketch(
            url,
            text,
            page=stories.page_key(canonical, final),
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
            "bits": stories.BAND_BITS,
            "mask": (1 << stories.BAND_BITS) - 1,
            "bands": stories.BANDS,
            "max_distance": stories.MAX_DISTANCE,
        },
    ).fetchall()
    con.unregister("new_sketches")
    assigned = stories.assign_stories(sketches, [stories.Candidate(*row) for row in found])
    table = pa.Table.from_pylist(
        [
            {"article_url": a.url, "simhash": a.simhash, "story_id": a.story_id, "assigned_at": now}
            for a in assigned
        ],
        schema=_SKETCHES_SCHEMA,
    )
    con.register("new_story_sketches", table)
    con.execute("INSERT INTO article_sketches BY NAME SELECT * FROM new_story_sketches")
    con.unregister("new_story_sketches")


def _matches_table(matches: Sequence[Match], run_id: str, now: datetime) -> pa.Table:
    """Matches as rows of the `matches` table."""
    rows = [
        {
            "article_url": m.article_url,
            "claim_id": m.claim_id,
            "score": m.score,
            "field": m.field,
            "variant": m.variant,
            "matched_text": m.matched_text,
            "match_start": m.start,
            "match_end": m.end,
            "snippet": m.snippet,
            "matched_at": now,
            "run_id": run_id,
        }
        for m in matches
    ]
    return pa.Table.from_pylist(rows, schema=_MATCHES_SCHEMA)


def _insert_matches(
    con: duckdb.DuckDBPyConnection, matches: Sequence[Match], run_id: str, now: datetime
) -> int:
    con.register("new_matches", _matches_table(matches, run_id, now))
    result = con.execute(
        """
        INSERT INTO matches BY NAME
        SELECT * FROM new_matches AS n
        WHERE NOT EXISTS (
            SELECT 1 FROM matches AS m
            WHERE m.article_url = n.article_url AND m.claim_id = n.claim_id
        )
        QUALIFY row_number() OVER (PARTITION BY n.article_url, n.claim_id ORDER BY n.score DESC) = 1
        """
    ).fetchone()
    con.unregister("new_matches")
    return int(result[0]) if result else 0


def _insert_failures(
    con: duckdb.DuckDBPyConnection, failures: Sequence[Failure], run_id: str, now: datetime
) -> None:
    rows = [asdict(f) | {"run_id": run_id, "failed_at": now} for f in failures]
    con.register("new_failures", pa.Table.from_pylist(rows, schema=_FAILURES_SCHEMA))
    con.execute("INSERT INTO fetch_failures BY NAME SELECT * FROM new_failures")
    con.unregister("new_failures")


_TS = pa.timestamp("us")
_CLAIMS_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("text", pa.string()),
        ("kind", pa.string()),
        ("variants", pa.list_(pa.string())),
        ("document", pa.string()),
        ("attributed_to", pa.string()),
        ("said_on", pa.string()),
        ("tags", pa.list_(pa.string())),
        ("threshold", pa.float64()),
        ("in_catalog", pa.bool_()),
        ("updated_at", _TS),
    ]
)
_ARTICLES_SCHEMA = pa.schema(
    [
        ("url", pa.string()),
        ("final_url", pa.string()),
        ("canonical_url", pa.string()),
        ("source", pa.string()),
        ("is_sample", pa.bool_()),
        ("outlet", pa.string()),
        ("title", pa.string()),
        ("author", pa.string()),
        ("text", pa.string()),
        ("language", pa.string()),
        ("published_at", _TS),
        ("fetched_at", _TS),
        ("content_sha256", pa.string()),
        ("run_id", pa.string()),
    ]
)
_MATCHES_SCHEMA = pa.schema(
    [
        ("article_url", pa.string()),
        ("claim_id", pa.string()),
        ("score", pa.float64()),
        ("field", pa.string()),
        ("variant", pa.string()),
        ("matched_text", pa.string()),
        ("match_start", pa.int32()),
        ("match_end", pa.int32()),
        ("snippet", pa.string()),
        ("matched_at", _TS),
        ("run_id", pa.string()),
    ]
)
_FAILURES_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("url", pa.string()),
        ("stage", pa.string()),
        ("reason", pa.string()),
        ("run_id", pa.string()),
        ("failed_at", _TS),
    ]
)
_SKETCHES_SCHEMA = pa.schema(
    [
        ("article_url", pa.string()),
        ("simhash", pa.uint64()),
        ("story_id", pa.string()),
        ("assigned_at", _TS),
    ]
)


@dataclass(frozen=True, slots=True)
class StoredText:
    """What re-matching needs of a stored article."""

    url: str
    title: str | None
    text: str


def iter_stored_texts(db: Path, batch_size: int) -> Iterator[list[StoredText]]:
    """Every stored article's URL, title and text, in batches (memory stays flat)."""
    with connect(db, read_only=True) as con:
        cursor = con.execute("SELECT url, title, text FROM articles ORDER BY url")
        while rows := cursor.fetchmany(batch_size):
            yield [StoredText(*row) for row in rows]


def replace_matches(
    db: Path,
    migrations_dir: Path,
    *,
    stats: RunStats,
    catalog: Catalog,
    matches: Sequence[Match],
    wait: float = 0.0,
) -> tuple[RunStats, int]:
    """Make the stored matches those of a re-match over every stored article.

    In one transaction: pairs found again keep their first `matched_at`, new ones
    are added, and pairs of catalog claims that no longer match are removed.
    Matches of claims removed from the catalog are kept, like their claim rows.
    Returns the run's stats (matches_new = pairs added) and the pairs removed.
    """
    now = utcnow()
    with connect(db, wait=wait) as con:
        apply_migrations(con, migrations_dir)
        with transaction(con, f"{db}: re-match failed, nothing changed"):
            _upsert_claims(con, catalog, now)
            con.register("rematched", _matches_table(matches, stats.run_id, now))
            removed = con.execute(
                """
                DELETE FROM matches AS m
                WHERE m.claim_id IN (SELECT id FROM claims WHERE in_catalog)
                  AND NOT EXISTS (
                      SELECT 1 FROM rematched AS r
                      WHERE r.article_url = m.article_url AND r.claim_id = m.claim_id)
                """
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
            added = _insert_matches(con, matches, stats.run_id, now)
            con.unregister("rematched")
            stats = replace(stats, matches_new=added)
            _insert_run(con, stats)
    return stats, int(removed[0]) if removed else 0
