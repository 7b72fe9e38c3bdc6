"""The records that flow between stages: plain, frozen and picklable."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from claimwatch.exceptions import FetchError


@dataclass(frozen=True, slots=True)
class FeedItem:
    """A link a source announced: a candidate article."""

    url: str
    source: str
    title: str | None = None
    published_at: datetime | None = None
    is_sample: bool = False
    # Its source opted in to loopback and private addresses.
    allow_private: bool = False
    # Set for pages read from disk (a `directory` source): the file, and for a
    # WARC file the record's byte offset, as "path" or "path#offset".
    archive: str | None = None
    # The outlet that published it, when the source names it (a Google News <source>).
    outlet: str | None = None


@dataclass(frozen=True, slots=True)
class Article:
    """An extracted article: the text every match is found in."""

    url: str
    final_url: str
    canonical_url: str | None
    source: str
    is_sample: bool
    outlet: str
    title: str | None
    author: str | None
    text: str
    language: str | None
    published_at: datetime | None
    fetched_at: datetime
    content_sha256: str


# A sentence of a stored article: its field ("title" or "text") and its offsets in it.
SentenceSpan = tuple[str, int, int]


@dataclass(frozen=True, slots=True)
class StoredText:
    """What re-matching needs of a stored article."""

    url: str
    title: str | None
    text: str
    # False when the sentence index says no sentence of it is near the claims looked for
    # (a focused re-match): only their words are looked for, no sentence is embedded.
    meaning: bool = True
    # With meaning, in a focused re-match: the sentences the index found near the claims
    # looked for. Only sentences overlapping one of them are embedded (None: any sentence).
    near: tuple[SentenceSpan, ...] | None = None


@dataclass(frozen=True, slots=True)
class Match:
    """Where one claim was found in one article, with the evidence."""

    article_url: str
    claim_id: str
    score: float
    field: str  # "title" or "text"
    variant: str  # the wording of the claim that matched
    matched_text: str
    start: int  # offsets into the field's original string
    end: int
    snippet: str


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A likely restatement or translation of a claim in an article, for a person to review."""

    article_url: str
    claim_id: str
    score: float  # 0-100: the cosine of the sentence and the claim's nearest wording, x100
    field: str  # "title" or "text"
    variant: str  # the claim's wording nearest in meaning
    matched_text: str  # the sentence
    start: int  # offsets into the field's original string
    end: int
    snippet: str
    # What fired: meaning (cosine), coverage (share of the wording's rare terms), fuzzy.
    signals: dict[str, float]
    # Why it was suggested, in words (the verifier's evidence: matching/evidence.py).
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Failure:
    """Something that went wrong for one source or page; recorded, never fatal to a pass."""

    source: str
    url: str
    stage: str  # "discover", "fetch" or "extract"
    reason: str


@dataclass(frozen=True, slots=True)
class Discovery:
    """What one poll of a source found, and where the next poll should resume."""

    items: list[FeedItem]
    # A kind's own resume point (e.g. the end of the last GDELT slice asked for).
    cursor: str | None = None
    # A request that failed while others answered (a sitemap, a GDELT slice): what
    # the others found is kept, and this is recorded as the source's failure.
    partial_failure: FetchError | None = None
    # What a `claimreview` source read: reviews for the catalog, not articles.
    fact_checks: list[FactCheck] = field(default_factory=list)


# The `runs` status of a re-match, which reads no source (so the views of sources' health
# pass over it: status LIKE 'rematch%'), and of one stopped before its end.
REMATCH = "rematch"
REMATCH_STOPPED = "rematch stopped"


@dataclass(frozen=True, slots=True)
class RunStats:
    """One monitoring pass, as recorded in the `runs` table."""

    run_id: str
    started_at: datetime
    finished_at: datetime
    status: str
    sources_total: int
    sources_failed: int
    items_seen: int
    pages_skipped: int
    pages_fetched: int
    articles_new: int
    matches_new: int
    failures: int

    @staticmethod
    def new_run_id(flow_run_id: object | None, started_at: datetime) -> str:
        """The id a run is recorded under: its flow run's, or one made from its start."""
        return str(flow_run_id or f"local-{started_at:%Y%m%dT%H%M%S}")

    @classmethod
    def rematch(
        cls, run_id: str, started_at: datetime, finished_at: datetime, *, stopped: bool = False
    ) -> RunStats:
        """A re-matching run: it reads no source and fetches no page, so every count is 0
        (the store step fills in the matches it added). Its status is REMATCH, or
        REMATCH_STOPPED for one stopped before its end."""
        status = REMATCH_STOPPED if stopped else REMATCH
        return cls(run_id, started_at, finished_at, status, 0, 0, 0, 0, 0, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class Validator:
    """What the last successful response of a URL said about its version."""

    url: str
    etag: str | None
    last_modified: str | None
    body_sha256: str
    changed_at: datetime  # when the body last changed (or was first seen)
    verified_at: datetime  # when the body was last fetched in full
    # False once the server was caught answering 304 for a changed body.
    conditional: bool = True


@dataclass(slots=True)
class SourceTally:
    """What reading one source cost: requests by outcome, bytes and seconds."""

    requests: int = 0
    ok: int = 0  # 200 with a new or changed body
    not_modified: int = 0  # 304, or 200 with an unchanged body
    errors: int = 0
    bytes: int = 0
    seconds: float = 0.0

    def add(self, other: SourceTally) -> None:
        self.requests += other.requests
        self.ok += other.ok
        self.not_modified += other.not_modified
        self.errors += other.errors
        self.bytes += other.bytes
        self.seconds += other.seconds


@dataclass(frozen=True, slots=True)
class PageAttempt:
    """A page fetched but not stored, and when it may be tried again (None: never)."""

    url: str
    source: str
    title: str | None
    published_at: datetime | None
    archive: str | None
    stage: str
    reason: str
    attempts: int
    last_attempt_at: datetime
    retry_at: datetime | None


@dataclass(frozen=True, slots=True)
class SourceLog:
    """One source in one pass, as a row of `fetch_log` (articles_new is counted on insert)."""

    source: str
    polled: bool
    tally: SourceTally
    items_seen: int
    items_new: int
    pages_failed: int
    off_topic: int
    failed: bool


@dataclass(frozen=True, slots=True)
class SourcePolled:
    """What a poll leaves for the next one."""

    source: str
    polled_at: datetime
    cursor: str | None
    validators: dict[str, Validator]


@dataclass(frozen=True, slots=True)
class FactCheck:
    """One fact-checker's verdict on one claim."""

    claim_id: str
    review_url: str
    claim_text: str
    verdict: str | None
    rating_value: float | None
    fact_checker: str | None
    fact_checker_url: str | None
    reviewed_on: str | None
    claim_author: str | None
    claim_date: str | None
    appearance_url: str | None
    language: str | None
