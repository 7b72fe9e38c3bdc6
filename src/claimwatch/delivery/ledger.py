"""The digest ledger (`digests`, `digest_items`): what went where, and a lock for one run at a time.

A match counts as delivered to a channel only through a ledger row whose status is
'delivered', written after the channel accepted it; a failed delivery marks
nothing, so the next run sends those matches again, once. Rows are keyed by the
channel's destination (`destinations.destination_key`), not its name.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from claimwatch.delivery.channels import destination
from claimwatch.delivery.destinations import destination_key
from claimwatch.delivery.model import Delivery
from claimwatch.exceptions import DigestError
from claimwatch.lockfile import LockHeld, exclusive_lock
from claimwatch.store.connection import connect, write


def record(db: Path, deliveries: Sequence[Delivery], *, wait: float = 0.0) -> None:
    """Write every outcome, and the matches each covered, in one transaction."""
    if not deliveries:
        return
    attempts: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    for delivery in deliveries:
        digest = delivery.digest
        attempt_id = uuid.uuid4().hex
        found = [i.matched_at for i in digest.items]
        attempts.append(
            {
                "attempt_id": attempt_id,
                "digest_id": digest.digest_id,
                "channel": digest.channel.name,
                "channel_kind": digest.channel.kind,
                "destination": delivery.destination,
                "destination_key": destination_key(digest.channel),
                "status": delivery.status,
                "detail": delivery.detail,
                "matches": digest.matches,
                "claims": digest.claims,
                "first_matched_at": min(found, default=None),
                "last_matched_at": max(found, default=None),
                "since": digest.since,
                "attempts": delivery.attempts,
                "started_at": delivery.started_at,
                "finished_at": delivery.finished_at,
            }
        )
        items.extend(
            {
                "attempt_id": attempt_id,
                "channel": digest.channel.name,
                "article_url": i.article_url,
                "claim_id": i.claim_id,
                "score": i.score,
            }
            for i in digest.items
        )

    # Imported here: the row writers bring pyarrow, which a dry run never needs.
    from claimwatch.store.writers import insert_rows

    def record(con: duckdb.DuckDBPyConnection) -> None:
        insert_rows(con, "digests", attempts)
        insert_rows(con, "digest_items", items)

    write(db, f"{db}: could not record digests", record, wait=wait)


def adopt_history(con: duckdb.DuckDBPyConnection, channels: Sequence[Any]) -> None:
    """Give rows written before the ledger was keyed by destination (migration 007) the key
    of the channel that delivers where they went: same kind, same destination as shown
    then. Rows no channel of this digest file claims wait for the file that does."""
    if not con.execute("SELECT 1 FROM digests WHERE destination_key IS NULL LIMIT 1").fetchone():
        return
    for channel in channels:
        con.execute(
            "UPDATE digests SET destination_key = $key WHERE destination_key IS NULL"
            " AND channel_kind = $kind AND destination = $shown",
            {"key": destination_key(channel), "kind": channel.kind, "shown": destination(channel)},
        )


def keyed_by_destination(db: Path, *, wait: float = 0.0) -> bool:
    """Whether the warehouse's ledger has migration 007 (a dry run does not migrate)."""
    with connect(db, read_only=True, wait=wait) as con:
        found = con.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_catalog ="
            " current_database() AND table_name = 'digests' AND column_name = 'destination_key'"
        ).fetchone()
    return bool(found and found[0])


@contextmanager
def exclusive_run(db: Path) -> Iterator[None]:
    """Hold `<db>.digest.lock` for a whole run, so two runs never send the same matches."""
    path = db.with_name(db.name + ".digest.lock")
    try:
        with exclusive_lock(path):
            yield
    except LockHeld as held:
        raise DigestError(
            f"{path}: another digest run (process {held.holder}) is sending; try again later"
        ) from None
