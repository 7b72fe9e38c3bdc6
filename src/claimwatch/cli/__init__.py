"""The `claimwatch` command line: a thin layer over the library, one module per command family."""

from __future__ import annotations

import importlib
from typing import Any

import click

from claimwatch import __version__
from claimwatch.cli.common import OneLineErrors
from claimwatch.cli.prefect_env import set_prefect_defaults, startup_failure

__all__ = ["cli"]

# Each command and where it is defined, imported only when it runs or help lists it: a
# command then loads what it needs alone (`report` neither the pass nor the digest
# channels), which takes a third of a second off every command's start.
COMMANDS = {
    "claims": "claimwatch.cli.claims:claims_group",
    "digest": "claimwatch.cli.digest:digest_command",
    "eval": "claimwatch.cli.evaluate:evaluate_command",
    "index": "claimwatch.cli.archive:index_command",
    "match": "claimwatch.cli.pipeline:match",
    "migrate": "claimwatch.cli.pipeline:migrate",
    "rematch": "claimwatch.cli.pipeline:rematch",
    "report": "claimwatch.cli.reports:report",
    "review": "claimwatch.cli.review:review_group",
    "run": "claimwatch.cli.pipeline:run",
    "search": "claimwatch.cli.archive:search_command",
    "serve": "claimwatch.cli.pipeline:serve",
    "sql": "claimwatch.cli.reports:sql",
    "ui": "claimwatch.cli.ui:ui_group",
    "warehouse": "claimwatch.cli.warehouse:warehouse_group",
}


class ClaimwatchGroup(OneLineErrors):
    """The top command: its commands imported when asked for, and Prefect's temporary
    server failing to start said in one line."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, name = target.split(":")
        command = getattr(importlib.import_module(module), name)
        assert isinstance(command, click.Command) and command.name == cmd_name, target
        return command

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
