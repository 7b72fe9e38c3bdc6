"""The digest flow: new matches → one digest per channel → delivered → recorded in the ledger.

Reads the warehouse, sends over the network, and writes the ledger only in the
`record-digests` task, in one short transaction. It also writes the HTML
overview named in the digest file and publishes it, and each digest, as
Prefect artifacts. A failed delivery is recorded, marks nothing as sent, and
fails the run so it shows; the next run sends those matches again.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, field
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)
from prefect.cache_policies import NO_CACHE

from claimwatch.delivery.build import parse_since, prepare
from claimwatch.delivery.channels import deliver
from claimwatch.delivery.config import DigestConfig, load_digest_config
from claimwatch.delivery.ledger import record
from claimwatch.delivery.model import Delivery, Digest
from claimwatch.delivery.overview import write_overview as write_overview_page
from claimwatch.delivery.run import DigestRun, RunSteps, failure_message, run_digest, run_markdown
from claimwatch.exceptions import DigestError
from claimwatch.logs import set_levels
from claimwatch.matching.catalog import load_catalog
from claimwatch.settings import Settings, load_settings
from claimwatch.store.fact_checks import with_stored_fact_checks
from claimwatch.store.warehouse_sql import reports_dir, sql_dir

# httpx logs each request's URL at INFO, and a webhook's URL is its secret: every
# process that runs this flow keeps httpx at WARNING (as flows/monitor.py does).
set_levels()


@dataclass(frozen=True)
class DigestSummary:
    """What a digest run did, channel by channel."""

    delivered: dict[str, int] = field(default_factory=dict)  # channel → matches sent
    failed: dict[str, str] = field(default_factory=dict)  # channel → reason
    skipped: list[str] = field(default_factory=list)  # channels with nothing new
    overview: str | None = None  # path of the HTML overview written


prepare_digests = task(name="prepare-digests", cache_policy=NO_CACHE)(prepare)
# Network retries happen inside `deliver` (with backoff, for failures that may pass); a
# task retry would resend a digest the channel may already have taken.
deliver_digest = task(name="deliver-digest", cache_policy=NO_CACHE)(deliver)
record_deliveries = task(name="record-digests", cache_policy=NO_CACHE)(record)


def deliver_all(digests: list[Digest]) -> list[Delivery]:
    """Each digest in its own task, submitted at once."""
    return [f.result() for f in [deliver_digest.submit(d) for d in digests]]


@task(name="write-overview", cache_policy=NO_CACHE)
def write_overview(settings: Settings, config: DigestConfig) -> Path | None:
    options = config.digest.overview
    if options is None:
        return None
    page = write_overview_page(settings.db, reports_dir(), options, wait=settings.lock_wait)
    create_table_artifact(
        key="claimwatch-overview",
        table=page.rows,
        description=f"Claims seen in the last {page.days} days; the page: {page.path}",
    )
    create_link_artifact(
        key="claimwatch-overview-page",
        link=page.path.resolve().as_uri(),
        link_text=str(page.path),
        description="The HTML overview (charts, first appearances, evidence), self-contained",
    )
    return page.path


@task(name="publish-digests", cache_policy=NO_CACHE)
def publish(run: DigestRun, dry_run: bool) -> None:
    create_markdown_artifact(
        key="claimwatch-digest",
        markdown=run_markdown(run, dry_run=dry_run),
        description="The digests of this run, as Markdown",
    )


@flow(name="digest", log_prints=True)
def digest(
    config: str | None = None,
    claims: str | None = None,
    db: str | None = None,
    since: str | None = None,
    dry_run: bool = False,
    channels: list[str] | None = None,
) -> DigestSummary:
    """Send each channel the matches it has not received yet, and record the outcome."""
    settings = load_settings(db=db, claims=claims, digest=config)
    digest_config = load_digest_config(settings.digest)
    catalog = with_stored_fact_checks(load_catalog(settings.claims), settings.db)
    digest_config.check_against(catalog, settings.digest, settings.claims)
    run = run_digest(
        settings.db,
        sql_dir(),
        digest_config,
        since=parse_since(since),
        channels=channels,
        wait=settings.lock_wait,
        dry_run=dry_run,
        steps=RunSteps(prepare=prepare_digests, deliver=deliver_all, record=record_deliveries),
    )
    overview = write_overview(settings, digest_config)
    publish(run, dry_run)
    summary = DigestSummary(
        run.delivered, run.failures, run.skipped, str(overview) if overview else None
    )
    get_run_logger().info(
        "digest: delivered %s, failed %s, nothing new for %s", *astuple(summary)[:3]
    )
    if (failure := failure_message(run)) is not None:
        raise DigestError(failure)
    return summary
