"""The pipeline's commands: one pass, the schedules, ad-hoc matching, schema upgrades."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from claimwatch import temporary_server
from claimwatch.cli.common import (
    announce_waits,
    claims_option,
    db_option,
    settings_from,
    sources_option,
)
from claimwatch.cli.prefect_env import set_prefect_defaults
from claimwatch.matching.catalog import load_catalog
from claimwatch.output.tables import render
from claimwatch.store.fact_checks import with_stored_fact_checks


@click.command()
@sources_option
@claims_option
@db_option
def run(sources: Path | None, claims: Path | None, db: Path | None) -> None:
    """Run one monitoring pass and print the matches it added.

    Failing sources and pages are recorded and listed; the pass goes on. The pass
    runs in a child process; when it ends, however it ends, nothing it started is
    left running.

    Example:

        claimwatch run --sources seeds/sources.yaml --db /tmp/cw-lake
    """
    from claimwatch.sources.config import load_sources
    from claimwatch.store.reports import get_report, run_report
    from claimwatch.store.warehouse_sql import reports_dir
    from claimwatch.supervise import become_supervisor, stop_on_sigterm, supervised

    settings = settings_from(sources=sources, claims=claims, db=db)
    if not supervised():
        # Validate both files before anything starts, so a bad file costs one line and
        # writes nothing; the pass itself runs in a child (claimwatch.supervise).
        load_sources(settings.sources)
        load_catalog(settings.claims)
        paths = ("--sources", settings.sources, "--claims", settings.claims, "--db", settings.db)
        become_supervisor(["run", *map(str, paths)])
    stop_on_sigterm()
    monitor = _load_flow("monitor")
    with temporary_server.used():
        summary = monitor(
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
    report = get_report(reports_dir(), "run-matches")
    result = run_report(settings.db, report, {"run_id": stats.run_id})
    if result.rows:
        click.echo(f"\nNew matches ({len(result.rows)}):")
        click.echo(render(result.columns, result.rows, "table"))
    else:
        click.echo("\nNo new matches. Stored ones: claimwatch report latest-matches")
    suggested = _new_suggestions(settings.db, stats.run_id)
    if suggested:
        click.echo(f"\n{suggested} new suggestions to review: claimwatch review")


@click.command()
@claims_option
@db_option
@click.option(
    "--claim",
    "only",
    multiple=True,
    metavar="ID",
    help="Look for this claim only (repeatable): after adding it, much faster.",
)
def rematch(claims: Path | None, db: Path | None, only: tuple[str, ...]) -> None:
    """Run the claims file over every stored article again: after adding or editing claims.

    No page is fetched: stored text is the source of truth. Matches of the current
    claims are made those found now (a reviewer's confirmations are kept), and new
    suggestions are stored for review. With --claim, only those claims are looked
    for, only the articles that could hold them are read, and only their matches
    change. Runs in a child process, like `run`.

    Example:

    \b
        claimwatch rematch --claims seeds/claims.yaml --db warehouse/lake
        claimwatch rematch --claim nato-new-claim
    """
    from claimwatch.store.lake import exists
    from claimwatch.supervise import become_supervisor, stop_on_sigterm, supervised

    settings = settings_from(claims=claims, db=db)
    if not supervised():
        catalog = load_catalog(settings.claims)
        if not exists(settings.db):
            raise click.ClickException(f"{settings.db}: no warehouse here (set --db)")
        if only:  # an unknown id stops here, with the ids to use
            with_stored_fact_checks(catalog, settings.db).only(only)
        asked = [arg for claim_id in only for arg in ("--claim", claim_id)]
        become_supervisor(
            ["rematch", "--claims", str(settings.claims), "--db", str(settings.db), *asked]
        )
    stop_on_sigterm()
    flow = _load_flow("rematch")
    with temporary_server.used():
        stats = flow(claims=str(settings.claims), db=str(settings.db), only=list(only) or None)
    suggested = _new_suggestions(settings.db, stats.run_id)
    click.echo(f"Re-matched the stored articles: {stats.matches_new} new matches, ", nl=False)
    click.echo(f"{suggested} new suggestions to review.")


def _new_suggestions(db: Path, run_id: str) -> int:
    """Suggestions a pass made that are waiting for review."""
    from claimwatch.store.connection import connect

    with connect(db, read_only=True) as con:
        row = con.execute(
            "SELECT count(*) FROM claim_suggestions WHERE run_id = ?", [run_id]
        ).fetchone()
    return row[0] if row else 0


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

    set_prefect_defaults()  # already done by the top command; again for other callers
    route_to_prefect()


def _load_flow(name: str) -> Any:
    """The installed flow `name` of claimwatch.flows, loaded as deployments load it."""
    _prepare_prefect()
    from prefect.flows import load_flow_from_entrypoint

    return load_flow_from_entrypoint(f"claimwatch.flows.{name}:{name}")


@click.command()
@sources_option
@claims_option
@db_option
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

    settings = settings_from(sources=sources, claims=claims, db=db)
    # A bad file fails here, once, rather than in every scheduled run.
    load_sources(settings.sources)
    load_catalog(settings.claims)
    _prepare_prefect()
    from claimwatch.flows.serve import main

    main(settings)


@click.command()
@claims_option
@click.option(
    "--top",
    type=click.IntRange(min=1),
    help="Rank: the K claims each text most likely repeats, by words and meaning.",
)
@click.option("--threshold", type=click.FloatRange(0, 100), help="Minimum score (default 88).")
def match(claims: Path | None, top: int | None, threshold: float | None) -> None:
    """Find claims in texts: JSON lines in, one JSON line per match out.

    Each input line is {"id": ..., "text": ...} (optionally "title"). Each output
    line is {"id", "claim_id", "score", "matched_text", "start", "end", "field",
    "variant", "parts"}; start and end are offsets into the field ("text" or
    "title"); parts are the scores the match was judged on. With --top, score is
    the fused ranking score (0-100) and parts add the signals behind it: meaning
    (cosine of the sentence encoder; off with CLAIMWATCH_ENCODER=none), words and
    chars (BM25 on stemmed words and on character n-grams, scaled to the text's best).

    Example:

    \b
        echo '{"id": 1, "text": "They say: where NATO goes, war is most likely."}' \\
          | claimwatch match
    """
    from claimwatch.matching.encoder import ranking_encoders
    from claimwatch.matching.matcher import Matcher
    from claimwatch.matching.ranking import rank_claims
    from claimwatch.matching.retrieval import Retriever

    settings = settings_from(claims=claims, match_threshold=threshold)
    catalog = load_catalog(settings.claims)
    matcher = Matcher(catalog, threshold=settings.match_threshold)
    if top:
        english, multilingual = ranking_encoders(settings.encoder, settings.cache_dir)
        retriever = Retriever(catalog, english, settings.cache_dir, multilingual)
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
        if top:
            hits = rank_claims(retriever, matcher, text, title=title, top=top)
        else:
            hits = matcher.find(text, title=title)
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


@click.command()
@db_option
def migrate(db: Path | None) -> None:
    """Create the warehouse or bring its schema up to date (a pass does this too).

    Example:

        claimwatch migrate --db warehouse/lake
    """
    from claimwatch.store.connection import migrate as apply
    from claimwatch.store.warehouse_sql import migrations_dir

    announce_waits()
    settings = settings_from(db=db)
    applied = apply(settings.db, migrations_dir())
    click.echo(f"{settings.db}: " + (f"applied {', '.join(applied)}" if applied else "up to date"))
