"""`claimwatch claims`: the catalog, listed and checked."""

from __future__ import annotations

from pathlib import Path

import click

from claimwatch.cli.common import PATH, settings_from
from claimwatch.matching.catalog import EXPORT_FORMATS, export_catalog, load_catalog
from claimwatch.output.tables import FORMATS, render


@click.group("claims")
def claims_group() -> None:
    """List, validate and export the claim catalog."""


@claims_group.command("list")
@click.option("--claims", "path", type=PATH, help="Claims file [env CLAIMWATCH_CLAIMS].")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
def claims_list(path: Path | None, fmt: str) -> None:
    """List the claims of the catalog.

    Example:

        claimwatch claims list --format csv
    """
    catalog = load_catalog(settings_from(claims=path).claims)
    columns = ["id", "kind", "text", "variants", "attributed_to", "said_on", "tags"]
    rows = [
        (c.id, c.kind.value, c.text, len(c.variants), c.attributed_to, c.said_on, ",".join(c.tags))
        for c in catalog.claims
    ]
    click.echo(render(columns, rows, fmt))


@claims_group.command("validate")
@click.option("--claims", "path", type=PATH, help="Claims file [env CLAIMWATCH_CLAIMS].")
def claims_validate(path: Path | None) -> None:
    """Check a claims file: OK, or every problem in it, one line each.

    Prints OK with the numbers of claims, variants and documents; otherwise lists
    every problem found, one line each naming the file and where (line and column,
    or claim and field), and exits with status 1.

    Example:

        claimwatch claims validate --claims my-claims.yaml
    """
    settings = settings_from(claims=path)
    catalog = load_catalog(settings.claims)
    variants = sum(len(c.variants) for c in catalog.claims)
    click.echo(
        f"{settings.claims}: OK: {len(catalog.claims)} claims, {variants} variants, "
        f"{len(catalog.documents)} documents"
    )


@claims_group.command("export")
@click.option("--claims", "path", type=PATH, help="Claims file [env CLAIMWATCH_CLAIMS].")
@click.option(
    "--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="yaml", show_default=True
)
@click.option("--output", type=PATH, help="Write to this file instead of standard output.")
def claims_export(path: Path | None, fmt: str, output: Path | None) -> None:
    """Write the catalog as YAML, CSV, TSV or JSON lines; any of them loads back.

    Example:

        claimwatch claims export --claims fact-checks.jsonl --format csv --output claims.csv
    """
    text = export_catalog(load_catalog(settings_from(claims=path).claims), fmt)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
