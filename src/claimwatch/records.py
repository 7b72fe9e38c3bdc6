"""The records that flow between stages: plain, frozen and picklable."""

from __future__ import annotations

from dataclasses import dataclass
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
