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

import pyarrow as pa

from claimwatch.delivery.model import Delivery
from claimwatch.exceptions import DigestError
from claimwatch.lockfile import LockHeld, exclusive_lock
from claimwatch.store.connection import connect, transaction


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
        con.register("new_digests", pa.Table.from_pylist(attempts, schema=_DIGESTS))
        con.register("new_items", pa.Table.from_pylist(items, schema=_ITEMS))
        con.execute("INSERT INTO digests BY NAME SELECT * FROM new_digests")
        con.execute("INSERT INTO digest_items BY NAME SELECT * FROM new_items")


_TS = pa.timestamp("us")
_DIGESTS = pa.schema(
    [
        ("attempt_id", pa.string()),
        ("digest_id", pa.string()),
        ("channel", pa.string()),
        ("channel_kind", pa.string()),
        ("destination", pa.string()),
        ("status", pa.string()),
        ("detail", pa.string()),
        ("matches", pa.int32()),
        ("claims", pa.int32()),
        ("first_matched_at", _TS),
        ("last_matched_at", _TS),
        ("since", _TS),
        ("attempts", pa.int32()),
        ("started_at", _TS),
        ("finished_at", _TS),
    ]
)
_ITEMS = pa.schema(
    [
        ("attempt_id", pa.string()),
        ("channel", pa.string()),
        ("article_url", pa.string()),
        ("claim_id", pa.string()),
        ("score", pa.float64()),
    ]
)


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
