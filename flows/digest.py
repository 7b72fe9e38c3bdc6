"""The digest flow: new matches → one digest per channel → delivered → recorded in the ledger.

Reads the warehouse, sends over the network, and writes the ledger only in the
`record-digests` task, in one short transaction. It also writes the HTML
overview named in the digest file and publishes it, and each digest, as
Prefect artifacts. A failed delivery is recorded, marks nothing as sent, and
fails the run so it shows; the next run sends those matches again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)
from prefect.cache_policies import NO_CACHE

from claimwatch.delivery.channels import deliver, write_file
from claimwatch.delivery.config import DigestConfig, Format, load_digest_config
from claimwatch.delivery.digest import (
    Delivery,
    Digest,
    exclusive_run,
    parse_since,
    prepare,
    record,
    render_digest,
    wants_delivery,
)
from claimwatch.exceptions import DigestError
from claimwatch.logs import set_levels
from claimwatch.matching.catalog import load_catalog
from claimwatch.output.html_report import overview_page
from claimwatch.settings import Settings, load_settings
from claimwatch.store.reports import get_report, run_report

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


@task(name="prepare-digests", cache_policy=NO_CACHE)
def prepare_digests(
    settings: Settings,
    config: DigestConfig,
    since: str | None,
    channels: list[str] | None,
    dry_run: bool,
) -> list[Digest]:
    return prepare(
        settings.db,
        settings.warehouse_dir / "reports",
        settings.warehouse_dir / "migrations",
        config,
        since=parse_since(since),
        channels=channels,
        upgrade=not dry_run,
        wait=settings.lock_wait,
    )


# Network retries happen inside `deliver` (with backoff, for failures that may pass); a
# task retry would resend a digest the channel may already have taken.
@task(name="deliver-digest", cache_policy=NO_CACHE)
def deliver_digest(digest: Digest) -> Delivery:
    return deliver(digest)


@task(name="record-digests", cache_policy=NO_CACHE)
def record_deliveries(settings: Settings, deliveries: list[Delivery]) -> None:
    record(settings.db, deliveries, wait=settings.lock_wait)


@task(name="write-overview", cache_policy=NO_CACHE)
def write_overview(settings: Settings, config: DigestConfig) -> Path | None:
    options = config.digest.overview
    if options is None:
        return None
    given = {"days": str(options.days), "include_sample": str(options.include_sample).lower()}
    reports = settings.warehouse_dir / "reports"
    write_file(options.path, overview_page(settings.db, reports, given, wait=settings.lock_wait))
    summary = run_report(settings.db, get_report(reports, "overview"), given)
    create_table_artifact(
        key="claimwatch-overview",
        table=[dict(zip(summary.columns, map(str, row), strict=True)) for row in summary.rows],
        description=f"Claims seen in the last {options.days} days; the page: {options.path}",
    )
    create_link_artifact(
        key="claimwatch-overview-page",
        link=options.path.resolve().as_uri(),
        link_text=str(options.path),
        description="The HTML overview (charts, first appearances, evidence), self-contained",
    )
    return options.path


@task(name="publish-digests", cache_policy=NO_CACHE)
def publish(digests: list[Digest], deliveries: list[Delivery], dry_run: bool) -> None:
    outcome = {d.digest.channel.name: d for d in deliveries}
    parts = []
    for digest in digests:
        delivery = outcome.get(digest.channel.name)
        status = (
            "dry run: not sent"
            if dry_run
            else "nothing new"
            if delivery is None
            else f"{delivery.status}: {delivery.detail}"
        )
        parts.append(f"# Channel {digest.channel.name}: {status}\n\n")
        if not digest.empty:
            parts.append(render_digest(digest, Format.markdown))
    create_markdown_artifact(
        key="claimwatch-digest",
        markdown="\n\n".join(parts) or "No channels.",
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
    logger = get_run_logger()
    settings = load_settings(db=db, claims=claims, digest=config)
    digest_config = load_digest_config(settings.digest)
    digest_config.check_against(load_catalog(settings.claims), settings.digest, settings.claims)
    with exclusive_run(settings.db):
        drafts = prepare_digests(settings, digest_config, since, channels, dry_run)
        due = [d for d in drafts if wants_delivery(d, digest_config)]
        deliveries: list[Delivery] = []
        if not dry_run:
            deliveries = [f.result() for f in [deliver_digest.submit(d) for d in due]]
            record_deliveries(settings, deliveries)
    overview = write_overview(settings, digest_config)
    publish(drafts, deliveries, dry_run)
    summary = DigestSummary(
        delivered={
            d.digest.channel.name: d.digest.matches for d in deliveries if d.status == "delivered"
        },
        failed={d.digest.channel.name: d.detail for d in deliveries if d.status != "delivered"},
        skipped=[d.channel.name for d in drafts if not wants_delivery(d, digest_config)],
        overview=str(overview) if overview else None,
    )
    logger.info(
        "digest: delivered %s, failed %s, nothing new for %s",
        summary.delivered,
        summary.failed,
        summary.skipped,
    )
    if summary.failed:
        raise DigestError(
            f"{len(summary.failed)} of {len(deliveries)} deliveries failed "
            f"({'; '.join(f'{k}: {v}' for k, v in summary.failed.items())}); "
            "their matches stay pending for the next run"
        )
    return summary
