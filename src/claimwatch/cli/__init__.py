"""The `claimwatch` command line: a thin layer over the library, one module per command family."""

from __future__ import annotations

import click

from claimwatch import __version__
from claimwatch.cli.claims import claims_group
from claimwatch.cli.common import OneLineErrors
from claimwatch.cli.digest import digest_command
from claimwatch.cli.evaluate import evaluate_command
from claimwatch.cli.pipeline import match, migrate, rematch, run, serve
from claimwatch.cli.reports import report, sql
from claimwatch.cli.review import review_group

__all__ = ["cli"]


@click.group(cls=OneLineErrors)
@click.version_option(__version__, prog_name="claimwatch")
def cli() -> None:
    """Monitor which outlets repeat which claims.

    Sources (feeds) are read, new articles fetched and extracted, the claims of
    a catalog found in them, and every match stored with its evidence in DuckDB.
    """


for command in (
    claims_group,
    digest_command,
    evaluate_command,
    match,
    migrate,
    rematch,
    report,
    review_group,
    run,
    serve,
    sql,
):
    cli.add_command(command)
