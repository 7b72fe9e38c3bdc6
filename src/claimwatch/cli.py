"""The `claimwatch` command line: a thin layer over the library."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from claimwatch import __version__
from claimwatch.exceptions import ClaimwatchError
from claimwatch.matching.catalog import load_catalog
from claimwatch.output.tables import FORMATS, render
from claimwatch.settings import Settings, load_settings

_PATH = click.Path(path_type=Path, dir_okay=False)
# Options several commands share; the environment and defaults come from Settings.
_sources_option = click.option(
    "--sources", type=_PATH, help="Sources file [env CLAIMWATCH_SOURCES; seeds/sources.yaml]."
)
_claims_option = click.option(
    "--claims", type=_PATH, help="Claims file [env CLAIMWATCH_CLAIMS; seeds/claims.yaml]."
)
_db_option = click.option(
    "--db", type=_PATH, help="Warehouse [env CLAIMWATCH_DB; warehouse/claimwatch.duckdb]."
)


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
@_sources_option
@_claims_option
@_db_option
def run(sources: Path | None, claims: Path | None, db: Path | None) -> None:
    """Run one monitoring pass and print the matches it added.

    Failing sources and pages are recorded and listed; the pass goes on.

    Example:

        claimwatch run --sources seeds/sources.yaml --db /tmp/cw.duckdb
    """
    from claimwatch.sources.config import load_sources
    from claimwatch.store.reports import get_report, run_report

    settings = _settings(sources=sources, claims=claims, db=db)
    # Validate both files before Prefect starts, so a bad file costs one line and writes nothing.
    load_sources(settings.sources)
    load_catalog(settings.claims)
    summary = _load_flow(settings, "monitor")(
        sources=str(settings.sources), claims=str(settings.claims), db=str(settings.db)
    )
    stats = summary.stats
    idle, unchanged = _quiet_sources(settings.db, stats.run_id)
    click.echo(
        f"\nPass {stats.status}: {stats.sources_total} sources ({idle} not due, {unchanged}"
        f" unchanged), {stats.items_seen} links, {stats.pages_skipped} already stored,"
        f" {stats.articles_new} new articles, {stats.matches_new} new matches,"
        f" {stats.failures} failures."
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


def _quiet_sources(db: Path, run_id: str) -> tuple[int, int]:
    """Sources of a pass that were not due yet, and those that answered "nothing new"."""
    from claimwatch.store.connection import connect

    with connect(db, read_only=True) as con:
        row = con.execute(
            "SELECT count(*) FILTER (WHERE NOT polled),"
            " count(*) FILTER (WHERE polled AND NOT failed AND ok = 0 AND not_modified > 0)"
            " FROM fetch_log WHERE run_id = ?",
            [run_id],
        ).fetchone()
    return (row[0], row[1]) if row else (0, 0)


def _prepare_prefect() -> None:
    """Environment Prefect reads when first imported; child processes inherit it."""
    from claimwatch.logs import route_to_prefect

    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    route_to_prefect()


def _load_flow(settings: Settings, name: str) -> Any:
    """Load a flow from flows/ the way Prefect deployments do, by entrypoint."""
    _prepare_prefect()
    from prefect.flows import load_flow_from_entrypoint

    path = settings.flows_dir / f"{name}.py"
    if not path.is_file():
        raise click.ClickException(f"{path}: flow file not found (set CLAIMWATCH_FLOWS_DIR)")
    return load_flow_from_entrypoint(f"{path}:{name}")


@cli.command()
@_sources_option
@_claims_option
@_db_option
def serve(sources: Path | None, claims: Path | None, db: Path | None) -> None:
    """Run the schedules: serve the deployments to a Prefect server until stopped.

    Registers monitor (every CLAIMWATCH_MONITOR_INTERVAL_MINUTES, default 30),
    rematch (on demand) and digest (CLAIMWATCH_DIGEST_CRON in CLAIMWATCH_TIMEZONE,
    default 07:00 UTC) once its flow exists, then runs what falls due. Needs a
    server (`prefect server start`) named by PREFECT_API_URL.

    Example:

        PREFECT_API_URL=http://127.0.0.1:4200/api claimwatch serve
    """
    from claimwatch.sources.config import load_sources

    settings = _settings(sources=sources, claims=claims, db=db)
    # A bad file fails here, once, rather than in every scheduled run.
    load_sources(settings.sources)
    load_catalog(settings.claims)
    path = settings.flows_dir / "serve.py"
    if not path.is_file():
        raise click.ClickException(f"{path}: not found (set CLAIMWATCH_FLOWS_DIR)")
    _prepare_prefect()
    from prefect.utilities.importtools import load_script_as_module

    load_script_as_module(str(path)).main(settings)


@cli.command()
@_claims_option
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
    from claimwatch.matching.matcher import Matcher

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


_PARAM_OPTION = click.option(
    "-p",
    "--param",
    "params",
    type=(str, str),
    multiple=True,
    metavar="KEY VALUE",
    help="A parameter; repeat for more.",
)
_OUTPUT_OPTION = click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False, writable=True),
    help="Write to this file instead of standard output.",
)
REPORT_FORMATS = (*FORMATS, "parquet", "html")


def _announce_waits() -> None:
    """Show the library's warnings (a busy warehouse being waited for) on stderr, once."""
    import logging

    logger = logging.getLogger("claimwatch")
    if not any(getattr(h, "_claimwatch_cli", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler.setLevel(logging.WARNING)
        handler._claimwatch_cli = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        if logger.level == logging.NOTSET or logger.level > logging.WARNING:
            logger.setLevel(logging.WARNING)


def _emit(data: str | bytes, output: Path | None) -> None:
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


def _parquet(table: Any) -> bytes:
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


@cli.command()
@click.argument("name", required=False)
@click.option("--list", "list_all", is_flag=True, help="List the reports and their parameters.")
@click.option(
    "--format", "fmt", type=click.Choice(REPORT_FORMATS), default="table", show_default=True
)
@_PARAM_OPTION
@_OUTPUT_OPTION
@_db_option
def report(
    name: str | None,
    list_all: bool,
    fmt: str,
    params: tuple[tuple[str, str], ...],
    output: Path | None,
    db: Path | None,
) -> None:
    """Run a named report (SQL in warehouse/reports/) against the warehouse.

    Formats: table, csv, json, parquet (typed columns, for notebooks) and html
    (a self-contained page; for `overview`, with charts and evidence). While a
    pass writes, the report waits for it (CLAIMWATCH_LOCK_WAIT, 30 s).

    Examples:

        claimwatch report --list

        claimwatch report latest-matches -p limit 5 -p include_sample false

        claimwatch report matches-per-claim --format csv > per-claim.csv

        claimwatch report overview -p days 30 --format html -o overview.html

        claimwatch report mentions-per-day --format parquet -o mentions.parquet
    """
    from claimwatch.store.reports import get_report, list_reports, report_arrow, run_report

    _announce_waits()
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
                        | ({"description": p.description} if p.description else {})
                        for p in r.parameters
                    ],
                }
                for r in reports
            ]
            _emit(json.dumps(listing, indent=2), output)
            return
        if fmt not in FORMATS:
            raise click.ClickException(f"--list writes {', '.join(FORMATS)}, not {fmt}")
        rows = [
            (r.name, r.title, ", ".join(f"{p.name}={json.dumps(p.default)}" for p in r.parameters))
            for r in reports
        ]
        _emit(render(["name", "title", "parameters"], rows, fmt), output)
        return
    given = dict(params)
    wait = settings.lock_wait
    if fmt == "html":
        from claimwatch.output.html_report import report_page

        _emit(report_page(settings.db, directory, name, given, wait=wait), output)
    elif fmt == "parquet":
        _emit(
            _parquet(report_arrow(settings.db, get_report(directory, name), given, wait=wait)),
            output,
        )
    else:
        result = run_report(settings.db, get_report(directory, name), given, wait=wait)
        _emit(render(result.columns, result.rows, fmt), output)


@cli.command()
@click.argument("query")
@click.option(
    "--format", "fmt", type=click.Choice(REPORT_FORMATS), default="table", show_default=True
)
@_PARAM_OPTION
@_OUTPUT_OPTION
@_db_option
def sql(
    query: str,
    fmt: str,
    params: tuple[tuple[str, str], ...],
    output: Path | None,
    db: Path | None,
) -> None:
    """Run an ad-hoc, read-only SQL query against the warehouse ("-" reads it from stdin).

    The warehouse is opened read-only with file access switched off: a query can
    read every table and view but change nothing and touch no other file.
    Parameters are bound as text values ($name), never pasted in.

    Examples:

        claimwatch sql "SELECT outlet, count(*) FROM claim_matches GROUP BY ALL ORDER BY 2 DESC"

        claimwatch sql "SELECT * FROM claim_first_seen WHERE claim_id = \\$c" \\
          -p c ukraine-today-asia-tomorrow

        claimwatch sql - --format csv < my-query.sql > out.csv
    """
    from claimwatch.store.reports import run_sql, sql_arrow

    _announce_waits()
    settings = _settings(db=db)
    text = sys.stdin.read() if query == "-" else query
    if not text.strip():
        raise click.ClickException("sql: the query is empty")
    given = dict(params)
    if fmt == "parquet":
        _emit(_parquet(sql_arrow(settings.db, text, given, wait=settings.lock_wait)), output)
        return
    result = run_sql(settings.db, text, given, wait=settings.lock_wait)
    if fmt == "html":
        from claimwatch.output.html_report import table_page

        _emit(table_page(None, "claimwatch query", result.columns, result.rows), output)
    else:
        _emit(render(result.columns, result.rows, fmt), output)


@cli.command()
@_db_option
def migrate(db: Path | None) -> None:
    """Create the warehouse or bring its schema up to date (a pass does this too).

    Example:

        claimwatch migrate --db warehouse/claimwatch.duckdb
    """
    from claimwatch.store.connection import connect
    from claimwatch.store.migrations import apply_migrations

    _announce_waits()
    settings = _settings(db=db)
    with connect(settings.db, wait=settings.lock_wait) as con:
        applied = apply_migrations(con, settings.warehouse_dir / "migrations")
    click.echo(f"{settings.db}: " + (f"applied {', '.join(applied)}" if applied else "up to date"))


@cli.command()
@click.option(
    "--since",
    help="Only matches found since then: an ISO date or time (UTC), or a span: 24h, 7d, 2w.",
)
@click.option("--dry-run", is_flag=True, help="Print what would go out; send and mark nothing.")
@click.option("--channel", "channels", multiple=True, help="Only this channel; repeat for more.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "html"]),
    default="text",
    show_default=True,
    help="How --dry-run prints the digests.",
)
@click.option(
    "--config", type=_PATH, help="Digest file [env CLAIMWATCH_DIGEST; seeds/digest.yaml]."
)
@_claims_option
@_db_option
def digest(
    since: str | None,
    dry_run: bool,
    channels: tuple[str, ...],
    fmt: str,
    config: Path | None,
    claims: Path | None,
    db: Path | None,
) -> None:
    """Build and deliver an alert digest: the matches each channel has not received yet.

    Channels and subscriptions come from the digest file. A match counts as sent
    only once its channel accepted the digest; a failed delivery marks nothing
    and the next run sends it. Exits non-zero when a delivery failed.

    Examples:

        claimwatch digest --dry-run

        claimwatch digest --since 24h --channel analysts
    """
    from claimwatch.delivery.build import parse_since, prepare, wants_delivery
    from claimwatch.delivery.channels import destination
    from claimwatch.delivery.config import load_digest_config
    from claimwatch.delivery.run import run_digest

    _announce_waits()
    settings = _settings(db=db, claims=claims, digest=config)
    digest_config = load_digest_config(settings.digest)
    digest_config.check_against(load_catalog(settings.claims), settings.digest, settings.claims)
    since_at = parse_since(since)
    if dry_run:
        drafts = prepare(
            settings.db,
            settings.warehouse_dir / "reports",
            settings.warehouse_dir / "migrations",
            digest_config,
            since=since_at,
            channels=channels,
            upgrade=False,
            wait=settings.lock_wait,
        )
        for draft in drafts:
            going = wants_delivery(draft, digest_config)
            click.echo(
                f"--- {draft.channel.name} ({destination(draft.channel)}): {draft.matches} new "
                f"matches of {draft.claims} claims" + ("" if going else "; nothing would be sent"),
                err=True,
            )
            if going:
                click.echo(draft.render(fmt))
        click.echo("Dry run: nothing was sent or marked as sent.", err=True)
        return
    outcome = run_digest(
        settings.db,
        settings.warehouse_dir,
        digest_config,
        since=since_at,
        channels=channels,
        wait=settings.lock_wait,
    )
    sent = {d.digest.channel.name: d for d in outcome.deliveries}
    for draft in outcome.digests:
        delivery = sent.get(draft.channel.name)
        if delivery is None:
            click.echo(f"{draft.channel.name}: nothing new, nothing sent", err=True)
        elif delivery.status == "delivered":
            click.echo(
                f"{draft.channel.name}: delivered {draft.matches} matches of {draft.claims} "
                f"claims ({delivery.detail}) [digest {draft.digest_id}]",
                err=True,
            )
        else:
            click.echo(f"{draft.channel.name}: FAILED: {delivery.detail}", err=True)
    if outcome.failed:
        raise click.ClickException(
            f"{len(outcome.failed)} of {len(outcome.deliveries)} deliveries failed; "
            "their matches stay pending for the next run"
        )


@cli.command("eval")
@click.option(
    "--data",
    type=_PATH,
    default=Path("tests/data/devset.jsonl"),
    show_default=True,
    help="Labelled set: JSON lines {id, claim_id, tier, label, text}.",
)
@_claims_option
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
    per claim, the misses and false hits with their scores, a threshold sweep,
    and where ranking mode places each positive's claim.

    Example:

        claimwatch eval --data tests/data/devset.jsonl --threshold 85
    """
    from claimwatch.matching.evaluate import evaluate, load_judgements, ranking, sweep
    from claimwatch.matching.matcher import Matcher

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
    click.echo("\nRanking mode (match --top K): where each positive's claim is placed:")
    rank_rows = [
        (r.tier, r.judgements, f"{r.top1:.3f}", f"{r.top5:.3f}", f"{r.mrr:.3f}")
        for r in ranking(result.outcomes)
    ]
    click.echo(render(["", "judgements", "first", "top 5", "MRR"], rank_rows))


def _tier_order(item: tuple[str, Any]) -> int:
    from claimwatch.matching.evaluate import TIERS

    return TIERS.index(item[0])
