"""The README documents what users call: every command with all its options, every report."""

from __future__ import annotations

import re
from collections.abc import Iterator

import click
import pytest

from claimwatch.cli import cli
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
REPORTS = sorted(p.stem for p in (ROOT / "warehouse" / "reports").glob("*.sql"))
# A command's synopsis: a bold code span that starts with its full name.
SYNOPSIS = re.compile(r"\*\*`(claimwatch [^`]+)`\*\*")


def commands(
    group: click.Group = cli, prefix: str = "claimwatch"
) -> Iterator[tuple[str, click.Command]]:
    """(full name, command) for every command users run, subcommands of groups included."""
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            yield from commands(command, path)
        else:
            yield path, command


def synopsis(path: str) -> str | None:
    for found in SYNOPSIS.finditer(README):
        text = found.group(1)
        if text == path or text.startswith(path + " "):
            return text
    return None


def options(command: click.Command) -> list[list[str]]:
    """Each option's spellings (`-p`, `--param`): a synopsis may use any of them."""
    return [p.opts for p in command.params if isinstance(p, click.Option) and p.name != "help"]


def documented(spellings: list[str], line: str) -> bool:
    return any(re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", line) for o in spellings)


COMMANDS = dict(commands())


def test_the_command_walk_sees_subcommands() -> None:
    assert {"claimwatch run", "claimwatch claims list", "claimwatch claims validate"} <= set(
        COMMANDS
    )


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_each_command_has_a_synopsis_with_every_option(path: str) -> None:
    line = synopsis(path)
    assert line is not None, f"README: no **`{path} ...`** synopsis"
    missing = [o[-1] for o in options(COMMANDS[path]) if not documented(o, line)]
    assert missing == [], f"README: the synopsis of {path} lacks {missing}"


def test_help_listing_names_every_command() -> None:
    listing = README[README.index("$ claimwatch --help") :].split("```", 1)[0]
    listed = re.findall(r"^  (\S+)  ", listing, flags=re.MULTILINE)
    assert listed == sorted(cli.commands)


@pytest.mark.parametrize("name", REPORTS)
def test_each_report_is_listed(name: str) -> None:
    assert re.search(rf"^{re.escape(name)}\s", README, flags=re.MULTILINE), (
        f"README: report {name} is not in the `claimwatch report --list` output"
    )


def test_a_missing_option_is_caught() -> None:
    line = synopsis("claimwatch run")
    assert line is not None and documented(["--sources"], line)
    assert not documented(["--top"], line) and not documented(["-s"], "--sources FILE")
