"""Alert digests: the matches each channel has not yet received, grouped by claim and story.

A run goes: `prepare` (read what is new for each channel, apply its
subscriptions, group and render), `deliver` each digest (channels.py), then
`record` every outcome in the ledger (`digests`, `digest_items`). A match
counts as delivered to a channel only through a ledger row whose status is
'delivered', written after the channel accepted it; a failed delivery marks
nothing, so the next run sends those matches again, once. A lock file keeps two
digest runs on one warehouse from sending the same matches at the same time.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import groupby
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from claimwatch.dates import utcnow
from claimwatch.delivery.config import Channel, DigestConfig, Format
from claimwatch.exceptions import DigestError, WarehouseError
from claimwatch.lockfile import LockHeld, exclusive_lock
from claimwatch.output.render import render_html, render_text
from claimwatch.store.connection import connect, transaction
from claimwatch.store.migrations import apply_migrations
from claimwatch.store.reports import get_report, run_report


@dataclass(frozen=True, slots=True)
class DigestItem:
    """One new (article, claim) match, as a digest shows it."""

    claim_id: str
    claim_text: str
    tags: tuple[str, ...]
    article_url: str
    link: str | None
    title: str | None
    outlet: str
    seen_at: datetime | None
    matched_at: datetime
    score: float
    matched_text: str
    snippet: str
    story_id: str
    story_sent_before: bool
    is_sample: bool


@dataclass(frozen=True, slots=True)
class Story:
    """Copies of one story that carry a claim (similar text, same page or headline; stories.py)."""

    story_id: str
    items: tuple[DigestItem, ...]  # oldest first
    sent_before: bool  # an earlier digest to this channel already carried this story

    @property
    def lead(self) -> DigestItem:
        return self.items[0]

    @property
    def copies(self) -> tuple[DigestItem, ...]:
        return self.items[1:]

    @property
    def also_in(self) -> tuple[DigestItem, ...]:
        """The first copy in each other outlet: a second page of the lead's outlet adds nothing."""
        seen = {self.lead.outlet}
        firsts = []
        for item in self.copies:
            if item.outlet not in seen:
                seen.add(item.outlet)
                firsts.append(item)
        return tuple(firsts)


@dataclass(frozen=True, slots=True)
class ClaimGroup:
    claim_id: str
    claim_text: str
    matches: int
    stories: tuple[Story, ...]  # new stories, newest first, at most max_stories_per_claim
    hidden_stories: int  # new stories beyond that cap: counted, covered, not listed
    echoes: tuple[Story, ...]  # new copies of stories an earlier digest sent
    articles: int  # new articles carrying the claim
    story_count: int  # the stories they belong to: listed, hidden and echoed

    @property
    def counts(self) -> str:
        """Per claim, as the digest says it: "3 new articles in 1 story"."""
        articles = f"{self.articles} new article{'s' if self.articles != 1 else ''}"
        return f"{articles} in {self.story_count} stor{'ies' if self.story_count != 1 else 'y'}"


@dataclass(frozen=True, slots=True)
class Digest:
    """What one channel gets in one run."""

    title: str
    channel: Channel
    items: tuple[DigestItem, ...]
    groups: tuple[ClaimGroup, ...]
    created_at: datetime
    since: datetime | None
    digest_id: str

    @property
    def matches(self) -> int:
        return len(self.items)

    @property
    def claims(self) -> int:
        return len(self.groups)

    @property
    def empty(self) -> bool:
        return not self.items

    def render(self, fmt: Format | str) -> str:
        return render_digest(self, Format(fmt))


Status = Literal["delivered", "failed"]


@dataclass(frozen=True, slots=True)
class Delivery:
    """The outcome of sending one digest to its channel."""

    digest: Digest
    status: Status
    destination: str
    detail: str
    attempts: int
    started_at: datetime
    finished_at: datetime = field(default_factory=utcnow)


# --- what is new --------------------------------------------------------------------------


_RELATIVE = re.compile(r"^(\d+)\s*([mhdw])$")


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
    db: Path, reports_dir: Path, channel: str, since: datetime | None, *, wait: float = 0.0
) -> list[DigestItem]:
    """Every match `channel` has not accepted yet (the report `digest-pending`)."""
    given = {"channel": channel}
    if since is not None:
        given["since"] = since.isoformat(sep=" ")
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
    if not db.exists():
        raise WarehouseError(f"{db}: no warehouse here yet; run `claimwatch run` first")
    if upgrade:
        migrate_warehouse(db, migrations_dir, wait=wait)
    chosen = list(channels) if channels else [c.name for c in config.channels]
    unknown = [name for name in chosen if name not in {c.name for c in config.channels}]
    if unknown:
        names = ", ".join(c.name for c in config.channels)
        raise DigestError(f"no channel named {unknown[0]!r} (channels: {names})")
    now = utcnow()
    digests = []
    for name in chosen:
        channel = config.channel(name)
        items = select_items(pending_items(db, reports_dir, name, since, wait=wait), config, name)
        digests.append(build_digest(config, channel, items, since=since, now=now))
    return digests


def migrate_warehouse(db: Path, migrations_dir: Path, *, wait: float = 0.0) -> None:
    """Create or upgrade the schema (the ledger lives in it); cheap when nothing is pending."""
    with connect(db, wait=wait) as con:
        apply_migrations(con, migrations_dir)


# --- rendering ------------------------------------------------------------------------------

_TEMPLATES = {
    Format.text: "digest.txt.j2",
    Format.markdown: "digest.md.j2",
    Format.html: "digest.html.j2",
}


def render_digest(digest: Digest, fmt: Format, *, style: str = "markdown") -> str:
    """The digest as plain text, Markdown (or a chat dialect) or a self-contained HTML page."""
    context = {"d": digest, "subject": subject_line(digest)}
    if fmt is Format.html:
        from claimwatch import __version__

        return render_html(_TEMPLATES[fmt], version=__version__, title=digest.title, **context)
    if fmt is Format.markdown and style == "slack":
        return render_text("digest.slack.j2", **context)
    return render_text(_TEMPLATES[fmt], **context)


def subject_line(digest: Digest) -> str:
    if digest.empty:
        return f"{digest.title}: nothing new"
    matches = f"{digest.matches} new match{'es' if digest.matches != 1 else ''}"
    claims = f"{digest.claims} claim{'s' if digest.claims != 1 else ''}"
    return f"{digest.title}: {matches} of {claims}"


# --- the ledger --------------------------------------------------------------------------------


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


# --- one run -------------------------------------------------------------------------------------


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


@dataclass(frozen=True, slots=True)
class DigestRun:
    digests: list[Digest]  # one per chosen channel, empty ones included
    deliveries: list[Delivery]  # one per digest that went out (or failed to)

    @property
    def failed(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.status != "delivered"]


def run_digest(
    db: Path,
    warehouse_dir: Path,
    config: DigestConfig,
    *,
    since: datetime | None = None,
    channels: Sequence[str] | None = None,
    wait: float = 0.0,
    out: Any = None,
) -> DigestRun:
    """Prepare, deliver and record one digest per channel.

    Channels with nothing new (and no "nothing new" note asked for) send nothing
    and are recorded nowhere.
    """
    from claimwatch.delivery.channels import deliver

    with exclusive_run(db):
        digests = prepare(
            db,
            warehouse_dir / "reports",
            warehouse_dir / "migrations",
            config,
            since=since,
            channels=channels,
            wait=wait,
        )
        deliveries = [deliver(d, out=out) for d in digests if wants_delivery(d, config)]
        record(db, deliveries, wait=wait)
    return DigestRun(digests, deliveries)
