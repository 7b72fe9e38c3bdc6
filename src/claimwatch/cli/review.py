"""`claimwatch review`: the suggestions waiting for a person, and their decisions."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import duckdb

from claimwatch.cli.common import PATH, announce_waits, db_option, settings_from, user_name
from claimwatch.output.tables import render
from claimwatch.store.reviews import outcome

LIST_FORMATS = ("table", "json", "csv")


note_option = click.option("--note", help="Why: kept with the decision.")
reviewer_option = click.option(
    "--reviewer", default=user_name, show_default="your user name", help="Who decided."
)


def selection_options(decision: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--claim, --above, --below: decide every pending suggestion they select."""

    def add(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(
            [
                click.option("--claim", "claim_id", help=f"{decision} every pending one of it."),
                click.option(
                    "--above", type=float, help=f"{decision} every pending one scored over it."
                ),
                click.option(
                    "--below", type=float, help=f"{decision} every pending one scored under it."
                ),
            ]
        ):
            command = option(command)
        return command

    return add


@click.group("review", invoke_without_command=True)
@db_option
@click.option("--claim", "claim_id", help="Only the suggestions of this claim.")
@click.option(
    "--format", "fmt", type=click.Choice(LIST_FORMATS), default="table", show_default=True
)
@click.pass_context
def review_group(ctx: click.Context, db: Path | None, claim_id: str | None, fmt: str) -> None:
    """Suggestions waiting for review: sentences close in meaning to a claim.

    Lists the pending ones, best first, one block each: its id, the claim's text, the
    sentence between >> and << with the sentences around it, the outlet and dates, the
    whole link, and why it was suggested. --format json writes objects with id, claim_id,
    claim_text, article_url, title, outlet, score, matched_text, snippet, suggested_at,
    published_at, link, field, variant, signals, context_before, context_after and
    reason (why, in words; null for suggestions made before the verifier); --format
    csv the same columns and empty decision and note columns, to fill in a
    spreadsheet and read back with `claimwatch review import`.

    Examples:

        claimwatch review --claim where-nato-goes-war-is-most-likely

        claimwatch review confirm 3f2a9c01d4e7 --note "restates the slogan"

        claimwatch review move 3f2a9c01d4e7 ukraine-today-asia-tomorrow

        claimwatch review reject --below 30 --claim where-nato-goes-war-is-most-likely

        claimwatch review --format csv > pending.csv    # then: claimwatch review import pending.csv
    """
    if ctx.invoked_subcommand is not None:
        return
    from claimwatch.store.connection import connect
    from claimwatch.store.review_queue import pending_details

    announce_waits()
    settings = settings_from(db=db)
    with connect(settings.db, read_only=True, wait=settings.lock_wait) as con:
        rows = pending_details(con, claim_id)
        if claim_id is not None and not rows and not _known_claim(con, claim_id, settings.claims):
            raise click.ClickException(
                f"no claim {claim_id!r} in the catalog or the warehouse: "
                "see `claimwatch claims list` for the ids"
            )
    if fmt == "json":
        click.echo(json.dumps([_plain(r) for r in rows], indent=2, ensure_ascii=False))
    elif fmt == "csv":
        columns = [*rows[0], "decision", "note"] if rows else _csv_columns()
        cells = [[*_plain(r, signals_as_text=True).values(), "", ""] for r in rows]
        click.echo(render(columns, cells, "csv"), nl=False)
    elif rows:
        from claimwatch.output.review_blocks import review_blocks

        click.echo(review_blocks(rows), nl=False)
    else:
        click.echo("no suggestions are waiting for review")


def _known_claim(con: duckdb.DuckDBPyConnection, claim_id: str, claims: Path) -> bool:
    """Whether `claim_id` is a claim of the warehouse (removed from the catalog or not) or
    of the claims file: a claim with nothing pending is no mistake, an unknown id is."""
    from claimwatch.exceptions import ClaimwatchError
    from claimwatch.matching.catalog import load_catalog
    from claimwatch.store.connection import has_table

    query = "SELECT count(*) FROM claims WHERE id = ?"
    if has_table(con, "claims") and con.execute(query, [claim_id]).fetchall()[0][0]:
        return True
    try:  # a claim added to the file since the last pass
        return any(c.id == claim_id for c in load_catalog(claims).claims)
    except ClaimwatchError:  # no usable catalog here: the warehouse alone decides
        return False


def _csv_columns() -> list[str]:
    from claimwatch.store.review_queue import DETAIL_COLUMNS
    from claimwatch.store.reviews import PENDING_COLUMNS

    return [*PENDING_COLUMNS, *DETAIL_COLUMNS, "decision", "note"]


def _plain(row: dict[str, Any], *, signals_as_text: bool = False) -> dict[str, Any]:
    plain = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()}
    if signals_as_text:
        plain["signals"] = json.dumps(plain.get("signals") or {}, sort_keys=True)
    return plain


Work = Callable[[duckdb.DuckDBPyConnection, datetime], list[str]]


def _in_one_transaction(db: Path | None, work: Work) -> list[str]:
    """Run `work` (which records decisions) in one transaction: all of it, or nothing if
    an id or a claim is wrong. Returns the lines to print."""
    from claimwatch.dates import utcnow
    from claimwatch.store.connection import migrate, write
    from claimwatch.store.lake import exists
    from claimwatch.store.warehouse_sql import migrations_dir

    announce_waits()
    settings = settings_from(db=db)
    if not exists(settings.db):
        raise click.ClickException(f"{settings.db}: no warehouse here (set --db)")
    migrate(settings.db, migrations_dir())
    return write(
        settings.db,
        f"{settings.db}: review not recorded",
        lambda con: work(con, utcnow()),
        wait=settings.lock_wait,
    )


def _record(
    db: Path | None,
    decisions: dict[str, list[tuple[str, str | None]]],
    who: str,
    check: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> None:
    """Record decisions by id, in one transaction, after `check` (which may refuse them)."""
    from claimwatch.store.reviews import decide

    def work(con: duckdb.DuckDBPyConnection, now: datetime) -> list[str]:
        if check is not None:
            check(con)
        said = []
        for decision, items in decisions.items():
            by_note: dict[str | None, list[str]] = {}
            for suggestion_id, note in items:
                by_note.setdefault(note, []).append(suggestion_id)
            for note, ids in by_note.items():
                decide(con, ids, decision, reviewer=who, note=note, now=now)
            said.append(outcome(decision, len(items)))
        return said

    for line in _in_one_transaction(db, work):
        click.echo(line)


def _decide(
    decision: str,
    ids: tuple[str, ...],
    selection: dict[str, Any],
    note: str | None,
    who: str,
    db: Path | None,
) -> None:
    """Decide the suggestions named by id, or every pending one the selection picks."""
    chosen = {k: v for k, v in selection.items() if v is not None}
    if ids and chosen:
        raise click.ClickException(
            "give suggestion ids or --claim/--above/--below, not both: "
            "the ids are decided whatever the options"
        )
    if not ids and not chosen:
        raise click.ClickException(
            f"name what to {decision}: suggestion ids, --claim ID, --above SCORE or "
            "--below SCORE (see `claimwatch review` for the pending ones)"
        )
    if ids:
        _record(db, {decision: [(i, note) for i in ids]}, who)
        return
    from claimwatch.store.review_queue import select_pending
    from claimwatch.store.reviews import decide

    words = " ".join(
        f"--{k} {v:g}" if isinstance(v, float) else f"--{k} {v}" for k, v in chosen.items()
    )

    def work(con: duckdb.DuckDBPyConnection, now: datetime) -> list[str]:
        picked = select_pending(
            con, claim_id=chosen.get("claim"), above=chosen.get("above"), below=chosen.get("below")
        )
        if not picked:
            return [f"no pending suggestion matches {words}: nothing recorded"]
        decide(con, picked, decision, reviewer=who, note=note, now=now)
        return [outcome(decision, len(picked), f" ({words})")]

    for line in _in_one_transaction(db, work):
        click.echo(line)


@review_group.command("confirm")
@click.argument("ids", nargs=-1)
@selection_options("Confirm")
@note_option
@reviewer_option
@db_option
def confirm(
    ids: tuple[str, ...],
    claim_id: str | None,
    above: float | None,
    below: float | None,
    note: str | None,
    reviewer: str,
    db: Path | None,
) -> None:
    """Confirm suggestions: each becomes a match of its claim.

    Name them by id, or select every pending one of a claim (--claim) and/or scored
    over or under a value (--above, --below; both: between). All are recorded in one
    transaction, or none if an id is wrong.

    Examples:

        claimwatch review confirm 3f2a9c01d4e7 b81c0e5a2f93 --note "same claim, reworded"

        claimwatch review confirm --claim ukraine-today-asia-tomorrow --above 60
    """
    _decide("confirm", ids, {"claim": claim_id, "above": above, "below": below}, note, reviewer, db)


@review_group.command("reject")
@click.argument("ids", nargs=-1)
@selection_options("Reject")
@note_option
@reviewer_option
@db_option
def reject(
    ids: tuple[str, ...],
    claim_id: str | None,
    above: float | None,
    below: float | None,
    note: str | None,
    reviewer: str,
    db: Path | None,
) -> None:
    """Reject suggestions: never suggested again, nor near-identical sentences.

    Name them by id, or select every pending one of a claim (--claim) and/or scored
    over or under a value (--above, --below).

    Examples:

        claimwatch review reject 3f2a9c01d4e7 --note "mentions the slogan to refute it"

        claimwatch review reject --below 25
    """
    _decide("reject", ids, {"claim": claim_id, "above": above, "below": below}, note, reviewer, db)


@review_group.command("move")
@click.argument("suggestion_id", metavar="ID")
@click.argument("claim_id", metavar="CLAIM")
@note_option
@reviewer_option
@db_option
def move_command(
    suggestion_id: str, claim_id: str, note: str | None, reviewer: str, db: Path | None
) -> None:
    """File a suggestion under another claim: it becomes a match of CLAIM, confirmed by you.

    For a sentence suggested for the wrong claim of the catalog. It leaves the queue,
    and later passes learn from it as from a confirmation of CLAIM.

    Example:

        claimwatch review move 3f2a9c01d4e7 ukraine-today-asia-tomorrow --note "the Asia slogan"
    """
    from claimwatch.store.review_queue import move, moved

    def work(con: duckdb.DuckDBPyConnection, now: datetime) -> list[str]:
        was = move(con, suggestion_id, claim_id, reviewer=reviewer, note=note, now=now)
        return [moved(suggestion_id, was, claim_id)]

    for line in _in_one_transaction(db, work):
        click.echo(line)


@review_group.command("import")
@click.argument("file", type=PATH)
@reviewer_option
@db_option
def import_decisions(file: Path, reviewer: str, db: Path | None) -> None:
    """Record the decisions of a CSV file (columns id, decision, note), as written by
    `claimwatch review --format csv` and filled in: decision is confirm, reject or blank.

    Example:

        claimwatch review import pending.csv
    """
    from claimwatch.store.reviews import (
        SEE_PENDING,
        ReviewError,
        by_decision,
        not_pending,
        read_decision_sheet,
        unknown_ids,
    )

    rows = read_decision_sheet(file)
    if not rows:
        raise click.ClickException(f"{file}: no decision filled in (confirm or reject)")
    line_of = {row.suggestion_id: row.line for row in rows}

    def check(con: duckdb.DuckDBPyConnection) -> None:
        """Every id of the sheet pending, or an error naming the lines of those that are not."""
        missing = not_pending(con, list(line_of))
        if not missing:
            return
        if len(missing) == 1:
            where = f"{file}: line {line_of[missing[0]]}: {unknown_ids(missing)}"
        else:
            where = f"{file}: {unknown_ids(missing, [line_of[i] for i in missing])}"
        raise ReviewError(f"{where}: {SEE_PENDING}")

    _record(db, by_decision(rows), reviewer, check)
