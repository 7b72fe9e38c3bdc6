"""The command-line reference page, written from the Click commands themselves.

    python -m claimwatch.cli.reference > docs/reference/cli.md

tests/test_docs.py checks that the checked-in page equals what this writes now, so a
command or an option added without regenerating the page fails the suite.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator

import click

HEADER = """\
<!-- Generated from the commands by `python -m claimwatch.cli.reference`
     (`make docs` runs it): do not edit by hand. -->

# Command line

Every command and option of `claimwatch`, as its `--help` gives them (every
command has `--help`, with an example). `make`
installs the command as `.venv/bin/claimwatch`; `source .venv/bin/activate`
puts it on your `PATH`. Each path option falls back on a `CLAIMWATCH_*`
setting (see [Configuration](configuration.md)), and errors are one line,
with exit status 1.
"""
# Markdown's special characters in prose, outside `code spans`.
ESCAPES = {"\\": "\\\\", "*": "\\*", "<": "&lt;", ">": "&gt;"}
CODE_SPAN = re.compile(r"(`[^`]*`)")


def walk(
    command: click.Command, ctx: click.Context
) -> Iterator[tuple[click.Command, click.Context]]:
    """Every command users call, depth first: a group before its subcommands."""
    yield command, ctx
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from walk(sub, click.Context(sub, info_name=name, parent=ctx))


def prose(text: str) -> str:
    """Help text as Markdown prose: special characters escaped, code spans kept."""
    parts = CODE_SPAN.split(text)
    return "".join(
        part if part.startswith("`") else "".join(ESCAPES.get(c, c) for c in part) for part in parts
    )


def help_blocks(text: str) -> list[str]:
    """A docstring as Markdown blocks: paragraphs as prose, indented examples (and Click's
    \\b paragraphs) as code, consecutive examples in one block."""
    blocks: list[str] = []
    code: list[str] = []

    def flush() -> None:
        if code:
            blocks.append("```sh\n" + "\n".join(code) + "\n```")
            code.clear()

    paragraphs = re.split(r"\n\s*\n", inspect.cleandoc(text.split("\f", 1)[0]))
    for paragraph in paragraphs:
        lines = paragraph.splitlines()
        # Click's no-rewrap marker: the backspace character "\b" alone on a line.
        if lines and lines[0].strip() in ("\b", "\\b"):
            lines = lines[1:]
            if not all(line.startswith(" ") for line in lines):
                flush()
                blocks.append("```text\n" + "\n".join(lines) + "\n```")
                continue
        if lines and all(line.startswith(" ") for line in lines):
            indent = min(len(line) - len(line.lstrip()) for line in lines)
            code.extend(line[indent:] for line in lines)
        else:
            flush()
            blocks.append(prose(" ".join(line.strip() for line in lines)))
    flush()
    return blocks


def section(command: click.Command, ctx: click.Context) -> str:
    """One command's section: usage, help, subcommands and options."""
    usage = " ".join([ctx.command_path, *command.collect_usage_pieces(ctx)])
    parts = [f"## {ctx.command_path}", f"```text\n{usage}\n```"]
    parts.extend(help_blocks(command.help or ""))
    if isinstance(command, click.Group):
        names = [
            n
            for n in command.list_commands(ctx)
            if (sub := command.get_command(ctx, n)) is not None and not sub.hidden
        ]
        links = ", ".join(f"[{n}](#{slug(f'{ctx.command_path} {n}')})" for n in names)
        parts.append(f"Commands: {links}.")
    help_option = command.get_help_option(ctx)
    records = [
        record
        for param in command.get_params(ctx)
        if param is not help_option and (record := param.get_help_record(ctx)) is not None
    ]
    if records:
        items = [
            f"- `{spelling}`" + (f": {prose(text)}" if text else "") for spelling, text in records
        ]
        parts.append("Options:\n\n" + "\n".join(items))
    return "\n\n".join(parts) + "\n"


def slug(heading: str) -> str:
    """The anchor MkDocs and GitHub give a plain heading of words and spaces."""
    return re.sub(r"[^\w-]", "", heading.lower().replace(" ", "-"))


def page(root: click.Group, name: str = "claimwatch") -> str:
    """The whole reference: an index of commands, then one section each."""
    top = click.Context(root, info_name=name)
    commands = list(walk(root, top))
    index = [
        f"- [{ctx.command_path}](#{slug(ctx.command_path)}): {prose(cmd.get_short_help_str(200))}"
        for cmd, ctx in commands[1:]
    ]
    sections = [section(cmd, ctx) for cmd, ctx in commands]
    return "\n".join([HEADER, "\n".join(index) + "\n", *sections])


def main() -> None:
    from claimwatch.cli import cli

    click.echo(page(cli), nl=False)


if __name__ == "__main__":
    main()
