"""What a digest run handles: new matches in stories and claims, a digest, its outcome."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from claimwatch.dates import utcnow
from claimwatch.delivery.config import Channel
from claimwatch.output.provenance import confirmed_label


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
    # For a claim read from a fact-check (a `claimreview` source): its verdict, by whom, where.
    verdict: str | None = None
    fact_checker: str | None = None
    fact_check_url: str | None = None
    # For a match a person confirmed (`claimwatch review`): who, and when.
    confirmed_by: str | None = None
    confirmed_at: datetime | None = None

    @property
    def confirmed(self) -> str | None:
        """As a digest says it: "confirmed by ana on 2026-12-05"; None for a machine match."""
        return confirmed_label(self.confirmed_by, self.confirmed_at)

    @property
    def standing(self) -> str:
        """Who stands behind the match: "score 91.0", or "confirmed by ana on 2026-12-05
        (machine score 37.6)" for a person's."""
        score = f"score {self.score:.1f}"
        return f"{self.confirmed} (machine {score})" if self.confirmed else score


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
    fact_check: DigestItem | None = None  # an item carrying the claim's fact-check, if any

    @property
    def rated(self) -> str | None:
        """For a fact-checked claim, as the digest says it: "rated False by Example Checks"."""
        check = self.fact_check
        if check is None or not (check.verdict or check.fact_checker):
            return None
        verdict = f"rated {check.verdict}" if check.verdict else "fact-checked"
        return verdict + (f" by {check.fact_checker}" if check.fact_checker else "")

    @property
    def counts(self) -> str:
        """Per claim, as the digest says it: "3 new articles in 1 story"."""
        articles = f"{self.articles} new article{'s' if self.articles != 1 else ''}"
        return f"{articles} in {self.story_count} stor{'ies' if self.story_count != 1 else 'y'}"


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """A suggestion waiting for review, as a digest reminds of it."""

    id: str
    claim_id: str
    outlet: str
    link: str
    matched_text: str
    score: float


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
    # Suggestions of the channel's claims waiting for review: the best few, and how many.
    # A reminder, not part of what the digest delivers (the ledger does not track them).
    to_review: tuple[ReviewItem, ...] = ()
    review_pending: int = 0
    # Matches the channel has not received that `since` leaves out, and the newest of them.
    held_back: int = 0
    held_back_latest: datetime | None = None

    @property
    def period(self) -> str:
        """What the digest covers, as it says it on top."""
        until = f"{self.created_at:%Y-%m-%d %H:%M} UTC"
        if self.since is not None:
            return f"matches found from {self.since:%Y-%m-%d %H:%M} to {until}"
        return f"every match found up to {until} that this channel has not received before"

    @property
    def period_change(self) -> str:
        if self.since is not None:
            return "change it with --since (an ISO date or time, or 24h, 7d, 2w)"
        return "--since (an ISO date or time, or 24h, 7d, 2w) limits it"

    @property
    def widen(self) -> str | None:
        """The command that includes the matches `since` held back, if any."""
        if not self.held_back or self.held_back_latest is None:
            return None
        return (
            f"claimwatch digest --since {self.held_back_latest:%Y-%m-%d} "
            f"--channel {shlex.quote(self.channel.name)}"
        )

    @property
    def held_back_note(self) -> str | None:
        """ "2 older matches not sent yet, the latest found 2026-11-20: claimwatch digest …"."""
        command = self.widen
        if command is None or self.held_back_latest is None:
            return None
        count = f"{self.held_back} older match{'es' if self.held_back != 1 else ''}"
        return (
            f"{count} not sent to this channel yet, the latest found "
            f"{self.held_back_latest:%Y-%m-%d %H:%M} UTC; to include "
            f"{'it' if self.held_back == 1 else 'them'}: {command}"
        )

    @property
    def matches(self) -> int:
        return len(self.items)

    @property
    def claims(self) -> int:
        return len(self.groups)

    @property
    def empty(self) -> bool:
        return not self.items


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
