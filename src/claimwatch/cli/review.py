"""`claimwatch review`: the suggestions waiting for a person, and their decisions."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import click

from claimwatch.cli.common import PATH, announce_waits, db_option, settings_from
from claimwatch.output.tables import render

LIST_FORMATS = ("table", "json", "csv")
TABLE_COLUMNS = ("id", "claim_id", "score", "outlet", "matched_text")


def _reviewer() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        return "unknown"


note_option = click.option("--note", help="Why: kept with the decision.")
reviewer_option = click.option(
    "--reviewer", default=_reviewer, show_default="your user name", help="Who decided."
)


@click.group("review", invoke_without_command=True)
@db_option
@click.option("--claim", "claim_id", help="Only the suggestions of this claim.")
@click.option(
    "--format", "fmt", type=click.Choice(LIST_FORMATS), default="table", show_default=True
)
@click.pass_context
def review_group(ctx: click.Context, db: Path | None, claim_id: str | None, fmt: str) -> None:
    """Suggestions waiting for review: sentences close in meaning to a claim.

    Lists the pending ones, best first, each with an id to confirm or reject.
    --format json writes objects with id, claim_id, claim_text, article_url, title,
    outlet, score, matched_text, snippet and suggested_at; --format csv adds empty
    decision and note columns, to fill in a spreadsheet and read back with
    `claimwatch review import`.

    Examples:

        claimwatch review --claim where-nato-goes-war-is-most-likely

        claimwatch review confirm 3f2a9c01d4e7 --note "restates the slogan"

        claimwatch review --format csv > pending.csv    # then: claimwatch review import pending.csv
    """
    if ctx.invoked_subcommand is not None:
        return
    from claimwatch.store.connection import connect
    from claimwatch.store.reviews import PENDING_COLUMNS, pending

    announce_waits()
    settings = settings_from(db=db)
    with connect(settings.db, read_only=True, wait=settings.lock_wait) as con:
        rows = pending(con, claim_id)
    if fmt == "json":
        click.echo(json.dumps([_plain(r) for r in rows], indent=2, ensure_ascii=False))
    elif fmt == "csv":
        columns = [*PENDING_COLUMNS, "decision", "note"]
        click.echo(render(columns, [[*r.values(), "", ""] for r in rows], "csv"), nl=False)
    elif rows:
        click.echo(render(TABLE_COLUMNS, [[r[c] for c in TABLE_COLUMNS] for r in rows]))
    else:
        click.echo("no suggestions are waiting for review")


def _plain(row: dict[str, object]) -> dict[str, object]:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()}


def _record(db: Path | None, decisions: dict[str, list[tuple[str, str | None]]], who: str) -> None:
    """Record decisions in one transaction: all of them, or none if an id is wrong."""
    from claimwatch.dates import utcnow
    from claimwatch.store.connection import connect, transaction
    from claimwatch.store.migrations import apply_migrations
    from claimwatch.store.reviews import decide
    from claimwatch.store.warehouse_sql import migrations_dir

    announce_waits()
    settings = settings_from(db=db)
    if not settings.db.exists():
        raise click.ClickException(f"{settings.db}: no warehouse here (set --db)")
    now = utcnow()
    counts = {}
    with connect(settings.db, wait=settings.lock_wait) as con:
        apply_migrations(con, migrations_dir())
        with transaction(con, f"{settings.db}: review not recorded"):
            for decision, items in decisions.items():
                by_note: dict[str | None, list[str]] = {}
                for suggestion_id, note in items:
                    by_note.setdefault(note, []).append(suggestion_id)
                for note, ids in by_note.items():
                    decide(con, ids, decision, reviewer=who, note=note, now=now)
                counts[decision] = len(items)
    if counts.get("confirm"):
        click.echo(f"confirmed {counts['confirm']}: now in claim_matches and the next digest")
    if counts.get("reject"):
        click.echo(f"rejected {counts['reject']}: not suggested again")


@review_group.command("confirm")
@click.argument("ids", nargs=-1, required=True)
@note_option
@reviewer_option
@db_option
def confirm(ids: tuple[str, ...], note: str | None, reviewer: str, db: Path | None) -> None:
    """Confirm suggestions by id: each becomes a match of its claim.

    Example:

        claimwatch review confirm 3f2a9c01d4e7 b81c0e5a2f93 --note "same claim, reworded"
    """
    _record(db, {"confirm": [(i, note) for i in ids]}, reviewer)


@review_group.command("reject")
@click.argument("ids", nargs=-1, required=True)
@note_option
@reviewer_option
@db_option
def reject(ids: tuple[str, ...], note: str | None, reviewer: str, db: Path | None) -> None:
    """Reject suggestions by id: never suggested again, nor near-identical sentences.

    Example:

        claimwatch review reject 3f2a9c01d4e7 --note "mentions the slogan to refute it"
    """
    _record(db, {"reject": [(i, note) for i in ids]}, reviewer)


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
    from claimwatch.store.reviews import read_decision_file

    decisions = read_decision_file(file)
    if not decisions:
        raise click.ClickException(f"{file}: no decision filled in (confirm or reject)")
    _record(db, decisions, reviewer)
