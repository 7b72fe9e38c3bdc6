"""`claimwatch warehouse`: the warehouse's snapshots, its maintenance, and moving in."""

from __future__ import annotations

import re
from datetime import UTC, timedelta
from pathlib import Path

import click

from claimwatch.cli.common import announce_waits, db_option, settings_from
from claimwatch.output.tables import FORMATS, render

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dhm]?)\s*$")
_UNITS = {"d": "days", "": "days", "h": "hours", "m": "minutes"}


@click.group("warehouse")
def warehouse_group() -> None:
    """The warehouse itself: its snapshots (time travel), maintenance and imports."""


@warehouse_group.command("snapshots")
@db_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option(
    "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Newest N only."
)
def snapshots(db: Path | None, fmt: str, limit: int) -> None:
    """List the warehouse's snapshots, newest first, with what each changed.

    Every committed write is a snapshot; `report` and `sql` read the warehouse as it
    stood at one with --as-of (its id, or a time). Changes count rows per table
    (+ added, - deleted, ~ updated); maintenance expires snapshots older than
    CLAIMWATCH_SNAPSHOT_RETENTION_DAYS (30).

    Examples:

        claimwatch warehouse snapshots --limit 5

        claimwatch warehouse snapshots --format json --db warehouse/lake
    """
    from claimwatch.store.snapshots import list_snapshots

    announce_waits()
    settings = settings_from(db=db)
    found = list_snapshots(settings.db, limit=limit, wait=settings.lock_wait)
    rows = [
        (s.id, s.time.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"), s.changes)
        if fmt != "json"
        else (s.id, s.time.isoformat(), s.changes)
        for s in found
    ]
    click.echo(render(["snapshot", "time", "changes"], rows, fmt, width="terminal"))


@warehouse_group.command("maintain")
@db_option
@click.option(
    "--retention",
    metavar="DURATION",
    help="Keep snapshots this recent, e.g. 30d, 12h, 90m "
    "[env CLAIMWATCH_SNAPSHOT_RETENTION_DAYS; 30d].",
    callback=lambda _ctx, _param, value: None if value is None else _duration(value),
)
def maintain(db: Path | None, retention: timedelta | None) -> None:
    """Merge small files, expire old snapshots and delete files nothing needs.

    Flushes rows kept inline in the catalog to Parquet, rewrites files whose rows
    were mostly deleted, merges small adjacent files, expires snapshots older than
    the retention (time travel reaches back that far), then deletes the files of
    expired snapshots and orphaned files a killed writer left, once they are an hour
    old. Safe while passes run. `claimwatch serve` schedules it daily
    (CLAIMWATCH_MAINTAIN_CRON, 03:30).

    Examples:

        claimwatch warehouse maintain

        claimwatch warehouse maintain --retention 7d --db warehouse/lake
    """
    from claimwatch.store.maintenance import describe
    from claimwatch.store.maintenance import maintain as run_maintenance

    announce_waits()
    settings = settings_from(db=db)
    kept = retention if retention is not None else timedelta(days=settings.snapshot_retention_days)
    result = run_maintenance(settings.db, retention=kept, wait=settings.lock_wait)
    for line in describe(result, kept):
        click.echo(line)


@warehouse_group.command("import")
@click.argument("old", type=click.Path(path_type=Path))
@db_option
def import_(old: Path, db: Path | None) -> None:
    """Copy an old single-file warehouse (a .duckdb file) into this warehouse.

    The warehouse's schema is brought up to date first, then every table is copied
    in its own transaction and checked: the counts are printed table by table. Rows
    already in the warehouse are skipped (by the table's key, such as an article's
    URL, or by their whole content), so importing twice adds nothing. A file written
    by a newer DuckDB than claimwatch's: export it with that DuckDB
    (EXPORT DATABASE 'old.export' (FORMAT parquet)) and import the folder.

    Examples:

        claimwatch warehouse import warehouse/claimwatch.duckdb

        claimwatch warehouse import old.export --db warehouse/lake
    """
    from claimwatch.store.importer import import_warehouse
    from claimwatch.store.warehouse_sql import migrations_dir

    announce_waits()
    settings = settings_from(db=db)
    done = import_warehouse(old, settings.db, migrations_dir(), wait=settings.lock_wait)
    rows = [(t.table, t.old, t.added, t.present, t.total) for t in done]
    click.echo(render(["table", "old", "imported", "already there", "now"], rows, "table"))
    added = sum(t.added for t in done)
    click.echo(f"{settings.db}: imported {added} rows of {old} in {len(done)} tables")


def _duration(text: str) -> timedelta:
    found = _DURATION.match(text)
    if not found:
        raise click.BadParameter("give a number of days, hours or minutes: 30d, 12h, 90m")
    return timedelta(**{_UNITS[found.group(2)]: float(found.group(1))})
