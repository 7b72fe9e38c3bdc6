"""What is new for each channel: pending matches, chosen by subscriptions, grouped."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import groupby
from pathlib import Path

from claimwatch.dates import utcnow
from claimwatch.delivery.config import Channel, DigestConfig
from claimwatch.delivery.destinations import destination_key
from claimwatch.delivery.ledger import adopt_history, keyed_by_destination
from claimwatch.delivery.model import ClaimGroup, Digest, DigestItem, ReviewItem, Story
from claimwatch.exceptions import DigestError, WarehouseError
from claimwatch.store.connection import connect, has_table, migrate, write
from claimwatch.store.lake import exists as warehouse_exists
from claimwatch.store.reports import get_report, run_report

_RELATIVE = re.compile(r"^(\d+)\s*([mhdw])$")
# Suggestions a digest lists under "To review"; the rest are counted.
REVIEW_REMINDERS = 5


def parse_since(value: str | None, now: datetime | None = None) -> datetime | None:
    """`--since`: an ISO date or time (UTC), or a span back from now such as 90m, 24h, 7d, 2w."""
    if not value:
        return None
    now = now or utcnow()
    relative = _RELATIVE.match(value.strip().lower())
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)
        return now - timedelta(minutes=amount * {"m": 1, "h": 60, "d": 1440, "w": 10080}[unit])
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise DigestError(
            f"--since {value!r}: expected an ISO date or time (2026-11-01, "
            "2026-11-01T08:00) or a span such as 24h or 7d"
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def pending_items(
    db: Path, reports_dir: Path, destination: str, *, wait: float = 0.0
) -> list[DigestItem]:
    """Every match not yet accepted at `destination` (a `destination_key`; the report
    `digest-pending`)."""
    given = {"destination": destination, "limit": "0"}  # every one of them
    result = run_report(db, get_report(reports_dir, "digest-pending"), given, wait=wait)
    items = []
    for row in result.rows:
        record = dict(zip(result.columns, row, strict=True))
        if not record.pop("in_catalog"):
            continue  # removed from the claims file: no longer watched
        record["tags"] = tuple(record["tags"] or ())
        items.append(DigestItem(**record))
    return items


def select_items(
    items: Sequence[DigestItem], config: DigestConfig, channel: str
) -> list[DigestItem]:
    """The items that at least one of the channel's subscriptions wants."""
    subscriptions = config.subscriptions_of(channel)
    return [
        item
        for item in items
        if any(
            s.accepts(item.claim_id, item.tags, item.score, item.is_sample) for s in subscriptions
        )
    ]


def build_digest(
    config: DigestConfig,
    channel: Channel,
    items: Sequence[DigestItem],
    *,
    since: datetime | None = None,
    now: datetime | None = None,
) -> Digest:
    """Group items by claim (most matched first), then by story (newest first)."""
    limit = config.digest.max_stories_per_claim
    groups = []
    by_claim = sorted(items, key=lambda i: i.claim_id)
    for claim_id, claim_items_iter in groupby(by_claim, key=lambda i: i.claim_id):
        claim_items = list(claim_items_iter)
        stories = []
        for story_id, copies in groupby(
            sorted(claim_items, key=lambda i: (i.story_id, _when(i), i.outlet)),
            key=lambda i: i.story_id,
        ):
            copies_t = tuple(copies)
            stories.append(Story(story_id, copies_t, copies_t[0].story_sent_before))
        new = sorted(
            (s for s in stories if not s.sent_before),
            key=lambda s: (_when(s.lead), s.lead.score),
            reverse=True,
        )
        echoes = tuple(sorted((s for s in stories if s.sent_before), key=lambda s: _when(s.lead)))
        groups.append(
            ClaimGroup(
                claim_id=claim_id,
                claim_text=claim_items[0].claim_text,
                matches=len(claim_items),
                stories=tuple(new[:limit]),
                hidden_stories=max(len(new) - limit, 0),
                echoes=echoes,
                articles=len({i.article_url for i in claim_items}),
                story_count=len(stories),
                fact_check=claim_items[0] if claim_items[0].fact_check_url else None,
            )
        )
    groups.sort(key=lambda g: (-g.matches, -_best(g), g.claim_id))
    keys = sorted(f"{i.article_url}\t{i.claim_id}" for i in items)
    digest_id = hashlib.sha256("\n".join([channel.name, *keys]).encode()).hexdigest()[:16]
    return Digest(
        title=config.digest.title,
        channel=channel,
        items=tuple(items),
        groups=tuple(groups),
        created_at=now or utcnow(),
        since=since,
        digest_id=digest_id,
    )


def _best(group: ClaimGroup) -> float:
    return max((i.score for s in group.stories + group.echoes for i in s.items), default=0.0)


def _when(item: DigestItem) -> datetime:
    return item.seen_at or item.matched_at


def wants_delivery(digest: Digest, config: DigestConfig) -> bool:
    """An empty digest goes out only where a "nothing new" note is asked for."""
    if not digest.empty:
        return True
    own = getattr(digest.channel, "send_empty", None)
    return bool(config.digest.send_empty if own is None else own)


def prepare(
    db: Path,
    reports_dir: Path,
    migrations_dir: Path,
    config: DigestConfig,
    *,
    since: datetime | None = None,
    channels: Sequence[str] | None = None,
    upgrade: bool = True,
    wait: float = 0.0,
) -> list[Digest]:
    """The digest each chosen channel would get now (empty ones included)."""
    if not warehouse_exists(db):
        raise WarehouseError(f"{db}: no warehouse here yet; run `claimwatch run` first")
    if upgrade:
        migrate_warehouse(db, migrations_dir, wait=wait, channels=config.channels)
    elif not keyed_by_destination(db, wait=wait):
        raise DigestError(
            f"{db}: the digest ledger predates this claimwatch; run `claimwatch digest` "
            "without --dry-run (or `claimwatch run`) once to upgrade it"
        )
    chosen = list(channels) if channels else [c.name for c in config.channels]
    unknown = [name for name in chosen if name not in {c.name for c in config.channels}]
    if unknown:
        names = ", ".join(c.name for c in config.channels)
        raise DigestError(f"no channel named {unknown[0]!r} (channels: {names})")
    now = utcnow()
    reviews = pending_reviews(db, wait=wait)
    digests = []
    for name in chosen:
        channel = config.channel(name)
        # One read of what this destination lacks: from `since` on for the digest, and
        # before it, what `since` holds back.
        every = select_items(
            pending_items(db, reports_dir, destination_key(channel), wait=wait), config, name
        )
        items = [i for i in every if since is None or i.matched_at >= since]
        held = [i for i in every if since is not None and i.matched_at < since]
        digest = build_digest(config, channel, items, since=since, now=now)
        waiting = [r for r, tags, sample in reviews if _wanted(config, name, r, tags, sample)]
        digests.append(
            replace(
                digest,
                to_review=tuple(waiting[:REVIEW_REMINDERS]),
                review_pending=len(waiting),
                held_back=len(held),
                held_back_latest=max((i.matched_at for i in held), default=None),
            )
        )
    return digests


def pending_reviews(
    db: Path, *, wait: float = 0.0
) -> list[tuple[ReviewItem, tuple[str, ...], bool]]:
    """Every suggestion waiting for review, best first, with its claim's tags and whether it
    comes from the sample."""
    with connect(db, read_only=True, wait=wait) as con:
        if not has_table(con, "suggestions"):  # a warehouse from before suggestions
            return []
        rows = con.execute(
            """
            SELECT s.id, s.claim_id, s.outlet, coalesce(a.final_url, s.article_url), s.matched_text,
                   s.score, coalesce(c.tags, []), s.is_sample
            FROM claim_suggestions AS s
            JOIN articles AS a ON a.url = s.article_url
            LEFT JOIN claims AS c ON c.id = s.claim_id
            WHERE coalesce(c.in_catalog, false)
            ORDER BY s.score DESC, s.suggested_at DESC, s.id
            """
        ).fetchall()
    return [(ReviewItem(*row[:6]), tuple(row[6]), bool(row[7])) for row in rows]


def _wanted(
    config: DigestConfig, channel: str, item: ReviewItem, tags: tuple[str, ...], sample: bool
) -> bool:
    """Whether a subscription of `channel` follows the suggestion's claim. Their min_score
    is on the matches' scale, so it does not apply to suggestions."""
    return any(
        s.accepts(item.claim_id, tags, 100.0, sample) for s in config.subscriptions_of(channel)
    )


def migrate_warehouse(
    db: Path, migrations_dir: Path, *, wait: float = 0.0, channels: Sequence[Channel] = ()
) -> None:
    """Create or upgrade the schema (the ledger lives in it), and give the ledger's rows from
    before it was keyed by destination the key of these channels; cheap when nothing is
    pending."""
    migrate(db, migrations_dir)
    write(
        db, f"{db}: digest ledger not updated", lambda con: adopt_history(con, channels), wait=wait
    )
