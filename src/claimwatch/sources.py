"""The source list: a YAML file naming the feeds (and later other kinds) to poll."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Self

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from claimwatch.exceptions import SourcesError
from claimwatch.yamlfile import read_yaml, validate

SourceName = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9]+([-_][a-z0-9]+)*$", max_length=80)
]


class SourceKind(StrEnum):
    feed = "feed"  # RSS, Atom or JSON Feed; the format is detected


class Source(BaseModel):
    """One place to look for new articles."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: SourceName
    kind: SourceKind = SourceKind.feed
    url: AnyHttpUrl
    enabled: bool = True
    # Rows from a sample source are labelled so reports can leave them out.
    sample: bool = False
    # Allow fetching from loopback/private addresses for this source (local tests, the sample).
    allow_private: bool = False
    description: str | None = None


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
        SourceList, read_yaml(path, SourcesError), path, "sources", SourcesError
    )
    return sources
