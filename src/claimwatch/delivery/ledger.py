"""The digest ledger (`digests`, `digest_items`): what went where, and a lock for one run at a time.

A match counts as delivered to a channel only through a ledger row whose status is
'delivered', written after the channel accepted it; a failed delivery marks
nothing, so the next run sends those matches again, once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from claimwatch.delivery.model import Delivery
from claimwatch.exceptions import DigestError
from claimwatch.lockfile import LockHeld, exclusive_lock
from claimwatch.store.connection import connect, transaction
from claimwatch.store.writers import insert_rows


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
    with connect(db, wait=wait) as con, transaction(con, f"{db}: could not record digests"):
        insert_rows(con, "digests", attempts)
        insert_rows(con, "digest_items", items)


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
