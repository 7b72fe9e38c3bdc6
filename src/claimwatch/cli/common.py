"""What the commands share: path options, settings from the environment, output to a file."""

from __future__ import annotations

import io
import logging
import sys
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from claimwatch.exceptions import ClaimwatchError
from claimwatch.output.tables import FORMATS
from claimwatch.settings import Settings, load_settings

PATH = click.Path(path_type=Path, dir_okay=False)
# Options several commands share; the environment and defaults come from Settings.
sources_option = click.option(
    "--sources", type=PATH, help="Sources file [env CLAIMWATCH_SOURCES; seeds/sources.yaml]."
)
claims_option = click.option(
    "--claims", type=PATH, help="Claims file [env CLAIMWATCH_CLAIMS; seeds/claims.yaml]."
)
db_option = click.option(
    "--db",
    type=click.Path(path_type=Path),
    help="Warehouse: a folder, or a postgres: catalog [env CLAIMWATCH_DB; warehouse/lake].",
)


def user_name() -> str:
    """Who runs the command, to record with a decision: the login name."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        return "unknown"


def settings_from(**overrides: Any) -> Settings:
    """Settings: the command's options over the environment; a bad value costs one line."""
    try:
        return load_settings(**overrides)
    except ValidationError as exc:  # a bad CLAIMWATCH_* value
        problem = _first_problem(exc)
        raise click.ClickException(f"bad setting in the environment: {problem}") from None


def _first_problem(exc: ValidationError) -> str:
    """The first bad value as the variable that set it: `CLAIMWATCH_FETCH__RETRIES='x':
    Input should be a valid integer...`."""
    problem = exc.errors()[0]
    name = "CLAIMWATCH_" + "__".join(str(part) for part in problem["loc"]).upper()
    value = repr(problem.get("input"))
    if len(value) > 60:
        value = value[:57] + "..."
    return f"{name}={value}: {problem['msg']}"


class OneLineErrors(click.Group):
    """Turns claimwatch's own errors into one-line messages, never tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ClaimwatchError as exc:
            raise click.ClickException(str(exc)) from None


PARAM_OPTION = click.option(
    "-p",
    "--param",
    "params",
    type=(str, str),
    multiple=True,
    metavar="KEY VALUE",
    help="A parameter; repeat for more.",
)
OUTPUT_OPTION = click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False, writable=True),
    help="Write to this file instead of standard output.",
)
REPORT_FORMATS = (*FORMATS, "parquet", "html")


class _StderrHandler(logging.Handler):
    """Log records as bare lines on the command's standard error (looked up at each record)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(self.format(record), err=True)


def announce_waits() -> None:
    """Show the library's warnings (a busy warehouse being waited for) on stderr, once."""
    logger = logging.getLogger("claimwatch")
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler(logging.WARNING)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.WARNING:
        logger.setLevel(logging.WARNING)


def emit(data: str | bytes, output: Path | None) -> None:
    """Text or bytes to the output file, or to standard output."""
    if output is not None:
        try:
            if isinstance(data, bytes):
                output.write_bytes(data)
            else:
                output.write_text(data if data.endswith("\n") else data + "\n", encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(f"{output}: cannot write: {exc.strerror}") from None
        click.echo(f"Wrote {output}", err=True)
    elif isinstance(data, bytes):
        if sys.stdout.isatty():
            raise click.ClickException(
                "Parquet is binary: give --output FILE or redirect standard output"
            )
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        click.echo(data)


def parquet_bytes(table: Any) -> bytes:
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()
