"""Keeping the warehouse small: flush inlined rows, merge small files, expire old snapshots,
delete the files nothing needs any more.

A pass commits small batches; DuckLake keeps writes under its inlining limit in the
catalog, and each flush or larger write adds Parquet files. Maintenance turns them
into few larger files and forgets snapshots older than the retention (time travel
reaches back that far, no further). Every step is its own short write transaction,
retried on conflicts like any other write, so it may run while passes run.

Files are deleted only once they are older than a safety margin (an hour): a file
younger than that may belong to a writer committing right now, or be read by a
reader that began before its snapshot expired.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from claimwatch.exceptions import WarehouseError
from claimwatch.store import lake
from claimwatch.store.connection import connect, write
from claimwatch.store.snapshots import lake_name

__all__ = [
    "MARGIN",
    "MaintenanceResult",
    "Storage",
    "compact_catalog",
    "describe",
    "maintain",
    "storage",
]

MARGIN = timedelta(hours=1)


@dataclass(frozen=True)
class Storage:
    """What the warehouse's current snapshot is made of, and what its folder holds."""

    files: int  # data and delete files the current snapshot reads
    bytes: int
    snapshots: int  # snapshots kept (time travel reaches them)
    disk_files: int | None  # Parquet files under the data folder; None for a catalog server
    disk_bytes: int | None


@dataclass(frozen=True)
class MaintenanceResult:
    before: Storage
    after: Storage
    rows_flushed: int  # inlined rows written out to Parquet
    files_merged: int  # small files merged ...
    files_created: int  # ... into these
    snapshots_expired: int
    old_files_deleted: int  # files of expired snapshots
    orphans_deleted: int  # files no snapshot ever committed (a killed writer's)
    catalog_bytes: tuple[int, int] | None  # the embedded catalog's size before and after


def maintain(
    db: Path,
    *,
    retention: timedelta,
    margin: timedelta = MARGIN,
    wait: float = 0.0,
) -> MaintenanceResult:
    """Flush, merge, expire snapshots older than `retention`, delete unneeded files."""
    before = storage(db, wait=wait)
    failure = f"{db}: maintenance failed"

    def step(sql: str, *args: object) -> list[tuple[object, ...]]:
        # Unfenced: maintenance moves rows between files but adds none, and DuckLake
        # itself makes a compaction and a concurrent write conflict (then retried).
        return write(
            db,
            failure,
            lambda con: con.execute(sql, [lake_name(con), *args]).fetchall(),
            wait=wait,
            fence=False,
        )

    flushed = step("SELECT sum(rows_flushed) FROM ducklake_flush_inlined_data(?)")
    # Files whose rows were mostly deleted (tables updated in place) are rewritten first,
    # then small neighbours merged.
    step("SELECT * FROM ducklake_rewrite_data_files(?)")
    merged = step(
        "SELECT sum(files_processed), sum(files_created) FROM ducklake_merge_adjacent_files(?)"
    )
    cutoff = datetime.now(UTC) - retention
    expired = step("SELECT * FROM ducklake_expire_snapshots(?, older_than => ?)", cutoff)
    # Only files that have been unneeded, or on disk, for longer than the margin.
    safe = datetime.now(UTC) - margin
    old = step("SELECT * FROM ducklake_cleanup_old_files(?, older_than => ?)", safe)
    orphans = step("SELECT * FROM ducklake_delete_orphaned_files(?, older_than => ?)", safe)
    # Rows flushed out of the catalog leave free pages in it: give them back.
    catalog = compact_catalog(lake.locate(db), wait=max(wait, 30.0))
    return MaintenanceResult(
        before=before,
        after=storage(db, wait=wait),
        rows_flushed=_number(flushed),
        files_merged=_number(merged),
        files_created=_number(merged, 1),
        snapshots_expired=len(expired),
        old_files_deleted=len(old),
        orphans_deleted=len(orphans),
        catalog_bytes=catalog,
    )


def storage(db: Path, *, wait: float = 0.0) -> Storage:
    """The warehouse's files and snapshots now."""
    with connect(db, read_only=True, wait=wait) as con:
        row = con.execute(
            "SELECT sum(file_count + delete_file_count),"
            " sum(file_size_bytes + delete_file_size_bytes) FROM ducklake_table_info(?)",
            [lake_name(con)],
        ).fetchone()
        kept = con.execute("SELECT count(*) FROM ducklake_snapshots(?)", [lake_name(con)])
        snapshots = _number(kept.fetchall())
    files, size = (int(row[0] or 0), int(row[1] or 0)) if row else (0, 0)
    folder = lake.locate(db).folder
    if folder is None:
        return Storage(files, size, snapshots, None, None)
    on_disk = [p.stat().st_size for p in (folder / lake.DATA_FOLDER).rglob("*.parquet")]
    return Storage(files, size, snapshots, len(on_disk), sum(on_disk))


def compact_catalog(location: lake.Location, *, wait: float = 30.0) -> tuple[int, int] | None:
    """Give the embedded catalog's free pages back to the disk (rows flushed to Parquet
    leave them); its size in bytes before and after, or None for a catalog server.

    Safe beside readers and writers (WAL): it waits up to `wait` s for a writer to finish.
    """
    if location.folder is None:
        return None
    catalog = location.folder / lake.CATALOG_FILE
    before = _catalog_bytes(catalog)
    try:
        sqlite = sqlite3.connect(catalog, timeout=wait, isolation_level=None)
        try:
            # executescript runs it to the end; execute() would free one page per call.
            sqlite.executescript("PRAGMA incremental_vacuum; PRAGMA wal_checkpoint(TRUNCATE);")
        finally:
            sqlite.close()
    except sqlite3.Error as exc:
        raise WarehouseError(f"{catalog}: not compacted: {exc}") from None
    return before, _catalog_bytes(catalog)


def _catalog_bytes(catalog: Path) -> int:
    """The catalog with its write-ahead log."""
    wal = catalog.with_name(catalog.name + "-wal")
    return sum(p.stat().st_size for p in (catalog, wal) if p.is_file())


def _number(rows: list[tuple[object, ...]], column: int = 0) -> int:
    """A sum a maintenance query returned (NULL when it acted on nothing)."""
    value = rows[0][column] if rows else None
    return int(value) if isinstance(value, int | float) else 0


def describe(result: MaintenanceResult, retention: timedelta) -> list[str]:
    """What maintenance did, in a few lines for a person."""
    before, after = result.before, result.after
    lines = [
        f"files: {before.files} -> {after.files} "
        f"({_size(before.bytes)} -> {_size(after.bytes)}) in the current snapshot",
    ]
    if before.disk_files is not None and after.disk_files is not None:
        lines.append(
            f"on disk: {before.disk_files} -> {after.disk_files} Parquet files "
            f"({_size(before.disk_bytes or 0)} -> {_size(after.disk_bytes or 0)})"
        )
    if result.catalog_bytes is not None:
        was, now = result.catalog_bytes
        lines.append(f"catalog: {_size(was)} -> {_size(now)}")
    lines += [
        f"inlined rows flushed to Parquet: {result.rows_flushed}",
        f"small files merged: {result.files_merged} into {result.files_created}",
        f"snapshots expired (older than {_span(retention)}): {result.snapshots_expired}; "
        f"{after.snapshots} kept",
        f"files deleted: {result.old_files_deleted} of expired snapshots, "
        f"{result.orphans_deleted} orphaned (files younger than {_span(MARGIN)} are kept)",
    ]
    return lines


def _size(count: int) -> str:
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{count} B"


def _span(span: timedelta) -> str:
    seconds = span.total_seconds()
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds % size == 0 or unit == "minute":
            count = seconds / size
            return f"{count:g} {unit}" + ("" if count == 1 else "s")
    return f"{seconds:g} seconds"
