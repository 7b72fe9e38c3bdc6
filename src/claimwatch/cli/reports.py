"""`claimwatch report` and `claimwatch sql`: named reports and read-only queries."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from claimwatch.cli.common import (
    OUTPUT_OPTION,
    PARAM_OPTION,
    REPORT_FORMATS,
    announce_waits,
    db_option,
    emit,
    parquet_bytes,
    settings_from,
)

if TYPE_CHECKING:
    from claimwatch.store.snapshots import AsOf
from claimwatch.output.tables import FORMATS, render

AS_OF_OPTION = click.option(
    "--as-of",
    metavar="SNAPSHOT|TIME",
    help="Answer as the warehouse stood then: a snapshot id, or an ISO date or time "
    "(UTC unless it has an offset). `claimwatch warehouse snapshots` lists them.",
)


def _as_of(db: Path, text: str | None, fmt: str, wait: float) -> AsOf | None:
    """The snapshot --as-of names (checked against the warehouse), or None without it."""
    if text is None:
        return None
    if fmt == "html":
        raise click.ClickException("--as-of works with --format table, csv, json or parquet")
    from claimwatch.store.snapshots import resolve_as_of

    return resolve_as_of(db, text, wait=wait)


@click.command()
@click.argument("name", required=False)
@click.option("--list", "list_all", is_flag=True, help="List the reports and their parameters.")
@click.option(
    "--format", "fmt", type=click.Choice(REPORT_FORMATS), default="table", show_default=True
)
@PARAM_OPTION
@OUTPUT_OPTION
@db_option
@AS_OF_OPTION
def report(
    name: str | None,
    list_all: bool,
    fmt: str,
    params: tuple[tuple[str, str], ...],
    output: Path | None,
    db: Path | None,
    as_of: str | None,
) -> None:
    """Run a named report (SQL in warehouse/reports/) against the warehouse.

    Formats: table, csv, json, parquet (typed columns, for notebooks) and html
    (a self-contained page; for `overview`, with charts and evidence). A report
    reads the last committed snapshot and never waits for a pass that writes.

    Examples:

        claimwatch report --list

        claimwatch report latest-matches -p limit 5 -p include_sample false

        claimwatch report matches-per-claim --format csv > per-claim.csv

        claimwatch report overview -p days 30 --format html -o overview.html

        claimwatch report mentions-per-day --format parquet -o mentions.parquet

        claimwatch report latest-matches --as-of 2026-12-01T07:00:00Z

    With --as-of the report reads the warehouse as it stood at that snapshot or time,
    and its periods (`-p days 7`) end then: now() is the as-of time.
    """
    from claimwatch.store.reports import get_report, list_reports, report_arrow, run_report
    from claimwatch.store.warehouse_sql import reports_dir

    announce_waits()
    settings = settings_from(db=db)
    directory = reports_dir()
    if list_all or not name:
        reports = list_reports(directory)
        if fmt == "json":
            listing = [
                {
                    "name": r.name,
                    "title": r.title,
                    "description": r.description,
                    "parameters": [
                        {"name": p.name, "type": p.type_name, "default": p.default}
                        | ({"description": p.description} if p.description else {})
                        for p in r.parameters
                    ],
                }
                for r in reports
            ]
            emit(json.dumps(listing, indent=2), output)
            return
        if fmt not in FORMATS:
            raise click.ClickException(f"--list writes {', '.join(FORMATS)}, not {fmt}")
        rows = [
            (r.name, r.title, ", ".join(f"{p.name}={json.dumps(p.default)}" for p in r.parameters))
            for r in reports
        ]
        emit(render(["name", "title", "parameters"], rows, fmt), output)
        return
    given = dict(params)
    wait = settings.lock_wait
    moment = _as_of(settings.db, as_of, fmt, wait)
    # A report over a period (the overview) says which, and the command that widens it.
    from claimwatch.output.period import report_control

    again = [*(["--db", str(db)] if db else []), *(["-o", str(output)] if output else [])]
    control = report_control(name, fmt, given, again)
    if fmt == "html":
        from claimwatch.output.html_report import report_page

        page = report_page(settings.db, directory, name, given, wait=wait, control=control)
        emit(page, output)
    elif fmt == "parquet":
        emit(
            parquet_bytes(
                report_arrow(
                    settings.db, get_report(directory, name), given, wait=wait, as_of=moment
                )
            ),
            output,
        )
    else:
        chosen = get_report(directory, name)
        result = run_report(settings.db, chosen, given, wait=wait, as_of=moment)
        emit(render(result.columns, result.rows, fmt, width=None if output else "terminal"), output)
        # On stderr: the table, CSV or JSON stays as it was. As of a snapshot, the period
        # note (which reads the warehouse now) would not describe what was shown.
        if name == "overview" and moment is None:
            from claimwatch.dates import utcnow
            from claimwatch.output.period import report_period

            period = report_period(settings.db, chosen, given, control, wait=wait)
            click.echo(period.note(utcnow(), empty=not result.rows), err=True)


@click.command()
@click.argument("query")
@click.option(
    "--format", "fmt", type=click.Choice(REPORT_FORMATS), default="table", show_default=True
)
@PARAM_OPTION
@OUTPUT_OPTION
@db_option
@AS_OF_OPTION
def sql(
    query: str,
    fmt: str,
    params: tuple[tuple[str, str], ...],
    output: Path | None,
    db: Path | None,
    as_of: str | None,
) -> None:
    """Run an ad-hoc, read-only SQL query against the warehouse ("-" reads it from stdin).

    The warehouse is opened read-only with file access switched off: a query can
    read every table and view but change nothing and touch no other file.
    Parameters are bound as text values ($name), never pasted in.

    Examples:

        claimwatch sql "SELECT outlet, count(*) FROM claim_matches GROUP BY ALL ORDER BY 2 DESC"

        claimwatch sql "SELECT * FROM claim_first_seen WHERE claim_id = \\$c" \\
          -p c ukraine-today-asia-tomorrow

        claimwatch sql - --format csv < my-query.sql > out.csv

        claimwatch sql "SELECT count(*) FROM articles" --as-of 41 --format json
    """
    from claimwatch.store.reports import run_sql, sql_arrow

    announce_waits()
    settings = settings_from(db=db)
    text = sys.stdin.read() if query == "-" else query
    if not text.strip():
        raise click.ClickException("sql: the query is empty")
    given = dict(params)
    wait = settings.lock_wait
    moment = _as_of(settings.db, as_of, "sql", wait)
    if fmt == "parquet":
        emit(parquet_bytes(sql_arrow(settings.db, text, given, wait=wait, as_of=moment)), output)
        return
    result = run_sql(settings.db, text, given, wait=wait, as_of=moment)
    if fmt == "html":
        from claimwatch.output.html_report import table_page

        emit(table_page(None, "claimwatch query", result.columns, result.rows), output)
    else:
        emit(render(result.columns, result.rows, fmt, width=None if output else "terminal"), output)
