"""Row writers: one function per warehouse table, each inserting an Arrow batch by name.

The migrations are the only definition of a table's columns: a writer names its
rows' keys after the columns and takes their types from the table itself
(`arrow_rows`), so a column added by a migration needs no schema written here too.
A key the table lacks fails the insert (DuckDB names the column) rather than being
dropped.

They run inside a transaction the caller holds (see `connection.transaction`);
`passes`, `rematch` and the tests' warehouses order them into steps.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

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
    Suggestion,
)
from claimwatch.sources.config import SourceList


def table_schema(con: duckdb.DuckDBPyConnection, table: str) -> pa.Schema:
    """The Arrow schema of a warehouse table, as DuckDB exports its columns."""
    return con.sql(f'SELECT * FROM "{table}" LIMIT 0').to_arrow_table().schema


def arrow_rows(
    con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[Mapping[str, Any]]
) -> pa.Table:
    """`rows` as an Arrow table typed by the columns of `table`, for an insert by name.

    Its columns are the rows' keys (every row has the same), or with no rows all of
    the table's. A key the table has no column for keeps the type its values give
    it, so the insert fails, naming it.
    """
    schema = table_schema(con, table)
    names = list(rows[0]) if rows else schema.names
    known = set(schema.names)
    arrays = [
        pa.array([row[name] for row in rows], schema.field(name).type if name in known else None)
        for name in names
    ]
    return pa.Table.from_arrays(arrays, names=names)


def insert_rows(
    con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert `rows` into `table` by name."""
    con.register("incoming", arrow_rows(con, table, rows))
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
    con.unregister("incoming")


def insert_run(con: duckdb.DuckDBPyConnection, stats: RunStats) -> None:
    insert_rows(con, "runs", [asdict(stats)])


def upsert_sources(con: duckdb.DuckDBPyConnection, sources: SourceList, now: datetime) -> None:
    rows = [
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
    replace_rows(con, "sources", rows, ["name"])


def upsert_claims(con: duckdb.DuckDBPyConnection, catalog: Catalog, now: datetime) -> None:
    rows = [
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
            "suggest_threshold": c.suggest_threshold,
            "source_url": c.source_url,
            "in_catalog": True,
            "updated_at": now,
        }
        for c in catalog.claims
    ]
    # Claims dropped from the file stay, so their stored matches keep their text.
    con.execute("UPDATE claims SET in_catalog = false")
    replace_rows(con, "claims", rows, ["id"])


def insert_articles(
    con: duckdb.DuckDBPyConnection, articles: Sequence[Article], run_id: str
) -> int:
    rows = [asdict(a) | {"run_id": run_id} for a in articles]
    con.register("new_articles", arrow_rows(con, "articles", rows))
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


def match_rows(matches: Sequence[Match], run_id: str, now: datetime) -> list[dict[str, Any]]:
    """Matches as rows of the `matches` table."""
    return [
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


def url_table(urls: Iterable[str]) -> pa.Table:
    """URLs as a one-column Arrow table (`url`) for a connection to register and join
    with: bound as a list parameter instead, 60,000 URLs took DuckDB 8 s, a table 0.1 s."""
    return pa.table({"url": pa.array(list(urls), pa.string())})


def matches_table(matches: Sequence[Match], run_id: str, now: datetime) -> pa.Table:
    """Matches as an Arrow table with the columns of `matches`, to join against it.

    Typed as Python's values give them (it is compared with, not inserted:
    `insert_matches` types its rows by the table); with no matches, every column
    is there, untyped.
    """
    rows = match_rows(matches, run_id, now)
    if rows:
        return pa.Table.from_pylist(rows)
    names = match_rows([Match("", "", 0.0, "", "", "", 0, 0, "")], run_id, now)[0]
    return pa.table({name: pa.nulls(0) for name in names})


def insert_matches(
    con: duckdb.DuckDBPyConnection, matches: Sequence[Match], run_id: str, now: datetime
) -> int:
    con.register("new_matches", arrow_rows(con, "matches", match_rows(matches, run_id, now)))
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


def suggestion_id(article_url: str, claim_id: str) -> str:
    """The stable id of the suggestion of `claim_id` for an article (what reviewers type)."""
    return hashlib.md5(f"{article_url}\n{claim_id}".encode()).hexdigest()[:12]


def insert_suggestions(
    con: duckdb.DuckDBPyConnection, suggestions: Sequence[Suggestion], run_id: str, now: datetime
) -> int:
    """Store new suggestions; one already made, reviewed or matched for the pair is skipped."""
    rows = [
        {
            "id": suggestion_id(s.article_url, s.claim_id),
            "article_url": s.article_url,
            "claim_id": s.claim_id,
            "score": s.score,
            "field": s.field,
            "variant": s.variant,
            "matched_text": s.matched_text,
            "match_start": s.start,
            "match_end": s.end,
            "snippet": s.snippet,
            "signals": json.dumps(s.signals, sort_keys=True),
            "reason": s.reason,
            "suggested_at": now,
            "run_id": run_id,
        }
        for s in suggestions
    ]
    con.register("new_suggestions", arrow_rows(con, "suggestions", rows))
    result = con.execute(
        """
        INSERT INTO suggestions BY NAME
        SELECT * FROM new_suggestions AS n
        WHERE NOT EXISTS (SELECT 1 FROM suggestions AS s WHERE s.id = n.id)
          AND NOT EXISTS (SELECT 1 FROM reviews AS r WHERE r.suggestion_id = n.id)
          AND NOT EXISTS (
              SELECT 1 FROM matches AS m
              WHERE m.article_url = n.article_url AND m.claim_id = n.claim_id
          )
        QUALIFY row_number() OVER (PARTITION BY n.id ORDER BY n.score DESC) = 1
        """
    ).fetchone()
    con.unregister("new_suggestions")
    return int(result[0]) if result else 0


def insert_failures(
    con: duckdb.DuckDBPyConnection, failures: Sequence[Failure], run_id: str, now: datetime
) -> None:
    insert_rows(
        con, "fetch_failures", [asdict(f) | {"run_id": run_id, "failed_at": now} for f in failures]
    )


def replace_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
) -> None:
    """Insert `rows` by name in place of the stored rows with the same `keys`."""
    con.register("incoming", arrow_rows(con, table, rows))
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
        replace_rows(con, "page_attempts", rows, ["url"])


def upsert_polled(con: duckdb.DuckDBPyConnection, polled: Sequence[SourcePolled]) -> None:
    if not polled:
        return
    state = [{"source": p.source, "polled_at": p.polled_at, "cursor": p.cursor} for p in polled]
    replace_rows(con, "source_state", state, ["source"])
    validators = [asdict(v) | {"source": p.source} for p in polled for v in p.validators.values()]
    if validators:
        replace_rows(con, "source_validators", validators, ["source", "url"])


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
    con.register("incoming", arrow_rows(con, "fetch_log", rows))
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
