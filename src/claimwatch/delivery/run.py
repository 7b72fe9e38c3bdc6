"""One digest run: prepare, deliver each due digest, record every outcome, under one lock.

`run_digest` is the sequence both the `claimwatch digest` command and the Prefect
digest flow follow; the flow passes its tasks in `steps`, the command the plain
functions. A dry run prepares only: nothing is sent, recorded or migrated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TextIO

from claimwatch.delivery.build import prepare, wants_delivery
from claimwatch.delivery.channels import deliver
from claimwatch.delivery.config import DigestConfig, Format
from claimwatch.delivery.ledger import exclusive_run, record
from claimwatch.delivery.model import Delivery, Digest
from claimwatch.delivery.render import render_digest


@dataclass(frozen=True, slots=True)
class DigestRun:
    digests: list[Digest]  # one per chosen channel, empty ones included
    deliveries: list[Delivery]  # one per digest that went out (or failed to)
    skipped: list[str] = field(default_factory=list)  # channels with nothing to send

    @property
    def failed(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.status != "delivered"]

    @property
    def delivered(self) -> dict[str, int]:
        """Channel → matches sent."""
        return {
            d.digest.channel.name: d.digest.matches
            for d in self.deliveries
            if d.status == "delivered"
        }

    @property
    def failures(self) -> dict[str, str]:
        """Channel → why its digest did not go out."""
        return {d.digest.channel.name: d.detail for d in self.failed}


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSteps:
    """The steps of a run, replaceable (the flow passes Prefect tasks that call the same)."""

    prepare: Callable[..., list[Digest]] = prepare
    deliver: Callable[[list[Digest]], list[Delivery]] | None = None  # default: one by one
    record: Callable[..., None] = record


def run_digest(
    db: Path,
    warehouse_dir: Path,
    config: DigestConfig,
    *,
    since: datetime | None = None,
    channels: Sequence[str] | None = None,
    wait: float = 0.0,
    out: TextIO | None = None,
    dry_run: bool = False,
    steps: RunSteps | None = None,
) -> DigestRun:
    """Prepare, deliver and record one digest per channel.

    Channels with nothing new (and no "nothing new" note asked for) send nothing
    and are recorded nowhere.
    """
    steps = steps or RunSteps()
    with exclusive_run(db):
        digests = steps.prepare(
            db,
            warehouse_dir / "reports",
            warehouse_dir / "migrations",
            config,
            since=since,
            channels=channels,
            upgrade=not dry_run,
            wait=wait,
        )
        due = [d for d in digests if wants_delivery(d, config)]
        skipped = [d.channel.name for d in digests if d not in due]
        deliveries: list[Delivery] = []
        if not dry_run:
            send = steps.deliver or (lambda ds: [deliver(d, out=out) for d in ds])
            deliveries = send(due)
            steps.record(db, deliveries, wait=wait)
    return DigestRun(digests, deliveries, skipped)


def run_markdown(run: DigestRun, *, dry_run: bool = False) -> str:
    """Every digest of a run as Markdown, each under its channel's outcome (an artifact)."""
    outcome = {d.digest.channel.name: d for d in run.deliveries}
    parts = []
    for digest in run.digests:
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
    return "\n\n".join(parts) or "No channels."


def failure_message(run: DigestRun) -> str | None:
    """Why a run counts as failed (a delivery failed), or None."""
    if not run.failed:
        return None
    reasons = "; ".join(f"{k}: {v}" for k, v in run.failures.items())
    return (
        f"{len(run.failed)} of {len(run.deliveries)} deliveries failed ({reasons}); "
        "their matches stay pending for the next run"
    )
