"""The `claimwatch` command line: a thin layer over the library, one module per command family."""

from __future__ import annotations

from typing import Any

import click

from claimwatch import __version__
from claimwatch.cli.claims import claims_group
from claimwatch.cli.common import OneLineErrors
from claimwatch.cli.digest import digest_command
from claimwatch.cli.evaluate import evaluate_command
from claimwatch.cli.pipeline import match, migrate, rematch, run, serve
from claimwatch.cli.prefect_env import set_prefect_defaults, startup_failure
from claimwatch.cli.reports import report, sql
from claimwatch.cli.review import review_group
from claimwatch.cli.warehouse import warehouse_group

__all__ = ["cli"]


class ClaimwatchGroup(OneLineErrors):
    """The top command: also Prefect's temporary server failing to start, in one line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RuntimeError as exc:
            message = startup_failure(exc)
            if message is None:
                raise
            raise click.ClickException(message) from None


@click.group(cls=ClaimwatchGroup)
@click.version_option(__version__, prog_name="claimwatch")
def cli() -> None:
    """Monitor which outlets repeat which claims.

    Sources (feeds) are read, new articles fetched and extracted, the claims of
    a catalog found in them, and every match stored with its evidence in DuckDB.
    """
    # Before any command imports Prefect, which reads them once.
    set_prefect_defaults()


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
    warehouse_group,
):
    cli.add_command(command)
