"""`claimwatch digest`: build and deliver alert digests, or show them (--dry-run)."""

from __future__ import annotations

from pathlib import Path

import click

from claimwatch.cli.common import PATH, announce_waits, claims_option, db_option, settings_from
from claimwatch.matching.catalog import load_catalog
from claimwatch.store.fact_checks import with_stored_fact_checks


@click.command("digest")
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
@click.option("--config", type=PATH, help="Digest file [env CLAIMWATCH_DIGEST; seeds/digest.yaml].")
@claims_option
@db_option
def digest_command(
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
    from claimwatch.delivery.render import render_digest
    from claimwatch.delivery.run import run_digest
    from claimwatch.store.warehouse_sql import migrations_dir, reports_dir, sql_dir

    announce_waits()
    settings = settings_from(db=db, claims=claims, digest=config)
    digest_config = load_digest_config(settings.digest)
    # Subscriptions may name the claims of stored fact-checks too.
    catalog = with_stored_fact_checks(load_catalog(settings.claims), settings.db)
    digest_config.check_against(catalog, settings.digest, settings.claims)
    since_at = parse_since(since)
    if dry_run:
        drafts = prepare(
            settings.db,
            reports_dir(),
            migrations_dir(),
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
                click.echo(render_digest(draft, fmt))
        click.echo("Dry run: nothing was sent or marked as sent.", err=True)
        return
    outcome = run_digest(
        settings.db,
        sql_dir(),
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
