"""The maintenance flow: keep the warehouse's files few and its snapshots within retention.

Scheduled daily beside the monitor (CLAIMWATCH_MAINTAIN_CRON); the same work as
`claimwatch warehouse maintain`. It may run while passes run: each step is its own
short transaction, retried on conflicts, and files are deleted only once they are
older than an hour.
"""

from __future__ import annotations

from datetime import timedelta

from prefect import flow, get_run_logger

from claimwatch.settings import load_settings
from claimwatch.store.maintenance import MaintenanceResult, describe
from claimwatch.store.maintenance import maintain as maintain_warehouse


@flow(name="maintain")
def maintain(db: str | None = None, retention_days: float | None = None) -> MaintenanceResult:
    """Flush inlined rows, merge small files, expire old snapshots, delete unneeded files."""
    settings = load_settings(db=db, snapshot_retention_days=retention_days)
    retention = timedelta(days=settings.snapshot_retention_days)
    result = maintain_warehouse(settings.db, retention=retention, wait=settings.lock_wait)
    get_run_logger().info("%s: %s", settings.db, "; ".join(describe(result, retention)))
    return result
