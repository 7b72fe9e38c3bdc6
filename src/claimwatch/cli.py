"""The `claimwatch` command line: a thin layer over the library."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from claimwatch import __version__
from claimwatch.catalog import load_catalog
from claimwatch.exceptions import ClaimwatchError
from claimwatch.output import FORMATS, render
from claimwatch.settings import Settings, load_settings

_PATH = click.Path(path_type=Path, dir_okay=False)


def _settings(**overrides: Any) -> Settings:
    try:
        return load_settings(**overrides)
    except ValueError as exc:  # pydantic's ValidationError for a bad CLAIMWATCH_* value
        first = str(exc).splitlines()
        raise click.ClickException(
            f"bad setting in the environment: {' '.join(first[:3])}"
        ) from None


class _OneLineErrors(click.Group):
    """Turns claimwatch's own errors into one-line messages, never tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ClaimwatchError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_OneLineErrors)
@click.version_option(__version__, prog_name="claimwatch")
def cli() -> None:
    """Monitor which outlets repeat which claims.

    Sources (feeds) are read, new articles fetched and extracted, the claims of
    a catalog found in them, and every match stored with its evidence in DuckDB.
    """


@cli.command()
@click.option(
    "--sources", type=_PATH, help="Sources file [env CLAIMWATCH_SOURCES; seeds/sources.yaml]."
)
@click.option(
    "--claims", type=_PATH, help="Claims file [env CLAIMWATCH_CLAIMS; seeds/claims.yaml]."
)
@click.option(
    "--db", type=_PATH, help="Warehouse [env CLAIMWATCH_DB; warehouse/claimwatch.duckdb]."
)
def run(sources: Path | None, claims: Path | None, db: Path | None) -> None:
    """Run one monitoring pass and print the matches it added.

    Failing sources and pages are recorded and listed; the pass goes on.

    Example:

        claimwatch run --sources seeds/sources.yaml --db /tmp/cw.duckdb
    """
    from claimwatch.reports import get_report, run_report
    from claimwatch.sources import load_sources

    settings = _settings(sources=sources, claims=claims, db=db)
    # Validate both files before Prefect starts, so a bad file costs one line and writes nothing.
    load_sources(settings.sources)
    load_catalog(settings.claims)
    summary = _load_flow(settings, "monitor")(
        sources=str(settings.sources), claims=str(settings.claims), db=str(settings.db)
    )
    stats = summary.stats
    click.echo(
        f"\nPass {stats.status}: {stats.sources_total} sources, {stats.items_seen} links, "
        f"{stats.pages_skipped} already stored, {stats.articles_new} new articles, "
        f"{stats.matches_new} new matches, {stats.failures} failures."
    )
    for failure in summary.failures:
        click.echo(f"  failed [{failure.stage}] {failure.source}: {failure.url}: {failure.reason}")
    report = get_report(settings.warehouse_dir / "reports", "run-matches")
    result = run_report(settings.db, report, {"run_id": stats.run_id})
    if result.rows:
        click.echo(f"\nNew matches ({len(result.rows)}):")
        click.echo(render(result.columns, result.rows, "table"))
    else:
        click.echo("\nNo new matches. Stored ones: claimwatch report latest-matches")


def _load_flow(settings: Settings, name: str) -> Any:
    """Load a flow from flows/ the way Prefect deployments do, by entrypoint."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "claimwatch")
    from prefect.flows import load_flow_from_entrypoint

    path = settings.flows_dir / f"{name}.py"
    if not path.is_file():
        raise click.ClickException(f"{path}: flow file not found (set CLAIMWATCH_FLOWS_DIR)")
    return load_flow_from_entrypoint(f"{path}:{name}")


@cli.command()
@click.option(
    "--claims", type=_PATH, help="Claims file [env CLAIMWATCH_CLAIMS; seeds/claims.yaml]."
)
@click.option(
    "--top", type=click.IntRange(min=1), help="Rank: the K best claims per text, any score."
)
@click.option("--threshold", type=click.FloatRange(0, 100), help="Minimum score (default 88).")
def match(claims: Path | None, top: int | None, threshold: float | None) -> None:
    """Find claims in texts: JSON lines in, one JSON line per match out.

    Each input line is {"id": ..., "text": ...} (optionally "title"). Each output
    line is {"id", "claim_id", "score", "matched_text", "start", "end", "field",
    "variant", "parts"}; start and end are offsets into the field ("text" or
    "title"); parts are the scores the match was judged on.

    Example:

        echo '{"id": 1, "text": "They say: where NATO goes, war is most likely."}' \\
          | claimwatch match
    """
    from claimwatch.match import Matcher

    settings = _settings(claims=claims, match_threshold=threshold)
    matcher = Matcher(load_catalog(settings.claims), threshold=settings.match_threshold)
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            text = record["text"]
            if not isinstance(record, dict) or not isinstance(text, str):
                raise TypeError
        except json.JSONDecodeError as exc:
            raise click.ClickException(f"stdin line {number}: invalid JSON: {exc.msg}") from None
        except (KeyError, TypeError):
            raise click.ClickException(
                f'stdin line {number}: expected an object with a "text" string'
            ) from None
        title = record.get("title") if isinstance(record.get("title"), str) else None
        hits = matcher.rank(text, title=title, top=top) if top else matcher.find(text, title=title)
        for hit in hits:
            click.echo(
                json.dumps(
                    {
                        "id": record.get("id"),
                        "claim_id": hit.claim_id,
                        "score": hit.score,
                        "matched_text": hit.matched_text,
                        "start": hit.start,
                        "end": hit.end,
                        "field": hit.field,
                        "variant": hit.variant,
                        "parts": hit.parts,
                    },
                    ensure_ascii=False,
                )
            )


@cli.group()
def claims() -> None:
    """List and validate the claim catalog."""


@claims.command("list")
@click.option("--claims", "path", type=_PATH, help="Claims file [env CLAIMWATCH_CLAIMS].")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
def claims_list(path: Path | None, fmt: str) -> None:
    """List the claims of the catalog.

    Example:

        claimwatch claims list --format csv
    """
    catalog = load_catalog(_settings(claims=path).claims)
    columns = ["id", "kind", "text", "variants", "attributed_to", "said_on", "tags"]
    rows = [
        (c.id, c.kind.value, c.text, len(c.variants), c.attributed_to, c.said_on, ",".join(c.tags))
        for c in catalog.claims
    ]
    click.echo(render(columns, rows, fmt))


@claims.command("validate")
@click.option("--claims", "path", type=_PATH, help="Claims file [env CLAIMWATCH_CLAIMS].")
def claims_validate(path: Path | None) -> None:
    """Check a claims file; exit non-zero with the first problem.

    Example:

        claimwatch claims validate --claims my-claims.yaml
    """
    settings = _settings(claims=path)
    catalog = load_catalog(settings.claims)
    variants = sum(len(c.variants) for c in catalog.claims)
    click.echo(
        f"{settings.claims}: OK: {len(catalog.claims)} claims, {variants} variants, "
        f"{len(catalog.documents)} documents"
    )


@cli.command()
@click.argument("name", required=False)
@click.option("--list", "list_all", is_flag=True, help="List the reports and their parameters.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option(
    "-p",
    "--param",
    "params",
    type=(str, str),
    multiple=True,
    metavar="KEY VALUE",
    help="A report parameter; repeat for more.",
)
@click.option(
    "--db", type=_PATH, help="Warehouse [env CLAIMWATCH_DB; warehouse/claimwatch.duckdb]."
)
def report(
    name: str | None, list_all: bool, fmt: str, params: tuple[tuple[str, str], ...], db: Path | None
) -> None:
    """Run a named report (SQL in warehouse/reports/) against the warehouse.

    Examples:

        claimwatch report --list

        claimwatch report latest-matches -p limit 5 -p include_sample false

        claimwatch report matches-per-claim --format csv > per-claim.csv
    """
    from claimwatch.reports import get_report, list_reports, run_report

    settings = _settings(db=db)
    directory = settings.warehouse_dir / "reports"
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
                        for p in r.parameters
                    ],
                }
                for r in reports
            ]
            click.echo(json.dumps(listing, indent=2))
            return
        rows = [
            (r.name, r.title, ", ".join(f"{p.name}={p.default}" for p in r.parameters))
            for r in reports
        ]
        click.echo(render(["name", "title", "parameters"], rows, fmt))
        return
    result = run_report(settings.db, get_report(directory, name), dict(params))
    click.echo(render(result.columns, result.rows, fmt))


@cli.command("eval")
@click.option(
    "--data",
    type=_PATH,
    default=Path("tests/data/devset.jsonl"),
    show_default=True,
    help="Labelled set: JSON lines {id, claim_id, tier, label, text}.",
)
@click.option(
    "--claims", type=_PATH, help="Claims file [env CLAIMWATCH_CLAIMS; seeds/claims.yaml]."
)
@click.option("--threshold", type=click.FloatRange(0, 100), help="Default threshold (88).")
@click.option(
    "--show",
    type=click.IntRange(min=0),
    default=15,
    show_default=True,
    help="How many misses and false hits to list.",
)
def evaluate_command(data: Path, claims: Path | None, threshold: float | None, show: int) -> None:
    """Measure the matcher on a labelled set: precision and recall per tier and
    per claim, the misses and false hits with their scores, and a threshold sweep.

    Example:

        claimwatch eval --data tests/data/devset.jsonl --threshold 85
    """
    from claimwatch.evaluate import evaluate, load_judgements, sweep
    from claimwatch.match import Matcher

    settings = _settings(claims=claims, match_threshold=threshold)
    catalog = load_catalog(settings.claims)
    matcher = Matcher(catalog, threshold=settings.match_threshold)
    result = evaluate(matcher, load_judgements(data, catalog))

    def rate(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    def counts_row(name: str, c: Any) -> tuple:
        return (name, c.total, c.tp, c.fp, c.fn, rate(c.precision), rate(c.recall))

    columns = ["", "judgements", "tp", "fp", "fn", "precision", "recall"]
    click.echo(
        f"{data}: {len(result.outcomes)} judgements; default threshold "
        f"{settings.match_threshold:g}\n"
    )
    tiers = [counts_row(t, c) for t, c in sorted(result.by_tier.items(), key=_tier_order)]
    click.echo(render(columns, [*tiers, counts_row("all", result.overall)]))
    click.echo("\nPer claim:")
    click.echo(render(columns, [counts_row(k, c) for k, c in sorted(result.by_claim.items())]))
    for title, outcomes in (("Misses", result.misses), ("False hits", result.false_hits)):
        click.echo(f"\n{title} ({len(outcomes)}):")
        rows = [
            (o.judgement.id, o.judgement.tier, o.judgement.claim_id, o.score, o.judgement.text)
            for o in sorted(outcomes, key=lambda o: -o.score)[:show]
        ]
        click.echo(render(["id", "tier", "claim_id", "score", "text"], rows))
    click.echo("\nThreshold sweep (every claim at the same threshold, ranking-mode scores):")
    sweep_rows = [
        (t, rate(c.precision), rate(c.recall)) for t, c in sweep(result.outcomes, range(70, 100, 2))
    ]
    click.echo(render(["threshold", "precision", "recall"], sweep_rows))


def _tier_order(item: tuple[str, Any]) -> int:
    from claimwatch.evaluate import TIERS

    return TIERS.index(item[0])
