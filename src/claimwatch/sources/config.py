"""The source list: a YAML file naming where to look for new articles, and how.

Kinds (the `kind` key; `feed` when left out):

- `feed`: an RSS, Atom or JSON feed (the format is detected);
- `google_news`: a Google News search feed built from a query, language and region;
  its redirect links are resolved to the outlets' own URLs where possible;
- `gdelt`: the GDELT DOC 2.0 article list for a query over a recent time span,
  asked for in slices so that no slice reaches the API's 250-result cap;
- `sitemap`: a news sitemap or sitemap index, or a site whose robots.txt names one;
- `site`: a home page whose `<link rel="alternate">` feeds are read;
- `directory`: saved HTML pages and WARC files in a local folder;
- `claimreview`: fact-checks, not articles: the ClaimReview markup of a fact-checker's
  pages (listed by a feed or sitemap) or of an export file; each review's claim joins
  the catalog (with its verdict, in the `fact_checks` table).

Options every kind has: `enabled`, `sample`, `allow_private`, `topic_terms`
(an article is kept only if it contains a term of every group), `languages`
and `poll_minutes` (poll no more often than this).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlencode

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    field_validator,
    model_validator,
)

from claimwatch.exceptions import SourcesError
from claimwatch.sources.environment import expand_environment
from claimwatch.yamlfile import read_yaml, validate

SourceName = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9]+([-_][a-z0-9]+)*$", max_length=80)
]
Term = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class SourceKind(StrEnum):
    feed = "feed"
    google_news = "google_news"
    gdelt = "gdelt"
    sitemap = "sitemap"
    site = "site"
    directory = "directory"
    claimreview = "claimreview"


class Listing(StrEnum):
    """How a `claimreview` source lists its reviews."""

    feed = "feed"  # a feed of fact-check pages
    sitemap = "sitemap"  # a sitemap (or index) of fact-check pages
    page = "page"  # one fact-check page
    export = "export"  # a ClaimReview export: JSON, JSON-LD or JSON lines


class BaseSource(BaseModel):
    """What every kind of source has."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: SourceName
    enabled: bool = True
    # Rows from a sample source are labelled so reports can leave them out.
    sample: bool = False
    # Allow fetching from loopback/private addresses for this source (local tests, the sample).
    allow_private: bool = False
    description: str | None = None
    # Keep an article only if its title or text holds a term of every group (case-insensitive),
    # e.g. [[NATO, North Atlantic], [Indo-Pacific, China, Taiwan]].
    topic_terms: tuple[tuple[Term, ...], ...] = ()
    # Keep an article only in these languages (ISO 639-1 codes; empty = any).
    languages: tuple[Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")], ...] = ()
    # Minutes to leave between two polls of this source; None polls it on every pass.
    poll_minutes: float | None = Field(default=None, gt=0)

    @field_validator("topic_terms", mode="before")
    @classmethod
    def _groups(cls, value: Any) -> Any:
        # A bare string is a group of one term.
        if isinstance(value, list | tuple):
            return [[g] if isinstance(g, str) else g for g in value]
        return value

    @property
    def location(self) -> str:
        """Where the source is read from (a URL or a folder), for records and messages."""
        raise NotImplementedError


class FeedSource(BaseSource):
    kind: Literal[SourceKind.feed] = SourceKind.feed
    url: AnyHttpUrl

    @property
    def location(self) -> str:
        return str(self.url)


class GoogleNewsSource(BaseSource):
    kind: Literal[SourceKind.google_news]
    query: Term
    language: str = "en-US"  # Google's hl
    region: str = "US"  # Google's gl
    endpoint: AnyHttpUrl = AnyHttpUrl("https://news.google.com/rss/search")
    # Follow each redirect link to the outlet's own article URL.
    resolve_links: bool = True

    @property
    def location(self) -> str:
        language = self.language.split("-")[0]
        query = urlencode(
            {
                "q": self.query,
                "hl": self.language,
                "gl": self.region,
                "ceid": f"{self.region}:{language}",
            }
        )
        return f"{self.endpoint}?{query}"


class GdeltSource(BaseSource):
    kind: Literal[SourceKind.gdelt]
    query: Term
    # How far back each poll looks, and the width of the slices it asks for one by one.
    timespan_hours: float = Field(default=24.0, gt=0, le=24 * 90)
    slice_hours: float = Field(default=3.0, gt=0)
    endpoint: AnyHttpUrl = AnyHttpUrl("https://api.gdeltproject.org/api/v2/doc/doc")
    # GDELT answers "Please limit requests to one every 5 seconds" to faster clients.
    request_interval_seconds: float = Field(default=5.0, ge=0, le=60)

    @property
    def location(self) -> str:
        return f"{self.endpoint}?{urlencode({'query': self.query})}"


class SitemapSource(BaseSource):
    kind: Literal[SourceKind.sitemap]
    # A sitemap or sitemap index; or a site root, whose robots.txt names its sitemaps.
    url: AnyHttpUrl
    # Entries older than this (by news:publication_date or lastmod) are not fetched.
    max_age_hours: float = Field(default=72.0, gt=0)

    @property
    def location(self) -> str:
        return str(self.url)


class SiteSource(BaseSource):
    kind: Literal[SourceKind.site]
    # A home page; the feeds it announces with <link rel="alternate"> are read.
    url: AnyHttpUrl

    @property
    def location(self) -> str:
        return str(self.url)


class DirectorySource(BaseSource):
    kind: Literal[SourceKind.directory]
    # A folder of saved pages (.html, .htm) and WARC files (.warc, .warc.gz), read
    # recursively; relative to the sources file. Symlinks leading out of it are skipped.
    path: Path

    @property
    def location(self) -> str:
        return str(self.path)


class ClaimReviewSource(BaseSource):
    kind: Literal[SourceKind.claimreview]
    # Where the reviews are: a URL, or an export file (relative to the sources file).
    url: AnyHttpUrl | None = None
    path: Path | None = None
    listing: Listing = Listing.feed
    # Fact-check pages read per poll at most: a large sitemap is read over several passes.
    max_pages: int = Field(default=200, gt=0, le=10_000)

    @model_validator(mode="after")
    def _one_place(self) -> Self:
        if (self.url is None) == (self.path is None):
            raise ValueError("give either url or path (an export file)")
        if self.path is not None and self.listing is not Listing.export:
            raise ValueError("a path is an export file: set listing: export")
        return self

    @property
    def location(self) -> str:
        return str(self.url) if self.url is not None else str(self.path)


def _kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("kind", SourceKind.feed))
    return str(getattr(value, "kind", SourceKind.feed))


Source = Annotated[
    Annotated[FeedSource, Tag(SourceKind.feed)]
    | Annotated[GoogleNewsSource, Tag(SourceKind.google_news)]
    | Annotated[GdeltSource, Tag(SourceKind.gdelt)]
    | Annotated[SitemapSource, Tag(SourceKind.sitemap)]
    | Annotated[SiteSource, Tag(SourceKind.site)]
    | Annotated[DirectorySource, Tag(SourceKind.directory)]
    | Annotated[ClaimReviewSource, Tag(SourceKind.claimreview)],
    Discriminator(
        _kind_of,
        custom_error_type="unknown_kind",
        custom_error_message=f"unknown kind; use one of {', '.join(SourceKind)}",
    ),
]


class SourceList(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: Annotated[tuple[Source, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _names_unique(self) -> Self:
        seen: set[str] = set()
        for source in self.sources:
            if source.name in seen:
                raise ValueError(f"source name {source.name!r} is used twice; names must be unique")
            seen.add(source.name)
        return self

    @property
    def enabled(self) -> tuple[Source, ...]:
        return tuple(s for s in self.sources if s.enabled)


def load_sources(path: Path | str) -> SourceList:
    """Read and validate a sources file; raise SourcesError with a one-line reason."""
    path = Path(path)
    sources: SourceList = validate(
        SourceList,
        expand_environment(read_yaml(path, SourcesError), path, SourcesError),
        path,
        "sources",
        SourcesError,
    )
    # A directory or export file is relative to the file that names it, not to the
    # working directory.
    resolved = tuple(
        s.model_copy(update={"path": (path.parent / s.path).resolve()})
        if isinstance(s, DirectorySource | ClaimReviewSource) and s.path is not None
        else s
        for s in sources.sources
    )
    return sources.model_copy(update={"sources": resolved})
