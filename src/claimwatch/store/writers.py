"""Row writers: one function per warehouse table, each inserting an Arrow batch by name.

They run inside a transaction the caller holds (see `connection.transaction`);
`passes`, `rematch` and the tests' warehouses order them into steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, fields
from datetime import datetime

import duckdb
import pyarrow as pa

from claimwatch.matching.catalog import Catalog
from claimwatch.records import (
    Article,
    Failure,
    Match,
    PageAttempt,
    RunStats,
    SourceLog,
    SourcePolled,
)
from claimwatch.sources.config import SourceList


def insert_run(con: duckdb.DuckDBPyConnection, stats: RunStats) -> None:
    con.execute(
        f"INSERT INTO runs VALUES ({', '.join('?' * len(fields(RunStats)))})",
        list(asdict(stats).values()),
    )


def upsert_sources(con: duckdb.DuckDBPyConnection, sources: SourceList, now: datetime) -> None:
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


def upsert_claims(con: duckdb.DuckDBPyConnection, catalog: Catalog, now: datetime) -> None:
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
        schema=CLAIMS_SCHEMA,
    )
    con.register("new_claims", table)
    # Claims dropped from the file stay, so their stored matches keep their text.
    con.execute("UPDATE claims SET in_catalog = false WHERE id NOT IN (SELECT id FROM new_claims)")
    con.execute("DELETE FROM claims WHERE id IN (SELECT id FROM new_claims)")
    con.execute("INSERT INTO claims BY NAME SELECT * FROM new_claims")
    con.unregister("new_claims")


def insert_articles(
    con: duckdb.DuckDBPyConnection, articles: Sequence[Article], run_id: str
) -> int:
    rows = [asdict(a) | {"run_id": run_id} for a in articles]
    con.register("new_articles", pa.Table.from_pylist(rows, schema=ARTICLES_SCHEMA))
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


def matches_table(matches: Sequence[Match], run_id: str, now: datetime) -> pa.Table:
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
    return pa.Table.from_pylist(rows, schema=MATCHES_SCHEMA)


def insert_matches(
    con: duckdb.DuckDBPyConnection, matches: Sequence[Match], run_id: str, now: datetime
) -> int:
    con.register("new_matches", matches_table(matches, run_id, now))
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


def insert_failures(
    con: duckdb.DuckDBPyConnection, failures: Sequence[Failure], run_id: str, now: datetime
) -> None:
    rows = [asdict(f) | {"run_id": run_id, "failed_at": now} for f in failures]
    con.register("new_failures", pa.Table.from_pylist(rows, schema=FAILURES_SCHEMA))
    con.execute("INSERT INTO fetch_failures BY NAME SELECT * FROM new_failures")
    con.unregister("new_failures")


def replace_rows(
    con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table, keys: Sequence[str]
) -> None:
    con.register("incoming", rows)
    match = " AND ".join(f"t.{k} = i.{k}" for k in keys)
    con.execute(
        f"DELETE FROM {table} AS t WHERE EXISTS (SELECT 1 FROM incoming AS i WHERE {match})"
    )
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
    con.unregister("incoming")


def upsert_attempts(
    con: duckdb.DuckDBPyConnection, attempts: Sequence[PageAttempt], run_id: str
) -> None:
    if attempts:
        rows = [asdict(a) | {"run_id": run_id} for a in attempts]
        replace_rows(con, "page_attempts", pa.Table.from_pylist(rows, ATTEMPTS), ["url"])


def upsert_polled(con: duckdb.DuckDBPyConnection, polled: Sequence[SourcePolled]) -> None:
    if not polled:
        return
    state = [{"source": p.source, "polled_at": p.polled_at, "cursor": p.cursor} for p in polled]
    replace_rows(con, "source_state", pa.Table.from_pylist(state, STATE), ["source"])
    validators = [asdict(v) | {"source": p.source} for p in polled for v in p.validators.values()]
    if validators:
        table = pa.Table.from_pylist(validators, VALIDATORS)
        replace_rows(con, "source_validators", table, ["source", "url"])


def insert_log(
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
    con.register("incoming", pa.Table.from_pylist(rows, LOG))
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


TS = pa.timestamp("us")
CLAIMS_SCHEMA = pa.schema(
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
        ("updated_at", TS),
    ]
)
ARTICLES_SCHEMA = pa.schema(
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
        ("published_at", TS),
        ("fetched_at", TS),
        ("content_sha256", pa.string()),
        ("run_id", pa.string()),
    ]
)
MATCHES_SCHEMA = pa.schema(
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
        ("matched_at", TS),
        ("run_id", pa.string()),
    ]
)
FAILURES_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("url", pa.string()),
        ("stage", pa.string()),
        ("reason", pa.string()),
        ("run_id", pa.string()),
        ("failed_at", TS),
    ]
)
SKETCHES_SCHEMA = pa.schema(
    [
        ("article_url", pa.string()),
        ("simhash", pa.uint64()),
        ("story_id", pa.string()),
        ("assigned_at", TS),
    ]
)
ATTEMPTS = pa.schema(
    [
        ("url", pa.string()),
        ("source", pa.string()),
        ("title", pa.string()),
        ("published_at", TS),
        ("archive", pa.string()),
        ("stage", pa.string()),
        ("reason", pa.string()),
        ("attempts", pa.int32()),
        ("last_attempt_at", TS),
        ("retry_at", TS),
        ("run_id", pa.string()),
    ]
)
STATE = pa.schema([("source", pa.string()), ("polled_at", TS), ("cursor", pa.string())])
VALIDATORS = pa.schema(
    [
        ("url", pa.string()),
        ("etag", pa.string()),
        ("last_modified", pa.string()),
        ("body_sha256", pa.string()),
        ("changed_at", TS),
        ("verified_at", TS),
        ("conditional", pa.bool_()),
        ("source", pa.string()),
    ]
)
LOG = pa.schema(
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
        ("logged_at", TS),
    ]
)
