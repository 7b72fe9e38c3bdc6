"""The warehouse's snapshots: what each commit changed, and the warehouse as it stood then.

Every committed write transaction of a DuckLake is a snapshot, numbered from 0, and
a snapshot stays readable until maintenance expires it. `--as-of` names one, by its
id or by a time (the newest snapshot at or before it), and the warehouse is then
opened read-only as it stood at that snapshot.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from claimwatch.exceptions import WarehouseError
from claimwatch.store.connection import connect

__all__ = ["AsOf", "Snapshot", "lake_name", "list_snapshots", "parse_as_of", "resolve_as_of"]

SEE_SNAPSHOTS = "list them with `claimwatch warehouse snapshots`"
# Tables that are bookkeeping, not data: every write transaction updates write_fence.
_QUIET = frozenset({"write_fence"})
# DuckLake's schema changes, in our words: those that name tables, and those counted.
_SCHEMA_NAMED = {
    "schemas_created": "created schema",
    "tables_created": "created",
    "tables_altered": "altered",
}
_SCHEMA_COUNTED = {"views_created": "views defined", "tables_dropped": "tables dropped"}
# Changes that move data without changing rows, with the tables they name.
_STORAGE_WORDS = {
    "flushed_inlined": "flushed",
    "merge_adjacent": "files merged",
    "compacted_table": "files merged",
    "rewrite_delete": "files rewritten",
}
_ROW_CHANGES = ("inlined_insert", "inlined_delete", "tables_inserted_into", "tables_deleted_from")


@dataclass(frozen=True)
class Snapshot:
    """One committed transaction of the warehouse."""

    id: int
    time: datetime  # UTC
    changes: str  # in words, e.g. "articles +17, matches +25"


@dataclass(frozen=True)
class AsOf:
    """The snapshot `--as-of` chose, and the time reports take as now()."""

    snapshot: int
    now: datetime  # UTC: the time asked for, or the snapshot's own time for an id


def lake_name(con: duckdb.DuckDBPyConnection) -> str:
    """The name the warehouse is attached under in `con`, which DuckLake's functions take.

    Connections share one DuckDB instance per process (see `lake.open_cursor`), so the
    name differs with the mode and order of attaching: ask, never assume `lake`.
    """
    row = con.execute("SELECT current_database()").fetchone()
    return str(row[0]) if row else "lake"


def list_snapshots(db: Path, *, limit: int | None = 20, wait: float = 0.0) -> list[Snapshot]:
    """The warehouse's snapshots that maintenance has kept, newest first."""
    with connect(db, read_only=True, wait=wait) as con:
        rows = con.execute(
            "SELECT snapshot_id, snapshot_time, changes FROM ducklake_snapshots(?)"
            " ORDER BY snapshot_id DESC" + (" LIMIT ?" if limit is not None else ""),
            [lake_name(con), limit] if limit is not None else [lake_name(con)],
        ).fetchall()
        names = _table_names(con)
        counts = _row_counts(con, rows, names)
        return [
            Snapshot(int(sid), _utc(at), _words(changes or {}, counts.get(sid, {}), names))
            for sid, at, changes in rows
        ]


def parse_as_of(text: str) -> int | datetime:
    """`--as-of`'s value: a snapshot id (digits), or an ISO date or time (UTC unless it
    carries an offset), returned as an aware datetime."""
    value = text.strip()
    if re.fullmatch(r"\d+", value):
        return int(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise WarehouseError(
            f"--as-of {text!r}: give a snapshot id or an ISO date or time such as "
            f"2026-12-01 or 2026-12-01T08:30:00+01:00 (UTC unless an offset is given); "
            f"{SEE_SNAPSHOTS}"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def resolve_as_of(db: Path, text: str, *, wait: float = 0.0) -> AsOf:
    """The snapshot `text` names in the warehouse `db`, or a WarehouseError saying why none."""
    wanted = parse_as_of(text)
    with connect(db, read_only=True, wait=wait) as con:
        if isinstance(wanted, int):
            found = con.execute(
                "SELECT snapshot_id, snapshot_time FROM ducklake_snapshots(?)"
                " WHERE snapshot_id = ?",
                [lake_name(con), wanted],
            ).fetchone()
            if found is None:
                raise WarehouseError(
                    f"--as-of {wanted}: {db} has no snapshot {wanted}{_kept(con)}; {SEE_SNAPSHOTS}"
                )
            return AsOf(wanted, _utc(found[1]))
        found = con.execute(
            "SELECT max(snapshot_id) FROM ducklake_snapshots(?) WHERE snapshot_time <= ?",
            [lake_name(con), wanted],
        ).fetchone()
        if found is None or found[0] is None:
            raise WarehouseError(
                f"--as-of {text}: {db} has no snapshot that old{_kept(con)}; {SEE_SNAPSHOTS}"
            )
        return AsOf(int(found[0]), wanted)


def _kept(con: duckdb.DuckDBPyConnection) -> str:
    first = con.execute(
        "SELECT min(snapshot_id), min(snapshot_time), max(snapshot_id) FROM ducklake_snapshots(?)",
        [lake_name(con)],
    ).fetchone()
    if not first or first[0] is None:
        return ""
    at = _utc(first[1]).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f" (it keeps snapshots {first[0]} to {first[2]}, the first from {at})"


def _row_counts(
    con: duckdb.DuckDBPyConnection, rows: list[tuple[Any, ...]], names: dict[str, str]
) -> dict[int, dict[str, dict[str, int]]]:
    """Rows inserted and deleted per snapshot and table: {snapshot: {table: {kind: n}}}.

    One ducklake_table_changes per table that changed among `rows`, over their range.
    """
    if not rows:
        return {}
    changed: set[str] = set()
    for _, _, changes in rows:
        for key in _ROW_CHANGES:
            changed.update(names.get(ref, ref) for ref in (changes or {}).get(key, []))
    low, high = min(r[0] for r in rows), max(r[0] for r in rows)
    counts: dict[int, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for table in sorted(changed - _QUIET):
        if table not in names.values():
            continue  # dropped since
        try:
            found = con.execute(
                "SELECT snapshot_id, change_type, count(*)"
                " FROM ducklake_table_changes(?, 'main', ?, ?, ?) GROUP BY ALL",
                [lake_name(con), table, low, high],
            ).fetchall()
        except duckdb.Error:
            continue  # the words fall back to the table's name
        for sid, kind, n in found:
            counts[sid][table][kind] = n
    return counts


def _table_names(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Table ids (as DuckLake's changes name them) to names, for the current tables."""
    return {
        str(tid): name
        for tid, name in con.execute(
            "SELECT table_id, table_name FROM ducklake_table_info(?)", [lake_name(con)]
        ).fetchall()
    }


def _words(
    changes: dict[str, list[str]], counts: dict[str, dict[str, int]], names: dict[str, str]
) -> str:
    """A snapshot's changes as a line: rows per table, then schema and storage changes."""
    parts = []
    for table in sorted(counts):
        kinds = counts[table]
        updated = kinds.get("update_postimage", 0)
        piece = table
        if kinds.get("insert"):
            piece += f" +{kinds['insert']}"
        if kinds.get("delete"):
            piece += f" -{kinds['delete']}"
        if updated:
            piece += f" ~{updated}"
        parts.append(piece)
    listed = set(counts) | _QUIET
    for key in _ROW_CHANGES:  # rows we could not count: name the table at least
        for ref in changes.get(key, []):
            name = names.get(ref, ref)
            if name not in listed:
                parts.append(f"{name} changed")
                listed.add(name)
    for key, word in _SCHEMA_NAMED.items():
        named = [names.get(ref, ref).removeprefix("main.") for ref in changes.get(key, [])]
        if named:
            parts.append(f"{word} {', '.join(sorted(named))}")
    for key, word in _SCHEMA_COUNTED.items():
        if changes.get(key):
            parts.append(f"{len(changes[key])} {word}")
    for key, word in _STORAGE_WORDS.items():
        tables = sorted({names.get(ref, ref) for ref in changes.get(key, [])} - _QUIET)
        if len(tables) > 4:
            parts.append(f"{word}: {len(tables)} tables")
        elif tables:
            parts.append(f"{word}: {', '.join(tables)}")
    # Views dropped are views redefined (their old ids); other keys by their own name.
    known = {*_ROW_CHANGES, *_SCHEMA_NAMED, *_SCHEMA_COUNTED, *_STORAGE_WORDS, "views_dropped"}
    parts.extend(key.replace("_", " ") for key in sorted(changes) if key not in known)
    return ", ".join(parts) or "bookkeeping only"


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
